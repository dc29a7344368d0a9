"""Self-contained HTML reports rendered from result objects (Jinja2, autoescaped).

plotly.js is embedded in the page (``plotly_js="inline"``, the default: one file that opens
anywhere, offline) or referenced as ``plotly.min.js`` beside the page (``"directory"``: the
caller writes :func:`plotly_js_source` there, or the web app serves it). It is never loaded
from a CDN. Numbers are rounded here, for people (4 significant digits); the JSON twin of a
report carries them unrounded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

from saisei.analytics.comparability import ComparabilityResult, Tier
from saisei.errors import ValidationFailed
from saisei.reports.figures import NamedFigure, comparability_figures

__all__ = [
    "PLOTLY_JS_FILENAME",
    "ReportContext",
    "plotly_js_source",
    "render_comparability_report",
]

#: File name the page refers to when plotly.js is served beside it.
PLOTLY_JS_FILENAME = "plotly.min.js"
PlotlyJs = Literal["inline", "directory"]


@dataclass(frozen=True)
class ReportContext:
    """What the report says about the study besides the statistics (plain values).

    Attributes
    ----------
    study : str
        Study code.
    status : str
        Study status (draft, locked, run).
    plan_version : int
        Plan version the run was computed against.
    plan_sha256 : str
        SHA-256 of that plan.
    run_number : int
        Which run of the study this is.
    ran_at, ran_by : str
        When (ISO 8601 UTC) and by whom the run was made.
    generated_at : str
        When the report was rendered (ISO 8601 UTC).
    product : str or None
        Product type the lots were restricted to.
    reference_selection, test_selection : str
        The lot selections in words.
    reference_lots, test_lots : tuple of str
        Lots each arm used.
    signatures : tuple of str
        Approval signatures, one line each (printed name, time, meaning, validity).
    amendments : tuple of str
        Amendments, one line each.
    warnings : tuple of str
        Shown in a banner (plan amended since the run, signature no longer valid, ...).
    """

    study: str
    status: str
    plan_version: int
    plan_sha256: str
    run_number: int
    ran_at: str
    ran_by: str
    generated_at: str
    product: str | None = None
    reference_selection: str = ""
    test_selection: str = ""
    reference_lots: tuple[str, ...] = ()
    test_lots: tuple[str, ...] = ()
    signatures: tuple[str, ...] = ()
    amendments: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())


def plotly_js_source() -> str:
    """The plotly.js bundle shipped with the installed plotly package."""
    return str(get_plotlyjs())


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _interval(low: Any, high: Any) -> str:
    if low is None or (isinstance(low, float) and math.isnan(low)):
        return ""
    return f"[{_fmt(low)}, {_fmt(high)}]"


def _outcome_rows(result: ComparabilityResult) -> list[dict[str, str]]:
    frame = result.to_frame().astype(object).where(lambda f: pd.notna(f), None)
    rows = []
    for record in frame.to_dict("records"):
        rows.append(
            {
                "cqa": str(record["cqa"]),
                "tier": str(record["tier"]),
                "verdict": str(record["verdict"]),
                "n": f"{record['n_reference']} / {record['n_test']}",
                "reference": f"{_fmt(record['mean_reference'])} ({_fmt(record['sd_reference'])})",
                "test": f"{_fmt(record['mean_test'])} ({_fmt(record['sd_test'])})",
                "margin": _fmt(record["margin"]),
                "difference": _fmt(record["difference"]),
                "ci": _interval(record["ci_low"], record["ci_high"]),
                "pvalue": _fmt(record["pvalue"]),
                "power": _fmt(record["power"]),
                "range": _interval(record["range_low"], record["range_high"]),
                "inside": _fmt(record["fraction_inside"]),
                "note": str(record["note"] or ""),
            }
        )
    return rows


def _criteria_rows(result: ComparabilityResult) -> list[dict[str, str]]:
    rows = []
    for c in result.plan.cqas:
        if c.tier == Tier.EQUIVALENCE:
            margin = _fmt(c.margin) if c.margin is not None else f"{c.margin_k:g} x SD_R"
            rule = (
                f"TOST ({'pooled' if c.equal_var else 'Welch'}), alpha {c.alpha:g}, margin "
                f"+/-{margin}; power at a true difference of {c.assumed_difference:g}"
            )
        elif c.tier == Tier.QUALITY_RANGE:
            rule = (
                f"mean_R +/- {c.range_k:g} SD_R must hold at least {c.min_fraction:.0%} of the "
                "post-change lots"
            )
        else:
            rule = "graphical comparison only"
        rows.append({"cqa": c.name, "tier": str(int(c.tier)), "unit": c.unit, "rule": rule})
    return rows


def _figure_html(named: NamedFigure) -> Markup:
    html = named.figure.to_html(
        full_html=False, include_plotlyjs=False, div_id=named.key, config={"responsive": True}
    )
    return Markup(html)


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("saisei.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_comparability_report(
    result: ComparabilityResult,
    reference: pd.DataFrame,
    test: pd.DataFrame,
    context: ReportContext,
    *,
    plotly_js: PlotlyJs = "inline",
) -> str:
    """Render the HTML report of one comparability run.

    Parameters
    ----------
    result : ComparabilityResult
        The evaluated plan.
    reference, test : DataFrame
        The values it was evaluated on (one row per lot, index = lot label, column per CQA).
    context : ReportContext
        Study, run, signatures and amendments.
    plotly_js : {"inline", "directory"}
        Embed plotly.js (default), or refer to ``plotly.min.js`` in the page's folder.

    Returns
    -------
    str
        A complete HTML document.
    """
    if plotly_js not in ("inline", "directory"):
        raise ValidationFailed(
            "The 'plotly_js' parameter of render_comparability_report must be 'inline' or "
            f"'directory'. Got {plotly_js!r} instead."
        )
    figures = comparability_figures(result, reference, test)
    script = (
        Markup("<script>") + Markup(plotly_js_source()) + Markup("</script>")
        if plotly_js == "inline"
        else Markup(f'<script src="{PLOTLY_JS_FILENAME}"></script>')
    )
    template = _environment().get_template("comparability.html.j2")
    return template.render(
        context=context,
        result=result,
        passed=result.passed,
        outcomes=_outcome_rows(result),
        criteria=_criteria_rows(result),
        hotelling=result.hotelling.summary() if result.hotelling is not None else None,
        pca_summary=result.pca.summary() if result.pca is not None else None,
        notes=list(result.notes),
        summary=result.summary(),
        figures=[(f, _figure_html(f)) for f in figures],
        plotly_script=script,
    )
