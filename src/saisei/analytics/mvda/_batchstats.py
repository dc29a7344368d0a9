"""Batch models assembled from sufficient statistics, for fits spread over many machines.

:class:`BatchEvolutionModel` and :class:`BatchLevelModel` need, besides their PCA/PLS model,
only sums over batches: at each point of maturity the count, mean and centred cross-products
of the reference scores and the mean and centred sum of squares of the SPE. Those statistics
of disjoint groups of batches merge exactly (Chan, Golub & LeVeque 1979, "Updating formulae
and a pairwise algorithm for computing sample variances", Stanford STAN-CS-79-773), so a fit
can summarise each group of lots where its data are and assemble the model from the merged
summaries (``saisei.scale.fit_batch_evolution`` / ``fit_batch_level`` do this on Dask). The
result equals the single-machine ``fit`` on the same batches to rounding; the per-batch
training arrays (``t2_train_``, ``spe_train_``) are not kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from saisei.errors import ValidationFailed

from ._batch import BatchEvolutionModel, BatchLevelModel
from ._batchdata import BatchCube, check_columns
from ._limits import spe_limit_from_mean_var, t2_limit

__all__ = [
    "MaturityMoments",
    "SpeTrajectoryMoments",
    "batch_evolution_from_moments",
    "batch_level_from_moments",
    "check_batch_model",
    "cube_on_grid",
    "maturity_moments",
    "quality_matrix",
    "spe_trajectory_moments",
    "unfolded_names",
]


def _merge(
    na: np.ndarray, ma: np.ndarray, m2a: np.ndarray, nb: np.ndarray, mb: np.ndarray, m2b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chan-Golub-LeVeque merge along the first axis; ``m*`` may have trailing axes."""
    n = na + nb
    safe = np.where(n > 0, n, 1.0)
    extra = (1,) * (ma.ndim - 1)
    delta = mb - ma
    mean = ma + delta * (nb / safe).reshape(-1, *extra)
    weight = (na * nb / safe).reshape(-1, *((1,) * (m2a.ndim - 1)))
    if m2a.ndim == 3:
        m2 = m2a + m2b + weight * (delta[:, :, None] * delta[:, None, :])
    else:
        m2 = m2a + m2b + weight * delta * delta
    return n, mean, m2


@dataclass(frozen=True)
class MaturityMoments:
    """Reference scores and SPE of a group of batches, per time of the maturity grid.

    n : (J,) batches with data at each time; score_mean (J, A), score_m2 (J, A, A): mean and
    centred cross-products of their scores; spe_mean, spe_m2 (J,): mean and centred sum of
    squares of their SPE; x_sum, x_count (J, K): sum and number of the scaled values present
    (for the reference mean ``x_mean_`` the T2 contributions are measured from).
    """

    n: np.ndarray
    score_mean: np.ndarray
    score_m2: np.ndarray
    spe_mean: np.ndarray
    spe_m2: np.ndarray
    x_sum: np.ndarray
    x_count: np.ndarray

    def merge(self, other: MaturityMoments) -> MaturityMoments:
        """The moments of both groups of batches together (exact, any order)."""
        n, mean, m2 = _merge(
            self.n, self.score_mean, self.score_m2, other.n, other.score_mean, other.score_m2
        )
        _, spe_mean, spe_m2 = _merge(
            self.n, self.spe_mean, self.spe_m2, other.n, other.spe_mean, other.spe_m2
        )
        return MaturityMoments(
            n, mean, m2, spe_mean, spe_m2, self.x_sum + other.x_sum, self.x_count + other.x_count
        )


@dataclass(frozen=True)
class SpeTrajectoryMoments:
    """SPE of a group of batches per time: at the time, and accumulated from the start.

    n : batches; at_mean, at_m2, up_to_mean, up_to_m2 : (J,) means and centred sums of squares.
    """

    n: float
    at_mean: np.ndarray
    at_m2: np.ndarray
    up_to_mean: np.ndarray
    up_to_m2: np.ndarray

    def merge(self, other: SpeTrajectoryMoments) -> SpeTrajectoryMoments:
        """The moments of both groups of batches together (exact, any order)."""
        j = self.at_mean.size
        na, nb = np.full(j, float(self.n)), np.full(j, float(other.n))
        _, at_mean, at_m2 = _merge(na, self.at_mean, self.at_m2, nb, other.at_mean, other.at_m2)
        _, up_mean, up_m2 = _merge(
            na, self.up_to_mean, self.up_to_m2, nb, other.up_to_mean, other.up_to_m2
        )
        return SpeTrajectoryMoments(self.n + other.n, at_mean, at_m2, up_mean, up_m2)


