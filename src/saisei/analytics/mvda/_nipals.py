"""PLS decompositions: a direct exact algorithm for complete data, NIPALS for missing data.

Complete data: each weight vector is the dominant left singular vector of the deflated
cross-product ``X_a' Y``, obtained exactly (closed form for one response, a small SVD for
several) rather than by power iteration; only ``X' Y`` is deflated, the improved algorithm of
Dayal & MacGregor (1997), "Improved PLS algorithms", J. Chemometrics 11, 73-85 (their
algorithm 1, which works on X itself and never forms the K x K matrix X'X). The result equals
NIPALS PLS regression (Wold, Sjostrom & Eriksson 2001, "PLS-regression: a basic tool of
chemometrics", Chemom. Intell. Lab. Syst. 58, 109-130) and scikit-learn's PLSRegression.

Missing data: NIPALS with missing values, each regression in the inner loop taken over the
observed cells only (Nelson, Taylor & MacGregor 1996; Wold et al. 2001, section 3.7).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PlsFit:
    """Weights W, X-loadings P, Y-loadings Q, rotation R = W (P'W)^-1, scores T (= X R)."""

    weights: np.ndarray
    x_loadings: np.ndarray
    y_loadings: np.ndarray
    rotation: np.ndarray
    scores: np.ndarray
    n_iter: int = 0


def _flip(w: np.ndarray) -> float:
    """Sign that makes the largest-magnitude entry of ``w`` positive (scikit-learn's rule)."""
    sign = np.sign(w[np.argmax(np.abs(w))])
    return 1.0 if sign == 0 else float(sign)


def pls_complete(X: np.ndarray, Y: np.ndarray, n_components: int) -> PlsFit:
    """Exact PLS regression of complete, scaled ``X`` (n x K) on ``Y`` (n x M)."""
    n, k = X.shape
    m = Y.shape[1]
    a_max = n_components
    W = np.zeros((k, a_max))
    P = np.zeros((k, a_max))
    Q = np.zeros((m, a_max))
    R = np.zeros((k, a_max))
    T = np.zeros((n, a_max))
    XtY = X.T @ Y
    for a in range(a_max):
        if m == 1:
            w = XtY[:, 0].copy()
        else:
            # Dominant left singular vector of X_a'Y via the small M x M eigenproblem.
            _evals, evecs = np.linalg.eigh(XtY.T @ XtY)
            w = XtY @ evecs[:, -1]
        norm = np.linalg.norm(w)
        if norm <= np.finfo(float).tiny:
            break  # Y is fully explained; remaining components stay zero.
        w *= _flip(w) / norm
        r = w - R[:, :a] @ (P[:, :a].T @ w)
        t = X @ r
        tt = float(t @ t)
        if tt <= np.finfo(float).tiny:
            break
        p = (X.T @ t) / tt
        q = (XtY.T @ r) / tt
        XtY -= tt * np.outer(p, q)
        W[:, a], P[:, a], Q[:, a], R[:, a], T[:, a] = w, p, q, r, t
    return PlsFit(W, P, Q, R, T)


def pls_nipals_missing(
    X: np.ndarray,
    Y: np.ndarray,
    n_components: int,
    *,
    tol: float = 1e-10,
    max_iter: int = 500,
) -> PlsFit:
    """NIPALS PLS of scaled ``X`` and ``Y`` with NaN for missing cells."""
    n, k = X.shape
    m = Y.shape[1]
    mx = ~np.isnan(X)
    my = ~np.isnan(Y)
    Xa = np.where(mx, X, 0.0)
    Ya = np.where(my, Y, 0.0)
    mxf, myf = mx.astype(float), my.astype(float)
    W = np.zeros((k, n_components))
    P = np.zeros((k, n_components))
    Q = np.zeros((m, n_components))
    T = np.zeros((n, n_components))
    total_iter = 0
    for a in range(n_components):
        u = Ya[:, int(np.argmax(np.sum(Ya**2, axis=0)))].copy()
        t = np.zeros(n)
        w = np.zeros(k)
        c = np.zeros(m)
        for _ in range(max_iter):
            total_iter += 1
            w = _ratio(Xa.T @ u, mxf.T @ (u * u))
            norm = np.linalg.norm(w)
            if norm <= np.finfo(float).tiny:
                break
            w /= norm
            t_new = _ratio(Xa @ w, mxf @ (w * w))
            c = _ratio(Ya.T @ t_new, myf.T @ (t_new * t_new))
            u = _ratio(Ya @ c, myf @ (c * c))
            change = np.linalg.norm(t_new - t) / max(np.linalg.norm(t_new), np.finfo(float).tiny)
            t = t_new
            if change < tol:
                break
        sign = _flip(w) if np.any(w) else 1.0
        w, t, c = w * sign, t * sign, c * sign
        p = _ratio(Xa.T @ t, mxf.T @ (t * t))
        Xa -= np.outer(t, p) * mxf
        Ya -= np.outer(t, c) * myf
        W[:, a], P[:, a], Q[:, a], T[:, a] = w, p, c, t
    R = rotation_of(W, P)
    return PlsFit(W, P, Q, R, T, n_iter=total_iter)


def rotation_of(W: np.ndarray, P: np.ndarray) -> np.ndarray:
    """``R = W (P'W)^-1``: scores of new rows are ``X R``."""
    return W @ np.linalg.pinv(P.T @ W)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def scores_single_component(X: np.ndarray, fit: PlsFit, a: int) -> np.ndarray:
    """Scores of rows with missing values by single-component projection (NIPALS).

    ``t_a = sum_obs x_j w_ja / sum_obs w_ja^2``, then ``x <- x - t_a p_a``; equals ``X R`` on
    complete rows (Nelson, Taylor & MacGregor 1996).
    """
    observed = ~np.isnan(X)
    x = np.where(observed, X, 0.0)
    obs = observed.astype(float)
    T = np.zeros((X.shape[0], a))
    for b in range(a):
        w, p = fit.weights[:, b], fit.x_loadings[:, b]
        t = _ratio(x @ w, obs @ (w * w))
        x -= np.outer(t, p) * obs
        T[:, b] = t
    return T


def pls_kernel(
    G: np.ndarray, H: np.ndarray, n_components: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """PLS regression from the cross-products alone: ``G = X'X`` (K x K), ``H = X'Y``.

    The improved kernel algorithm of Dayal & MacGregor (1997, algorithm 2): weights from the
    deflated ``X'Y``, ``p = G r / (r'G r)``, ``q = H'r / (r'G r)``; X is never touched. Returns
    W, P, Q, R and ``t't`` per component; the scores are ``X R``.
    """
    k, m = H.shape
    W = np.zeros((k, n_components))
    P = np.zeros((k, n_components))
    Q = np.zeros((m, n_components))
    R = np.zeros((k, n_components))
    tt_all = np.zeros(n_components)
    H = H.copy()
    for a in range(n_components):
        if m == 1:
            w = H[:, 0].copy()
        else:
            _evals, evecs = np.linalg.eigh(H.T @ H)
            w = H @ evecs[:, -1]
        norm = np.linalg.norm(w)
        if norm <= np.finfo(float).tiny:
            break
        w *= _flip(w) / norm
        r = w - R[:, :a] @ (P[:, :a].T @ w)
        Gr = G @ r
        tt = float(r @ Gr)
        if tt <= np.finfo(float).tiny:
            break
        p = Gr / tt
        q = (H.T @ r) / tt
        H -= tt * np.outer(p, q)
        W[:, a], P[:, a], Q[:, a], R[:, a], tt_all[a] = w, p, q, r, tt
    return W, P, Q, R, tt_all
