"""`saisei spc`: control charts and capability of stored attributes and parameters."""

from __future__ import annotations

import typer

from saisei.cli._common import (
    JSON_OPTION,
    handle_errors,
    open_store,
    print_json,
    print_table,
    settings_from,
)
from saisei.services.spc import CapabilityReport, SpcChartReport, spc_capability, spc_chart

app = typer.Typer(
    help="Statistical process control over stored lots: control charts and capability.",
    no_args_is_help=True,
)

PRODUCT_OPTION = typer.Option(
    None, "--product", help="Only lots of this product: MSC, CAR-T, iPSC-derived, AAV, LV."
)
STAGE_OPTION = typer.Option(
    None, "--stage", help="Stage of a process parameter (implies --kind parameter)."
)
KIND_OPTION = typer.Option(
    "auto", "--kind", help="auto, attribute (QC results) or parameter (process parameter)."
)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _limit(value: float | None, varying: bool) -> str:
    return "varies (see --json)" if value is None and varying else _fmt(value)


def _print_chart(report: SpcChartReport) -> None:
    unit = f" ({report.unit})" if report.unit else ""
    stage = f" at stage {report.stage}" if report.stage else ""
    typer.echo(
        f"{report.chart} chart of {report.kind} {report.name!r}{unit}{stage}: "
        f"phase {report.phase}, rules {report.rules or 'none'}"
    )
    typer.echo(f"  {report.definition}")
    print_table(
        "Limits",
        ["series", "center", "LCL", "UCL"],
        [
            [lim.series, *(_limit(v, lim.varying) for v in (lim.center, lim.lcl, lim.ucl))]
            for lim in report.limits
        ],
    )
    if report.excluded:
        typer.echo(f"  excluded from the limits: {', '.join(report.excluded)}")
    if report.unused_lots:
        typer.echo(f"  not charted (incomplete last subgroup): {', '.join(report.unused_lots)}")
    if report.in_control:
        typer.echo("No violations: no point beyond a limit and no run rule fired.")
        return
    print_table(
        "Violations",
        ["point", "label", "series", "rule", "lots"],
        [
            [
                v.index,
                v.label,
                v.series,
                f"{v.rule} {v.name}" if v.rule else v.name,
                ", ".join(v.lots),
            ]
            for v in report.violations
        ],
    )


@app.command("chart")
@handle_errors
def chart_command(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="QC attribute or process parameter name."),
    product: str | None = PRODUCT_OPTION,
    stage: str | None = STAGE_OPTION,
    kind: str = KIND_OPTION,
    chart: str = typer.Option("imr", "--chart", help="imr, xbar-r, xbar-s, ewma, cusum, p, u."),
    rules: str = typer.Option("nelson", "--rules", help="Run rules: nelson, we or none."),
    subgroup_size: int = typer.Option(
        5, "--subgroup-size", help="Consecutive lots per subgroup (xbar-r, xbar-s)."
    ),
    lsl: float | None = typer.Option(None, "--lsl", help="Lower specification limit (p chart)."),
    usl: float | None = typer.Option(None, "--usl", help="Upper specification limit (p chart)."),
    exclude: bool = typer.Option(
        False,
        "--exclude-out-of-control",
        help="Drop points beyond the limits from the estimates and re-estimate.",
    ),
    lam: float = typer.Option(0.2, "--lam", help="EWMA weight lambda in (0, 1]."),
    k: float = typer.Option(0.5, "--k", help="CUSUM reference value, in sigmas."),
    h: float = typer.Option(5.0, "--h", help="CUSUM decision interval, in sigmas."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Control chart of an attribute or parameter across lots: limits and every violation."""
    with open_store(settings_from(ctx)) as store:
        report = spc_chart(
            store,
            name,
            chart=chart,
            rules=rules,
            kind=kind,
            product=product,
            stage=stage,
            subgroup_size=subgroup_size,
            lsl=lsl,
            usl=usl,
            exclude_out_of_control=exclude,
            lam=lam,
            k=k,
            h=h,
        )
    if json_output:
        print_json(report.to_dict())
    else:
        _print_chart(report)


def _print_capability(report: CapabilityReport) -> None:
    unit = f" ({report.unit})" if report.unit else ""
    typer.echo(
        f"Capability of {report.kind} {report.name!r}{unit}: {report.n} lots, "
        f"LSL {_fmt(report.lsl)}, USL {_fmt(report.usl)} (from {report.limits_source}), "
        f"method {report.method}"
    )
    typer.echo(
        f"  mean {_fmt(report.mean)}, sigma within {_fmt(report.sigma_within)}, "
        f"overall {_fmt(report.sigma_overall)}, normality p {_fmt(report.normality_pvalue)}"
    )
    level = f"{report.confidence:.0%} CI"
    print_table(
        "Indices",
        ["index", "estimate", level],
        [
            [
                name,
                _fmt(v["estimate"]),
                "" if v["ci_low"] is None else f"{_fmt(v['ci_low'])} to {_fmt(v['ci_high'])}",
            ]
            for name, v in report.indices.items()
        ],
    )
    typer.echo(
        f"  expected ppm below LSL {_fmt(report.ppm_below)}, above USL {_fmt(report.ppm_above)}"
    )


@app.command("capability")
@handle_errors
def capability_command(
    ctx: typer.Context,
    attribute: str = typer.Argument(..., help="QC attribute (or process parameter) name."),
    lsl: float | None = typer.Option(
        None, "--lsl", help="Lower specification limit (default: stored release spec)."
    ),
    usl: float | None = typer.Option(
        None, "--usl", help="Upper specification limit (default: stored release spec)."
    ),
    product: str | None = PRODUCT_OPTION,
    stage: str | None = STAGE_OPTION,
    kind: str = KIND_OPTION,
    method: str = typer.Option("normal", "--method", help="normal, boxcox or percentile."),
    confidence: float = typer.Option(0.95, "--confidence", help="Level of the intervals."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Cp, Cpk, Pp, Ppk with intervals of one value per lot against specification limits."""
    with open_store(settings_from(ctx)) as store:
        report = spc_capability(
            store,
            attribute,
            lsl=lsl,
            usl=usl,
            kind=kind,
            product=product,
            stage=stage,
            method=method,
            confidence=confidence,
        )
    for note in report.warnings:
        typer.echo(f"Warning: {note}", err=True)
    if json_output:
        print_json(report.to_dict())
    else:
        _print_capability(report)
