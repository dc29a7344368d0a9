"""`saisei recommend --collection DIN`: set-points for an incoming source material."""

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
from saisei.services.recommend import recommend_setpoints


@handle_errors
def recommend_command(
    ctx: typer.Context,
    collection: str = typer.Option(..., "--collection", help="DIN of the incoming collection."),
    design_space: str | None = typer.Option(
        None, "--design-space", help="Stored design space (default: the newest)."
    ),
    version: int | None = typer.Option(None, "--version", help="Its version (newest)."),
    level: float = typer.Option(0.9, "--level", help="Level of the credible interval."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Recommend set-points inside the design space that maximise P(all in spec) for a DIN.

    Uses the collection's donor, tissue and transport history as the design space's
    covariates; prints the probability and its credible interval.
    """
    with open_store(settings_from(ctx)) as store:
        rec = recommend_setpoints(
            store, collection, design_space=design_space, version=version, level=level
        )
    if json_output:
        print_json(rec.to_dict())
        return
    print_table(
        f"Set-points for {rec.din} ({rec.design_space} v{rec.version}, {rec.status})",
        ["parameter", "set-point", "unit", "searched from", "to"],
        [
            [
                p,
                f"{v:.4g}",
                rec.units.get(p) or "",
                f"{rec.searched[p][0]:.4g}",
                f"{rec.searched[p][1]:.4g}",
            ]
            for p, v in rec.setpoints.items()
        ],
    )
    typer.echo(
        f"P(all in spec) = {rec.probability:.3f} ({rec.level:.0%} credible interval "
        f"{rec.ci_low:.3f} to {rec.ci_high:.3f}); at the process targets "
        f"{rec.probability_at_target:.3f}."
    )
    for note in rec.notes:
        typer.echo(note, err=True)
