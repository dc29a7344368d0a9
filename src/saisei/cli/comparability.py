"""`saisei comparability`: pre-registered comparability studies (plan, lock, amend, run, report)."""

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
from saisei.cli.users import USER_OPTION, policy_from, sign_in, signature_credentials
from saisei.errors import ValidationFailed
from saisei.services import comparability
from saisei.services.comparability import StudyView

app = typer.Typer(
    help="Comparability studies: plan, lock (signed), amend (signed), run, report.",
    no_args_is_help=True,
)

STUDY_ARGUMENT = typer.Argument(..., help="Study code (the 'study:' of its plan file).")


def _print_study(view: StudyView, json_output: bool, headline: str = "") -> None:
    if json_output:
        print_json(view.to_dict())
        return
    if headline:
        typer.echo(headline)
    typer.echo(
        f"{view.code} [{view.status}] {view.title}: plan version {view.plan_version}, "
        f"SHA-256 {view.plan_sha256}"
    )
    if not view.plan_intact:
        typer.echo("  WARNING: the stored plan does not match its SHA-256 (changed outside saisei)")
    for signature in view.signatures:
        typer.echo(f"  {signature.line()}")
    for amendment in view.amendments:
        typer.echo(f"  amendment {amendment.line()}")
    for run in view.runs:
        state = "pass" if run.passed else "NOT passed"
        old = "" if run.current else " (older plan version)"
        typer.echo(f"  run {run.run_number} on plan version {run.plan_version}: {state}{old}")


@app.command("plan")
@handle_errors
def plan(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="YAML plan file (see docs/comparability.md)."),
    user: str | None = USER_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Create a draft study from a YAML plan, or replace the plan of a draft."""
    definition = comparability.load_study_file(file)
    settings = settings_from(ctx)
    with open_store(settings) as store:
        actor = sign_in(store, settings, user)
        saved = comparability.save_plan(store, actor, definition, source="cli")
    if json_output:
        print_json(saved.to_dict())
        return
    _print_study(saved.study, False, f"Draft {saved.action}.")


@app.command("lock")
@handle_errors
def lock(
    ctx: typer.Context,
    study: str = STUDY_ARGUMENT,
    user: str | None = USER_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Lock a draft plan with your approval e-signature (QA; user id and password)."""
    settings = settings_from(ctx)
    with open_store(settings) as store:
        view = comparability.lock_study(
            store, study, signature_credentials(user), policy_from(settings), source="cli"
        )
    _print_study(view, json_output, "Plan locked.")


@app.command("amend")
@handle_errors
def amend(
    ctx: typer.Context,
    study: str = STUDY_ARGUMENT,
    file: Path = typer.Argument(..., help="YAML file with the amended plan."),
    reason: str | None = typer.Option(None, "--reason", help="Why the plan changes (required)."),
    user: str | None = USER_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Amend a locked plan: reason required, new approval e-signature (QA)."""
    definition = comparability.load_study_file(file)
    settings = settings_from(ctx)
    with open_store(settings) as store:
        view = comparability.amend_study(
            store,
            study,
            definition,
            signature_credentials(user),
            policy_from(settings),
            reason=reason,
            source="cli",
        )
    _print_study(view, json_output, f"Plan amended to version {view.plan_version}.")


@app.command("run")
@handle_errors
def run(
    ctx: typer.Context,
    study: str = STUDY_ARGUMENT,
    user: str | None = USER_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Compute the results of a locked study and store them with the plan hash."""
    settings = settings_from(ctx)
    with open_store(settings) as store:
        actor = sign_in(store, settings, user)
        result = comparability.run_study(store, actor, study, source="cli")
    if json_output:
        print_json(result.to_dict())
        return
    typer.echo(result.summary())


@app.command("report")
@handle_errors
def report(
    ctx: typer.Context,
    study: str = STUDY_ARGUMENT,
    out: Path | None = typer.Option(None, "--out", help="Write the HTML report here."),
    run_number: int | None = typer.Option(None, "--run", help="Run number (default: latest)."),
    plotly_js: str = typer.Option(
        "inline",
        "--plotly-js",
        help="inline (one self-contained file) or directory (plotly.min.js written beside it).",
    ),
    json_output: bool = JSON_OPTION,
) -> None:
    """Report a run: HTML with figures (--out) and/or the JSON document (--json)."""
    if out is None and not json_output:
        raise ValidationFailed("Say what to report: --out FILE.html, --json, or both.")
    if plotly_js not in ("inline", "directory"):
        raise ValidationFailed(f"--plotly-js must be 'inline' or 'directory'. Got {plotly_js!r}.")
    with open_store(settings_from(ctx)) as store:
        if json_output:
            print_json(comparability.study_result(store, study, run=run_number).to_dict())
        if out is not None:
            written = comparability.write_report(
                store,
                study,
                out,
                run=run_number,
                plotly_js="inline" if plotly_js == "inline" else "directory",
            )
            typer.echo(
                f"Report of {study} run {written.run_number} written to {written.path}.",
                err=json_output,
            )


@app.command("show")
@handle_errors
def show(ctx: typer.Context, study: str = STUDY_ARGUMENT, json_output: bool = JSON_OPTION) -> None:
    """Show a study: status, plan hash, signatures (validity), amendments, runs."""
    with open_store(settings_from(ctx)) as store:
        view = comparability.show_study(store, study)
    _print_study(view, json_output)


@app.command("list")
@handle_errors
def list_command(ctx: typer.Context, json_output: bool = JSON_OPTION) -> None:
    """List comparability studies."""
    with open_store(settings_from(ctx)) as store:
        views = comparability.list_studies(store)
    if json_output:
        print_json([v.to_dict() for v in views])
        return
    print_table(
        "Comparability studies",
        ["code", "status", "title", "plan version", "runs"],
        [[v.code, v.status, v.title, v.plan_version, len(v.runs)] for v in views],
    )
