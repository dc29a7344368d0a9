"""Low-rank decompositions: an exact path for complete data, ALS for data with missing values.

Complete data use one dense eigendecomposition: of the covariance ``X'X / (n - 1)`` when there
are at least as many rows as columns (as scikit-learn's ``covariance_eigh`` solver), or of the
Gram matrix ``XX'`` otherwise. Both are exact, not iterative.

Data with missing values are fitted by alternating least squares (criss-cross regression) on
the observed cells only, which minimises ``sum over observed (x_ij - t_i' p_j)^2`` for all
components jointly: Gabriel & Zamir (1979), "Lower rank approximation of matrices by least
squares with any choice of weights", Technometrics 21(4), 489-498; see also Ilin & Raiko
(2010), "Practical approaches to principal component analysis in the presence of missing
values", JMLR 11, 1957-2000. Its fixed points are those of EM imputation, and of NIPALS with
missing data when one component is fitted; unlike sequential NIPALS it does not let the error
of early components leak into later ones. The fitted subspace is finally rotated to the
principal axes of the reconstruction ``T P'`` (orthonormal ``P``, orthogonal ``T``, ordered by
variance).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse


@dataclass(frozen=True)
class LowRankFit:
    """Outcome of a decomposition of scaled data.

    scores : (n, A); loadings : (K, A) orthonormal columns; eigenvalues : variances of all
    components that the data allow (descending, the first A are those of the model);
    covariance : (K, K) covariance of the scaled data, when it was formed; n_iter, converged:
    for the ALS path.
    """

    scores: np.ndarray
    loadings: np.ndarray
    eigenvalues: np.ndarray
    covariance: np.ndarray | None
    n_iter: int = 0
    converged: bool = True


def flip_signs(loadings: np.ndarray, scores: np.ndarray) -> None:
    """In place: make the largest-magnitude entry of each loading vector positive."""
    if loadings.size == 0:
        return
    rows = np.argmax(np.abs(loadings), axis=0)
    signs = np.sign(loadings[rows, np.arange(loadings.shape[1])])
    signs[signs == 0] = 1.0
    loadings *= signs
    scores *= signs


def pca_complete(X: np.ndarray, n_components: int) -> LowRankFit:
    """Exact PCA of complete, already centred and scaled data."""
    n, k = X.shape
    dof = max(n - 1, 1)
    if n >= k:
        cov = X.T @ X
        cov /= dof
        evals, evecs = scipy.linalg.eigh(cov, overwrite_a=False, check_finite=False)
        order = slice(None, None, -1)
        evals, evecs = np.clip(evals[order], 0.0, None), evecs[:, order]
        P = np.ascontiguousarray(evecs[:, :n_components])
        T = X @ P
        flip_signs(P, T)
        return LowRankFit(T, P, evals, cov)
    gram = X @ X.T
    evals, evecs = scipy.linalg.eigh(gram, check_finite=False)
    evals, evecs = np.clip(evals[::-1], 0.0, None), evecs[:, ::-1]
    sv = np.sqrt(evals[:n_components])
    safe = np.where(sv > 0, sv, 1.0)
    P = (X.T @ evecs[:, :n_components]) / safe
    # Rank-deficient directions (zero singular value) get an arbitrary orthonormal completion.
    if np.any(sv <= sv[0] * 1e-12 if sv.size else False):
        P, _ = np.linalg.qr(P)
    T = X @ P
    flip_signs(P, T)
    return LowRankFit(T, P, evals / dof, None)


def missing_pattern(missing: np.ndarray) -> scipy.sparse.csr_matrix:
    """The boolean ``missing`` mask as a sparse 0/1 matrix (fast: one pass over the mask)."""
    n, k = missing.shape
    flat = np.flatnonzero(missing)
    rows = flat // k
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return scipy.sparse.csr_matrix((np.ones(flat.size), flat - rows * k, indptr), shape=(n, k))


#: largest mean^2 / variance for which X'X - n m m' keeps about 1e-11 relative accuracy.
_CANCELLATION_LIMIT = 1e4


def pca_complete_tall(
    X: np.ndarray,
    n_components: int,
    center: np.ndarray,
    scaling: Callable[[np.ndarray], np.ndarray],
    chunk_rows: int = 4096,
) -> tuple[LowRankFit, np.ndarray, np.ndarray]:
    """Exact PCA of complete data with at least as many rows as columns, without copying X.

    The cross-product of ``X - center`` is accumulated over row chunks held in one reused
    buffer; the column standard deviations (ddof=1) come from its diagonal and
    ``scaling(std)`` turns them into ``scale_``; the covariance of the scaled data is then
    eigendecomposed exactly. Returns the fit, ``scale_`` and the squared norm of every scaled
    row.
    """
    n, k = X.shape
    dof = max(n - 1, 1)
    buffer = np.empty((min(chunk_rows, n), k))
    # As scikit-learn's covariance_eigh: X'X once, centred afterwards (no copy of X). When a
    # mean is large against its spread that subtraction would lose too many digits, and the
    # cross-product is then accumulated from centred chunks instead.
    cross = X.T @ X
    cross -= n * np.outer(center, center)
    spread = np.clip(np.diag(cross), 0.0, None) / dof
    if np.any(center**2 > _CANCELLATION_LIMIT * np.maximum(spread, np.finfo(float).tiny)):
        cross = np.zeros((k, k))
        for start in range(0, n, chunk_rows):
            xc = buffer[: min(chunk_rows, n - start)]
            np.subtract(X[start : start + chunk_rows], center, out=xc)
            cross += xc.T @ xc
    scale = scaling(np.sqrt(np.clip(np.diag(cross), 0.0, None) / dof))
    cov = cross / dof / np.outer(scale, scale)
    evals, evecs = scipy.linalg.eigh(cov, check_finite=False)
    evals, evecs = np.clip(evals[::-1], 0.0, None), evecs[:, ::-1]
    P = np.ascontiguousarray(evecs[:, :n_components])
    T = np.empty((n, n_components))
    row_ss = np.empty(n)
    inverse_scale = 1.0 / scale
    for start in range(0, n, chunk_rows):
        rows = slice(start, min(start + chunk_rows, n))
        xs = buffer[: rows.stop - start]
        np.subtract(X[rows], center, out=xs)
        xs *= inverse_scale
        T[rows] = xs @ P
        row_ss[rows] = np.einsum("ij,ij->i", xs, xs)
    flip_signs(P, T)
    return LowRankFit(T, P, evals, cov), scale, row_ss


def solve_spd_batched(lhs: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve many small symmetric positive (semi)definite systems ``lhs[i] x[i] = rhs[i]``.

    Gaussian elimination vectorised across the systems (no pivoting: the matrices are
    symmetric positive definite), which for the A x A systems of this package (A of a few
    components) is several times faster than a LAPACK call per system. Systems that turn out
    singular are solved by the pseudo-inverse instead.
    """
    n, a = rhs.shape
    if n == 0:
        return rhs.copy()
    A = lhs.copy()
    x = rhs.copy()
    scale = np.maximum(np.abs(np.diagonal(lhs, axis1=1, axis2=2)).max(axis=1), np.finfo(float).tiny)
    singular = np.zeros(n, dtype=bool)
    for i in range(a):
        pivot = A[:, i, i]
        bad = ~(pivot > 1e-12 * scale)
        if bad.any():
            singular |= bad
            pivot = np.where(bad, 1.0, pivot)
        if i + 1 < a:
            factor = A[:, i + 1 :, i] / pivot[:, None]
            A[:, i + 1 :, i:] -= factor[:, :, None] * A[:, None, i, i:]
            x[:, i + 1 :] -= factor * x[:, i : i + 1]
        A[:, i, i] = pivot
    for i in range(a - 1, -1, -1):
        tail = np.einsum("nj,nj->n", A[:, i, i + 1 :], x[:, i + 1 :]) if i + 1 < a else 0.0
        x[:, i] = (x[:, i] - tail) / A[:, i, i]
    if singular.any():
        x[singular] = np.einsum(
            "nab,nb->na", np.linalg.pinv(lhs[singular], hermitian=True), rhs[singular]
        )
    return x


