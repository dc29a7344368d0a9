"""Distributed PCA of normal operation: a fitted :class:`PCAMonitor` from partitioned rows.

Complete data: one pass accumulates the exact cross-product matrix ``X'X`` (per
cross-validation fold when the number of components is chosen), and the model is the same
symmetric eigendecomposition of the covariance that ``PCAMonitor`` performs on one machine
(scikit-learn's ``covariance_eigh``), so loadings, scaling, explained variance, Q2 and limits
agree to rounding. Missing data: the same alternating least squares over the observed cells
(Gabriel & Zamir 1979) with each iteration one pass over the partitions: the scores of a row
need only that row, and the loadings need only sums over rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dask
import numpy as np
import scipy.linalg
from distributed import Client

from saisei.analytics.mvda import PCAMonitor
from saisei.analytics.mvda.kernels import (
    MAX_AUTO_COMPONENTS,
    count_from_q2,
    cumulative_q2,
    flip_signs,
    masked_grams,
    missing_pattern,
    outer_rows,
    solve_spd_batched,
)
from saisei.errors import ValidationFailed

from ._blocks import RowBlocks, add, compute, row_blocks, tree_reduce
from ._common import (
    column_scaling,
    column_std,
    finish_limits,
    gather_moments,
    require_rows,
    set_features,
    spe_moments,
)
from ._moments import Moments, cross_products_about

__all__ = ["fit_pca"]


def _eigh_desc(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    evals, evecs = scipy.linalg.eigh(cov, check_finite=False)
    return np.clip(evals[::-1], 0.0, None), evecs[:, ::-1]


def _fold_cross_products(m: Moments, centre: np.ndarray, scale: np.ndarray) -> list[np.ndarray]:
    return [
        cross_products_about(m.class_n[g], m.class_mean[g], m.class_m2[g], centre, scale)
        for g in range(m.class_n.shape[0])
        if m.class_n[g] > 0
    ]


def _press(S_test: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Element-wise (ekf) PRESS of complete rows from their cross-products ``X'X``."""
    k = P.shape[0]
    press = np.zeros(P.shape[1])
    leverage = np.zeros(k)
    for a in range(P.shape[1]):
        leverage += P[:, a] ** 2
        Q = np.eye(k) - P[:, : a + 1] @ P[:, : a + 1].T
        column_ss = np.einsum("ij,ji->i", Q, S_test @ Q)
        with np.errstate(divide="ignore", invalid="ignore"):
            loo = column_ss / (1.0 - leverage) ** 2
        press[a] = float(np.sum(np.where(leverage < 1.0 - 1e-10, loo, 0.0)))
    return press


def _select_components(
    S: np.ndarray, folds: list[tuple[float, np.ndarray]], n: int, k: int
) -> tuple[int, np.ndarray]:
    """Q2 per candidate from fold cross-products, as ``select_pca_components`` on complete data."""
    a_max = min(MAX_AUTO_COMPONENTS, k - 1, n - 2)
    if a_max < 1 or n < 3:
        return 1, np.full(1, np.nan)
    press = np.zeros(a_max)
    for n_test, S_test in folds:
        n_train = n - n_test
        fold_a = min(a_max, int(n_train) - 1)
        _, vecs = _eigh_desc((S - S_test) / max(n_train - 1, 1))
        fold_press = _press(S_test, vecs[:, :fold_a])
        press[:fold_a] += fold_press
        press[fold_a:] = np.inf
    _, vecs = _eigh_desc(S / (n - 1))
    explained = np.einsum("ka,kj,ja->a", vecs[:, :a_max], S, vecs[:, :a_max])
    ss = np.concatenate([[np.trace(S)], np.trace(S) - np.cumsum(explained)])
    with np.errstate(divide="ignore", invalid="ignore"):
        q2 = 1.0 - press / ss[:-1]
    return count_from_q2(q2), q2


