"""`saisei batches`: list and show lots."""

from __future__ import annotations

import getpass
import os

import typer

from saisei.cli._common import (
    JSON_OPTION,
    handle_errors,
    open_store,
    print_json,
    print_table,
    settings_from,
)
from saisei.cli.users import REASON_OPTION, USER_OPTION, sign_in
from saisei.quality.disposition import quarantine_batch
from saisei.services.batches import compact_series, list_batches, show_batch

app = typer.Typer(
    help="Batches (lots): list them, show one, put a completed one into quarantine, compact "
    "their stored time series.",
    no_args_is_help=True,
)


@app.command("list")
@handle_errors
def list_command(
    ctx: typer.Context,
    product: str | None = typer.Option(
        None, "--product", help="MSC, CAR-T, iPSC-derived, AAV, LV."
    ),
    status: str | None = typer.Option(None, "--status", help="e.g. in_process, released."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many lots."),
    json_output: bool = JSON_OPTION,
) -> None:
    """List batches, newest first."""
    with open_store(settings_from(ctx)) as store:
        rows = list_batches(store, product=product, status=status, limit=limit)
    if json_output:
        print_json([r.to_dict() for r in rows])
        return
    if not rows:
        typer.echo("No batches stored.")
        return
    print_table(
        "Batches",
        ["lot", "product", "process", "status", "started (UTC)", "ended (UTC)"],
        [
            [
                r.lot_number,
                r.product_type,
                r.process,
                r.status,
                r.started_at and r.started_at.isoformat(timespec="minutes"),
                r.ended_at and r.ended_at.isoformat(timespec="minutes"),
            ]
            for r in rows
        ],
    )


@app.command("show")
@handle_errors
def show(
    ctx: typer.Context,
    lot: str = typer.Argument(..., help="Lot number."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Show one batch: genealogy, stages, parameters, materials, QC, deviations."""
    with open_store(settings_from(ctx)) as store:
        detail = show_batch(store, lot)
    if json_output:
        print_json(detail.to_dict())
        return
    s = detail.summary
    typer.echo(
        f"Lot {s.lot_number}  {s.product_type}  process {s.process or '-'}  status {s.status}"
    )
    typer.echo(f"  started {s.started_at or '-'}  ended {s.ended_at or '-'}")
    typer.echo(
        f"  parents: {', '.join(detail.parents) or '-'}   "
        f"children: {', '.join(detail.children) or '-'}"
    )
    sections = (
        ("Stages", detail.stages),
        ("Parameters", detail.parameters),
        ("Materials", detail.materials),
        ("QC results", detail.qc_results),
        ("Deviations", detail.deviations),
    )
    for title, rows in sections:
        if rows:
            columns = list(rows[0])
            print_table(title, columns, [[row[c] for c in columns] for row in rows])
    typer.echo(f"  time-series segments: {detail.timeseries_segments}")


@app.command("quarantine")
@handle_errors
def quarantine_command(
    ctx: typer.Context,
    lot: str = typer.Argument(..., help="Lot number of a completed lot."),
    reason: str | None = REASON_OPTION,
    user: str | None = USER_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Put a completed lot into quarantine to await QA disposition (QA; --reason required)."""
    settings = settings_from(ctx)
    with open_store(settings) as store:
        actor = sign_in(store, settings, user)
        view = quarantine_batch(store, actor, lot, reason=reason, source="cli")
    if json_output:
        print_json(view.to_dict())
        return
    typer.echo(f"Lot {lot}: {view.status}")


@app.command("compact")
@handle_errors
def compact_command(
    ctx: typer.Context,
    lot: str = typer.Argument(..., help="Lot number."),
    stage: str | None = typer.Option(None, "--stage", help="Only this stage (default: all)."),
    actor: str | None = typer.Option(
        None, "--actor", help="User id for the audit trail (default: $SAISEI_ACTOR or login)."
    ),
    json_output: bool = JSON_OPTION,
) -> None:
    """Merge a lot's stored time-series segments into one per stage (after live acquisition,
    which writes one per flush). The same rows are read after; the old segments stay as
    evidence. Audited."""
    who = actor or os.environ.get("SAISEI_ACTOR") or getpass.getuser()
    with open_store(settings_from(ctx)) as store:
        done = compact_series(store, lot, actor=who, stage=stage, source="cli")
    if json_output:
        print_json([c.to_dict() for c in done])
        return
    if not done:
        typer.echo(f"Lot {lot}: nothing to compact (one segment per stage already).")
    for c in done:
        typer.echo(
            f"Lot {lot} stage {c.stage}: {c.replaced} segments merged into {c.segment_id} "
            f"({c.rows} rows)."
        )