def check_batch_model(model: BatchEvolutionModel | BatchLevelModel, *, distributed: bool) -> None:
    """Validate a batch model's parameters before fitting (as its ``fit`` does).

    With ``distributed=True`` an aligner is refused: aligning puts every batch on a grid
    learnt from all batches together, which has no partition-by-partition form here.
    """
    model.check_params()
    if distributed and model.aligner is not None:
        raise ValidationFailed(
            f"The distributed {type(model).__name__} fit takes batches already on a common "
            "maturity grid: align the lots first (e.g. one MaturityAligner per partition with "
            "a fixed grid) and fit with aligner=None."
        )
    check_columns(model.columns, type(model).__name__)


def cube_on_grid(cube: BatchCube, times: np.ndarray, owner: str) -> np.ndarray:
    """The cube's values placed on a (larger) maturity grid ``times``; NaN where no data.

    Every time of ``cube`` must be a time of ``times`` (the grid is the union of all
    batches' times).
    """
    grid = np.asarray(times, dtype=float)
    index = np.searchsorted(grid, cube.times)
    inside = index < grid.size
    if not inside.all() or not np.array_equal(grid[index], cube.times):
        bad = cube.times[~inside | (grid[np.minimum(index, grid.size - 1)] != cube.times)]
        raise ValidationFailed(
            f"{owner}: the time {float(bad[0])} of these batches is not on the maturity grid "
            f"(which has {grid.size} times from {grid[0] if grid.size else None})."
        )
    values = np.full((cube.values.shape[0], grid.size, cube.values.shape[2]), np.nan)
    values[:, index, :] = cube.values
    return values


def maturity_moments(pca: Any, values: np.ndarray) -> MaturityMoments:
    """Per-time moments of the reference scores and SPE of some batches.

    Parameters
    ----------
    pca : PCAMonitor
        The fitted PCA of all the reference rows.
    values : ndarray of shape (n_lots, n_times, n_variables)
        These batches on the full maturity grid (:func:`cube_on_grid`).

    Returns
    -------
    MaturityMoments
    """
    b, j, k = values.shape
    a = int(pca.n_components_)
    rows = values.reshape(b * j, k)
    present = ~np.isnan(rows).all(axis=1)
    scores = np.zeros((b * j, a))
    spe = np.zeros(b * j)
    if present.any():
        diagnosis = pca._diagnose_array(rows[present], pd.RangeIndex(int(present.sum())))
        scores[present], spe[present] = diagnosis.scores, diagnosis.spe
    mask = present.reshape(b, j).astype(float)
    scores, spe = scores.reshape(b, j, a), spe.reshape(b, j)
    n = mask.sum(axis=0)
    safe = np.where(n > 0, n, 1.0)
    score_mean = np.einsum("bj,bja->ja", mask, scores) / safe[:, None]
    centred = (scores - score_mean[None]) * mask[:, :, None]
    score_m2 = np.einsum("bja,bjc->jac", centred, centred)
    spe_mean = (mask * spe).sum(axis=0) / safe
    spe_m2 = (mask * (spe - spe_mean[None]) ** 2).sum(axis=0)
    scaled = pca._scale(rows).reshape(b, j, k)
    seen = ~np.isnan(scaled) & (mask[:, :, None] > 0)
    x_sum = np.where(seen, scaled, 0.0).sum(axis=0)
    x_count = seen.sum(axis=0).astype(float)
    return MaturityMoments(n, score_mean, score_m2, spe_mean, spe_m2, x_sum, x_count)


