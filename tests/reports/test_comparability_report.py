"""Comparability figures, JSON document and HTML report, built from result objects.

Expected positions are computed in the test from closed forms (Welch interval, mean +/- k SD,
ellipse semi-axes sqrt(limit x eigenvalue)), not read back from saisei.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import plotly  # type: ignore[import-untyped]
import pytest
from scipy import stats

from saisei.analytics.comparability import (
    ComparabilityPlan,
    CqaCriterion,
    LotSelection,
    Tier,
    evaluate_plan,
)
from saisei.errors import ValidationFailed
from saisei.reports.documents import comparability_document
from saisei.reports.figures import (
    REFERENCE_COLOUR,
    VERDICT_COLOUR,
    comparability_figures,
    interval_figure,
    pca_figure,
    quality_range_figure,
)
from saisei.reports.render import ReportContext, render_comparability_report

REFERENCE = pd.DataFrame(
    {
        "potency": [100.0, 104.0, 98.0, 101.0, 97.0, 103.0],
        "viability": [90.0, 92.0, 91.0, 89.0, 93.0, 90.0],
        "titer": [5.0, 5.2, 4.9, 5.1, 5.05, 4.95],
    },
    index=[f"R{i}" for i in range(1, 7)],
)
TEST = pd.DataFrame(
    {
        "potency": [99.0, 102.0, 100.0, 96.0, 101.0, 98.0],
        "viability": [91.0, 88.0, 92.0, 90.0, 91.0, 99.0],
        "titer": [5.6, 5.7, 5.5, 5.8, 5.65, 5.75],
    },
    index=[f"T{i}" for i in range(1, 7)],
)


def _plan(first_name: str = "potency") -> ComparabilityPlan:
    return ComparabilityPlan(
        name="Supplier A -> B",
        cqas=(
            CqaCriterion(first_name, Tier.EQUIVALENCE, unit="%", margin=6.0),
            CqaCriterion("viability", Tier.QUALITY_RANGE, unit="%"),
            CqaCriterion("titer", Tier.EQUIVALENCE, unit="log10 vg/mL"),
        ),
        reference_lots=LotSelection(process_versions=("1.0",)),
        test_lots=LotSelection(process_versions=("2.0",)),
        multivariate=(first_name, "viability", "titer"),
    )


@pytest.fixture
def result():  # type: ignore[no-untyped-def]
    return evaluate_plan(_plan(), REFERENCE, TEST)


def _context() -> ReportContext:
    return ReportContext(
        study="CMP-7",
        status="run",
        plan_version=1,
        plan_sha256="ab" * 32,
        run_number=1,
        ran_at="2026-03-02 09:00:00",
        ran_by="ps.mori",
        generated_at="2026-03-02 10:00:00",
        reference_lots=tuple(REFERENCE.index),
        test_lots=tuple(TEST.index),
        signatures=("Signed by Aiko Sato (qa.sato) on 2026-03-01 UTC, meaning: approval [valid]",),
    )


def test_interval_figure_places_each_interval_relative_to_its_margin(result) -> None:  # type: ignore[no-untyped-def]
    figure = interval_figure(result)
    assert figure is not None
    by_name = {t.y[0]: t for t in figure.data}
    assert set(by_name) == {"potency", "titer"}  # tier 1 only
    r, t = REFERENCE["potency"].to_numpy(), TEST["potency"].to_numpy()
    vr, vt = r.var(ddof=1) / 6, t.var(ddof=1) / 6
    dof = (vr + vt) ** 2 / (vr**2 / 5 + vt**2 / 5)  # Welch-Satterthwaite
    d, half = t.mean() - r.mean(), stats.t.ppf(0.95, dof) * np.sqrt(vr + vt)
    trace = by_name["potency"]
    assert trace.x[0] == pytest.approx(d / 6.0)
    assert trace.error_x.array[0] == pytest.approx(half / 6.0)
    assert trace.error_x.arrayminus[0] == pytest.approx(half / 6.0)
    # titer moved by ~0.6 against a 1.5 SD_R margin (~0.17): red, interval beyond +1
    titer = by_name["titer"]
    assert titer.marker.color == VERDICT_COLOUR[result.outcome("titer").verdict]
    assert result.outcome("titer").verdict.value == "fail"
    assert titer.x[0] - titer.error_x.arrayminus[0] > 1.0
    assert sorted(s.x0 for s in figure.layout.shapes if s.line.dash == "dash") == [-1.0, 1.0]


def test_quality_range_figure_marks_lots_outside_the_range(result) -> None:  # type: ignore[no-untyped-def]
    figure = quality_range_figure(result.outcome("viability"), TEST["viability"], unit="%")
    mean, sd = REFERENCE["viability"].mean(), REFERENCE["viability"].std(ddof=1)
    (band,) = [s for s in figure.layout.shapes if s.type == "rect"]
    assert (band.y0, band.y1) == pytest.approx((mean - 3 * sd, mean + 3 * sd))
    outside = (TEST["viability"] < mean - 3 * sd) | (TEST["viability"] > mean + 3 * sd)
    assert list(outside) == [False] * 5 + [True]  # 99 % is above 90.83 + 3 x 1.47
    colours = list(figure.data[0].marker.color)
    assert colours[-1] == VERDICT_COLOUR[result.outcome("viability").verdict] != colours[0]
    assert "5 of 6 inside" in figure.layout.title.text


def test_pca_figure_draws_the_t2_ellipse(result) -> None:  # type: ignore[no-untyped-def]
    pca = result.pca
    figure = pca_figure(pca)
    reference, test, ellipse = figure.data
    assert list(reference.text) == list(REFERENCE.index)
    assert list(test.text) == list(TEST.index)
    assert reference.marker.color == REFERENCE_COLOUR
    a, b = np.sqrt(pca.t2_limit * pca.eigenvalues[:2])
    assert np.max(np.abs(ellipse.x)) == pytest.approx(a, rel=1e-3)
    assert np.max(np.abs(ellipse.y)) == pytest.approx(b, rel=1e-3)


def test_one_figure_per_cqa_plus_intervals_range_and_pca(result) -> None:  # type: ignore[no-untyped-def]
    keys = [f.key for f in comparability_figures(result, REFERENCE, TEST)]
    assert keys == [
        "tier1-intervals",
        "cqa-1-distribution",
        "cqa-2-distribution",
        "cqa-2-quality-range",
        "cqa-3-distribution",
        "pca-overlay",
    ]


def test_document_is_strict_json_with_nan_as_null() -> None:
    constant = REFERENCE.assign(titer=5.0)  # SD_R = 0: margin cannot be estimated
    document = comparability_document(evaluate_plan(_plan(), constant, TEST))
    text = json.dumps(document, allow_nan=False)
    titer = next(o for o in json.loads(text)["outcomes"] if o["name"] == "titer")
    assert titer["verdict"] == "inconclusive"
    assert titer["sd_reference"] == 0.0 and titer["tost"] is None
    assert document["outcomes"][0]["tost"]["method"] == "Welch TOST"


def test_html_report_is_self_contained_and_escapes_text() -> None:
    hostile = "<script>alert(1)</script>"
    result = evaluate_plan(
        _plan(hostile),
        REFERENCE.rename(columns={"potency": hostile}),
        TEST.rename(columns={"potency": hostile}),
    )
    html = render_comparability_report(
        result,
        REFERENCE.rename(columns={"potency": hostile}),
        TEST.rename(columns={"potency": hostile}),
        _context(),
    )
    assert html.startswith("<!DOCTYPE html>")
    assert f"v{plotly.__version__}" in html or "plotly.js v" in html  # the bundle is inline
    assert not re.search(r"<script[^>]+src=", html), "no external script, no CDN"
    assert "<script>alert(1)" not in html  # tables escape it, figure JSON encodes "<"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Not every tier 1 and tier 2 criterion was met." in html
    assert "Signed by Aiko Sato" in html and "CMP-7" in html


def test_html_report_can_load_plotly_from_its_folder(result) -> None:  # type: ignore[no-untyped-def]
    html = render_comparability_report(result, REFERENCE, TEST, _context(), plotly_js="directory")
    assert '<script src="plotly.min.js"></script>' in html
    assert len(html) < 500_000  # the 4.8 MB bundle is not inlined
    with pytest.raises(ValidationFailed, match="'plotly_js' parameter .* Got 'cdn'"):
        render_comparability_report(result, REFERENCE, TEST, _context(), plotly_js="cdn")  # type: ignore[arg-type]
