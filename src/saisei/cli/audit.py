"""`saisei audit`: verify and read the audit trail."""

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
from saisei.services.audit import show_audit
from saisei.services.integrity import verify_integrity

app = typer.Typer(help="Audit trail: verify its integrity and read it.", no_args_is_help=True)


@app.command("verify")
@handle_errors
def verify(ctx: typer.Context, json_output: bool = JSON_OPTION) -> None:
    """Check the audit hash chain and the SHA-256 of every time-series segment.

    Exits with code 1 and names the first broken audit row or file when anything fails.
    """
    with open_store(settings_from(ctx)) as store:
        report = verify_integrity(store)
    if json_output:
        print_json(report.to_dict())
    elif report.ok:
        typer.echo(
            f"OK: {report.audit_events_checked} audit events and "
            f"{report.segments_checked} time-series segments verified. "
            f"Chain head: {report.head_hash}"
        )
    else:
        for problem in report.problems():
            typer.echo(f"FAILED: {problem}", err=True)
    if not report.ok:
        raise typer.Exit(code=1)


@app.command("show")
@handle_errors
def show(
    ctx: typer.Context,
    entity: str | None = typer.Option(
        None, "--entity", help="Only events of this entity type, e.g. batch."
    ),
    entity_id: str | None = typer.Option(None, "--id", help="Only events of this entity id."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many events."),
    json_output: bool = JSON_OPTION,
) -> None:
    """List audit events in order: who did what, when, old -> new, and why."""
    with open_store(settings_from(ctx)) as store:
        entries = show_audit(store, entity_type=entity, entity_id=entity_id, limit=limit)
    if json_output:
        print_json([e.to_dict() for e in entries])
        return
    print_table(
        "Audit trail",
        ["seq", "time (UTC)", "actor", "tag", "entity", "old", "new", "reason"],
        [
            [
                e.seq,
                e.occurred_at.isoformat(timespec="seconds"),
                e.actor,
                e.tag,
                f"{e.entity_type or ''} {e.entity_id or ''}".strip(),
                e.old_values,
                e.new_values,
                e.reason,
            ]
            for e in entries
        ],
    )
