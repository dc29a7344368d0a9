"""Designed experiments from a factors file, with the run sheet exported as CSV."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from saisei.errors import ValidationFailed
from saisei.services.doe import design_experiment

FACTORS = """\
factors:
  - {name: temperature, low: 36.0, high: 38.0, unit: degC}
  - {name: agitation, low: 60.0, high: 80.0, unit: rpm}
center_points: 3
seed: 7
"""


def test_ccd_run_sheet_matches_the_published_design(tmp_path: Path) -> None:
    factors = tmp_path / "factors.yaml"
    factors.write_text(FACTORS, "utf-8")
    out = tmp_path / "sheet" / "runs.csv"
    result = design_experiment(factors, design="ccd", out=out)
    runs = pd.read_csv(out)
    # Rotatable CCD for k = 2 (NIST e-Handbook 5.3.3.6.1; Montgomery, Design and Analysis of
    # Experiments, table 11.10): 4 factorial, 4 axial points at alpha = 4**(1/4) = 1.414 and
    # the centre points.
    assert len(runs) == 4 + 4 + 3
    assert sorted(runs["temperature_coded"].round(3).unique()) == [-1.414, -1.0, 0.0, 1.0, 1.414]
    axial = runs[runs["temperature_coded"].abs() > 1.1]["temperature"]
    assert sorted(axial.round(4)) == [round(37 - math.sqrt(2), 4), round(37 + math.sqrt(2), 4)]
    assert int(runs["centre_point"].sum()) == 3
    assert list(runs["run"]) == list(range(1, 12))
    document = result.to_dict()
    assert document["design"] == "ccd" and document["out"] == str(out)
    same = design_experiment(factors, design="ccd")
    assert same.design.runs["std_order"].tolist() == runs["std_order"].tolist(), "seeded order"


def test_bad_factors_file_and_design_are_refused(tmp_path: Path) -> None:
    factors = tmp_path / "factors.yaml"
    factors.write_text(FACTORS, "utf-8")
    with pytest.raises(ValidationFailed, match="The design must be one of"):
        design_experiment(factors, design="latin")
    broken = tmp_path / "broken.yaml"
    broken.write_text("factors:\n  - {name: a, low: 2, high: 1}\n", "utf-8")
    with pytest.raises(ValidationFailed, match="must have low < high"):
        design_experiment(broken)
    extra = tmp_path / "extra.yaml"
    extra.write_text("factors: {a: [0, 1]}\nreplicates: 2\n", "utf-8")
    with pytest.raises(ValidationFailed, match="unknown entries replicates"):
        design_experiment(extra)
    with pytest.raises(ValidationFailed, match="Cannot read the factors file"):
        design_experiment(tmp_path / "missing.yaml")
