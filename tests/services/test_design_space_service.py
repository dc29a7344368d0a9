"""Design spaces fitted on stored plant data: agreement with the simulator's truth, storage
as versioned objects with a checked hash, specifications from the process definition."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from drivers_plant import open_store, plant
from sqlalchemy import update

from saisei.errors import IntegrityViolation, ValidationFailed
from saisei.services.design_space import (
    build_design_space,
    fitted_model,
    list_design_spaces,
    show_design_space,
)
from saisei.storage.models import DesignSpace
from saisei.storage.repositories import design_space as repo
from saisei.storage.store import Store

TRUTH = (
    Path(__file__).parents[1]
    / "analytics"
    / "design_space"
    / "reference"
    / "msc_design_space_truth.csv"
)
ATTRIBUTES = ["post_thaw_viability", "viable_cell_dose", "potency"]
# Assay SDs of the simulated methods (docs/simulator.md, simulation/_qc.py: viability SD 2
# points, dose CV 7 % of about 1e8 cells, potency CV 12 % of about 100 %): the truth is about
# true values, not measured ones.
ASSAY = {"post_thaw_viability": 2.0, "viable_cell_dose": 7e6, "potency": 12.0}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    home, _ = plant(tmp_path_factory, "design-space")
    store = open_store(home)
    yield store
    store.close()


@pytest.mark.slow
def test_design_space_agrees_with_the_true_one_and_is_stored(store: Store) -> None:
    view = build_design_space(
        store,
        attributes=ATTRIBUTES,
        parameters=["agitation", "cooling_rate"],
        reliability=0.9,
        product="MSC",
        name="msc-ds",
        measurement_sd=ASSAY,
        actor="ps.kimura",
    )
    assert (view.name, view.version, view.status) == ("msc-ds", 1, "draft")
    assert view.process == "MSC-STR 1.0" and len(view.lots) == 40
    # Limits of the release specifications, converted to the stored unit (1e6 cell -> cell).
    assert view.specs["viable_cell_dose"] == [75e6, 150e6]
    assert view.specs["post_thaw_viability"] == [70.0, None]
    # The true design space (simulator mechanism, tests/analytics/design_space/reference),
    # compared on the grid points inside the ranges the plant data cover.
    truth = pd.read_csv(TRUTH)
    with store.reader() as session:
        row = repo.find_design_space(session, "msc-ds")
        assert row is not None
        model = fitted_model(row)
        specs = {k: (v[0], v[1]) for k, v in row.specs.items()}
        spans = row.result["fitted_ranges"]
    inside = truth[
        truth["agitation"].between(*spans["agitation"])
        & truth["cooling_rate"].between(*spans["cooling_rate"])
    ]
    assert len(inside) >= 50
    estimated = model.probability(inside[["agitation", "cooling_rate"]], specs) >= 0.9
    true = inside["probability"].to_numpy() >= 0.9
    assert (estimated & true).sum() / (estimated | true).sum() >= 0.8
    # The operable box lies in the true design space, and each PAR holds its target.
    assert view.box is not None
    assert view.box["cooling_rate"][0] <= 1.0 and view.box["cooling_rate"][1] <= 2.1
    for par in view.pars:
        assert par["low"] <= view.targets[par["parameter"]] <= par["high"]
    again = build_design_space(
        store,
        attributes=ATTRIBUTES,
        parameters=["agitation", "cooling_rate"],
        name="msc-ds",
        actor="ps.kimura",
    )
    assert again.version == 2
    assert [v.version for v in list_design_spaces(store) if v.name == "msc-ds"] == [1, 2]
    assert show_design_space(store, "msc-ds", 1).content_sha256 == view.content_sha256


def test_an_altered_design_space_is_refused(store: Store) -> None:
    build_design_space(
        store,
        attributes=["post_thaw_viability"],
        parameters=["cooling_rate"],
        terms="linear",
        name="tampered",
        actor="ps.kimura",
    )
    with store.unit_of_work(actor="intruder", source="test") as uow:
        uow.session.execute(
            update(DesignSpace).where(DesignSpace.name == "tampered").values(reliability=0.5)
        )
    with store.reader() as session:
        row = repo.find_design_space(session, "tampered")
        assert row is not None
        with pytest.raises(IntegrityViolation, match="tampered v1 was altered"):
            fitted_model(row)


def test_attributes_need_a_specification_and_parameters_must_exist(store: Store) -> None:
    with pytest.raises(ValidationFailed, match="no numeric release specification of"):
        build_design_space(
            store, attributes=["population_doublings"], parameters=["agitation"], actor="t"
        )
    with pytest.raises(ValidationFailed, match="parameter 'stirring' is not a numeric column"):
        build_design_space(store, attributes=["potency"], parameters=["stirring"], actor="t")
    with pytest.raises(ValidationFailed, match="parameter 'bioreactor' is not numeric"):
        build_design_space(store, attributes=["potency"], parameters=["bioreactor"], actor="t")
