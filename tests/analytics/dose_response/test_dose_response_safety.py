"""Safety margins: IC50 per compound and cell type, margin over free Cmax, hazard bands."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from saisei.analytics.dose_response import (
    DEFAULT_HAZARD_BANDS,
    HazardBand,
    classify,
    safety_margins,
)
from saisei.errors import ValidationFailed

DOSES = np.repeat(10.0 ** np.linspace(-2, 2, 9), 3)  # uM


def viability(x, ic50, slope=1.5):
    # 4PL from 100 % to 0 % (USP <1032> form), independent of saisei.
    return 0.0 + (100.0 - 0.0) / (1.0 + (x / ic50) ** slope)


def assay(rows):
    frames = [
        pd.DataFrame(
            {"compound": c, "cell_type": t, "dose": DOSES, "response": viability(DOSES, ic50)}
        )
        for c, t, ic50 in rows
    ]
    return pd.concat(frames, ignore_index=True)


def test_margin_is_ic50_over_free_cmax_and_banded():
    data = assay(
        [
            ("drugA", "cardiomyocyte", 5.0),
            ("drugA", "hepatocyte", 50.0),
            ("drugB", "cardiomyocyte", 0.5),
        ]
    )
    result = safety_margins(data, {"drugA": 0.1, "drugB": 0.1})
    table = result.to_frame().set_index(["compound", "cell_type"])
    # Closed form: margin = IC50 / Cmax = 5 / 0.1 = 50, 50 / 0.1 = 500, 0.5 / 0.1 = 5.
    assert table.loc[("drugA", "cardiomyocyte"), "margin"] == pytest.approx(50.0, rel=1e-6)
    assert table.loc[("drugA", "hepatocyte"), "margin"] == pytest.approx(500.0, rel=1e-6)
    assert table.loc[("drugB", "cardiomyocyte"), "margin"] == pytest.approx(5.0, rel=1e-6)
    # Default bands: high < 10 <= moderate < 30 <= low (Redfern et al. 2003's 30-fold margin).
    assert list(table["band"]) == ["low", "low", "high"]
    assert "drugB" in result.summary()


def test_user_bands_classify_margins():
    bands = (HazardBand("red", 0), HazardBand("amber", 100), HazardBand("green", 1000))
    assert classify(99.9, bands) == "red"
    assert classify(100.0, bands) == "amber"
    assert classify(np.inf, bands) == "green"
    assert classify(np.nan, bands) == "not determined"
    assert classify(-1.0, DEFAULT_HAZARD_BANDS) == "high"


def test_noisy_curve_gives_a_conservative_band_from_the_lower_limit():
    rng = np.random.default_rng(0)
    data = assay([("drugC", "cardiomyocyte", 3.2)])
    data["response"] += rng.normal(0, 4.0, len(data))
    row = safety_margins(data, {"drugC": 0.1}).margins[0]
    assert row.converged
    assert row.margin_ci_low < row.margin < row.margin_ci_high
    assert row.margin_ci_low > 0  # profile interval stays positive


def test_flat_curve_is_not_determined_instead_of_raising():
    rng = np.random.default_rng(1)
    data = assay([("inert", "hepatocyte", 1.0)])
    data["response"] = 100.0 + rng.normal(0, 2.0, len(data))
    row = safety_margins(data, {"inert": 0.1}).margins[0]
    assert not row.converged and row.band == "not determined"


def test_outlier_rows_are_left_out():
    data = assay([("drugA", "cardiomyocyte", 5.0)])
    data["outlier"] = False
    data.loc[0, ["response", "outlier"]] = [-500.0, True]
    row = safety_margins(data, {"drugA": 1.0}).margins[0]
    assert row.ic50 == pytest.approx(5.0, rel=1e-6)


def test_missing_cmax_and_bad_bands_are_named():
    data = assay([("drugA", "cardiomyocyte", 5.0)])
    with pytest.raises(ValidationFailed, match=r"positive free Cmax .* Missing \['drugA'\]"):
        safety_margins(data, {})
    with pytest.raises(ValidationFailed, match=r"'bands' .* strictly increasing"):
        safety_margins(data, {"drugA": 1.0}, bands=[HazardBand("x", 5.0)])
    with pytest.raises(ValidationFailed, match=r"columns compound, cell_type, dose"):
        safety_margins(data.drop(columns="cell_type"), {"drugA": 1.0})
