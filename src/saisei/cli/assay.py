"""`saisei assay`: dose-response fits and relative potency stored as a QC result."""

from __future__ import annotations

from pathlib import Path

import typer

from saisei.analytics.dose_response import ParallelismLimits
from saisei.cli._common import (
    JSON_OPTION,
    handle_errors,
    open_store,
    print_json,
    print_table,
    settings_from,
)
from saisei.services.assays import (
    DoseResponseReport,
    PotencyReport,
    fit_dose_response,
    record_relative_potency,
)

app = typer.Typer(
    help="Potency and safety assays: 4PL/5PL fits and relative potency of a lot.",
    no_args_is_help=True,
)

MODEL_OPTION = typer.Option("4pl", "--model", help="4pl or 5pl.")
PLATE_SIZE_OPTION = typer.Option(96, "--plate-size", help="96 or 384 wells.")
EXCLUDE_OPTION = typer.Option(
    False,
    "--exclude-outliers",
    help="Leave replicate outliers (modified z-score > 3.5) out of the fit.",
)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _print_fit(report: DoseResponseReport) -> None:
    sample = f", sample {report.sample}" if report.sample else ""
    typer.echo(
        f"{report.model.upper()} fit of {report.source}{sample}: n = {report.n_obs}, "
        f"dof = {report.dof}, {'converged' if report.converged else 'NOT converged'}"
    )
    print_table(
        "Parameters",
        ["parameter", "estimate", "std. error"],
        [[k, _fmt(v), _fmt(report.standard_errors[k])] for k, v in report.params.items()],
    )
    typer.echo(
        f"EC50 {_fmt(report.ec50)} ({report.ci_level:.0%} CI {_fmt(report.ec50_ci_low)} to "
        f"{_fmt(report.ec50_ci_high)}, {report.ci_method}); residual SE "
        f"{_fmt(report.residual_se)}, R^2 {_fmt(report.r_squared)}"
    )
    if report.outlier_wells:
        what = "excluded" if report.excluded_wells else "kept"
        typer.echo(f"Outlier wells ({what}): {', '.join(report.outlier_wells)}")


@app.command("fit")
@handle_errors
def fit(
    file: Path = typer.Argument(..., help="CSV/XLSX with dose and response, or a plate file."),
    model: str = MODEL_OPTION,
    plate_map: Path | None = typer.Option(
        None, "--map", help="Plate map (well, sample, dose): FILE is then a plate file."
    ),
    sample: str | None = typer.Option(None, "--sample", help="Plate-map sample to fit."),
    dose_column: str = typer.Option("dose", "--dose-column", help="Dose column of FILE."),
    response_column: str = typer.Option(
        "response", "--response-column", help="Response column of FILE."
    ),
    plate_size: int = PLATE_SIZE_OPTION,
    ci_method: str = typer.Option(
        "delta", "--ci-method", help="EC50 interval: delta (as R drc) or profile."
    ),
    exclude_outliers: bool = EXCLUDE_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Fit a 4PL/5PL dose-response curve; exit code 1 when the fit does not converge."""
    report = fit_dose_response(
        file,
        model=model,
        plate_map=plate_map,
        sample=sample,
        dose_column=dose_column,
        response_column=response_column,
        n_wells=plate_size,
        ci_method=ci_method,
        exclude_outliers=exclude_outliers,
    )
    if json_output:
        print_json(report.to_dict())
    else:
        _print_fit(report)
    if not report.converged:
        typer.echo(f"Error: the fit did not converge: {report.message}", err=True)
        raise typer.Exit(code=1)


def _print_potency(report: PotencyReport) -> None:
    verdict = "reportable" if report.reportable else "NOT reportable"
    typer.echo(
        f"Relative potency of lot {report.lot} (test {report.test_id!r} against "
        f"{report.reference_id!r}, {report.model.upper()}): {_fmt(report.value_percent)} % "
        f"({report.level:.0%} CI {_fmt(report.ci_low_percent)} to "
        f"{_fmt(report.ci_high_percent)} %), {verdict}"
    )
    print_table(
        "Parallelism and suitability",
        ["group", "check", "value", "CI", "limits", "passed"],
        [
            [
                c["group"],
                c["name"],
                _fmt(c["value"]),
                "" if c["ci_low"] is None else f"{_fmt(c['ci_low'])} to {_fmt(c['ci_high'])}",
                f"{_fmt(c['limit_low'])} to {_fmt(c['limit_high'])}",
                "yes" if c["passed"] else "NO",
            ]
            for c in report.checks
        ],
    )
    if report.outlier_wells:
        what = "excluded" if report.excluded_wells else "kept"
        typer.echo(f"Outlier wells ({what}): {', '.join(report.outlier_wells)}")
    if report.stored:
        typer.echo(f"Stored as QC result {report.qc_result_id} (relative_potency, %).")
    elif report.dry_run and report.reportable:
        typer.echo("Dry run: nothing stored.")


@app.command("potency")
@handle_errors
def potency(
    ctx: typer.Context,
    plate: Path = typer.Option(..., "--plate", help="Plate reader file (CSV/XLSX)."),
    plate_map: Path = typer.Option(..., "--map", help="Plate map (well, sample, dose)."),
    lot: str = typer.Option(..., "--lot", help="Lot number the result is stored against."),
    actor: str = typer.Option(..., "--actor", help="Your user id, recorded in the audit trail."),
    reference_id: str = typer.Option(
        "reference", "--reference-id", help="Plate-map sample of the reference standard."
    ),
    test_id: str | None = typer.Option(
        None, "--test-id", help="Plate-map sample of the lot (default: the lot number)."
    ),
    model: str = MODEL_OPTION,
    reason: str | None = typer.Option(None, "--reason", help="Why: recorded in the audit."),
    plate_size: int = PLATE_SIZE_OPTION,
    exclude_outliers: bool = EXCLUDE_OPTION,
    slope_ratio_limits: tuple[float, float] | None = typer.Option(
        None, "--slope-ratio-limits", help="Equivalence limits of the slope ratio (0.80 1.25)."
    ),
    asymptote_limits: tuple[float, float] | None = typer.Option(
        None,
        "--asymptote-limits",
        help="Equivalence limits of the scaled asymptote differences (-0.20 0.20).",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Compute and show; store nothing."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Relative potency of a lot from a plate, stored as its QC result when reportable.

    A result that is not reportable (fit, parallelism or suitability failed) is not stored:
    the command prints it, names the failed checks on stderr and exits with code 1.
    """
    defaults = ParallelismLimits()
    limits = ParallelismLimits(
        slope_ratio=slope_ratio_limits or defaults.slope_ratio,
        asymptote_difference=asymptote_limits or defaults.asymptote_difference,
    )
    with open_store(settings_from(ctx)) as store:
        report = record_relative_potency(
            store,
            plate_path=plate,
            map_path=plate_map,
            lot=lot,
            actor=actor,
            reference_id=reference_id,
            test_id=test_id,
            model=model,
            n_wells=plate_size,
            reason=reason,
            exclude_outliers=exclude_outliers,
            parallelism_limits=limits,
            dry_run=dry_run,
            source="cli",
        )
    if json_output:
        print_json(report.to_dict())
    else:
        _print_potency(report)
    if not report.reportable:
        typer.echo(
            f"Error: the relative potency of lot {lot} is not reportable and was not stored:",
            err=True,
        )
        for problem in report.problems:
            typer.echo(f"  - {problem}", err=True)
        raise typer.Exit(code=1)
