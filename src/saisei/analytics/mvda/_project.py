"""Scores of new rows that have missing values.

Two estimators of the scores ``t`` of a row whose observed part is ``x_#``:

- ``"tsr"``, trimmed score regression: regress the model scores on the scores that the
  observed variables alone give, using the training covariance ``S``:
  ``t = (R' S_{:,#} R_#) (R_#' S_## R_#)^-1 R_#' x_#``. Arteaga & Ferrer (2002), "Dealing with
  missing data in MSPC: several methods, different interpretations, some examples",
  J. Chemometrics 16, 408-418; for PLS see Folch-Fortuny, Arteaga & Ferrer (2016),
  "Missing data imputation toolbox for MATLAB", Chemom. Intell. Lab. Syst. 154, 93-100.
  ``R`` is the score rotation (``P`` for PCA, ``W (P'W)^-1`` for PLS). It uses the correlation
  of the observed with the missing variables, so it is the better estimate when much is
  missing, and it gives the ordinary scores when nothing is.
- ``"pmp"``, projection to the model plane: the least-squares fit of ``x_# = P_# t``,
  ``t = (P_#' P_#)^-1 P_#' x_#``. Nelson, Taylor & MacGregor (1996), "Missing data methods in
  PCA and PLS: score calculations with incomplete observations", Chemom. Intell. Lab. Syst.
  35, 45-65. It is the fixed point of iterative imputation and of single-component projection
  (NIPALS) run to convergence. PCA only.

Rows are handled in bulk: complete rows by one matrix product; rows with a few missing cells
by subtracting the missing cells' terms from the full-row matrices (cost proportional to the
number of missing cells); rows with many missing cells (a batch's unseen future) once per
distinct missing pattern.
"""

from __future__ import annotations

import numpy as np

from ._linalg import missing_pattern, solve_spd_batched

#: rows with at most this many missing cells use the complement (subtraction) formulas.
_FEW_MISSING = 48


class TsrSupport:
    """What trimmed score regression needs from the training data.

    Either the training covariance ``cov`` (K x K, kept when K <= N) or the (imputed) training
    data ``data`` (N x K, kept when K > N); the scale of either cancels out of the estimator.
    """

    def __init__(
        self, rotation: np.ndarray, *, cov: np.ndarray | None = None, data: np.ndarray | None = None
    ) -> None:
        self.cov = cov
        self.data = data
        if cov is not None:
            self.q = cov @ rotation  # S R
            self.gram = rotation.T @ self.q  # R' S R
        elif data is not None:
            self.q = data @ rotation  # training scores X R (N x A)
            self.gram = self.q.T @ self.q
        else:  # pragma: no cover - programming error
            raise TypeError("TsrSupport needs cov or data")


def project(
    Xs: np.ndarray,
    rotation: np.ndarray,
    loadings: np.ndarray,
    *,
    method: str,
    tsr: TsrSupport | None,
) -> np.ndarray:
    """Scores of scaled rows ``Xs`` (NaN where missing); all-missing rows get NaN scores."""
    missing = np.isnan(Xs)
    n_missing = missing.sum(axis=1)
    n, k = Xs.shape
    a = rotation.shape[1]
    scores = np.empty((n, a))
    complete = n_missing == 0
    if complete.all():
        return Xs @ rotation
    scores[complete] = Xs[complete] @ rotation
    empty = n_missing == k
    scores[empty] = np.nan
    partial = ~complete & ~empty
    if not partial.any():
        return scores
    if partial.all():  # the usual case for incomplete rows: no row-selection copies
        X0, miss, target = np.nan_to_num(Xs, nan=0.0), missing, slice(None)
    else:
        X0 = np.where(missing[partial], 0.0, Xs[partial])
        miss, target = missing[partial], partial
    if method == "pmp":
        scores[target] = _pmp(X0, miss, loadings)
    elif tsr is not None and tsr.cov is not None and n_missing[partial].max() <= _FEW_MISSING:
        scores[target] = _tsr_few(X0, miss, rotation, tsr)
    else:
        scores[target] = _tsr_by_pattern(X0, miss, rotation, tsr)
    return scores


def _pmp(X0: np.ndarray, miss: np.ndarray, P: np.ndarray) -> np.ndarray:
    n, a = X0.shape[0], P.shape[1]
    outer = (P[:, :, None] * P[:, None, :]).reshape(P.shape[0], -1)
    lhs = (P.T @ P)[None] - np.asarray(missing_pattern(miss) @ outer).reshape(n, a, a)
    return solve_spd_batched(lhs, X0 @ P)


def _tsr_few(X0: np.ndarray, miss: np.ndarray, R: np.ndarray, tsr: TsrSupport) -> np.ndarray:
    """TSR by complements: subtract the terms of the (few) missing cells of each row.

    Rows are grouped by their number of missing cells so that every group is a dense stack.
    """
    assert tsr.cov is not None
    counts = miss.sum(axis=1)
    inner_rhs = X0 @ R
    scores = np.empty_like(inner_rhs)
    for width in np.unique(counts):
        rows = np.flatnonzero(counts == width)
        idx = np.nonzero(miss[rows])[1].reshape(rows.size, width)
        RD = R[idx]  # (n, d, a)
        RDt = RD.transpose(0, 2, 1)
        RtQ = np.matmul(RDt, tsr.q[idx])  # sum over missing j of r_j q_j'
        SDD = tsr.cov[idx[:, :, None], idx[:, None, :]]  # (n, d, d)
        lhs = tsr.gram[None] - RtQ - RtQ.transpose(0, 2, 1)
        lhs += np.matmul(RDt, np.matmul(SDD, RD))
        coef = tsr.gram[None] - RtQ.transpose(0, 2, 1)
        inner = solve_spd_batched(lhs, inner_rhs[rows])
        scores[rows] = np.einsum("nab,nb->na", coef, inner)
    return scores


def _tsr_by_pattern(
    X0: np.ndarray, miss: np.ndarray, R: np.ndarray, tsr: TsrSupport | None
) -> np.ndarray:
    """TSR computed once for each distinct pattern of missing cells."""
    assert tsr is not None
    packed = np.packbits(miss, axis=1)
    patterns, inverse = np.unique(packed, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    scores = np.empty((X0.shape[0], R.shape[1]))
    for code in range(patterns.shape[0]):
        rows = np.flatnonzero(inverse == code)
        observed = np.flatnonzero(~miss[rows[0]])
        R_o = R[observed]
        if tsr.cov is not None:
            lhs = R_o.T @ tsr.cov[np.ix_(observed, observed)] @ R_o
            coef = tsr.q[observed].T @ R_o
        else:
            assert tsr.data is not None
            Z = tsr.data[:, observed] @ R_o
            lhs = Z.T @ Z
            coef = tsr.q.T @ Z
        inner = np.linalg.lstsq(lhs, (X0[np.ix_(rows, observed)] @ R_o).T, rcond=None)[0]
        scores[rows] = (coef @ inner).T
    return scores
