"""Choosing the number of components by cross-validation.

PCA: rows are split into ``folds`` interleaved groups (row i in group i mod folds, as SIMCA
does). A model fitted without a group predicts each cell of that group from the *other* cells
of its row (the element-wise "ekf" scheme with projection to the model plane): for a complete
row that prediction error has the closed form ``e_j / (1 - h_j)`` with ``h_j`` the leverage
of variable ``j`` in the loadings, so no cell is predicted from itself. Bro, Kjeldahl, Smilde
& Kiers (2008), "Cross-validation of component models: a critical look at current methods",
Anal. Bioanal. Chem. 390, 1241-1251; Camacho & Ferrer (2012), "Cross-validation in PCA models
with the element-wise k-fold (ekf) algorithm: theoretical aspects", J. Chemometrics 26,
361-373.

PLS: the same row groups; the prediction error of Y.

For both, ``Q2_a = 1 - PRESS_a / SS_(a-1)``, where ``SS_(a-1)`` is the residual sum of squares
of the model with one component fewer fitted to all rows (SIMCA's definition, Wold 1978,
"Cross-validatory estimation of the number of components in factor and principal components
models", Technometrics 20, 397-405). Components are added while ``Q2_a > 0``, i.e. while the
new component predicts left-out data better than the smaller model fits them; at least one
component is always kept.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._linalg import LowRankFit, als_missing, missing_pattern, pca_complete

#: highest number of components that automatic selection considers.
MAX_AUTO_COMPONENTS = 20


def folds_of(n: int, folds: int) -> list[np.ndarray]:
    """Interleaved row groups: row i goes to group i mod folds."""
    groups = min(folds, n)
    return [np.arange(g, n, groups) for g in range(groups)]


def count_from_q2(q2: np.ndarray) -> int:
    """Number of leading components whose Q2 is positive (at least 1)."""
    keep = 0
    for value in q2:
        if not value > 0:
            break
        keep += 1
    return max(keep, 1)


def cumulative_q2(q2: np.ndarray) -> np.ndarray:
    """SIMCA's ``Q2cum_a = 1 - prod_(b <= a) (1 - Q2_b)``; NaN after a non-finite Q2."""
    ratio = np.where(np.isfinite(q2), np.clip(1.0 - q2, 0.0, 1e6), np.nan)
    return 1.0 - np.cumprod(ratio)


def _press_pca_rows(X: np.ndarray, P: np.ndarray) -> np.ndarray:
    """PRESS for 1..A components of the rows X (NaN = missing), ekf with PMP."""
    a_max = P.shape[1]
    press = np.zeros(a_max)
    missing = np.isnan(X)
    rows_missing = missing.any(axis=1)
    Xc = X[~rows_missing]
    if Xc.shape[0]:
        resid = Xc.copy()
        leverage = np.zeros(X.shape[1])
        for a in range(a_max):
            p = P[:, a]
            resid -= np.outer(Xc @ p, p)
            leverage += p * p
            with np.errstate(divide="ignore", invalid="ignore"):
                loo = resid / (1.0 - leverage)
            press[a] += float(np.sum(np.where(leverage < 1.0 - 1e-10, loo, 0.0) ** 2))
    if rows_missing.any():
        Xm = X[rows_missing]
        miss = missing[rows_missing]
        obs = ~miss
        X0 = np.where(obs, Xm, 0.0)
        pattern = missing_pattern(miss)
        n = Xm.shape[0]
        for a in range(1, a_max + 1):
            Pa = P[:, :a]
            outer = (Pa[:, :, None] * Pa[:, None, :]).reshape(Pa.shape[0], -1)
            lhs = np.eye(a)[None] - np.asarray(pattern @ outer).reshape(n, a, a)
            inv = np.linalg.pinv(lhs, hermitian=True)
            t = np.einsum("nab,nb->na", inv, X0 @ Pa)
            resid = np.where(obs, X0 - t @ Pa.T, 0.0)
            leverage = np.einsum("ja,nab,jb->nj", Pa, inv, Pa)
            with np.errstate(divide="ignore", invalid="ignore"):
                loo = np.where(obs & (leverage < 1.0 - 1e-10), resid / (1.0 - leverage), 0.0)
            press[a - 1] += float(np.sum(loo**2))
    return press


