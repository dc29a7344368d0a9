"""`saisei import` and `saisei export`: the exchange format in and out."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from saisei.cli._common import (
    JSON_OPTION,
    handle_errors,
    open_store,
    print_json,
    print_table,
    settings_from,
)
from saisei.errors import ValidationFailed
from saisei.services.export import export_store
from saisei.services.ingest import ImportProgress, ImportReport, import_path


def _actor(actor: str | None) -> str:
    return actor or os.environ.get("SAISEI_ACTOR") or getpass.getuser()


def _print_report(report: ImportReport) -> None:
    print_table(
        f"Import of {report.path} ({report.seconds:.1f} s)",
        ["file", "table", "rows", "inserted", "unchanged", "corrected", "rejected"],
        [
            [t.source, t.table, t.rows, t.inserted, t.unchanged, t.corrected, t.rejected]
            for t in report.tables
        ],
    )
    if report.errors:
        typer.echo(
            f"{len(report.errors)} problem(s); rejected rows are in {report.quarantine}:", err=True
        )
        for error in report.errors[:50]:
            typer.echo(f"  - {error}", err=True)


def _row_progress(bar: Progress) -> ImportProgress:
    """A bar per table, advanced with the rows imported (time series: segment by segment)."""
    reading = bar.add_task("reading and validating", total=None)
    tasks: dict[str, TaskID] = {}

    def update(table: str, rows_done: int, rows_total: int) -> None:
        if not tasks:
            bar.remove_task(reading)
        if table not in tasks:
            tasks[table] = bar.add_task(table, total=rows_total)
        bar.update(tasks[table], completed=rows_done, total=rows_total)

    return update


def _progress_bar(disable: bool) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        transient=True,
        disable=disable,
    )


@handle_errors
def import_command(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="Exchange folder, or one .csv/.parquet/.xlsx/.yaml."),
    reason: str | None = typer.Option(
        None, "--reason", help="Why stored values are changed (needed for corrections)."
    ),
    timezone: str | None = typer.Option(
        None, "--timezone", help="IANA zone of timestamps without offset, e.g. Asia/Tokyo."
    ),
    quarantine: Path | None = typer.Option(
        None, "--quarantine", help="Land valid rows; write rejected rows with reasons here."
    ),
    actor: str | None = typer.Option(
        None, "--actor", help="User id for the audit trail (default: $SAISEI_ACTOR or login)."
    ),
    json_output: bool = JSON_OPTION,
) -> None:
    """Import every factor along the chain from the exchange format.

    One transaction: everything lands or nothing does (unless --quarantine). Importing the
    same content again changes nothing; changed values need --reason.
    """
    settings = settings_from(ctx)
    with open_store(settings) as store, _progress_bar(json_output) as bar:
        try:
            report = import_path(
                store,
                path,
                actor=_actor(actor),
                reason=reason,
                timezone=timezone,
                quarantine=quarantine,
                progress=_row_progress(bar),
            )
        except ValidationFailed as exc:
            if json_output:
                print_json(
                    {
                        "ok": False,
                        "error": exc.message,
                        "errors": [
                            {
                                "file": e.file,
                                "row": e.row,
                                "field": e.field,
                                "value": None if e.value is None else str(e.value),
                                "message": e.message,
                            }
                            for e in exc.errors
                        ],
                    }
                )
                raise typer.Exit(code=1) from None
            raise
    if json_output:
        print_json(report.to_dict())
    else:
        _print_report(report)
    if not report.ok:
        raise typer.Exit(code=1)


@handle_errors
def export_command(
    ctx: typer.Context,
    folder: Path = typer.Argument(..., help="Folder to write the exchange files to."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Write the whole store in the exchange format (re-importable)."""
    with open_store(settings_from(ctx)) as store:
        summary = export_store(store, folder)
    if json_output:
        print_json(summary.to_dict())
    else:
        print_table(
            f"Export to {folder}",
            ["table", "rows"],
            [[name, count] for name, count in summary.rows.items()],
        )
