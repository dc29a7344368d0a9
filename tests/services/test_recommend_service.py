"""Set-points recommended for an incoming collection inside a stored design space."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from drivers_plant import open_store, plant

from saisei.errors import NotFound
from saisei.services.design_space import build_design_space
from saisei.services.recommend import recommend_setpoints
from saisei.simulation import probability_in_spec
from saisei.storage.store import Store


@pytest.fixture(scope="module")
def stocked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Path]]:
    home, exchange = plant(tmp_path_factory, "recommend")
    store = open_store(home)
    yield store, exchange
    store.close()


def test_no_design_space_yet_is_not_found(stocked: tuple[Store, Path]) -> None:
    store, exchange = stocked
    din = str(pd.read_csv(exchange / "collections.csv")["din"].iloc[0])
    with pytest.raises(NotFound, match="No design space is stored"):
        recommend_setpoints(store, din, design_space="none-yet")


@pytest.mark.slow
def test_recommended_setpoints_truly_meet_the_specifications(
    stocked: tuple[Store, Path],
) -> None:
    store, exchange = stocked
    space = build_design_space(
        store,
        attributes=["post_thaw_viability", "viable_cell_dose", "potency"],
        parameters=["agitation", "cooling_rate"],
        covariates=["donor_age_years"],
        product="MSC",
        name="msc-ff",
        actor="ps.kimura",
    )
    collections = pd.read_csv(exchange / "collections.csv")
    donors = pd.read_csv(exchange / "donors.csv").set_index("code")
    oldest = collections.loc[collections["donor"].map(donors["age_years"]).idxmax()]
    rec = recommend_setpoints(store, str(oldest["din"]))
    assert rec.design_space == "msc-ff" and rec.version == space.version
    assert rec.covariates == {"donor_age_years": float(donors.loc[oldest["donor"], "age_years"])}
    assert space.box is not None
    for name, value in rec.setpoints.items():
        low, high = space.box[name]
        assert low <= value <= high, "inside the operable box of the design space"
    assert 0.0 <= rec.ci_low <= rec.ci_high <= 1.0
    assert rec.ci_low - 0.05 <= rec.probability <= rec.ci_high + 0.05
    assert rec.probability >= rec.probability_at_target - 1e-9, "never worse than the targets"
    # The simulator's true probability of meeting every specification at the recommended
    # set-points (its own Monte Carlo over donors, lots and equipment; truth.json "evaluate").
    assert probability_in_spec("msc", rec.setpoints, n=400, seed=0) >= 0.9
    with pytest.raises(NotFound, match="No collection with DIN 'X000000000000'"):
        recommend_setpoints(store, "X000000000000")
