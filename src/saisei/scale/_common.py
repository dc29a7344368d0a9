"""Pieces shared by the distributed PCA and PLS fits: scaling, limits, statistics passes."""

from __future__ import annotations

from typing import Any

import dask
import numpy as np
from distributed import Client
from scipy import stats

from saisei.analytics.mvda._limits import (
    dmodx_limit,
    dmodx_s0,
    spe_limit_from_eigenvalues,
    t2_limit,
)
from saisei.analytics.mvda._monitor import _inverse_or_zero
from saisei.analytics.mvda._project import TsrSupport
from saisei.analytics.mvda._validation import check_blocks
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


def spe_limit_from_mean_var(n: float, m: float, m2: float, alpha: float) -> float:
    """The Nomikos & MacGregor (1995) scaled chi-square from the SPE mean and variance.

    Same closed form as ``saisei.analytics.mvda`` uses on the SPE values themselves
    (``g chi2(1 - alpha; h)``, ``g = v / 2m``, ``h = 2 m^2 / v``).
    """
    if n < 2:
        return float("inf")
    v = m2 / (n - 1)
    if m <= 0.0:
        return 0.0
    if v <= 0.0:
        return m
    return float(v / (2 * m) * stats.chi2.ppf(1 - alpha, 2 * m * m / v))


def finish_limits(
    estimator: Any,
    *,
    n: int,
    k: int,
    a: int,
    score_variances: np.ndarray,
    residual_eigenvalues: np.ndarray,
    residual_ss: float,
    cov: np.ndarray,
    spe_mean_var: tuple[float, float, float] | None,
) -> None:
    """Set the residual model and limits exactly as ``LatentMonitorMixin._fit_residual_model``.

    The per-row training statistics (``t2_train_``, ``spe_train_``, scores) are not kept: with
    many rows they would not fit in memory; score the training data with
    :func:`saisei.scale.diagnose_partitions` when they are needed.
    """
    estimator.score_variances_ = score_variances
    estimator._inv_score_variances = _inverse_or_zero(score_variances)
    estimator.t2_train_ = None
    estimator.spe_train_ = None
    estimator._tsr = TsrSupport(estimator._rotation, cov=cov)
    estimator.residual_eigenvalues_ = np.asarray(residual_eigenvalues)
    estimator.n_samples_fit_ = n
    estimator.t2_limit_ = t2_limit(a, n, estimator.alpha, "II")
    estimator.t2_limit_phase1_ = t2_limit(a, n, estimator.alpha, "I")
    if estimator.spe_method == "box-moments":
        if spe_mean_var is None:  # pragma: no cover - callers pass it for box-moments
            raise ValueError("box-moments needs the SPE moments")
        estimator.spe_limit_ = spe_limit_from_mean_var(*spe_mean_var, estimator.alpha)
    else:
        estimator.spe_limit_ = spe_limit_from_eigenvalues(
            estimator.residual_eigenvalues_, estimator.alpha, estimator.spe_method
        )
    centred = estimator.scale != "none"
    estimator.dmodx_s0_ = dmodx_s0(residual_ss, a, n, k, centred)
    estimator.dmodx_limit_ = dmodx_limit(a, n, k, estimator.alpha, centred)
