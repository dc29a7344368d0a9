"""Building blocks for fitting the monitors from moments computed elsewhere.

The PCA and PLS monitors fit on rows held in memory. An engine that fits them from sums over
partitions (``saisei.scale`` on Dask: ``X'X``, ``X'Y``, per-column moments) needs the same
linear algebra, component selection and limits; this module is the public face of those
pieces, so that such an engine gives the same model as the single-machine fit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._limits import (
    dmodx_limit,
    dmodx_s0,
    spe_limit_from_eigenvalues,
    spe_limit_from_mean_var,
    t2_limit,
)
from ._linalg import _masked_grams as masked_grams
from ._linalg import _outer_rows as outer_rows
from ._linalg import flip_signs, missing_pattern, solve_spd_batched
from ._monitor import _inverse_or_zero
from ._pls import _vip as vip
from ._project import TsrSupport
from ._select import MAX_AUTO_COMPONENTS, count_from_q2, cumulative_q2
from ._validation import check_blocks

__all__ = [
    "MAX_AUTO_COMPONENTS",
    "check_blocks",
    "count_from_q2",
    "cumulative_q2",
    "finish_limits",
    "flip_signs",
    "masked_grams",
    "missing_pattern",
    "outer_rows",
    "solve_spd_batched",
    "spe_limit_from_mean_var",
    "vip",
]


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

    Parameters
    ----------
    estimator : PCAMonitor or PLSMonitor
        A monitor whose loadings, rotation and preprocessing are already set.
    n, k, a : int
        Training rows, variables and components.
    score_variances : ndarray of shape (a,)
        Variance of each score over the training rows (ddof=1).
    residual_eigenvalues : ndarray
        Eigenvalues of the residual covariance, for the eigenvalue-based SPE limits.
    residual_ss : float
        Residual sum of squares over the training data, for DModX.
    cov : ndarray of shape (k, k)
        Covariance of the scaled training data, for trimmed score regression.
    spe_mean_var : tuple of float, optional
        Count, mean and centred sum of squares of the training SPE; needed when
        ``estimator.spe_method == "box-moments"``.

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
