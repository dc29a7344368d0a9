"""Simulation sweeps and Monte Carlo spread over a Dask cluster.

Each task is one call of the pure simulator with its own seed, so a sweep gives exactly the
results of the same calls made one after the other; the cluster only changes where they run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import dask
import numpy as np
from distributed import Client

from saisei.errors import ValidationFailed
from saisei.simulation import SimulationResult, probability_in_spec, simulate

__all__ = [
    "MonteCarloEstimate",
    "monte_carlo_probability",
    "probability_grid",
    "simulate_sweep",
]


def _run(tasks: list[Any], client: Client | None) -> list[Any]:
    if client is not None:
        return list(client.gather(client.compute(tasks)))
    return list(dask.compute(*tasks))


def simulate_sweep(
    product: str,
    n_batches: int,
    seeds: Sequence[int],
    *,
    client: Client | None = None,
    **options: Any,
) -> list[SimulationResult]:
    """``saisei.simulation.simulate(product, n_batches, seed, **options)`` for every seed.

    Parameters
    ----------
    product : {'msc', 'cart', 'aav'}
    n_batches : int
        Batches per simulation (1..5000); a sweep of 20 seeds x 5000 batches is 100 000
        virtual batches.
    seeds : sequence of int
        One simulation per seed, in this order.
    client : distributed.Client, optional
        Where to run (default: Dask's current scheduler).
    **options
        Other arguments of ``simulate`` (``process_change_at``, ``faults``,
        ``design_space_points``, ...).

    Returns
    -------
    list of SimulationResult
        In the order of ``seeds``; each equals the sequential call with that seed.
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValidationFailed("A simulation sweep needs at least one seed. Got none.")
    tasks = [
        dask.delayed(simulate, pure=True)(product, n_batches, seed, **options) for seed in seeds
    ]
    return _run(tasks, client)


def probability_grid(
    product: str,
    setpoints: Sequence[Mapping[str, float]],
    *,
    n: int = 400,
    seed: int = 0,
    process_change: bool = False,
    client: Client | None = None,
) -> list[float]:
    """True probability of meeting every specification at each set-point combination.

    ``saisei.simulation.probability_in_spec`` for each mapping of ``setpoints`` (e.g. a
    design-space grid), one task per point; the same ``seed`` for every point, as a
    sequential loop would use.
    """
    tasks = [
        dask.delayed(probability_in_spec, pure=True)(
            product, dict(point), n=n, seed=seed, process_change=process_change
        )
        for point in setpoints
    ]
    return [float(p) for p in _run(tasks, client)]


@dataclass(frozen=True)
class MonteCarloEstimate:
    """A Monte Carlo probability from independent chunks.

    probability : mean of the chunk fractions weighted by their sizes; standard_error :
    binomial ``sqrt(p (1 - p) / n)``; n : simulated batches; chunks : tasks; seeds : the
    chunk seeds (from ``numpy.random.SeedSequence(seed).spawn``).
    """

    probability: float
    standard_error: float
    n: int
    chunks: int
    seeds: list[int]

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return asdict(self)


def chunk_seeds(seed: int, chunks: int) -> list[int]:
    """Independent 32-bit seeds for ``chunks`` streams, from one root seed."""
    children = np.random.SeedSequence(seed).spawn(chunks)
    return [int(child.generate_state(1)[0]) for child in children]


def monte_carlo_probability(
    product: str,
    setpoints: Mapping[str, float],
    *,
    n: int,
    chunk_size: int = 10_000,
    seed: int = 0,
    process_change: bool = False,
    client: Client | None = None,
) -> MonteCarloEstimate:
    """Probability in specification at ``setpoints`` from ``n`` virtual batches, in chunks.

    The batches are split into chunks of ``chunk_size`` with independent seed streams, so
    the estimate depends on ``seed``, ``n`` and ``chunk_size`` but not on the number of
    workers.
    """
    if n < 1 or chunk_size < 1:
        raise ValidationFailed(
            f"Monte Carlo needs n >= 1 and chunk_size >= 1. Got n={n}, chunk_size={chunk_size}."
        )
    sizes = [chunk_size] * (n // chunk_size) + ([n % chunk_size] if n % chunk_size else [])
    seeds = chunk_seeds(seed, len(sizes))
    tasks = [
        dask.delayed(probability_in_spec, pure=True)(
            product, dict(setpoints), n=size, seed=s, process_change=process_change
        )
        for size, s in zip(sizes, seeds, strict=True)
    ]
    fractions = np.asarray(_run(tasks, client), dtype=float)
    p = float(np.dot(fractions, sizes) / n)
    return MonteCarloEstimate(
        probability=p,
        standard_error=float(np.sqrt(p * (1.0 - p) / n)),
        n=n,
        chunks=len(sizes),
        seeds=seeds,
    )
