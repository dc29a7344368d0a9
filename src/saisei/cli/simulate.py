"""`saisei simulate`: write a simulated plant as an exchange folder with its ground truth."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from saisei.cli._common import JSON_OPTION, handle_errors, print_json
from saisei.services.simulation import SimulationSummary, simulate_to_folder
from saisei.services.sweeps import simulate_replicates_to_folders


def _print(summary: SimulationSummary) -> None:
    typer.echo(
        f"Simulated {summary.batches} {summary.product} batches (seed {summary.seed}) "
        f"into {summary.out}"
    )
    typer.echo(f"  released:  {summary.released} of {summary.batches}")
    typer.echo(f"  faults:    {summary.faults}")
    for name, count in summary.rows.items():
        typer.echo(f"  {name + ':':<16}{count}")
    typer.echo("  ground truth: truth.json")


@handle_errors
def simulate(
    product: str = typer.Option(..., "--product", help="Product: msc, cart or aav."),
    batches: int = typer.Option(..., "--batches", help="Number of batches (1..5000)."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed writes the same files."),
    out: Path = typer.Option(..., "--out", help="Exchange folder to write."),
    process_change_at: int | None = typer.Option(
        None, "--process-change-at", help="Batch (1-based) from which the process change applies."
    ),
    faults: str | None = typer.Option(
        None,
        "--faults",
        help="Faults, e.g. 'contamination@12:96,freezer_failure@30' (kind@BATCH[:HOURS]).",
    ),
    replicates: int = typer.Option(
        1, "--replicates", help="Plants to simulate with seeds SEED.., into OUT/seed-S/ each."
    ),
    cluster: str | None = typer.Option(
        None, "--cluster", help="Run the replicates on this Dask scheduler (tcp://HOST:8786)."
    ),
    workers: int | None = typer.Option(
        None, "--workers", help="Run the replicates on N local Dask workers."
    ),
    json_output: bool = JSON_OPTION,
) -> None:
    """Simulate batches with their donors, transport, culture, fill, freeze and QC.

    Writes the exchange-format tables, process definitions and truth.json (the ground truth:
    factor effects, design space, faults, process-change shifts and outliers). With
    --replicates, --cluster or --workers the simulations run on Dask (saisei.scale).
    """
    if replicates != 1 or cluster is not None or workers is not None:
        summaries = simulate_replicates_to_folders(
            product.lower(),
            batches,
            seed,
            replicates,
            out,
            process_change_at,
            faults,
            cluster=cluster,
            workers=workers,
        )
        if json_output:
            documents = [s.to_dict() for s in summaries]
            print_json(documents[0] if replicates == 1 else documents)
        else:
            for one in summaries:
                _print(one)
        return
    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("simulating", total=1.0)

        def report(phase: str, done: float) -> None:
            bar.update(task, description=phase, completed=done)

        summary = simulate_to_folder(
            product.lower(), batches, seed, out, process_change_at, faults, progress=report
        )
        bar.update(task, description="written", completed=1.0)
    if json_output:
        print_json(summary.to_dict())
    else:
        _print(summary)
