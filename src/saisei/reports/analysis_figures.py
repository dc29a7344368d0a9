"""Plotly figures of the drivers and design-space documents (``to_dict()`` shapes of
:mod:`saisei.services.drivers` and :mod:`saisei.services.design_space_map`), shared by pages
and reports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped]

from saisei.reports.figures import ALARM_COLOUR, REFERENCE_COLOUR

__all__ = ["design_space_map_figure", "driver_effect_figure", "driver_importance_figure"]

_LAYOUT = {"template": "plotly_white", "margin": {"l": 160, "r": 20, "t": 50, "b": 50}}


def _factor_rows(report: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [r for r in report.get("table", []) if r.get("factor") not in (None, "residual")]


def driver_importance_figure(report: Mapping[str, Any]) -> go.Figure:
    """Permutation importance of each factor (drop of cross-validated R^2), most important on
    top, with its standard deviation over the repeats."""
    best: dict[str, Mapping[str, Any]] = {}
    for row in _factor_rows(report):
        if row.get("importance") is not None and row["factor"] not in best:
            best[row["factor"]] = row
    ranked = sorted(best.values(), key=lambda r: float(r["importance"]))
    figure = go.Figure(
        go.Bar(
            x=[float(r["importance"]) for r in ranked],
            y=[str(r["factor"]) for r in ranked],
            orientation="h",
            marker_color=REFERENCE_COLOUR,
            error_x={
                "type": "data",
                "array": [float(r.get("importance_sd") or 0.0) for r in ranked],
            },
        )
    )
    figure.update_layout(
        title=f"Drivers of {report.get('response', '')}: permutation importance",
        xaxis_title="drop of cross-validated R²",
        height=max(300, 40 + 28 * len(ranked)),
        **_LAYOUT,
    )
    return figure


def driver_effect_figure(report: Mapping[str, Any]) -> go.Figure:
    """Fixed effects of the mixed model with their 95 % confidence intervals (per unit of a
    numeric factor; per level against the reference level of a categorical one)."""
    rows = [r for r in _factor_rows(report) if r.get("effect") is not None]
    labels = [f"{r['factor']}{' = ' + str(r['level']) if r.get('level') else ''}" for r in rows]
    effects = [float(r["effect"]) for r in rows]
    low = [
        float(r["ci_low"]) if r.get("ci_low") is not None else e
        for r, e in zip(rows, effects, strict=True)
    ]
    high = [
        float(r["ci_high"]) if r.get("ci_high") is not None else e
        for r, e in zip(rows, effects, strict=True)
    ]
    figure = go.Figure(
        go.Scatter(
            x=effects,
            y=labels,
            mode="markers",
            marker={"color": REFERENCE_COLOUR, "size": 9},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [h - e for h, e in zip(high, effects, strict=True)],
                "arrayminus": [e - lo for lo, e in zip(low, effects, strict=True)],
            },
        )
    )
    figure.add_vline(x=0.0, line_dash="dash", line_color="#888")
    unit = report.get("unit") or ""
    figure.update_layout(
        title=f"Effects on {report.get('response', '')} (95 % CI)",
        xaxis_title=f"effect{f' ({unit})' if unit else ''}",
        height=max(300, 40 + 28 * len(rows)),
        **_LAYOUT,
    )
    return figure


def design_space_map_figure(document: Mapping[str, Any]) -> go.Figure:
    """P(all CQAs in spec) as a heatmap over two parameters, the reliability contour, the
    largest box and the process target."""
    space = document["design_space"]
    units = space.get("units") or {}
    x, y = document["x"], document["y"]
    reliability = float(space["reliability"])
    figure = go.Figure(
        go.Heatmap(
            x=document["x_values"],
            y=document["y_values"],
            z=document["probability"],
            zmin=0.0,
            zmax=1.0,
            colorscale="Viridis",
            colorbar={"title": "P(in spec)"},
            hovertemplate=f"{x}=%{{x:.4g}}<br>{y}=%{{y:.4g}}<br>P=%{{z:.3f}}<extra></extra>",
        )
    )
    figure.add_trace(
        go.Contour(
            x=document["x_values"],
            y=document["y_values"],
            z=document["probability"],
            contours={
                "start": reliability,
                "end": reliability,
                "size": 1.0,
                "coloring": "none",
                "showlabels": True,
            },
            line={"color": "white", "width": 2},
            showscale=False,
            name=f"P = {reliability:g}",
            hoverinfo="skip",
        )
    )
    box = space.get("box") or {}
    if x in box and y in box:
        (x0, x1), (y0, y1) = box[x], box[y]
        figure.add_shape(
            type="rect", x0=x0, x1=x1, y0=y0, y1=y1, line={"color": ALARM_COLOUR, "dash": "dot"}
        )
    targets = space.get("targets") or {}
    if x in targets and y in targets:
        figure.add_trace(
            go.Scatter(
                x=[targets[x]],
                y=[targets[y]],
                mode="markers",
                marker={"symbol": "x", "size": 12, "color": ALARM_COLOUR},
                name="target",
            )
        )

    def label(name: str) -> str:
        return f"{name} ({units[name]})" if units.get(name) else name

    figure.update_layout(
        title=f"Design space {space['name']} v{space['version']}: P(all CQAs in spec)",
        xaxis_title=label(x),
        yaxis_title=label(y),
        template="plotly_white",
        margin={"l": 70, "r": 20, "t": 50, "b": 50},
    )
    return figure
