"""`saisei review LOT` and `saisei release LOT`: audit-trail review and batch disposition."""

from __future__ import annotations

from pathlib import Path

import typer

from saisei.cli._common import (
    JSON_OPTION,
    handle_errors,
    open_store,
    print_json,
    print_table,
    settings_from,
)
from saisei.cli.users import USER_OPTION, policy_from, signature_credentials
from saisei.quality import coa, disposition
from saisei.quality import review as audit_review


@handle_errors
def review(
    ctx: typer.Context,
    lot: str = typer.Argument(..., help="Lot number."),
    comment: str | None = typer.Option(None, "--comment", help="Reviewer's conclusion."),
    user: str | None = USER_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Review the audit trail of a lot and sign the review (QA; meaning review).

    The lot's audit events are printed first; the signature prompt follows.
    """
    settings = settings_from(ctx)
    with open_store(settings) as store:
        if not json_output:
            events = audit_review.batch_audit_trail(store, lot)
            print_table(
                f"Audit trail of {lot}",
                ["seq", "time (UTC)", "actor", "tag", "entity", "old", "new", "reason"],
                [
                    [
                        e.seq,
                        e.occurred_at.isoformat(timespec="seconds"),
                        e.actor,
                        e.tag,
                        e.entity,
                        e.old_values,
                        e.new_values,
                        e.reason,
                    ]
                    for e in events
                ],
            )
        view = audit_review.review_audit_trail(
            store,
            lot,
            signature_credentials(user),
            policy_from(settings),
            comment=comment,
            source="cli",
        )
    if json_output:
        print_json(view.to_dict())
        return
    typer.echo(f"Audit-trail review of {lot}: {view.events_reviewed} events reviewed.")
    for signature in view.signatures:
        typer.echo(f"  {signature.line()}")


@handle_errors
def release(
    ctx: typer.Context,
    lot: str = typer.Argument(..., help="Lot number."),
    reject: bool = typer.Option(False, "--reject", help="Reject the lot instead."),
    reason: str | None = typer.Option(None, "--reason", help="Why (required to reject)."),
    check: bool = typer.Option(False, "--check", help="Only list the prerequisites."),
    coa_path: Path | None = typer.Option(
        None, "--coa", help="After release, write the certificate of analysis (HTML) here."
    ),
    user: str | None = USER_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Release (or --reject) a lot in quarantine with your QA e-signature.

    Release needs every QC result in specification or its deviation closed, no open
    deviation, an intact custody chain and a current audit-trail review; each missing one is
    named and nothing is signed.
    """
    settings = settings_from(ctx)
    with open_store(settings) as store:
        readiness = disposition.release_readiness(store, lot)
        if check or (not reject and not readiness.ready):
            if json_output:
                print_json(readiness.to_dict())
            else:
                for prerequisite in readiness.prerequisites:
                    mark = "ok " if prerequisite.ok else "MISSING"
                    typer.echo(f"[{mark}] {prerequisite.name}")
                    for problem in prerequisite.problems:
                        typer.echo(f"        {problem}")
            if not readiness.ready and not check:
                typer.echo(f"Error: lot {lot!r} cannot be released.", err=True)
                raise typer.Exit(code=1)
            return
        credentials = signature_credentials(user)
        if reject:
            view = disposition.reject_batch(
                store, lot, credentials, policy_from(settings), reason=reason, source="cli"
            )
        else:
            view = disposition.release_batch(
                store, lot, credentials, policy_from(settings), reason=reason, source="cli"
            )
        certificate = coa.certificate_of_analysis(store, lot) if coa_path else None
    if certificate is not None and coa_path is not None:
        coa_path.write_text(certificate.html, encoding="utf-8")
    if json_output:
        print_json(view.to_dict())
        return
    typer.echo(f"Lot {lot}: {view.status}")
    for signature in view.signatures:
        typer.echo(f"  {signature.line()}")
