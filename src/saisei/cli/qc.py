"""`saisei qc`: specifications, QC results (evaluated on entry), invalidation, e-signing, CoA."""

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
from saisei.cli.users import (
    REASON_OPTION,
    USER_OPTION,
    policy_from,
    sign_in,
    signature_credentials,
)
from saisei.domain.quality_rules import SpecLimits
from saisei.quality import coa, esign, specs

app = typer.Typer(
    help="Quality control: specifications, results, OOS handling, certificates of analysis.",
    no_args_is_help=True,
)

PURPOSE_OPTION = typer.Option("release", "--purpose", help="release or in_process.")


@app.command("spec")
@handle_errors
def spec(
    ctx: typer.Context,
    process: str = typer.Argument(..., help="Process definition name."),
    version: str = typer.Argument(..., help="Process definition version."),
    attribute: str = typer.Argument(..., help="Quality attribute, e.g. viability."),
    unit: str = typer.Option(..., "--unit", help="Unit of the attribute, e.g. %."),
    purpose: str = PURPOSE_OPTION,
    lower: float | None = typer.Option(None, "--lower", help="Lower acceptance limit (>=)."),
    upper: float | None = typer.Option(None, "--upper", help="Upper acceptance limit (<=)."),
    alert_low: float | None = typer.Option(None, "--alert-low"),
    alert_high: float | None = typer.Option(None, "--alert-high"),
    action_low: float | None = typer.Option(None, "--action-low"),
    action_high: float | None = typer.Option(None, "--action-high"),
    expected_text: str | None = typer.Option(
        None, "--expected-text", help="Required result of a qualitative test, e.g. negative."
    ),
    reason: str | None = REASON_OPTION,
    user: str | None = USER_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Create or change a specification (QA; reason required)."""
    settings = settings_from(ctx)
    limits = SpecLimits(
        lower=lower,
        upper=upper,
        alert_low=alert_low,
        alert_high=alert_high,
        action_low=action_low,
        action_high=action_high,
        expected_text=expected_text,
    )
    with open_store(settings) as store:
        actor = sign_in(store, settings, user)
        view = specs.define_specification(
            store,
            actor,
            process=process,
            version=version,
            attribute=attribute,
            unit=unit,
            limits=limits,
            purpose=purpose,
            reason=reason,
            source="cli",
        )
    if json_output:
        print_json(view.to_dict())
    else:
        typer.echo(f"{view.process} {view.attribute} ({view.purpose}): {view.criterion} {unit}")


@app.command("specs")
@handle_errors
def specs_command(
    ctx: typer.Context,
    process: str = typer.Argument(...),
    version: str = typer.Argument(...),
    json_output: bool = JSON_OPTION,
) -> None:
    """List the specifications of a process version."""
    with open_store(settings_from(ctx)) as store:
        views = specs.list_specifications(store, process, version)
    if json_output:
        print_json([v.to_dict() for v in views])
        return
    print_table(
        f"Specifications {process} {version}",
        ["attribute", "purpose", "criterion", "unit", "alert", "action"],
        [
            [
                v.attribute,
                v.purpose,
                v.criterion,
                v.unit,
                f"{v.alert_low} / {v.alert_high}",
                f"{v.action_low} / {v.action_high}",
            ]
            for v in views
        ],
    )


@app.command("enter")
@handle_errors
def enter(
    ctx: typer.Context,
    lot: str = typer.Argument(...),
    attribute: str = typer.Argument(...),
    value: float | None = typer.Argument(None, help="Numeric result."),
    text: str | None = typer.Option(None, "--text", help="Text result (qualitative tests)."),
    unit: str | None = typer.Option(None, "--unit"),
    method: str | None = typer.Option(None, "--method"),
    sample: str | None = typer.Option(None, "--sample", help="Sample id."),
    purpose: str = PURPOSE_OPTION,
    retest_of: int | None = typer.Option(None, "--retest-of", help="Id of the result repeated."),
    user: str | None = USER_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Enter a QC result; it is evaluated against its specification at once (OOS opens a
    deviation)."""
    settings = settings_from(ctx)
    with open_store(settings) as store:
        actor = sign_in(store, settings, user)
        entry = specs.enter_qc_result(
            store,
            actor,
            lot,
            attribute,
            value=value,
            value_text=text,
            unit=unit,
            method=method,
            sample_id=sample,
            purpose=purpose,
            retest_of=retest_of,
            source="cli",
        )
    if json_output:
        print_json(entry.to_dict())
        return
    typer.echo(f"QC result {entry.id}: {entry.outcome.upper()} - {entry.message}")
    if entry.deviation:
        typer.echo(f"Deviation {entry.deviation} opened for the out-of-specification result.")


@app.command("list")
@handle_errors
def list_command(
    ctx: typer.Context, lot: str = typer.Argument(...), json_output: bool = JSON_OPTION
) -> None:
    """List a lot's QC results with outcome, status, retest links and deviations."""
    with open_store(settings_from(ctx)) as store:
        views = specs.list_qc_results(store, lot)
    if json_output:
        print_json([v.to_dict() for v in views])
        return
    print_table(
        f"QC results of {lot}",
        ["id", "attribute", "result", "unit", "spec", "outcome", "status", "retest of", "dev."],
        [
            [
                v.id,
                v.attribute,
                v.value_text if v.value is None else v.value,
                v.unit,
                v.specification,
                v.outcome,
                v.status,
                v.retest_of,
                ", ".join(v.deviations),
            ]
            for v in views
        ],
    )


@app.command("invalidate")
@handle_errors
def invalidate(
    ctx: typer.Context,
    result_id: int = typer.Argument(..., help="QC result id."),
    reason: str | None = REASON_OPTION,
    user: str | None = USER_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Invalidate a QC result (QA; reason required; the value stays on record)."""
    settings = settings_from(ctx)
    with open_store(settings) as store:
        actor = sign_in(store, settings, user)
        view = specs.invalidate_qc_result(store, actor, result_id, reason=reason, source="cli")
    if json_output:
        print_json(view.to_dict())
    else:
        typer.echo(f"QC result {view.id} invalidated: {view.invalidation_reason}")


@app.command("sign")
@handle_errors
def sign(
    ctx: typer.Context,
    result_id: int = typer.Argument(..., help="QC result id."),
    meaning: str = typer.Option(..., "--meaning", help="authorship, review, verification, ..."),
    user: str | None = USER_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """E-sign a QC result (user id and password)."""
    settings = settings_from(ctx)
    with open_store(settings) as store:
        view = esign.sign_record(
            store,
            "qc_result",
            str(result_id),
            meaning,
            signature_credentials(user),
            policy_from(settings),
            source="cli",
        )
    if json_output:
        print_json(view.to_dict())
    else:
        typer.echo(view.line())


@app.command("coa")
@handle_errors
def coa_command(
    ctx: typer.Context,
    lot: str = typer.Argument(...),
    output: Path | None = typer.Option(None, "--output", help="Write the HTML here."),
) -> None:
    """Certificate of analysis of a lot as HTML (stdout, or --output FILE)."""
    with open_store(settings_from(ctx)) as store:
        certificate = coa.certificate_of_analysis(store, lot)
    if output is None:
        typer.echo(certificate.html)
    else:
        output.write_text(certificate.html, encoding="utf-8")
        state = "released" if certificate.released else "NOT released"
        typer.echo(f"Certificate of analysis of {lot} ({state}) written to {output}", err=True)