def _outer_rows(M: np.ndarray) -> np.ndarray:
    """Row-wise outer products flattened: (n, A) -> (n, A*A)."""
    return (M[:, :, None] * M[:, None, :]).reshape(M.shape[0], -1)


def _masked_grams(
    base: np.ndarray, missing: scipy.sparse.csr_matrix, factor: np.ndarray, n_rows: int, a: int
) -> np.ndarray:
    """``factor' diag(observed_i) factor`` for every row i of ``missing``.

    Computed as the full Gram ``base`` minus the outer products of the missing entries, which
    costs only the number of missing cells.
    """
    correction = missing @ _outer_rows(factor)
    return base[None, :, :] - np.asarray(correction).reshape(n_rows, a, a)


def als_missing(
    X: np.ndarray, n_components: int, *, tol: float = 1e-10, max_iter: int = 500
) -> LowRankFit:
    """Rank-``A`` least-squares fit of centred, scaled data with NaN for missing cells."""
    n, k = X.shape
    a = n_components
    observed = ~np.isnan(X)
    X0 = np.where(observed, X, 0.0)
    missing_rows = missing_pattern(~observed)
    missing_cols = missing_rows.T.tocsr()
    # Start from the exact PCA of the zero-filled (mean-imputed) data.
    start = pca_complete(X0, a)
    P = start.loadings
    total_ss = float(np.einsum("ij,ij->", X0, X0))
    previous = np.inf
    converged = False
    n_iter = 0
    ridge = 1e-12 * max(total_ss / max(n * k, 1), 1e-300)
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter is reported
        lhs = _masked_grams(P.T @ P, missing_rows, P, n, a)
        lhs += ridge * np.eye(a)
        T = solve_spd_batched(lhs, X0 @ P)
        lhs = _masked_grams(T.T @ T, missing_cols, T, k, a)
        lhs += ridge * np.eye(a)
        rhs = X0.T @ T
        P = solve_spd_batched(lhs, rhs)
        # Least-squares residual of each column at its optimum: y'y - b'beta.
        loss = total_ss - float(np.einsum("ka,ka->", rhs, P))
        if abs(previous - loss) <= tol * max(total_ss, 1e-300):
            converged = True
            break
        previous = loss
    T, P = _principal_axes(T, P)
    flip_signs(P, T)
    dof = max(n - 1, 1)
    eigenvalues = np.einsum("ia,ia->a", T, T) / dof
    return LowRankFit(T, P, eigenvalues, None, n_iter=n_iter, converged=converged)


def _principal_axes(T: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotate a factorisation ``T P'`` to orthonormal loadings and orthogonal, ordered scores."""
    qt, rt = np.linalg.qr(T)
    qp, rp = np.linalg.qr(P)
    u, s, vt = np.linalg.svd(rt @ rp.T)
    return (qt @ u) * s, qp @ vt.T


#: Former name, still imported by ``saisei.scale``.
_solve_batched = solve_spd_batched
