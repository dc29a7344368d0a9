"""Distributed PLS regression: a fitted :class:`PLSMonitor` from ``X'X``, ``X'Y`` and ``Y'Y``.

The kernel form of the improved PLS algorithm (Dayal & MacGregor 1997, "Improved PLS
algorithms", J. Chemometrics 11, 73-85, algorithm 2) needs only the cross-product matrices:
``t't = r'X'Xr``, ``p = X'Xr / t't``, ``q = (X'Y)_a' r / t't``, and only ``X'Y`` is deflated.
It is the same computation as the single-machine ``PLSMonitor`` on complete data (which runs
Dayal & MacGregor's algorithm 1 on X itself), so weights, loadings, coefficients, R2, VIP and
limits agree to rounding. Cross-validation uses the same interleaved folds and global scaling:
the training cross-products of a fold are the total minus the fold's, and the fold's PRESS
follows from its own cross-products.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dask
import numpy as np
from distributed import Client

from saisei.analytics.mvda import PLSMonitor
from saisei.analytics.mvda.kernels import (
    MAX_AUTO_COMPONENTS,
    count_from_q2,
    cumulative_q2,
    vip,
)
from saisei.errors import ValidationFailed

from ._blocks import RowBlocks, row_blocks
from ._common import (
    column_scaling,
    column_std,
    finish_limits,
    gather_moments,
    require_rows,
    set_features,
    spe_moments,
)
from ._moments import cross_products_about
from ._plsmissing import nipals_missing, residual_sums

__all__ = ["fit_pls"]


def _flip(w: np.ndarray) -> float:
    sign = np.sign(w[np.argmax(np.abs(w))])
    return 1.0 if sign == 0 else float(sign)


def _first_columns(block: np.ndarray, k: int) -> np.ndarray:
    return block[:, :k]


def _kernel_pls(
    Sxx: np.ndarray, Sxy: np.ndarray, n_components: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """W, P, Q, R and t't per component from ``X'X`` and ``X'Y`` (scaled data)."""
    k, m = Sxy.shape
    W, P, R = (np.zeros((k, n_components)) for _ in range(3))
    Q = np.zeros((m, n_components))
    tt_all = np.zeros(n_components)
    XtY = Sxy.copy()
    for a in range(n_components):
        if m == 1:
            w = XtY[:, 0].copy()
        else:
            _evals, evecs = np.linalg.eigh(XtY.T @ XtY)
            w = XtY @ evecs[:, -1]
        norm = np.linalg.norm(w)
        if norm <= np.finfo(float).tiny:
            break
        w *= _flip(w) / norm
        r = w - R[:, :a] @ (P[:, :a].T @ w)
        tt = float(r @ Sxx @ r)
        if tt <= np.finfo(float).tiny:
            break
        p = (Sxx @ r) / tt
        q = (XtY.T @ r) / tt
        XtY -= tt * np.outer(p, q)
        W[:, a], P[:, a], Q[:, a], R[:, a], tt_all[a] = w, p, q, r, tt
    return W, P, Q, R, tt_all


def _residual_ss(
    Sxx: np.ndarray, Sxy: np.ndarray, Syy: np.ndarray, R: np.ndarray, Q: np.ndarray
) -> np.ndarray:
    """``|Y - X R_a Q_a'|^2`` for a = 1..A from cross-products."""
    out = np.empty(R.shape[1])
    for a in range(R.shape[1]):
        B = R[:, : a + 1] @ Q[:, : a + 1].T
        out[a] = np.trace(Syy) - 2.0 * np.sum(B * Sxy) + np.sum(B * (Sxx @ B))
    return out


def _component_bound(model: PLSMonitor, n: int, k: int) -> int:
    if model.n_components is None:
        return max(min(MAX_AUTO_COMPONENTS, k, n - 2), 1)
    a_max = int(model.n_components)
    if a_max > min(n, k):
        raise ValidationFailed(
            f"The 'n_components' parameter of PLSMonitor must be at most "
            f"min(n_samples, n_features) = {min(n, k)}. Got {a_max} instead; lower it."
        )
    return a_max


