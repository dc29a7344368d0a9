"""Helpers for the mvda tests: data with a known latent structure, subspace angles."""

from __future__ import annotations

import numpy as np


def latent_data(
    rng: np.random.Generator, n: int, k: int, rank: int, noise: float = 0.3, spread: float = 1.0
) -> np.ndarray:
    """Rows from a ``rank``-dimensional linear model plus isotropic noise (known structure)."""
    sd = spread * np.linspace(3.0, 1.0, rank)
    scores = rng.normal(size=(n, rank)) * sd
    loadings = rng.normal(size=(rank, k))
    offsets = rng.normal(scale=5.0, size=k)
    return scores @ loadings + offsets + noise * rng.normal(size=(n, k))


def subspace_angle_deg(A: np.ndarray, B: np.ndarray) -> float:
    """Largest principal angle between the column spaces of A and B, in degrees."""
    import scipy.linalg

    return float(np.degrees(np.max(scipy.linalg.subspace_angles(A, B))))


VARIABLES = ("density", "glucose", "lactate", "oxygen", "temperature")


def culture_batch(
    rng: np.random.Generator,
    n_times: int = 60,
    speed: float = 1.0,
    fault: str | None = None,
    onset: int = 30,
) -> np.ndarray:
    """One synthetic cell-culture batch (n_times x 5) with optional injected fault.

    Growth follows a logistic curve whose rate varies between batches; glucose and lactate
    follow the cell density, oxygen falls with it, temperature is controlled at 37 C.
    Faults (from ``onset`` on): "oxygen_drift" (sensor drift), "temperature_step" (+1.5 C),
    "feed" (glucose stops being consumed: a broken correlation).
    """
    tau = np.arange(n_times) / (n_times - 1)
    rate = rng.normal(8.0, 0.4) * speed
    density = 1.0 / (1.0 + np.exp(-rate * (tau - 0.5))) * rng.normal(10.0, 0.5)
    glucose = 30.0 - 2.0 * density + rng.normal(0, 0.3, n_times)
    lactate = 0.8 * density + rng.normal(0, 0.2, n_times)
    oxygen = 90.0 - 3.0 * density + rng.normal(0, 1.0, n_times)
    temperature = 37.0 + rng.normal(0, 0.1, n_times)
    density = density + rng.normal(0, 0.15, n_times)
    batch = np.c_[density, glucose, lactate, oxygen, temperature]
    after = np.arange(n_times) >= onset
    if fault == "oxygen_drift":
        batch[after, 3] += 0.8 * np.arange(after.sum())
    elif fault == "temperature_step":
        batch[after, 4] += 1.5
    elif fault == "feed":
        batch[after, 1] = batch[onset - 1, 1] + rng.normal(0, 0.3, after.sum())
    return batch


def culture_cube(rng: np.random.Generator, n_batches: int, **kwargs) -> np.ndarray:
    """Stack of ``culture_batch`` (batches x times x variables)."""
    return np.stack([culture_batch(rng, **kwargs) for _ in range(n_batches)])


def cube_as_long(cube: np.ndarray, lots: list[str], times: np.ndarray | None = None):
    """Long table lot, t, variable, value of a cube."""
    import pandas as pd

    b, j, k = cube.shape
    times = np.arange(j, dtype=float) if times is None else times
    return pd.DataFrame(
        {
            "lot": np.repeat(lots, j * k),
            "t": np.tile(np.repeat(times, k), b),
            "variable": np.tile(np.asarray(VARIABLES[:k]), b * j),
            "value": cube.reshape(-1),
        }
    )
