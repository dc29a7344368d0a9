"""Helpers for the mvda tests: data with a known latent structure, subspace angles."""

from __future__ import annotations

import numpy as np


def latent_data(rng: np.random.Generator, n: int, k: int, rank: int, noise: float = 0.3,
                spread: float = 1.0) -> np.ndarray:
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