def _fit_missing(
    model: PLSMonitor,
    blocks: RowBlocks,
    scaling: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    n: int,
    k: int,
    a_max: int,
    client: Client | None,
) -> None:
    """NIPALS over the observed cells, as ``PLSMonitor.fit`` on data with missing values."""
    result = nipals_missing(
        blocks, scaling, n, a_max, model.cv_folds, float(model.tol), int(model.max_iter), client
    )
    model.q2_ = model.q2_cum_ = None
    if result.press is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            q2 = 1.0 - result.press / result.fitted_ss[:-1]
        a = count_from_q2(q2) if model.n_components is None else a_max
        model.q2_, model.q2_cum_ = q2, cumulative_q2(q2)
    else:
        a = a_max if model.n_components is not None else 1
    W, P, Q, R = result.W[:, :a], result.P[:, :a], result.C[:, :a], result.R[:, :a]
    _, x_scale, y_centre, y_scale = scaling
    model.n_components_ = a
    model._n_features_out = a
    model.n_iter_ = max(result.n_iter, 1)
    model._orthonormal = False
    model.x_weights_, model.x_loadings_, model.y_loadings_, model.x_rotations_ = W, P, Q, R
    model.x_scores_ = model.y_scores_ = None  # type: ignore[assignment]
    model._rotation, model._xloadings = R, P
    model.coef_ = ((R @ Q.T) * y_scale).T / x_scale
    model.intercept_ = y_centre.copy()
    tt = result.tt[:a]
    explained_x = tt * np.einsum("ka,ka->a", P, P)
    explained_y = tt * np.einsum("ma,ma->a", Q, Q)
    model.r2x_ = explained_x / result.ssx if result.ssx > 0 else np.zeros(a)
    model.r2y_ = explained_y / result.ssy if result.ssy > 0 else np.zeros(a)
    model.r2x_cum_, model.r2y_cum_ = np.cumsum(model.r2x_), np.cumsum(model.r2y_)
    model.vip_ = vip(W, explained_y)
    EtE, pairs, XtX, n_spe, spe_mean, spe_m2 = residual_sums(blocks, scaling, result, a, client)
    dof = max(n - 1, 1)
    score_variances = tt / dof
    if np.all(pairs == n):  # X complete (only Y has missing values)
        residual_eigenvalues = np.clip(np.linalg.eigvalsh(EtE)[::-1], 0.0, None) / dof
        cov = XtX / dof
    else:
        resid_cov = EtE / np.maximum(pairs - 1.0, 1.0)
        residual_eigenvalues = np.clip(np.linalg.eigvalsh(resid_cov)[::-1], 0.0, None)
        cov = (P * score_variances) @ P.T + resid_cov
    finish_limits(
        model,
        n=n,
        k=k,
        a=a,
        score_variances=score_variances,
        residual_eigenvalues=residual_eigenvalues,
        residual_ss=float(spe_mean * n_spe),
        cov=cov,
        spe_mean_var=(n_spe, spe_mean, spe_m2),
    )


