"""Plate layouts, plate maps, replicate summaries and outlier flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from saisei.analytics.dose_response import (
    flag_outliers,
    plate_wells,
    read_plate,
    summarize_replicates,
)
from saisei.errors import ValidationFailed


@pytest.mark.parametrize(("n", "last"), [(96, "H12"), (384, "P24")])
def test_plate_wells_follow_the_ansi_slas_layout(n, last):
    wells = plate_wells(n)
    assert len(wells) == len(set(wells)) == n
    assert wells[0] == "A1" and wells[-1] == last


def grid_96() -> pd.DataFrame:
    values = np.arange(96, dtype=float).reshape(8, 12)
    return pd.DataFrame(values, index=list("ABCDEFGH"), columns=range(1, 13))


def test_grid_readings_join_the_plate_map():
    plate_map = pd.DataFrame(
        {
            "well": ["A01", "a2", "H12"],
            "sample": ["reference", "reference", "test"],
            "dose": [1.0, 2.0, 0.0],
            "cell_type": ["iPSC-CM"] * 3,
        }
    )
    plate = read_plate(grid_96(), plate_map)
    assert list(plate["well"]) == ["A1", "A2", "H12"]
    # Grid value at row r, column c is 12 r + (c - 1).
    assert list(plate["response"]) == [0.0, 1.0, 95.0]
    assert list(plate.columns[:6]) == ["well", "row", "column", "sample", "dose", "response"]
    assert "cell_type" in plate.columns


def test_long_readings_on_a_384_well_plate():
    values = pd.DataFrame({"well": ["P24", "A1"], "value": [3.5, 1.5]})
    plate_map = pd.DataFrame({"well": ["A1", "P24"], "sample": ["s", "s"], "dose": [1, 2]})
    plate = read_plate(values, plate_map, n_wells=384)
    assert list(plate["response"]) == [1.5, 3.5]


def test_every_plate_problem_is_listed_with_its_well():
    values = pd.DataFrame({"well": ["A1", "A2"], "response": [1.0, "x"]})
    plate_map = pd.DataFrame(
        {
            "well": ["A1", "A2", "I1", "A1"],
            "sample": ["s"] * 4,
            "dose": [1, 2, 3, 4],
        }
    )
    with pytest.raises(ValidationFailed, match="cannot be read") as info:
        read_plate(values, plate_map)
    assert any(e.message == "not a well of a 96-well plate" for e in info.value.errors)
    assert {e.value for e in info.value.errors} >= {"I1", "A1", "A2"}
    assert any(e.message == "no numeric reading for a mapped well" for e in info.value.errors)
    assert any(e.message == "well listed more than once" for e in info.value.errors)


def test_plate_map_columns_and_size_are_checked():
    with pytest.raises(ValidationFailed, match=r"must have columns .* Missing \['dose'\]"):
        read_plate(grid_96(), pd.DataFrame({"well": ["A1"], "sample": ["s"]}))
    with pytest.raises(ValidationFailed, match=r"'n_wells' .* 96 or 384. Got 48"):
        read_plate(
            grid_96(), pd.DataFrame({"well": ["A1"], "sample": ["s"], "dose": [1]}), n_wells=48
        )


def test_modified_z_score_flags_a_replicate_outlier():
    plate = pd.DataFrame(
        {
            "sample": ["s"] * 4,
            "dose": [1.0] * 4,
            "response": [10.0, 10.2, 9.9, 20.0],
        }
    )
    flagged = flag_outliers(plate)
    # Independent: Iglewicz & Hoaglin (1993), M = 0.6745 (y - median) / MAD.
    y = plate["response"].to_numpy()
    med = np.median(y)
    mad = np.median(np.abs(y - med))
    assert flagged["modified_z"].to_numpy() == pytest.approx(0.6745 * (y - med) / mad)
    assert list(flagged["outlier"]) == [False, False, False, True]
    assert "outlier" not in plate.columns  # input not mutated


def test_zero_mad_falls_back_to_mean_absolute_deviation():
    plate = pd.DataFrame({"sample": "s", "dose": 1.0, "response": [5.0, 5.0, 5.0, 9.0]})
    flagged = flag_outliers(plate)
    # MeanAD = (0 + 0 + 0 + 4) / 4 = 1; M = 4 / 1.253314.
    assert flagged["modified_z"].iloc[-1] == pytest.approx(4 / 1.253314)


def test_groups_of_two_are_never_flagged():
    plate = pd.DataFrame({"sample": "s", "dose": 1.0, "response": [1.0, 100.0]})
    assert not flag_outliers(plate)["outlier"].any()


def test_replicate_summary_leaves_outliers_out():
    plate = pd.DataFrame(
        {
            "sample": ["s"] * 4 + ["t"] * 3,
            "dose": [1.0] * 7,
            "response": [10.0, 10.2, 9.9, 20.0, 4.0, 5.0, 6.0],
        }
    )
    summary = summarize_replicates(flag_outliers(plate)).set_index("sample")
    assert summary.loc["s", "n"] == 3
    assert summary.loc["s", "mean"] == pytest.approx(np.mean([10.0, 10.2, 9.9]))
    assert summary.loc["t", "sd"] == pytest.approx(1.0)
    assert summary.loc["t", "cv_percent"] == pytest.approx(20.0)


def test_threshold_is_checked():
    with pytest.raises(ValidationFailed, match=r"'threshold' .* positive number. Got -1"):
        flag_outliers(pd.DataFrame({"sample": [], "dose": [], "response": []}), threshold=-1)
