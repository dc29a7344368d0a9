"""`saisei doe`: a designed experiment and its run sheet."""

from __future__ import annotations

from pathlib import Path

import typer

from saisei.cli._common import JSON_OPTION, handle_errors, print_json, print_table
from saisei.services.doe import design_experiment


@handle_errors
def doe_command(
    design: str | None = typer.Option(
        None,
        "--design",
        help="ccd, box-behnken, full-factorial, fractional-factorial or d-optimal "
        "(default: the file's, else ccd).",
    ),
    factors: Path = typer.Option(..., "--factors", help="YAML file of factors (name, low, high)."),
    out: Path | None = typer.Option(None, "--out", help="Write the run sheet as CSV here."),
    center_points: int | None = typer.Option(None, "--center-points", help="Centre points."),
    seed: int | None = typer.Option(None, "--seed", help="Seed of the run-order randomisation."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Design an experiment (pyDOE3) for process characterisation and print its run sheet."""
    result = design_experiment(
        factors, design=design, out=out, center_points=center_points, seed=seed
    )
    if json_output:
        print_json(result.to_dict())
        return
    runs = result.design.runs
    names = [f.name for f in result.design.factors]
    print_table(
        f"{result.design.design} design, {len(runs)} runs",
        ["run", "block", *names],
        [[r["run"], r["block"], *[f"{r[n]:.4g}" for n in names]] for r in runs.to_dict("records")],
    )
    if result.out:
        typer.echo(f"Run sheet written to {result.out}", err=True)