def _residual_ss(X: np.ndarray, fit: LowRankFit, a_max: int) -> np.ndarray:
    """Residual SS over observed cells after 0..a_max components of ``fit``."""
    observed = ~np.isnan(X)
    X0 = np.where(observed, X, 0.0)
    ss = np.empty(a_max + 1)
    resid = X0.copy()
    ss[0] = float(np.sum(resid**2))
    for a in range(a_max):
        resid -= np.outer(fit.scores[:, a], fit.loadings[:, a])
        resid[~observed] = 0.0
        ss[a + 1] = float(np.sum(resid**2))
    return ss


def select_pca_components(
    X: np.ndarray, *, folds: int, tol: float, max_iter: int
) -> tuple[int, np.ndarray]:
    """Number of PCA components and the Q2 of each candidate, for scaled data X.

    Complete data: one exact decomposition per fold gives every candidate at once (PCA is
    nested). Missing data: a least-squares fit of rank ``a`` is not nested in that of rank
    ``a + 1`` and becomes ill-posed as ``a`` nears the number of columns, so candidates are
    fitted one rank at a time and the search stops at the first that fails.
    """
    n, k = X.shape
    a_max = min(MAX_AUTO_COMPONENTS, k - 1, n - 2)
    if a_max < 1 or n < 3:
        return 1, np.full(1, np.nan)
    groups = folds_of(n, folds)
    if not np.isnan(X).any():
        press = np.zeros(a_max)
        for test in groups:
            train = np.setdiff1d(np.arange(n), test)
            model = pca_complete(X[train], min(a_max, train.size - 1))
            fold_press = _press_pca_rows(X[test], model.loadings)
            press[: fold_press.size] += fold_press
            press[fold_press.size :] = np.inf
        ss = _residual_ss(X, pca_complete(X, a_max), a_max)
        with np.errstate(divide="ignore", invalid="ignore"):
            q2 = 1.0 - press / ss[:-1]
        return count_from_q2(q2), q2
    q2_values: list[float] = []
    previous_ss = float(np.nansum(X**2))
    for a in range(1, a_max + 1):
        press_a = 0.0
        for test in groups:
            train = np.setdiff1d(np.arange(n), test)
            if train.size - 1 < a:
                press_a = np.inf
                break
            model = als_missing(X[train], a, tol=tol, max_iter=max_iter)
            press_a += float(_press_pca_rows(X[test], model.loadings)[-1])
        q2_values.append(1.0 - press_a / previous_ss if previous_ss > 0 else -np.inf)
        if not q2_values[-1] > 0:
            break
        previous_ss = float(_residual_ss(X, als_missing(X, a, tol=tol, max_iter=max_iter), a)[-1])
    q2 = np.asarray(q2_values)
    return count_from_q2(q2), q2


def select_pls_components(
    n_rows: int,
    a_max: int,
    press_for_fold: Callable[[np.ndarray, np.ndarray, int], np.ndarray],
    fitted_ss: np.ndarray,
    folds: int,
) -> tuple[int, np.ndarray]:
    """Number of PLS components from fold-wise PRESS of Y.

    ``press_for_fold(train_rows, test_rows, a_max)`` returns PRESS of Y for 1..a_max
    components; ``fitted_ss[a]`` is the residual SS of Y after ``a`` components on all rows.
    """
    press = np.zeros(a_max)
    for test in folds_of(n_rows, folds):
        train = np.setdiff1d(np.arange(n_rows), test)
        press += press_for_fold(train, test, a_max)
    with np.errstate(divide="ignore", invalid="ignore"):
        q2 = 1.0 - press / fitted_ss[:a_max]
    return count_from_q2(q2), q2
