"""The `saisei` command line: thin commands over the services.

Data go to stdout, diagnostics to stderr; every command that computes something takes
``--json``. A :class:`saisei.errors.SaiseiError` becomes a message on stderr and exit code 1.
"""

from __future__ import annotations

from pathlib import Path

import typer

from saisei import __version__
from saisei.cli import (
    acquire,
    assay,
    audit,
    batches,
    comparability,
    custody,
    data,
    db,
    design_space,
    deviations,
    doe,
    drivers,
    equipment,
    home,
    monitor,
    qc,
    recommend,
    release,
    scale,
    serve,
    shipments,
    simulate,
    spc,
    users,
)

app = typer.Typer(
    name="saisei",
    help="saisei: manufacturing data of cell and gene therapy products.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"saisei {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    home_dir: Path | None = typer.Option(
        None, "--home", help="Data folder (default: $SAISEI_HOME or ./saisei-data)."
    ),
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="Database URL (default: $SAISEI_DATABASE_URL or SQLite in the home).",
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """saisei: acquire, analyse, control and trace the manufacture of cell and gene therapies."""
    ctx.obj = {
        k: v for k, v in {"home": home_dir, "database_url": database_url}.items() if v is not None
    }


app.command("init")(home.init)
app.command("demo")(home.demo)
app.command("simulate")(simulate.simulate)
app.command("import")(data.import_command)
app.command("export")(data.export_command)
app.add_typer(db.app, name="db")
app.add_typer(audit.app, name="audit")
app.add_typer(batches.app, name="batches")
app.add_typer(monitor.app, name="monitor")
app.add_typer(spc.app, name="spc")
app.add_typer(assay.app, name="assay")
app.add_typer(custody.app, name="custody")
app.add_typer(shipments.app, name="shipments")
app.add_typer(users.app, name="users")
app.add_typer(qc.app, name="qc")
app.add_typer(deviations.app, name="deviations")
app.add_typer(comparability.app, name="comparability")
app.add_typer(scale.app, name="scale")
app.command("acquire")(acquire.acquire_command)
app.command("serve")(serve.serve)
app.command("serve-equipment")(equipment.serve_equipment_command)
app.command("review")(release.review)
app.command("drivers")(drivers.drivers_command)
app.command("design-space")(design_space.design_space_command)
app.command("doe")(doe.doe_command)
app.command("recommend")(recommend.recommend_command)
app.command("release")(release.release)


def main() -> None:
    """Entry point of the ``saisei`` script."""
    app()
