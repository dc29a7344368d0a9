"""Pieces shared by the distributed PCA and PLS fits: scaling, limits, statistics passes."""

from __future__ import annotations

from typing import Any

import dask
import numpy as np
from distributed import Client

from saisei.analytics.mvda.kernels import check_blocks, finish_limits
from saisei.errors import ValidationFailed

from ._blocks import RowBlocks, compute, tree_reduce
from ._moments import Moments, merge, moments_of_block

__all__ = [
    "column_scaling",
    "finish_limits",
    "gather_moments",
    "require_rows",
    "set_features",
    "spe_moments",
]


def gather_moments(blocks: RowBlocks, folds: int, client: Client | None) -> Moments:
    """One pass: exact moments of all rows, per interleaved class."""
    parts = [dask.delayed(moments_of_block)(b, folds) for b in blocks.blocks]
    result: Moments = compute(tree_reduce(parts, merge), client)
    return result


def column_std(m: Moments) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (ddof=1) of each column over its values present."""
    count = m.col_n
    with np.errstate(invalid="ignore", divide="ignore"):
        var = m.col_m2 / (count - 1)
    mean = np.where(count > 0, m.col_mean, 0.0)
    std = np.where(count > 1, np.sqrt(np.where(np.isfinite(var), var, 0.0)), 0.0)
    return mean, std


def column_scaling(
    mean: np.ndarray, std: np.ndarray, method: str, labels: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """``(mean_, scale_)`` by the rules of the single-machine estimators' preprocessing."""
    k = mean.shape[0]
    if method == "none":
        centre, scale = np.zeros(k), np.ones(k)
    else:
        tiny = 10 * np.finfo(float).eps * np.maximum(np.abs(mean), 1.0)
        std = np.where(std <= tiny, 1.0, std)
        centre = mean
        scale = std if method == "autoscale" else np.sqrt(std) if method == "pareto" else np.ones(k)
    if labels is not None:
        sizes = np.bincount(labels)
        scale = scale * np.sqrt(sizes[labels])
    return centre, scale


def set_features(estimator: Any, blocks: RowBlocks) -> np.ndarray | None:
    """``n_features_in_`` and, for string column names, ``feature_names_in_``; block labels."""
    estimator.n_features_in_ = blocks.n_columns
    names = None
    if blocks.columns is not None:
        names = np.asarray(blocks.columns, dtype=object)
        estimator.feature_names_in_ = names
    labels: np.ndarray | None = check_blocks(
        estimator.blocks, blocks.n_columns, type(estimator).__name__, names
    )
    return labels


def require_rows(n: int, k: int, owner: str) -> None:
    """The distributed fits work on K x K matrices: they need at least as many rows as columns."""
    if n < max(k, 2):
        raise ValidationFailed(
            f"The distributed {owner} fit needs at least as many rows as variables (and 2 rows); "
            f"got {n} rows and {k} variables. Fit the single-machine {owner} instead."
        )


def _spe_block(
    z: np.ndarray, mean: np.ndarray, scale: np.ndarray, R: np.ndarray, P: np.ndarray
) -> tuple[float, float, float]:
    xs = (z - mean) / scale
    e = xs - (xs @ R) @ P.T
    spe = np.einsum("ij,ij->i", e, e)
    if spe.size == 0:
        return 0.0, 0.0, 0.0
    m = float(spe.mean())
    return float(spe.size), m, float(np.sum((spe - m) ** 2))


def _merge_scalar(
    a: tuple[float, float, float], b: tuple[float, float, float]
) -> tuple[float, float, float]:
    n = a[0] + b[0]
    if n == 0:
        return a
    delta = b[1] - a[1]
    return n, a[1] + delta * b[0] / n, a[2] + b[2] + delta * delta * a[0] * b[0] / n


def spe_moments(
    blocks: RowBlocks,
    mean: np.ndarray,
    scale: np.ndarray,
    R: np.ndarray,
    P: np.ndarray,
    client: Client | None,
) -> tuple[float, float, float]:
    """A pass over complete rows: count, mean and centred sum of squares of the training SPE."""
    parts = [dask.delayed(_spe_block)(b, mean, scale, R, P) for b in blocks.blocks]
    result: tuple[float, float, float] = compute(tree_reduce(parts, _merge_scalar), client)
    return result
