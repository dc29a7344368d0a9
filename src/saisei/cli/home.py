"""`saisei init` and `saisei demo`."""

from __future__ import annotations

from pathlib import Path

import typer

from saisei.cli._common import JSON_OPTION, handle_errors, open_store, print_json, settings_from
from saisei.services.home import HomeSummary, initialise_home


def _print_summary(summary: HomeSummary) -> None:
    state = "Initialised new" if summary.created else "Existing"
    typer.echo(f"{state} saisei home: {summary.home}")
    typer.echo(f"  database:        {summary.database} (schema {summary.schema_revision})")
    typer.echo(f"  time series:     {summary.timeseries_root}")
    for name, count in summary.counts.items():
        typer.echo(f"  {name + ':':<22}{count}")


@handle_errors
def init(
    ctx: typer.Context,
    home: Path | None = typer.Option(None, "--home", help="Data folder to initialise."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Create a saisei home: folders, database schema and the audit-trail genesis event.

    Safe to run again on an existing home: it then only applies pending migrations.
    """
    settings = settings_from(ctx, home=home)
    with open_store(settings) as store:
        summary = initialise_home(store, settings.home)
    if json_output:
        print_json(summary.to_dict())
    else:
        _print_summary(summary)


@handle_errors
def demo(
    ctx: typer.Context,
    home: Path = typer.Option(Path("demo-home"), "--home", help="Folder of the demo home."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Set up a demo home on the embedded database and summarise it."""
    settings = settings_from(ctx, home=home)
    with open_store(settings) as store:
        summary = initialise_home(store, settings.home)
    if json_output:
        print_json(summary.to_dict())
    else:
        _print_summary(summary)
        typer.echo(
            "Next: 'saisei --home demo-home batches list' and "
            "'saisei --home demo-home audit verify'."
        )
