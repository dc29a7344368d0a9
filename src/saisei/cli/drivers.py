"""`saisei drivers ATTRIBUTE`: which factors drive a quality attribute."""

from __future__ import annotations

import math

import typer

from saisei.cli._common import (
    JSON_OPTION,
    handle_errors,
    open_store,
    print_json,
    print_table,
    settings_from,
)
from saisei.services.drivers import driver_analysis


def _num(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.3g}" if isinstance(value, float) else str(value)


@handle_errors
def drivers_command(
    ctx: typer.Context,
    attribute: str = typer.Argument(..., help="QC attribute, e.g. post_thaw_viability."),
    product: str | None = typer.Option(
        None, "--product", help="MSC, CAR-T, iPSC-derived, AAV, LV."
    ),
    fixed: list[str] | None = typer.Option(
        None,
        "--fixed",
        help="Fixed-effect factor (repeat); default: donor, collection, "
        "transport, process version and declared process parameters.",
    ),
    random: list[str] | None = typer.Option(
        None, "--random", help="Random-effect factor (repeat); default: materials, equipment, site."
    ),
    json_output: bool = JSON_OPTION,
) -> None:
    """Rank the donor, transport, process and material factors of a quality attribute.

    A linear mixed model (effects with 95 % intervals; variance shares of material lots,
    equipment and site) and gradient boosting (permutation importance) over one row per lot.
    """
    with open_store(settings_from(ctx)) as store:
        report = driver_analysis(
            store, attribute, product=product, fixed=fixed or None, random=random or None
        )
    if json_output:
        print_json(report.to_dict())
        return
    table = report.result.table.sort_values(["rank", "kind"], na_position="last")
    print_table(
        f"Drivers of {attribute} ({report.result.n_batches} lots)",
        ["rank", "factor", "level", "kind", "effect", "95 % CI", "importance", "variance share"],
        [
            [
                _num(r["rank"] if not math.isnan(r["rank"]) else None),
                r["factor"],
                r["level"] or "",
                r["kind"],
                _num(r["effect"]),
                ""
                if r["ci_low"] is None or math.isnan(r["ci_low"])
                else f"{r['ci_low']:.3g} to {r['ci_high']:.3g}",
                _num(r["importance"]),
                "" if math.isnan(r["variance_share"]) else f"{r['variance_share']:.0%}",
            ]
            for r in table.to_dict("records")
        ],
    )
    typer.echo(report.summary())
