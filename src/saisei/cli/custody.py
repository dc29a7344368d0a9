"""`saisei custody`: parties, recording custody events, a chain needle to needle, verification."""

from __future__ import annotations

from datetime import date, datetime

import typer

from saisei.cli._common import (
    JSON_OPTION,
    handle_errors,
    open_store,
    print_json,
    print_table,
    settings_from,
)
from saisei.custody import chains, events, parties
from saisei.errors import IntegrityViolation, ValidationFailed

app = typer.Typer(
    help="Chain of identity and custody: parties, events, chains, verification.",
    no_args_is_help=True,
)
parties_app = typer.Typer(
    help="Parties of the supply chain and their qualification.", no_args_is_help=True
)
app.add_typer(parties_app, name="parties")

ACTOR_OPTION = typer.Option(
    None, "--user", envvar="SAISEI_USER", help="Your user id (default: $SAISEI_USER)."
)


def actor_of(user: str | None) -> str:
    """The acting user id, required for every change."""
    if user is None or not user.strip():
        raise ValidationFailed("Say who acts: give --user USER_ID or set SAISEI_USER.")
    return user.strip()


def parse_moment(text: str, option: str) -> datetime:
    """An ISO 8601 time with a time zone (``2025-03-01T08:00:00Z``)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            f"{option} must be an ISO 8601 time such as 2025-03-01T08:00:00Z; got {text!r}."
        ) from None
    if moment.tzinfo is None:
        raise ValidationFailed(
            f"{option} must carry a time zone (e.g. a trailing Z for UTC); got {text!r}."
        )
    return moment


@parties_app.command("list")
@handle_errors
def parties_list(
    ctx: typer.Context,
    party_type: str | None = typer.Option(
        None, "--type", help="collection_site, intermediary, manufacturer, courier, ..."
    ),
    json_output: bool = JSON_OPTION,
) -> None:
    """List parties with qualification status and expiry."""
    with open_store(settings_from(ctx)) as store:
        rows = parties.list_parties(store, party_type=party_type)
    if json_output:
        print_json([r.to_dict() for r in rows])
        return
    print_table(
        "Parties",
        ["code", "name", "type", "country", "qualification", "until"],
        [
            [r.code, r.name, r.party_type, r.country, r.qualification_status, r.qualified_until]
            for r in rows
        ],
    )


@parties_app.command("qualify")
@handle_errors
def parties_qualify(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Party code."),
    status: str = typer.Option(
        "qualified", "--status", help="qualified, pending, suspended or disqualified."
    ),
    until: str | None = typer.Option(None, "--until", help="Qualified until (YYYY-MM-DD)."),
    reason: str | None = typer.Option(None, "--reason", help="Why (required)."),
    user: str | None = ACTOR_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Set a party's qualification status and expiry (reason required)."""
    try:
        expiry = date.fromisoformat(until) if until else None
    except ValueError:
        raise ValidationFailed(f"--until must be a date YYYY-MM-DD; got {until!r}.") from None
    with open_store(settings_from(ctx)) as store:
        view = parties.qualify_party(
            store,
            actor_of(user),
            code,
            status=status,
            reason=reason,
            qualified_until=expiry,
            source="cli",
        )
    if json_output:
        print_json(view.to_dict())
    else:
        typer.echo(
            f"{view.code}: {view.qualification_status}"
            + (f" until {view.qualified_until}" if view.qualified_until else "")
        )