def _check_count(a: int, n: int, k: int) -> None:
    limit = min(n, k)
    if a > limit:
        raise ValidationFailed(
            f"The 'n_components' parameter of PCAMonitor must be at most "
            f"min(n_samples, n_features) = {limit}. Got {a} instead; lower it."
        )


def _fit_complete(
    model: PCAMonitor, blocks: RowBlocks, m: Moments, labels: Any, client: Client | None
) -> None:
    n, k = m.n, blocks.n_columns
    mean, std = column_std(m)
    model.mean_, model.scale_ = column_scaling(mean, std, model.scale, labels)
    folds = [
        (float(m.class_n[g]), S_g)
        for g, S_g in zip(
            np.flatnonzero(m.class_n > 0),
            _fold_cross_products(m, model.mean_, model.scale_),
            strict=True,
        )
    ]
    S = np.sum([S_g for _, S_g in folds], axis=0)
    model.q2_ = model.q2_cum_ = None
    if model.n_components is None:
        a, model.q2_ = _select_components(S, folds, n, k)
        model.q2_cum_ = cumulative_q2(model.q2_)
    else:
        a = int(model.n_components)
        _check_count(a, n, k)
    dof = max(n - 1, 1)
    cov = S / dof
    evals, evecs = _eigh_desc(cov)
    P = np.ascontiguousarray(evecs[:, :a])
    flip_signs(P, np.zeros((0, a)))
    _store(model, P, evals[:a], n, k, a, "eigh", 1)
    if model.n_components is not None:
        # As PCAMonitor's one-pass fit: the total variance is the trace of the decomposed
        # second-moment matrix (about zero when scale="none"); otherwise column variances.
        total = float(np.sum(evals))
        model.explained_variance_ratio_ = (
            model.explained_variance_ / total if total > 0 else (np.zeros(a))
        )
    score_variances = np.einsum("ka,kj,ja->a", P, S, P) / dof
    spe = None
    if model.spe_method == "box-moments":
        spe = spe_moments(blocks, model.mean_, model.scale_, P, P, client)
    residual_eigenvalues = evals[a:]
    if model.n_components is None:
        # PCAMonitor takes these from the residual matrix E = X (I - P P') when it chose the
        # count by cross-validation: the same spectrum plus A zeros (same limits).
        residual_eigenvalues = np.concatenate([residual_eigenvalues, np.zeros(a)])
    finish_limits(
        model,
        n=n,
        k=k,
        a=a,
        score_variances=score_variances,
        residual_eigenvalues=residual_eigenvalues,
        residual_ss=float(np.trace(S) - score_variances.sum() * dof),
        cov=cov,
        spe_mean_var=spe,
    )


def _store(
    model: PCAMonitor,
    P: np.ndarray,
    eigenvalues: np.ndarray,
    n: int,
    k: int,
    a: int,
    solver: str,
    n_iter: int,
) -> None:
    model.n_iter_ = max(n_iter, 1)
    model.n_components_ = a
    model._n_features_out = a
    model._rotation = P
    model._xloadings = P
    model.components_ = P.T.copy()
    model.scores_ = None  # type: ignore[assignment]
    model.explained_variance_ = np.asarray(eigenvalues, dtype=float).copy()
    model.solver_ = solver


def _explained_ratio(model: PCAMonitor, m: Moments) -> None:
    # Total variance of the scaled data: the column variances over the values present.
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.where(m.col_n > 1, m.col_m2 / (m.col_n - 1), 0.0) / model.scale_**2
    total = float(np.sum(var))
    a = model.n_components_
    model.explained_variance_ratio_ = (
        model.explained_variance_ / total if total > 0 else np.zeros(a)
    )