def fit_pls(
    data: Any,
    y_columns: str | Sequence[str],
    *,
    columns: Sequence[str] | None = None,
    client: Client | None = None,
    **params: Any,
) -> PLSMonitor:
    """Fit a :class:`~saisei.analytics.mvda.PLSMonitor` on rows spread over Dask partitions.

    Parameters
    ----------
    data : dask.dataframe.DataFrame
        Rows with the process columns X and the quality columns Y; complete data (the
        distributed fit has no missing-data path for PLS: fit ``PLSMonitor`` on one machine).
    y_columns : str or sequence of str
        The quality columns; a single name gives 1-D predictions, as a 1-D ``y`` does.
    columns : sequence of str, optional
        The X columns (default: every column not in ``y_columns``).
    client : distributed.Client, optional
    **params
        The parameters of ``PLSMonitor`` (``n_components``, ``scale``, ``alpha``, ``blocks``,
        ``spe_method``, ``cv_folds``, ``tol``, ``max_iter``).

    Returns
    -------
    PLSMonitor
        Fitted as ``PLSMonitor.fit`` would on the same rows (to rounding); the per-row
        training arrays (``x_scores_``, ``y_scores_``, ``t2_train_``, ``spe_train_``) are None.
    """
    model = PLSMonitor(**params)
    model._check_params()
    y_names = [y_columns] if isinstance(y_columns, str) else [str(c) for c in y_columns]
    if not y_names:
        raise ValidationFailed("fit_pls needs at least one quality column in 'y_columns'.")
    if columns is None:
        columns = [str(c) for c in getattr(data, "columns", []) if str(c) not in y_names]
    x_names = list(columns)
    blocks = row_blocks(data, [*x_names, *y_names], "fit_pls")
    folds = int(model.cv_folds) if model.cv_folds is not None else 1
    mom = gather_moments(blocks, folds, client)
    k = len(x_names)
    require_rows(mom.n, k, "PLSMonitor")
    if (mom.col_n[k:] == 0).any():
        raise ValidationFailed(
            "PLSMonitor needs at least one observed value in every column of y; a column "
            "is entirely missing (NaN). Drop that response or supply its values."
        )
    x_blocks = RowBlocks(blocks.blocks, x_names, k)
    labels = set_features(model, x_blocks)
    n = mom.n
    mean, std = column_std(mom)
    x_centre, x_scale = column_scaling(mean[:k], std[:k], model.scale, labels)
    y_centre, y_scale = column_scaling(mean[k:], std[k:], model.scale, None)
    model.mean_, model.scale_ = x_centre, x_scale
    model.y_mean_, model.y_scale_ = y_centre, y_scale
    model._predict_1d = isinstance(y_columns, str)
    if mom.n_missing:
        a_max = _component_bound(model, n, k)
        _fit_missing(model, blocks, (x_centre, x_scale, y_centre, y_scale), n, k, a_max, client)
        return model
    centre = np.concatenate([x_centre, y_centre])
    scale = np.concatenate([x_scale, y_scale])
    fold_S = [
        (
            float(mom.class_n[g]),
            cross_products_about(mom.class_n[g], mom.class_mean[g], mom.class_m2[g], centre, scale),
        )
        for g in range(folds)
        if mom.class_n[g] > 0
    ]
    S = np.sum([s for _, s in fold_S], axis=0)
    Sxx, Sxy, Syy = S[:k, :k], S[:k, k:], S[k:, k:]
    if model.n_components is None:
        a_max = max(min(MAX_AUTO_COMPONENTS, k, n - 2), 1)
    else:
        a_max = int(model.n_components)
        if a_max > min(n, k):
            raise ValidationFailed(
                f"The 'n_components' parameter of PLSMonitor must be at most "
                f"min(n_samples, n_features) = {min(n, k)}. Got {a_max} instead; lower it."
            )
    W, P, Q, R, tt = _kernel_pls(Sxx, Sxy, a_max)
    model.q2_ = model.q2_cum_ = None
    if model.cv_folds is not None and n >= 3:
        press = np.zeros(a_max)
        for n_test, S_test in fold_S:
            fold_a = min(a_max, int(n - n_test) - 1)
            if fold_a < 1:
                press[:] = np.inf
                continue
            _, _, fQ, fR, _ = _kernel_pls(Sxx - S_test[:k, :k], Sxy - S_test[:k, k:], fold_a)
            press[:fold_a] += _residual_ss(S_test[:k, :k], S_test[:k, k:], S_test[k:, k:], fR, fQ)
            press[fold_a:] = np.inf
        fitted = np.concatenate([[np.trace(Syy)], _residual_ss(Sxx, Sxy, Syy, R, Q)])
        with np.errstate(divide="ignore", invalid="ignore"):
            q2 = 1.0 - press / fitted[:-1]
        a = count_from_q2(q2) if model.n_components is None else a_max
        model.q2_, model.q2_cum_ = q2, cumulative_q2(q2)
    else:
        a = a_max if model.n_components is not None else 1
    W, P, Q, R, tt = W[:, :a], P[:, :a], Q[:, :a], R[:, :a], tt[:a]
    model.n_components_ = a
    model._n_features_out = a
    model.n_iter_ = 1
    model.x_weights_, model.x_loadings_, model.y_loadings_, model.x_rotations_ = W, P, Q, R
    model.x_scores_ = model.y_scores_ = None  # type: ignore[assignment]
    model._rotation, model._xloadings = R, P
    model.coef_ = ((R @ Q.T) * y_scale).T / x_scale
    model.intercept_ = y_centre.copy()
    ssx, ssy = float(np.trace(Sxx)), float(np.trace(Syy))
    explained_x = tt * np.einsum("ka,ka->a", P, P)
    explained_y = tt * np.einsum("ma,ma->a", Q, Q)
    model.r2x_ = explained_x / ssx if ssx > 0 else np.zeros(a)
    model.r2y_ = explained_y / ssy if ssy > 0 else np.zeros(a)
    model.r2x_cum_, model.r2y_cum_ = np.cumsum(model.r2x_), np.cumsum(model.r2y_)
    model.vip_ = vip(W, explained_y)
    dof = max(n - 1, 1)
    M = np.eye(k) - R @ P.T
    EtE = M.T @ Sxx @ M
    spe = None
    if model.spe_method == "box-moments":
        x_only = RowBlocks([dask.delayed(_first_columns)(b, k) for b in blocks.blocks], x_names, k)
        spe = spe_moments(x_only, x_centre, x_scale, R, P, client)
    finish_limits(
        model,
        n=n,
        k=k,
        a=a,
        score_variances=np.einsum("ka,kj,ja->a", R, Sxx, R) / dof,
        residual_eigenvalues=np.clip(np.linalg.eigvalsh(EtE)[::-1], 0.0, None) / dof,
        residual_ss=float(np.trace(EtE)),
        cov=Sxx / dof,
        spe_mean_var=spe,
    )
    return model