def _scan_pairs(scan: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for item in scan:
        container, sep, code = item.partition("=")
        if not sep:
            raise ValidationFailed(
                f"--scan takes CONTAINER=CODE (container id, then the COI or DIN on its label); "
                f"got {item!r}."
            )
        pairs.append((container, code))
    return pairs


@app.command("record")
@handle_errors
def record(
    ctx: typer.Context,
    coi: str = typer.Argument(..., help="The chain's COI."),
    event_type: str = typer.Argument(..., help="collection, labelling, packing, hand_over, ..."),
    party: str = typer.Option(..., "--party", help="Party code where it happened."),
    at: str = typer.Option(..., "--at", help="When it happened (ISO 8601 with zone)."),
    scan: list[str] = typer.Option([], "--scan", help="CONTAINER=COI_OR_DIN; repeatable."),
    din: str | None = typer.Option(None, "--din", help="The donation's DIN (collection)."),
    patient_coi: str | None = typer.Option(None, "--patient-coi", help="Patient COI (infusion)."),
    qc_disposition: str | None = typer.Option(
        None, "--qc-disposition", help="approved or rejected (QC disposition)."
    ),
    deviation: str | None = typer.Option(None, "--deviation", help="Deviation (block/unblock)."),
    comment: str | None = typer.Option(None, "--comment", help="Comment."),
    shipment: str | None = typer.Option(None, "--shipment", help="Shipment code it belongs to."),
    user: str | None = ACTOR_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Record a custody event after checking it against its chain."""
    with open_store(settings_from(ctx)) as store:
        result = events.record_event(
            store,
            coi=coi,
            event_type=event_type,
            actor=actor_of(user),
            party=party,
            occurred_at=parse_moment(at, "--at"),
            scans=_scan_pairs(scan),
            din=din,
            patient_coi=patient_coi,
            qc_disposition=qc_disposition,
            deviation_ref=deviation,
            comment=comment,
            details={"shipment": shipment} if shipment else None,
            source="cli",
        )
    if json_output:
        print_json(result.to_dict())
        return
    typer.echo(
        f"{result.coi} #{result.seq} {result.event_type} at {result.party} by {result.actor}: "
        f"stage {result.stage}"
    )
    for warning in result.warnings:
        typer.echo(f"Warning: {warning}", err=True)


@app.command("show")
@handle_errors
def show(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="COI or DIN."),
    json_output: bool = JSON_OPTION,
) -> None:
    """The whole chain needle to needle: events, parties, actors, shipments."""
    with open_store(settings_from(ctx)) as store:
        view = chains.show_chain(store, code)
    if json_output:
        print_json(view.to_dict())
        return
    typer.echo(
        f"Chain {view.coi} ({view.donor_type}, donor {view.donor}); DINs: "
        f"{', '.join(view.dins) or '-'}; lots: {', '.join(view.lots) or '-'}; stage "
        f"{view.stage}{f'; BLOCKED by {view.blocked_by}' if view.blocked_by else ''}; "
        f"integrity {view.integrity.status}"
    )
    print_table(
        f"Custody events of {view.coi}",
        ["#", "event", "occurred (UTC)", "party", "actor", "scans", "note"],
        [
            [
                e["seq"] or "-",
                e["event_type"],
                e["occurred_at"],
                e["party"],
                e["actor"],
                len(e["scans"]),
                e["deviation_ref"] or e["qc_disposition"] or e["comment"] or "",
            ]
            for e in view.events
        ],
    )
    for s in view.shipments:
        evaluation = s["evaluation"] or {}
        loggers = evaluation.get("loggers") or [{}]
        typer.echo(
            f"Shipment {s['code']} {s['from_party']} -> {s['to_party']} "
            f"({s['condition_class']}) {s['shipped_at']} - {s['received_at']}: {s['status']}"
            + (
                f"; MKT {loggers[0].get('mkt_c', float('nan')):.2f} C, "
                f"{len(evaluation.get('excursions', []))} excursion(s)"
                if evaluation.get("loggers")
                else ""
            )
        )
    for problem in view.integrity.problems:
        typer.echo(f"Integrity: {problem}", err=True)


@app.command("verify")
@handle_errors
def verify(
    ctx: typer.Context,
    strict: bool = typer.Option(
        False, "--strict", help="Count imported chains without hash links as failures."
    ),
    json_output: bool = JSON_OPTION,
) -> None:
    """Verify every chain's hash links and permitted order; exit 1 if one is broken."""
    with open_store(settings_from(ctx)) as store:
        report = chains.verify_chains(store, strict=strict)
    if json_output:
        print_json(report.to_dict())
    else:
        counts = report.to_dict()["counts"]
        typer.echo(
            f"{len(report.chains)} chain(s): {counts['intact']} intact, {counts['broken']} "
            f"broken, {counts['unlinked']} unlinked (imported, not hash-linked)."
        )
        for check in report.chains:
            if check.status == "unlinked":
                typer.echo(f"  {check.coi}: unlinked, {check.events} imported event(s)")
    if not report.ok:
        raise IntegrityViolation(f"Custody chains do not verify: {report.first_problem}")
