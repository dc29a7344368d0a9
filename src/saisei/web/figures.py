"""The figures of each page, drawn by :mod:`saisei.reports.figures` from the services'
documents and turned into JSON once per immutable input (see ResultCache)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup, escape

from saisei.reports import figures
from saisei.web.render import figure_json

__all__ = ["batch_figures", "chart_figures", "shipment_figures"]


def _shown(values: Any) -> list[float | None]:
    """Values as drawn: 6 significant digits (the page shows, the API keeps every digit)."""
    return [None if v is None else float(f"{v:.6g}") for v in values]


def _rounded(doc: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {**doc, **{k: _shown(doc[k]) for k in keys if k in doc}}


def _attribute(figure: Any) -> Markup:
    """Figure JSON escaped once for the page's ``data-figure`` attribute: cached figures are
    then not escaped again (a few hundred kB) on every request."""
    return escape(figure_json(figure))


def batch_figures(overview: Mapping[str, Any]) -> dict[str, Any]:
    """Trajectories with envelope and alarms, T2/SPE, contributions of the batch page."""
    monitoring = overview["monitoring"]
    envelopes = {
        e["variable"]: _rounded(e, ("t", "low", "mean", "high"))
        for e in monitoring.get("envelope", [])
    }
    points = monitoring.get("points") or {}
    alarm_times = [
        t for t, a in zip(points.get("t", []), points.get("alarm", []), strict=True) if a
    ]
    trajectories = overview.get("trajectories") or {"series": []}
    out: dict[str, Any] = {
        "trajectories": [
            {
                "key": f"traj-{i}",
                "json": _attribute(
                    figures.trajectory_figure(
                        _rounded(s, ("t", "value")),
                        envelope=envelopes.get(s["variable"])
                        if s["stage"] == monitoring.get("stage")
                        else None,
                        alarm_times_h=alarm_times if s["stage"] == monitoring.get("stage") else (),
                        title=f"{s['variable']} ({s['stage']})",
                    )
                ),
            }
            for i, s in enumerate(trajectories["series"])
        ],
        "monitoring": [],
        "contributions": [],
    }
    if points:
        out["monitoring"] = [
            {"key": f"mon-{s}", "json": _attribute(figures.monitoring_figure(points, statistic=s))}
            for s in ("t2", "spe")
        ]
    contributions = monitoring.get("contributions")
    if contributions:
        out["contributions"] = [
            {
                "key": f"contrib-{s}",
                "json": _attribute(figures.contribution_figure(contributions, statistic=s)),
            }
            for s in ("spe", "t2")
        ]
    return out


def shipment_figures(detail: Mapping[str, Any]) -> list[dict[str, str]]:
    """Logger traces against the bands of the stored specification, excursions shaded."""
    evaluation = detail.get("evaluation") or {}
    rules = (evaluation.get("spec") or {}).get("rules", [])
    excursions = evaluation.get("excursions", [])
    return [
        {
            "key": f"logger-{i}",
            "json": figure_json(
                figures.logger_figure(
                    s,
                    rules=rules if s["variable"] == "temperature" else (),
                    excursions=excursions if s["variable"] == "temperature" else (),
                )
            ),
        }
        for i, s in enumerate(detail.get("series", []))
    ]


def chart_figures(chart: Mapping[str, Any]) -> list[dict[str, str]]:
    """One figure per series of a control chart."""
    return [
        {"key": f"chart-{i}", "json": figure_json(f)}
        for i, f in enumerate(figures.control_chart_figure(chart))
    ]