# ----------------------------------------------------------------------------- missing data
def _scaled(z: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xs = (z - mean) / scale
    observed = ~np.isnan(xs)
    return np.where(observed, xs, 0.0), observed


def _block_gram(z: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray]:
    x0, _ = _scaled(z, mean, scale)
    return (x0.T @ x0,)


def _row_scores(x0: np.ndarray, observed: np.ndarray, P: np.ndarray, ridge: float) -> np.ndarray:
    n, a = x0.shape[0], P.shape[1]
    lhs = masked_grams(P.T @ P, missing_pattern(~observed), P, n, a)
    lhs += ridge * np.eye(a)
    scores: np.ndarray = solve_spd_batched(lhs, x0 @ P)
    return scores


def _block_als(
    z: np.ndarray, mean: np.ndarray, scale: np.ndarray, P: np.ndarray, ridge: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One ALS half-step on a block: its scores, then its share of the loading equations."""
    x0, observed = _scaled(z, mean, scale)
    T = _row_scores(x0, observed, P, ridge)
    correction = np.asarray(missing_pattern(~observed).T @ outer_rows(T))
    return x0.T @ T, T.T @ T, correction


def _block_residuals(
    z: np.ndarray,
    mean: np.ndarray,
    scale: np.ndarray,
    P_prev: np.ndarray,
    ridge: float,
    rotate: np.ndarray,
    P: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float, float]:
    x0, observed = _scaled(z, mean, scale)
    T = _row_scores(x0, observed, P_prev, ridge) @ rotate
    E0 = np.where(observed, x0 - T @ P.T, 0.0)
    spe = np.einsum("ij,ij->i", E0, E0)
    obs = observed.astype(float)
    m = float(spe.mean()) if spe.size else 0.0
    return E0.T @ E0, obs.T @ obs, T.T @ T, float(spe.size), m, float(np.sum((spe - m) ** 2))


def _merge_residuals(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...]:
    n = a[3] + b[3]
    delta = b[4] - a[4]
    mean = a[4] + delta * b[3] / n if n else 0.0
    m2 = a[5] + b[5] + (delta * delta * a[3] * b[3] / n if n else 0.0)
    return a[0] + b[0], a[1] + b[1], a[2] + b[2], n, mean, m2


def _fit_missing(
    model: PCAMonitor, blocks: RowBlocks, m: Moments, labels: Any, client: Client | None
) -> None:
    if model.n_components is None:
        raise ValidationFailed(
            "The distributed PCA fit of data with missing values needs an explicit "
            "'n_components' (choosing it by cross-validation refits every candidate rank on "
            "every fold). Got None; choose it on a sample with PCAMonitor(n_components=None)."
        )
    n, k = m.n, blocks.n_columns
    a = int(model.n_components)
    _check_count(a, n, k)
    mean, std = column_std(m)
    centre, scale = column_scaling(mean, std, model.scale, labels)
    model.mean_, model.scale_ = centre, scale
    parts = [dask.delayed(_block_gram)(b, centre, scale) for b in blocks.blocks]
    (gram,) = compute(tree_reduce(parts, add), client)
    dof = max(n - 1, 1)
    # Start: the exact PCA of the zero-filled (mean-imputed) data, as the single-machine fit.
    _, vecs = _eigh_desc(gram / dof)
    P = np.ascontiguousarray(vecs[:, :a])
    flip_signs(P, np.zeros((0, a)))
    total_ss = float(np.trace(gram))
    ridge = 1e-12 * max(total_ss / max(n * k, 1), 1e-300)
    previous, n_iter, P_prev, TtT = np.inf, 0, P, np.eye(a)
    for n_iter in range(1, int(model.max_iter) + 1):  # noqa: B007 - n_iter is reported
        P_prev = P
        parts = [dask.delayed(_block_als)(b, centre, scale, P, ridge) for b in blocks.blocks]
        rhs, TtT, correction = compute(tree_reduce(parts, add), client)
        lhs = TtT[None, :, :] - correction.reshape(k, a, a)
        lhs += ridge * np.eye(a)
        P = solve_spd_batched(lhs, rhs)
        loss = total_ss - float(np.einsum("ka,ka->", rhs, P))
        if abs(previous - loss) <= model.tol * max(total_ss, 1e-300):
            break
        previous = loss
    # Principal axes of T P' (as _principal_axes): any R with R'R = T'T gives the same result.
    rt = scipy.linalg.cholesky(TtT + ridge * np.eye(a), lower=False)
    qp, rp = np.linalg.qr(P)
    u, s, vt = np.linalg.svd(rt @ rp.T)
    rotate = np.linalg.solve(rt, u) * s
    P = qp @ vt.T
    signs = np.ones(a)
    flip_signs(P, signs[None, :])
    rotate = rotate * signs
    parts = [
        dask.delayed(_block_residuals)(b, centre, scale, P_prev, ridge, rotate, P)
        for b in blocks.blocks
    ]
    EtE, pairs, TtT_final, n_spe, spe_mean, spe_m2 = compute(
        tree_reduce(parts, _merge_residuals), client
    )
    eigenvalues = np.diag(TtT_final) / dof
    _store(model, P, eigenvalues, n, k, a, "als", n_iter)
    resid_cov = EtE / np.maximum(pairs - 1.0, 1.0)
    resid_eigs = np.clip(np.linalg.eigvalsh(resid_cov)[::-1], 0.0, None)
    cov = (P * eigenvalues) @ P.T + resid_cov
    finish_limits(
        model,
        n=n,
        k=k,
        a=a,
        score_variances=eigenvalues,
        residual_eigenvalues=resid_eigs,
        residual_ss=float(spe_mean * n_spe),
        cov=cov,
        spe_mean_var=(n_spe, spe_mean, spe_m2),
    )
    model.q2_ = model.q2_cum_ = None


def fit_pca(
    data: Any,
    *,
    columns: Sequence[str] | None = None,
    client: Client | None = None,
    **params: Any,
) -> PCAMonitor:
    """Fit a :class:`~saisei.analytics.mvda.PCAMonitor` on rows spread over Dask partitions.

    Parameters
    ----------
    data : dask.dataframe.DataFrame or dask.array.Array of shape (n_samples, n_features)
        Reference rows in original units; NaN marks a missing value. Persist it first
        (``data.persist()``) when it is expensive to compute: the complete-data fit reads it
        once (twice for ``spe_method="box-moments"``), the missing-data fit once per iteration.
    columns : sequence of str, optional
        The feature columns of a DataFrame, in model order (default: all).
    client : distributed.Client, optional
        Where to compute (default: Dask's current scheduler).
    **params
        The parameters of ``PCAMonitor`` (``n_components``, ``scale``, ``alpha``, ``blocks``,
        ``spe_method``, ``projection``, ``cv_folds``, ``tol``, ``max_iter``).

    Returns
    -------
    PCAMonitor
        Fitted: ``components_``, ``mean_``, ``scale_``, ``explained_variance_``, ``q2_``,
        limits and the scoring state equal a single-machine ``fit`` on the same rows (to
        rounding). The per-row training arrays (``scores_``, ``t2_train_``, ``spe_train_``)
        are None; score the data with :func:`diagnose_partitions` to get them.

    Examples
    --------
    >>> monitor = fit_pca(frame, columns=["ph", "do", "temp"], n_components=2)  # doctest: +SKIP
    """
    model = PCAMonitor(**params)
    model._check_params()
    blocks = row_blocks(data, columns, "fit_pca")
    folds = int(model.cv_folds) if model.n_components is None else 1
    m = gather_moments(blocks, folds, client)
    require_rows(m.n, blocks.n_columns, "PCAMonitor")
    labels = set_features(model, blocks)
    if m.n_missing:
        _fit_missing(model, blocks, m, labels, client)
    else:
        _fit_complete(model, blocks, m, labels, client)
    if m.n_missing or model.n_components is None:
        _explained_ratio(model, m)
    return model
