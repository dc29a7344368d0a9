"""The estimated design space agrees with the simulator's true one (issue 7 done-when)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from saisei.analytics.design_space import BayesianDesignSpace
from saisei.simulation import simulate

REFERENCE = Path(__file__).parent / "reference" / "msc_design_space_truth.csv"
SETPOINTS = {
    "temperature": 37.0,
    "agitation": 70.0,
    "seeding_density": 3000.0,
    "working_volume": 1000.0,
    "dissolved_oxygen": 40.0,
    "dmso_exposure_time": 30.0,
    "cooling_rate": 1.0,
}


@pytest.mark.slow
def test_design_space_iou_against_truth_at_reliability_0_9() -> None:
    truth = pd.read_csv(REFERENCE)
    result = simulate("msc", 300, seed=3, design_space_points=0)
    par, qc = result.tables["parameters"], result.tables["qc_results"]
    specs = {
        name: (s["lower"], s["upper"])
        for name, s in result.truth["specifications"]["msc"].items()
        if s["qualitative"] is None
    }
    X = par[par["parameter"].isin(list(SETPOINTS))].pivot(
        index="lot", columns="parameter", values="value"
    )
    Y = qc[qc["attribute"].isin(list(specs))].pivot_table(
        index="lot", columns="attribute", values="value"
    )
    data = X.join(Y).dropna()
    # Assay SDs of the simulated methods (docs/simulator.md, _qc.py: viability SD 2 points,
    # dose CV 7 %, potency CV 12 %): the truth is about true values, not measured ones.
    assay = {
        "post_thaw_viability": 2.0,
        "viable_cell_dose": 0.07 * data["viable_cell_dose"].mean(),
        "potency": 0.12 * data["potency"].mean(),
    }
    ds = BayesianDesignSpace("quadratic", random_state=0, measurement_sd=assay)
    ds.fit(data[list(SETPOINTS)], data[list(specs)])
    grid = truth[["agitation", "cooling_rate"]].assign(
        **{k: v for k, v in SETPOINTS.items() if k not in ("agitation", "cooling_rate")}
    )[list(SETPOINTS)]
    estimated = ds.probability(grid, specs) >= 0.9
    true = truth["probability"].to_numpy() >= 0.9
    iou = (estimated & true).sum() / (estimated | true).sum()
    assert iou >= 0.8