def batch_evolution_from_moments(
    model: BatchEvolutionModel,
    pca: Any,
    times: np.ndarray,
    variables: tuple[str, ...],
    lots: tuple[Any, ...],
    moments: MaturityMoments,
) -> BatchEvolutionModel:
    """Finish a :class:`BatchEvolutionModel` from its PCA and the merged maturity moments.

    The limits along maturity pool the moments of the window ``j - window .. j + window``
    exactly as ``fit`` pools the scores and SPE values themselves.

    Returns
    -------
    BatchEvolutionModel
        ``model``, fitted; ``t2_train_`` and ``spe_train_`` are None.
    """
    if len(lots) < 3:
        raise ValidationFailed(
            f"{type(model).__name__} needs at least 3 reference batches to set limits. "
            f"Got {len(lots)}."
        )
    model.times_, model.variables_, model.lots_ = np.asarray(times, float), variables, lots
    model.pca_ = pca
    model.n_components_ = a = int(pca.n_components_)
    j, w = model.times_.size, int(model.window)
    model.score_mean_ = np.zeros((j, a))
    model.score_std_ = np.zeros((j, a))
    model.score_cov_inv_ = np.zeros((j, a, a))
    model.t2_limits_ = np.full(j, np.inf)
    model.spe_limits_ = np.full(j, np.inf)
    model.n_reference_ = moments.n.astype(np.int64)
    model.x_mean_ = np.zeros((j, moments.x_sum.shape[1]))
    for i in range(j):
        lo, hi = max(0, i - w), min(j, i + w + 1)
        n = np.zeros(1)
        mean, m2 = np.zeros((1, a)), np.zeros((1, a, a))
        spe_mean, spe_m2 = np.zeros(1), np.zeros(1)
        for s in range(lo, hi):
            nn = moments.n[s : s + 1]
            _, mean, m2 = _merge(
                n, mean, m2, nn, moments.score_mean[s : s + 1], moments.score_m2[s : s + 1]
            )
            n, spe_mean, spe_m2 = _merge(
                n, spe_mean, spe_m2, nn, moments.spe_mean[s : s + 1], moments.spe_m2[s : s + 1]
            )
        if n[0] < 2:
            continue
        x_sum, x_count = moments.x_sum[lo:hi].sum(axis=0), moments.x_count[lo:hi].sum(axis=0)
        model.x_mean_[i] = np.where(x_count > 0, x_sum / np.maximum(x_count, 1.0), 0.0)
        cov = m2[0] / (n[0] - 1)
        model.score_mean_[i] = mean[0]
        model.score_std_[i] = np.sqrt(np.diag(cov))
        model.score_cov_inv_[i] = np.linalg.pinv(cov, hermitian=True)
        model.t2_limits_[i] = t2_limit(a, max(int(moments.n[i]), 1), model.alpha, "II")
        model.spe_limits_[i] = spe_limit_from_mean_var(
            float(n[0]), float(spe_mean[0]), float(spe_m2[0]), model.alpha
        )
    model.t2_train_ = None  # type: ignore[assignment]
    model.spe_train_ = None  # type: ignore[assignment]
    return model


def unfolded_names(times: np.ndarray, variables: tuple[str, ...]) -> list[str]:
    """Column names of the batch-wise unfolded rows, time-major: ``variable@time``."""
    return [f"{v}@{t:g}" for t in times for v in variables]


def quality_matrix(y: Any, lots: tuple[Any, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    """End-of-batch quality as a (lots x targets) matrix in ``lots`` order, and its names.

    Same rules as ``BatchLevelModel.fit``: a Series/DataFrame indexed by lot (lots without a
    value get NaN) or an array with one row per batch.
    """
    return BatchLevelModel._quality_matrix(y, lots)


def spe_trajectory_moments(fitted: Any, X: np.ndarray, n_times: int) -> SpeTrajectoryMoments:
    """SPE moments per time (at the time and accumulated) of some unfolded batches.

    Parameters
    ----------
    fitted : PCAMonitor or PLSMonitor
        The model of the unfolded reference batches.
    X : ndarray of shape (n_lots, n_times * n_variables)
        These batches' unfolded rows (time-major), original units.
    n_times : int
        Times of the maturity grid.
    """
    b = X.shape[0]
    if b == 0:
        zero = np.zeros(n_times)
        return SpeTrajectoryMoments(0.0, zero, zero.copy(), zero.copy(), zero.copy())
    diagnosis = fitted._diagnose_array(X, pd.RangeIndex(b))
    per_time = np.nan_to_num(diagnosis.spe_contributions).reshape(b, n_times, -1).sum(axis=2)
    accumulated = np.cumsum(per_time, axis=1)
    at_mean, up_mean = per_time.mean(axis=0), accumulated.mean(axis=0)
    return SpeTrajectoryMoments(
        float(b),
        at_mean,
        ((per_time - at_mean) ** 2).sum(axis=0),
        up_mean,
        ((accumulated - up_mean) ** 2).sum(axis=0),
    )


def batch_level_from_moments(
    model: BatchLevelModel,
    fitted: Any,
    times: np.ndarray,
    variables: tuple[str, ...],
    lots: tuple[Any, ...],
    targets: tuple[str, ...] | None,
    moments: SpeTrajectoryMoments,
) -> BatchLevelModel:
    """Finish a :class:`BatchLevelModel` from its PCA/PLS model and the merged SPE moments.

    Returns
    -------
    BatchLevelModel
        ``model``, fitted as ``fit`` would on the same batches.
    """
    if len(lots) < 3:
        raise ValidationFailed(
            f"{type(model).__name__} needs at least 3 reference batches. Got {len(lots)}."
        )
    model.times_, model.variables_, model.lots_ = np.asarray(times, float), variables, lots
    model.targets_ = targets
    model.model_ = fitted
    model.n_components_ = int(fitted.n_components_)
    n = float(moments.n)
    model.spe_limits_up_to_ = np.array(
        [
            spe_limit_from_mean_var(n, float(m), float(s), model.alpha)
            for m, s in zip(moments.up_to_mean, moments.up_to_m2, strict=True)
        ]
    )
    model.spe_limits_at_ = np.array(
        [
            spe_limit_from_mean_var(n, float(m), float(s), model.alpha)
            for m, s in zip(moments.at_mean, moments.at_m2, strict=True)
        ]
    )
    return model
