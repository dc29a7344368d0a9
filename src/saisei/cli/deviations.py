"""`saisei deviations`: record, classify, investigate, CAPA and close (signed) deviations."""

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
from saisei.cli.users import (
    REASON_OPTION,
    USER_OPTION,
    policy_from,
    sign_in,
    signature_credentials,
)
from saisei.quality import deviations
from saisei.quality.deviations import DeviationView

app = typer.Typer(
    help="Deviations: record, classify, investigate, CAPA, close with a signature.",
    no_args_is_help=True,
)


def _print(view: DeviationView, json_output: bool) -> None:
    if json_output:
        print_json(view.to_dict())
        return
    typer.echo(
        f"{view.number} [{view.status}] {view.severity} {view.category} "
        f"lot {view.lot or '-'}: {view.description}"
    )
    for label, text in (("root cause", view.root_cause), ("CAPA", view.capa)):
        if text:
            typer.echo(f"  {label}: {text}")
    for key, value in view.links.items():
        typer.echo(f"  linked {key}: {value}")
    for signature in view.signatures:
        typer.echo(f"  {signature.line()}")


@app.command("record")
@handle_errors
def record(
    ctx: typer.Context,
    description: str = typer.Option(..., "--description", help="What happened."),
    category: str = typer.Option(..., "--category", help="oos, custody, excursion, alarm, ..."),
    severity: str = typer.Option("minor", "--severity", help="minor, major or critical."),
    lot: str | None = typer.Option(None, "--lot", help="Batch concerned."),
    qc_result: int | None = typer.Option(None, "--qc-result", help="QC result id (OOS)."),
    custody_event: int | None = typer.Option(
        None, "--custody-event", help="Custody event id (custody break)."
    ),
    shipment: str | None = typer.Option(None, "--shipment", help="Shipment code (excursion)."),
    alarm: str | None = typer.Option(None, "--alarm", help="Monitoring alarm reference."),
    user: str | None = USER_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Record a deviation."""
    settings = settings_from(ctx)
    with open_store(settings) as store:
        actor = sign_in(store, settings, user)
        view = deviations.record_deviation(
            store,
            actor,
            description=description,
            category=category,
            severity=severity,
            lot=lot,
            qc_result_id=qc_result,
            custody_event_id=custody_event,
            shipment_code=shipment,
            alarm_ref=alarm,
            source="cli",
        )
    _print(view, json_output)


@app.command("list")
@handle_errors
def list_command(
    ctx: typer.Context,
    lot: str | None = typer.Option(None, "--lot"),
    status: str | None = typer.Option(None, "--status", help="open, investigation, capa, closed."),
    json_output: bool = JSON_OPTION,
) -> None:
    """List deviations."""
    with open_store(settings_from(ctx)) as store:
        views = deviations.list_deviations(store, lot=lot, status=status)
    if json_output:
        print_json([v.to_dict() for v in views])
        return
    print_table(
        "Deviations",
        ["number", "lot", "category", "severity", "status", "description"],
        [[v.number, v.lot, v.category, v.severity, v.status, v.description] for v in views],
    )


@app.command("show")
@handle_errors
def show(
    ctx: typer.Context, number: str = typer.Argument(...), json_output: bool = JSON_OPTION
) -> None:
    """Show a deviation with its links and signatures."""
    with open_store(settings_from(ctx)) as store:
        view = deviations.show_deviation(store, number)
    _print(view, json_output)


@app.command("classify")
@handle_errors
def classify(
    ctx: typer.Context,
    number: str = typer.Argument(...),
    severity: str = typer.Argument(..., help="minor, major or critical."),
    reason: str | None = REASON_OPTION,
    user: str | None = USER_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Classify a deviation (QA; reason required)."""
    settings = settings_from(ctx)
    with open_store(settings) as store:
        actor = sign_in(store, settings, user)
        view = deviations.classify_deviation(
            store, actor, number, severity, reason=reason, source="cli"
        )
    _print(view, json_output)


@app.command("investigate")
@handle_errors
def investigate(
    ctx: typer.Context,
    number: str = typer.Argument(...),
    root_cause: str = typer.Option(..., "--root-cause"),
    reason: str | None = REASON_OPTION,
    user: str | None = USER_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Record the root cause (a replaced root cause needs a reason)."""
    settings = settings_from(ctx)
    with open_store(settings) as store:
        actor = sign_in(store, settings, user)
        view = deviations.record_investigation(
            store, actor, number, root_cause=root_cause, reason=reason, source="cli"
        )
    _print(view, json_output)


@app.command("capa")
@handle_errors
def capa(
    ctx: typer.Context,
    number: str = typer.Argument(...),
    actions: str = typer.Option(..., "--capa", help="Corrective and preventive actions."),
    user: str | None = USER_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Record the CAPA of an investigated deviation."""
    settings = settings_from(ctx)
    with open_store(settings) as store:
        actor = sign_in(store, settings, user)
        view = deviations.record_capa(store, actor, number, capa=actions, source="cli")
    _print(view, json_output)


@app.command("close")
@handle_errors
def close(
    ctx: typer.Context,
    number: str = typer.Argument(...),
    conclusion: str | None = typer.Option(None, "--conclusion"),
    user: str | None = USER_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Close a deviation with your QA e-signature (meaning approval)."""
    settings = settings_from(ctx)
    with open_store(settings) as store:
        view = deviations.close_deviation(
            store,
            number,
            signature_credentials(user),
            policy_from(settings),
            conclusion=conclusion,
            source="cli",
        )
    _print(view, json_output)
