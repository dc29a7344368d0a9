"""Plotly figures of comparability results, built in one place from the result objects.

Every builder takes analytics results (:class:`~saisei.analytics.comparability.CqaOutcome`,
:class:`~saisei.analytics.comparability.ComparabilityResult`, ``PcaOverlay``) plus, where a
chart shows lots, the per-lot values (one row per lot, index = lot label, one column per CQA),
and returns a :class:`plotly.graph_objects.Figure`. Nothing is read from storage here; the
HTML report and the web pages call the same functions.

Colours: pre-change (reference) lots blue, post-change (test) lots orange; pass green, fail
red, inconclusive grey.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go  # type: ignore[import-untyped]

from saisei.analytics.comparability import (
    ComparabilityResult,
    CqaOutcome,
    PcaOverlay,
    Tier,
    Verdict,
)

__all__ = [
    "REFERENCE_COLOUR",
    "TEST_COLOUR",
    "NamedFigure",
    "comparability_figures",
    "contribution_figure",
    "control_chart_figure",
    "distribution_figure",
    "interval_figure",
    "logger_figure",
    "monitoring_figure",
    "pca_figure",
    "quality_range_figure",
    "trajectory_figure",
]

REFERENCE_COLOUR = "#1f77b4"
TEST_COLOUR = "#ff7f0e"
VERDICT_COLOUR = {
    Verdict.PASS: "#2ca02c",
    Verdict.FAIL: "#d62728",
    Verdict.INCONCLUSIVE: "#7f7f7f",
    Verdict.DESCRIPTIVE: "#7f7f7f",
}
_LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50, "b": 50}}


@dataclass(frozen=True, eq=False)
class NamedFigure:
    """A figure with a stable key (HTML id), a title and a caption for people."""

    key: str
    title: str
    figure: go.Figure
    caption: str = ""


def _label(name: str, unit: str) -> str:
    return f"{name} ({unit})" if unit else name


def _values(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name].dropna() if name in frame.columns else pd.Series(dtype=float)


def distribution_figure(
    outcome: CqaOutcome,
    reference: pd.Series,
    test: pd.Series,
    *,
    unit: str = "",
) -> go.Figure:
    """Pre- and post-change values of one CQA: box plots with every lot as a point.

    Parameters
    ----------
    outcome : CqaOutcome
        The CQA's outcome (name, tier, verdict, and the quality range for tier 2).
    reference, test : Series
        Lot values (index = lot label); missing values are left out.
    unit : str
        Unit of the values, for the axis title.
    """
    figure = go.Figure()
    for label, values, colour in (
        ("pre-change (reference)", reference.dropna(), REFERENCE_COLOUR),
        ("post-change (test)", test.dropna(), TEST_COLOUR),
    ):
        figure.add_trace(
            go.Box(
                y=values.to_numpy(float),
                name=f"{label}, n={values.size}",
                text=[str(i) for i in values.index],
                boxpoints="all",
                jitter=0.4,
                pointpos=0.0,
                marker={"color": colour},
                line={"color": colour},
                hovertemplate="lot %{text}: %{y:.4g}<extra></extra>",
            )
        )
    if outcome.quality_range is not None:
        _range_band(figure, outcome.quality_range.low, outcome.quality_range.high)
    figure.update_layout(
        title=f"{outcome.name}: tier {int(outcome.tier)}, {outcome.verdict.value}",
        yaxis_title=_label(outcome.name, unit),
        showlegend=False,
        **_LAYOUT,
    )
    return figure


def _range_band(figure: go.Figure, low: float, high: float) -> None:
    figure.add_hrect(
        y0=low,
        y1=high,
        fillcolor=REFERENCE_COLOUR,
        opacity=0.08,
        line_width=0,
        annotation_text="quality range",
        annotation_position="top left",
    )


def interval_figure(result: ComparabilityResult) -> go.Figure | None:
    """Tier 1 CQAs: each (1 - 2 alpha) interval of the difference against its +/- margin.

    Differences are divided by their CQA's margin so CQAs of different units share one axis;
    equivalence is shown when the whole interval lies inside (-1, +1). The hover text gives the
    values in the CQA's own unit. None when the plan has no tier 1 CQA with a test result.
    """
    rows = [
        (o, o.tost) for o in result.outcomes if o.tier == Tier.EQUIVALENCE and o.tost is not None
    ]
    if not rows:
        return None
    figure = go.Figure()
    for outcome, tost in rows:
        scale = tost.margin
        centre = tost.difference / scale
        level = 100.0 * (1.0 - 2.0 * tost.alpha)
        unit = next((c.unit for c in result.plan.cqas if c.name == outcome.name), "")
        hover = (
            f"{outcome.name}: difference {tost.difference:.4g} {unit}, {level:.3g} % CI "
            f"[{tost.ci_low:.4g}, {tost.ci_high:.4g}], margin +/-{tost.margin:.4g} "
            f"({outcome.margin_source}); {outcome.verdict.value}"
        )
        figure.add_trace(
            go.Scatter(
                x=[centre],
                y=[outcome.name],
                mode="markers",
                marker={"color": VERDICT_COLOUR[outcome.verdict], "size": 10},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [tost.ci_high / scale - centre],
                    "arrayminus": [centre - tost.ci_low / scale],
                    "color": VERDICT_COLOUR[outcome.verdict],
                    "thickness": 2,
                },
                name=outcome.name,
                hovertext=hover,
                hoverinfo="text",
            )
        )
    for edge in (-1.0, 1.0):
        figure.add_vline(x=edge, line_dash="dash", line_color="#d62728")
    figure.add_vline(x=0.0, line_color="#999999", line_width=1)
    figure.update_layout(
        title="Tier 1: confidence intervals of the difference (test - reference) / margin",
        xaxis_title="difference / margin (equivalent when the interval is inside -1 .. +1)",
        showlegend=False,
        height=max(250, 60 * len(rows) + 120),
        **_LAYOUT,
    )
    return figure


def quality_range_figure(outcome: CqaOutcome, test: pd.Series, *, unit: str = "") -> go.Figure:
    """Tier 2: each post-change lot against the quality range mean_R +/- k SD_R.

    Lots are plotted in the order given (manufacturing order); lots outside the range are red.
    """
    values = test.dropna()
    result = outcome.quality_range
    low = result.low if result is not None else math.nan
    high = result.high if result is not None else math.nan
    inside = (values >= low) & (values <= high)
    figure = go.Figure(
        go.Scatter(
            x=[str(i) for i in values.index],
            y=values.to_numpy(float),
            mode="markers",
            marker={
                "color": [TEST_COLOUR if ok else VERDICT_COLOUR[Verdict.FAIL] for ok in inside],
                "size": 9,
            },
            hovertemplate="lot %{x}: %{y:.4g}<extra></extra>",
            name="post-change lots",
        )
    )
    if result is not None:
        _range_band(figure, low, high)
        figure.add_hline(y=result.mean_reference, line_dash="dot", line_color=REFERENCE_COLOUR)
        share = f"{result.n_inside} of {result.n_test} inside (required {result.min_fraction:.0%})"
    else:
        share = outcome.note
    figure.update_layout(
        title=f"{outcome.name}: tier 2 quality range, {outcome.verdict.value} ({share})",
        xaxis_title="post-change lot",
        yaxis_title=_label(outcome.name, unit),
        showlegend=False,
        **_LAYOUT,
    )
    return figure


def pca_figure(pca: PcaOverlay) -> go.Figure:
    """Scores of pre- and post-change lots on the first two components, with the T2 ellipse.

    The ellipse is the phase II T2 limit of the fitted lots (scores of the fitted lots are
    centred, so it is centred at the origin). With one component the scores are shown
    against lot order.
    """
    frame = pca.to_frame()
    two = pca.scores.shape[1] >= 2
    figure = go.Figure()
    for group, colour, label in (
        ("reference", REFERENCE_COLOUR, "pre-change (reference)"),
        ("test", TEST_COLOUR, "post-change (test)"),
    ):
        part = frame[frame["group"] == group]
        figure.add_trace(
            go.Scatter(
                x=part["PC1"] if two else part["lot"],
                y=part["PC2"] if two else part["PC1"],
                mode="markers",
                marker={"color": colour, "size": 9},
                name=label,
                text=part["lot"],
                customdata=part["t2"],
                hovertemplate="lot %{text}: T2 %{customdata:.3g}<extra></extra>",
            )
        )
    shares = [f"{100.0 * r:.3g} %" for r in pca.explained_variance_ratio]
    if two and math.isfinite(pca.t2_limit):
        angle = np.linspace(0.0, 2.0 * np.pi, 200)
        figure.add_trace(
            go.Scatter(
                x=np.sqrt(pca.t2_limit * pca.eigenvalues[0]) * np.cos(angle),
                y=np.sqrt(pca.t2_limit * pca.eigenvalues[1]) * np.sin(angle),
                mode="lines",
                line={"color": "#999999", "dash": "dash"},
                name=f"T2 limit {pca.t2_limit:.3g}",
                hoverinfo="skip",
            )
        )
    figure.update_layout(
        title=f"PCA overlay ({pca.fit_on} fit; {', '.join(pca.feature_names)})",
        xaxis_title=f"PC1 ({shares[0]})" if two else "lot",
        yaxis_title=f"PC2 ({shares[1]})" if two else f"PC1 ({shares[0]})",
        **_LAYOUT,
    )
    return figure


def comparability_figures(
    result: ComparabilityResult,
    reference: pd.DataFrame,
    test: pd.DataFrame,
) -> list[NamedFigure]:
    """Every figure of a comparability report, in reading order.

    Parameters
    ----------
    result : ComparabilityResult
        The evaluated plan.
    reference, test : DataFrame
        Values the plan was evaluated on: one row per lot (index = lot label), one column per
        CQA.

    Returns
    -------
    list of NamedFigure
        The tier 1 interval chart, then per CQA its distributions (and, for tier 2, the
        quality-range chart), then the PCA overlay when the plan has a multivariate view.
    """
    figures: list[NamedFigure] = []
    intervals = interval_figure(result)
    if intervals is not None:
        figures.append(
            NamedFigure(
                "tier1-intervals",
                "Tier 1 intervals against margins",
                intervals,
                "Each bar is the (1 - 2 alpha) confidence interval of the mean difference, "
                "divided by the CQA's margin; dashed lines are the margins.",
            )
        )
    units = {c.name: c.unit for c in result.plan.cqas}
    for index, outcome in enumerate(result.outcomes):
        ref, new = _values(reference, outcome.name), _values(test, outcome.name)
        unit = units.get(outcome.name, "")
        figures.append(
            NamedFigure(
                f"cqa-{index + 1}-distribution",
                f"{outcome.name}: pre- and post-change lots",
                distribution_figure(outcome, ref, new, unit=unit),
            )
        )
        if outcome.tier == Tier.QUALITY_RANGE:
            figures.append(
                NamedFigure(
                    f"cqa-{index + 1}-quality-range",
                    f"{outcome.name}: quality range",
                    quality_range_figure(outcome, new, unit=unit),
                )
            )
    if result.pca is not None:
        figures.append(
            NamedFigure(
                "pca-overlay",
                "PCA overlay of pre- and post-change lots",
                pca_figure(result.pca),
                result.pca.summary(),
            )
        )
    return figures


# -- process, monitoring, transport and SPC figures of the web pages ------------------------
# These take the plain documents of the services (``to_dict()`` shapes), so that pages and
# reports draw the same figures from the same data.

ALARM_COLOUR = "#d62728"
ENVELOPE_COLOUR = "rgba(31, 119, 180, 0.15)"


def trajectory_figure(
    series: Mapping[str, Any],
    *,
    envelope: Mapping[str, Any] | None = None,
    alarm_times_h: Sequence[float] = (),
    title: str = "",
) -> go.Figure:
    """One variable of a lot along time, with the reference envelope and alarm times.

    Parameters
    ----------
    series : mapping
        ``variable``, ``unit``, ``t`` (h) and ``value`` (downsampled).
    envelope : mapping, optional
        ``t``, ``low``, ``mean``, ``high`` of the reference lots (normal operation).
    alarm_times_h : sequence of float
        Times (h) at which the monitoring model raised alarms, marked in red.
    """
    figure = go.Figure()
    if envelope is not None:
        figure.add_trace(
            go.Scatter(
                x=list(envelope["t"]) + list(envelope["t"])[::-1],
                y=list(envelope["high"]) + list(envelope["low"])[::-1],
                fill="toself",
                fillcolor=ENVELOPE_COLOUR,
                line={"width": 0},
                hoverinfo="skip",
                name="reference ±3 SD",
            )
        )
        figure.add_trace(
            go.Scatter(
                x=envelope["t"],
                y=envelope["mean"],
                mode="lines",
                line={"dash": "dash", "color": REFERENCE_COLOUR, "width": 1},
                name="reference mean",
            )
        )
    figure.add_trace(
        go.Scatter(
            x=series["t"],
            y=series["value"],
            mode="lines",
            name=series["variable"],
            line={"color": "#222222", "width": 1.5},
        )
    )
    if alarm_times_h and len(series["t"]):
        t = np.asarray(series["t"], dtype=float)
        v = np.asarray(series["value"], dtype=float)
        at = [float(v[int(np.argmin(np.abs(t - a)))]) for a in alarm_times_h]
        figure.add_trace(
            go.Scatter(
                x=list(alarm_times_h),
                y=at,
                mode="markers",
                name="alarm",
                marker={"color": ALARM_COLOUR, "size": 7, "symbol": "x"},
            )
        )
    figure.update_layout(
        **_LAYOUT,
        title=title or series["variable"],
        height=260,
        xaxis_title="t (h)",
        yaxis_title=_label(str(series["variable"]), str(series.get("unit") or "")),
        showlegend=False,
    )
    return figure


def monitoring_figure(points: Mapping[str, Sequence[Any]], *, statistic: str) -> go.Figure:
    """T2 or SPE of a lot along maturity against its limit; alarms in red."""
    t = list(points["t"])
    values = list(points[statistic])
    alarms = [i for i, a in enumerate(points["alarm"]) if a]
    figure = go.Figure(
        [
            go.Scatter(
                x=t,
                y=values,
                mode="lines+markers",
                name=statistic.upper(),
                marker={"size": 4},
                line={"color": "#222222"},
            ),
            go.Scatter(
                x=t,
                y=list(points[f"{statistic}_limit"]),
                mode="lines",
                name="limit",
                line={"color": ALARM_COLOUR, "dash": "dash"},
            ),
            go.Scatter(
                x=[t[i] for i in alarms],
                y=[values[i] for i in alarms],
                mode="markers",
                name="alarm",
                marker={"color": ALARM_COLOUR, "size": 8},
            ),
        ]
    )
    figure.update_layout(
        **_LAYOUT,
        height=260,
        title=statistic.upper(),
        xaxis_title="t (h)",
        yaxis_type="log",
        showlegend=False,
    )
    return figure


def contribution_figure(contributions: Mapping[str, Any], *, statistic: str) -> go.Figure:
    """Per-variable contributions to SPE or T2 at one time point (largest first)."""
    pairs = sorted(
        zip(contributions["variables"], contributions[statistic], strict=True),
        key=lambda p: -abs(float(p[1])),
    )
    figure = go.Figure(
        go.Bar(
            x=[float(v) for _, v in pairs],
            y=[str(n) for n, _ in pairs],
            orientation="h",
            marker={
                "color": [ALARM_COLOUR if i == 0 else REFERENCE_COLOUR for i in range(len(pairs))]
            },
        )
    )
    figure.update_layout(
        **_LAYOUT,
        height=80 + 30 * len(pairs),
        title=f"{statistic.upper()} contributions at t = {float(contributions['t']):g} h",
        yaxis={"autorange": "reversed"},
    )
    return figure


def logger_figure(
    series: Mapping[str, Any],
    *,
    rules: Sequence[Mapping[str, Any]] = (),
    excursions: Sequence[Mapping[str, Any]] = (),
) -> go.Figure:
    """A shipment logger trace against its temperature bands, excursions shaded red."""
    x = series.get("timestamp") or series["t"]
    figure = go.Figure(
        go.Scatter(
            x=x,
            y=series["value"],
            mode="lines+markers",
            marker={"size": 3},
            name=series["variable"],
            line={"color": "#222222"},
        )
    )
    for rule in rules:
        for edge in ("low_c", "high_c"):
            if rule.get(edge) is not None:
                figure.add_hline(
                    y=float(rule[edge]),
                    line_dash="dash",
                    line_color=REFERENCE_COLOUR,
                    annotation_text=f"{rule['band']} {edge[:-2]}",
                )
    for e in excursions:
        figure.add_vrect(
            x0=e["start"], x1=e["end"], fillcolor=ALARM_COLOUR, opacity=0.15, line_width=0
        )
    figure.update_layout(
        **_LAYOUT,
        height=320,
        title=f"{series['variable']} ({series.get('unit') or ''})",
        showlegend=False,
    )
    return figure


def control_chart_figure(chart: Mapping[str, Any]) -> list[go.Figure]:
    """One figure per series of a control chart: points, centre line, limits, violations."""
    figures = []
    flagged = {(v["series"], v["index"]) for v in chart["violations"]}
    for limits in chart["limits"]:
        name = limits["series"]
        points = [p for p in chart["points"] if p["series"] == name]
        labels = [p["label"] for p in points]
        values = [p["statistic"] for p in points]
        red = [i for i, p in enumerate(points) if (name, p["index"]) in flagged]
        figure = go.Figure(
            [
                go.Scatter(
                    x=labels,
                    y=values,
                    mode="lines+markers",
                    name=name,
                    line={"color": "#222222"},
                    marker={"size": 6},
                ),
                go.Scatter(
                    x=labels,
                    y=[p["center"] for p in points],
                    mode="lines",
                    name="centre",
                    line={"color": REFERENCE_COLOUR},
                ),
                go.Scatter(
                    x=labels,
                    y=[p["ucl"] for p in points],
                    mode="lines",
                    name="UCL",
                    line={"color": ALARM_COLOUR, "dash": "dash"},
                ),
                go.Scatter(
                    x=labels,
                    y=[p["lcl"] for p in points],
                    mode="lines",
                    name="LCL",
                    line={"color": ALARM_COLOUR, "dash": "dash"},
                ),
                go.Scatter(
                    x=[labels[i] for i in red],
                    y=[values[i] for i in red],
                    mode="markers",
                    name="violation",
                    marker={
                        "color": ALARM_COLOUR,
                        "size": 11,
                        "symbol": "circle-open",
                        "line": {"width": 2},
                    },
                ),
            ]
        )
        figure.update_layout(
            **_LAYOUT, height=300, title=f"{chart['name']}: {name}", showlegend=False
        )
        figures.append(figure)
    return figures
