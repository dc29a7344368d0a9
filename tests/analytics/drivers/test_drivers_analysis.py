"""Drivers: effects, variance components, importance and confounding flags."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from saisei.analytics.drivers import analyse_drivers, association
from saisei.errors import ValidationFailed


@pytest.fixture
def plant() -> pd.DataFrame:
    rng = np.random.default_rng(42)
    n = 160
    lots = rng.integers(0, 16, n)
    lot_effect = rng.normal(0, 1.5, 16)
    hospital = rng.choice(["H1", "H2", "H3"], n)
    tissue = np.where(hospital == "H1", "cord", "marrow")  # tissue determined by hospital
    hours_warm = rng.gamma(2.0, 1.0, n)
    dmso = rng.uniform(10, 60, n)
    do = rng.uniform(20, 60, n)  # a null factor
    y = 85 - 2.0 * hours_warm - 0.1 * dmso + lot_effect[lots] + rng.normal(0, 1.0, n)
    hours_warm[:5] = np.nan  # some missing transport data
    return pd.DataFrame(
        {
            "viability": y,
            "hours_above_8c": hours_warm,
            "dmso_min": dmso,
            "dissolved_oxygen": do,
            "hospital": hospital,
            "tissue": tissue,
            "medium_lot": [f"L{i}" for i in lots],
        }
    )


def test_effects_intervals_and_variance_shares(plant: pd.DataFrame) -> None:
    res = analyse_drivers(
        plant, "viability", random=["medium_lot"], unit="%", units={"hours_above_8c": "hour"}
    )
    fixed = res.table[res.table["kind"] == "fixed"].set_index("factor")
    # True slopes of the generating model: -2.0 per hour, -0.1 per minute.
    for name, slope in (("hours_above_8c", -2.0), ("dmso_min", -0.1)):
        assert fixed.loc[name, "ci_low"] < slope < fixed.loc[name, "ci_high"]
    # The null factor: a negligible slope (0 in the generating model) and not ranked on top.
    assert abs(fixed.loc["dissolved_oxygen", "effect"]) < 0.05
    assert res.ranking()[:2] == ["hours_above_8c", "dmso_min"]
    # Lot variance 1.5^2 = 2.25 against residual 1.0: share about 0.69.
    lot = res.table.set_index("factor").loc["medium_lot", "variance_share"]
    assert 0.45 < lot < 0.9
    assert re.search(r"lowers viability by (1\.9|2\.0)", res.summary())
    assert "hour of hours_above_8c" in res.summary()
    assert any("missing" in n for n in res.notes)
    assert set(res.partial_dependence) == {"hours_above_8c", "dmso_min", "dissolved_oxygen"}
    pdp = res.partial_dependence["hours_above_8c"]
    assert pdp["response"].iloc[0] > pdp["response"].iloc[-1]
    assert res.to_dict()["n_batches"] == 160


def test_confounded_factors_are_flagged_not_split(plant: pd.DataFrame) -> None:
    res = analyse_drivers(plant, "viability", random=["medium_lot"])
    pair = {(c["a"], c["b"]) for c in res.confounded}
    assert ("hospital", "tissue") in pair
    note = res.table.set_index("factor").loc["tissue", "note"]
    assert note == "confounded with hospital: not estimated separately"
    assert association(plant["hospital"], plant["tissue"]) == (1.0, "nested")


def test_unreplicated_random_factor_is_reported(plant: pd.DataFrame) -> None:
    data = plant.assign(donor=[f"D{i}" for i in range(len(plant))])
    res = analyse_drivers(data, "viability", random=["donor", "medium_lot"])
    assert any("every batch has its own donor" in n for n in res.notes)


def test_errors(plant: pd.DataFrame) -> None:
    with pytest.raises(ValidationFailed, match="with a column 'potency'"):
        analyse_drivers(plant, "potency")
    with pytest.raises(ValidationFailed, match="no column"):
        analyse_drivers(plant, "viability", fixed=["nope"])
    with pytest.raises(ValidationFailed, match="too few to rank"):
        analyse_drivers(plant.head(5), "viability")
    with pytest.raises(ValidationFailed, match="must be numeric"):
        analyse_drivers(plant, "hospital")
