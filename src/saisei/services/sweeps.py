"""Simulation replicates on a Dask cluster, each written as its own exchange folder."""

from __future__ import annotations

from pathlib import Path

from saisei.errors import ValidationFailed
from saisei.scale import connect, simulate_sweep
from saisei.services.simulation import SimulationSummary, _summary, write_result

__all__ = ["simulate_replicates_to_folders"]


def simulate_replicates_to_folders(
    product: str,
    batches: int,
    seed: int,
    replicates: int,
    out: Path,
    process_change_at: int | None = None,
    faults: str | None = None,
    *,
    cluster: str | None = None,
    workers: int | None = None,
) -> list[SimulationSummary]:
    """Simulate ``replicates`` plants (seeds ``seed .. seed + replicates - 1``) in parallel.

    The simulations run on the Dask cluster at ``cluster`` or on ``workers`` local workers
    (on Dask's local threads when neither is given); the results come back to this machine and
    are written as ``out/seed-<S>/`` exchange folders (``out`` itself when ``replicates`` is
    1). Each folder equals what ``simulate_to_folder`` writes for its seed.

    Raises
    ------
    ValidationFailed
        If ``replicates`` is below 1, or the simulation arguments are invalid.
    """
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
        raise ValidationFailed(f"--replicates must be an integer >= 1. Got {replicates!r}.")
    seeds = [seed + r for r in range(replicates)]
    if cluster is None and workers is None:
        results = simulate_sweep(
            product, batches, seeds, process_change_at=process_change_at, faults=faults
        )
    else:
        with connect(cluster, workers) as client:
            results = simulate_sweep(
                product,
                batches,
                seeds,
                client=client,
                process_change_at=process_change_at,
                faults=faults,
            )
    summaries = []
    for s, result in zip(seeds, results, strict=True):
        folder = out if replicates == 1 else out / f"seed-{s}"
        summaries.append(_summary(result, product, s, folder, write_result(result, folder)))
    return summaries
