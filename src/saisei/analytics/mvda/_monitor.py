"""Machinery shared by PCAMonitor and PLSMonitor: residual model, limits, scoring, diagnosis."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils.validation import check_is_fitted, validate_data

from saisei.errors import NotFittedError

from ._limits import (
    dmodx_limit,
    dmodx_s0,
    spe_limit_from_eigenvalues,
    spe_limit_from_moments,
    t2_limit,
)
from ._linalg import missing_pattern
from ._project import TsrSupport, project
from ._results import MonitorDiagnosis
from ._scaling import apply_scaling

_CHUNK_ROWS = 4096
_PROJECTION_ROWS = 65536


def as_float_matrix(estimator: Any, X: Any, *, reset: bool, min_samples: int = 1) -> np.ndarray:
    """Validate ``X`` the scikit-learn way: 2-D, numeric, NaN allowed, infinity refused."""
    return validate_data(
        estimator,
        X,
        reset=reset,
        dtype=np.float64,
        ensure_all_finite="allow-nan",
        ensure_min_samples=min_samples,
    )


class MonitorNotFittedError(NotFittedError, SklearnNotFittedError):
    """saisei's NotFittedError that is also scikit-learn's, so both ``except`` clauses work."""


def ensure_fitted(estimator: Any) -> None:
    """Raise :class:`MonitorNotFittedError` when ``estimator`` has not been fitted."""
    try:
        check_is_fitted(estimator, "n_components_")
    except SklearnNotFittedError as exc:
        raise MonitorNotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with "
            "appropriate arguments before using this estimator."
        ) from exc


def _inverse_or_zero(values: np.ndarray) -> np.ndarray:
    """1 / values, with 0 where a value is (numerically) zero: such a score carries no T2."""
    tiny = np.finfo(float).eps * max(float(np.max(values, initial=0.0)), 1e-300) * 1e3
    return np.where(values > tiny, 1.0 / np.where(values > tiny, values, 1.0), 0.0)


class LatentMonitorMixin:
    """Methods common to the latent-variable monitors.

    A subclass's ``fit`` sets ``mean_``, ``scale_``, ``n_components_``, ``n_features_in_`` and
    the private ``_rotation`` (R: scores = scaled X @ R), ``_xloadings`` (P: X ~ T P') and then
    calls :meth:`_fit_residual_model`.
    """

    alpha: float
    spe_method: str
    projection: str
    mean_: np.ndarray
    scale_: np.ndarray
    n_features_in_: int
    _rotation: np.ndarray
    _xloadings: np.ndarray

    # ----------------------------------------------------------------- fit helpers
    def _fit_residual_model(
        self,
        Xs: np.ndarray,
        T: np.ndarray,
        *,
        centred: bool = True,
    ) -> None:
        """Score variances, limits, DModX constants and the TSR support from a training fit.

        ``Xs`` is the scaled training data (NaN where missing), ``T`` its scores.
        """
        n, k = Xs.shape
        P = self._xloadings
        dof = max(n - 1, 1)
        missing = np.isnan(Xs)
        self._set_score_variances(T)
        if not missing.any():
            E = Xs - T @ P.T
            spe_train = np.einsum("ij,ij->i", E, E)
            resid_cov_eigs = _residual_eigenvalues(E, dof)
            if k <= n:
                self._tsr = TsrSupport(self._rotation, cov=(Xs.T @ Xs) / dof)
            else:
                self._tsr = TsrSupport(self._rotation, data=Xs.copy())
        else:
            observed = ~missing
            fitted = T @ P.T
            E0 = np.where(observed, Xs - fitted, 0.0)
            spe_train = np.einsum("ij,ij->i", E0, E0)
            if k <= n:
                pairs = _pair_counts(missing)
                resid_cov = (E0.T @ E0) / np.maximum(pairs - 1.0, 1.0)
                resid_cov_eigs = np.clip(np.linalg.eigvalsh(resid_cov)[::-1], 0.0, None)
                cov = (P * self.score_variances_) @ P.T + resid_cov
                self._tsr = TsrSupport(self._rotation, cov=cov)
            else:
                resid_cov_eigs = _residual_eigenvalues(E0, dof)
                imputed = np.where(observed, Xs, fitted)
                self._tsr = TsrSupport(self._rotation, data=imputed)
        self._set_limits(spe_train, resid_cov_eigs, n, k, centred)

    def _set_score_variances(self, T: np.ndarray) -> None:
        dof = max(T.shape[0] - 1, 1)
        self.score_variances_ = np.einsum("ia,ia->a", T, T) / dof
        self._inv_score_variances = _inverse_or_zero(self.score_variances_)
        self.t2_train_ = T**2 @ self._inv_score_variances

    def _set_limits(
        self,
        spe_train: np.ndarray,
        residual_eigenvalues: np.ndarray,
        n: int,
        k: int,
        centred: bool,
    ) -> None:
        """T2, SPE and DModX limits from the training SPE and residual eigenvalues."""
        a = self._rotation.shape[1]
        self.spe_train_ = spe_train
        self.residual_eigenvalues_ = np.asarray(residual_eigenvalues)
        self.n_samples_fit_ = n
        self.t2_limit_ = t2_limit(a, n, self.alpha, "II")
        self.t2_limit_phase1_ = t2_limit(a, n, self.alpha, "I")
        if self.spe_method == "box-moments":
            self.spe_limit_ = spe_limit_from_moments(spe_train, self.alpha)
        else:
            self.spe_limit_ = spe_limit_from_eigenvalues(
                self.residual_eigenvalues_, self.alpha, self.spe_method
            )
        self.dmodx_s0_ = dmodx_s0(float(spe_train.sum()), a, n, k, centred)
        self.dmodx_limit_ = dmodx_limit(a, n, k, self.alpha, centred)

    # ----------------------------------------------------------------- scoring
    def _scale(self, X: np.ndarray) -> np.ndarray:
        return apply_scaling(X, self.mean_, self.scale_)

    def _scores_of_scaled(self, Xs: np.ndarray) -> np.ndarray:
        return project(Xs, self._rotation, self._xloadings, method=self.projection, tsr=self._tsr)

    def _feature_names(self) -> tuple[str, ...]:
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            return tuple(str(name) for name in names)
        return tuple(f"x{j}" for j in range(self.n_features_in_))

    def diagnose(self, X: Any) -> MonitorDiagnosis:
        """Score rows and compute T2, SPE, DModX, alarms and (on demand) contributions.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            New observations in original units; NaN marks a missing value. Rows with missing
            values are projected by the monitor's ``projection`` method.

        Returns
        -------
        MonitorDiagnosis
            Scores, statistics, limits, per-variable contributions and alarm flags.
        """
        ensure_fitted(self)
        index = X.index if isinstance(X, pd.DataFrame) else None
        X = as_float_matrix(self, X, reset=False)
        index = pd.Index(index) if index is not None else pd.RangeIndex(X.shape[0])
        return self._diagnose_array(X, index)

    def _scaled_chunks(self, X: np.ndarray) -> Iterator[tuple[slice, np.ndarray]]:
        """Rows of X scaled chunk by chunk into one reused buffer (no full-size temporaries)."""
        n, k = X.shape
        buffer = np.empty((min(_CHUNK_ROWS, max(n, 1)), k))
        inverse_scale = 1.0 / self.scale_
        for start in range(0, n, _CHUNK_ROWS):
            rows = slice(start, min(start + _CHUNK_ROWS, n))
            xs = buffer[: rows.stop - start]
            np.subtract(X[rows], self.mean_, out=xs)
            xs *= inverse_scale
            yield rows, xs

    def _diagnose_array(self, X: np.ndarray, index: pd.Index) -> MonitorDiagnosis:
        """Statistics of rows in original units, computed chunk-wise."""
        n, k = X.shape
        R, P = self._rotation, self._xloadings
        inv_var = self._inv_score_variances
        a = R.shape[1]
        scores = np.empty((n, a))
        spe = np.empty(n)
        n_observed = np.full(n, k, dtype=np.int64)
        orthonormal = bool(getattr(self, "_orthonormal", False))
        Pt = P.T
        pending_rows: list[np.ndarray] = []
        pending_values: list[np.ndarray] = []
        for rows, xs in self._scaled_chunks(X):
            incomplete = np.isnan(xs).any(axis=1)
            if incomplete.any():
                pending_rows.append(rows.start + np.flatnonzero(incomplete))
                pending_values.append(xs[incomplete])
                xs = xs[~incomplete]
                rows_ = rows.start + np.flatnonzero(~incomplete)
            else:
                rows_ = np.arange(rows.start, rows.stop)
            if not xs.shape[0]:
                continue
            t = xs @ R
            scores[rows_] = t
            if orthonormal:  # PCA: |x|^2 = |t|^2 + |e|^2
                spe[rows_] = np.maximum(
                    np.einsum("ij,ij->i", xs, xs) - np.einsum("ia,ia->i", t, t), 0.0
                )
            else:
                xs -= t @ Pt
                spe[rows_] = np.einsum("ij,ij->i", xs, xs)
            if len(pending_rows) * _CHUNK_ROWS >= _PROJECTION_ROWS:
                self._project_pending(pending_rows, pending_values, scores, spe, n_observed)
        # Rows with missing values are projected together, so that the per-pattern work is
        # shared across many rows.
        self._project_pending(pending_rows, pending_values, scores, spe, n_observed)
        t2 = np.einsum("ia,a,ia->i", scores, inv_var, scores)
        dof = np.maximum(n_observed - a, 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            dmodx = np.sqrt(spe / dof) / self.dmodx_s0_
        return MonitorDiagnosis(
            scores=scores,
            t2=t2,
            spe=spe,
            dmodx=dmodx,
            t2_limit=self.t2_limit_,
            spe_limit=self.spe_limit_,
            dmodx_limit=self.dmodx_limit_,
            n_observed=n_observed,
            feature_names=self._feature_names(),
            index=index,
            _source=partial(self._contribution_matrices, X, scores),
        )

    def _project_pending(
        self,
        pending_rows: list[np.ndarray],
        pending_values: list[np.ndarray],
        scores: np.ndarray,
        spe: np.ndarray,
        n_observed: np.ndarray,
    ) -> None:
        """Score the collected incomplete rows (scaled) and empty the lists."""
        if not pending_rows:
            return
        idx = np.concatenate(pending_rows)
        xs = np.concatenate(pending_values)
        pending_rows.clear()
        pending_values.clear()
        observed = ~np.isnan(xs)
        block_scores = self._scores_of_scaled(xs)
        scores[idx] = block_scores
        n_observed[idx] = observed.sum(axis=1)
        xs -= block_scores @ self._xloadings.T
        xs[~observed] = 0.0
        block_spe = np.einsum("ij,ij->i", xs, xs)
        block_spe[n_observed[idx] == 0] = np.nan
        spe[idx] = block_spe

    def _contribution_matrices(
        self, X: np.ndarray, scores: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """T2 contributions and signed residuals of rows X with known scores."""
        n, k = X.shape
        t2c = np.empty((n, k))
        residuals = np.empty((n, k))
        weights = (self._rotation * self._inv_score_variances).T
        Pt = self._xloadings.T
        for rows, xs in self._scaled_chunks(X):
            t = scores[rows]
            np.multiply(t @ weights, np.nan_to_num(xs, nan=0.0), out=t2c[rows])
            np.subtract(xs, t @ Pt, out=residuals[rows])
        return t2c, residuals

    def transform(self, X: Any) -> np.ndarray:
        """Scores of ``X`` (rows with missing values are projected), shape (n, n_components)."""
        ensure_fitted(self)
        X = as_float_matrix(self, X, reset=False)
        return self._scores_of_array(X)

    def _scores_of_array(self, X: np.ndarray) -> np.ndarray:
        """Scores of rows in original units (chunked; incomplete rows projected together)."""
        return self._diagnose_array(X, pd.RangeIndex(X.shape[0])).scores

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.input_tags.allow_nan = True
        return tags


def _residual_eigenvalues(E: np.ndarray, dof: int) -> np.ndarray:
    """Eigenvalues of ``E'E / dof`` via the smaller of the two Gram matrices."""
    small = E.T @ E if E.shape[1] <= E.shape[0] else E @ E.T
    return np.clip(np.linalg.eigvalsh(small)[::-1], 0.0, None) / dof


def _pair_counts(missing: np.ndarray) -> np.ndarray:
    """Number of rows where both columns j and k are observed, for all pairs (j, k)."""
    n = missing.shape[0]
    miss = missing_pattern(missing)
    per_col = np.asarray(miss.sum(axis=0)).ravel()
    both_missing = np.asarray((miss.T @ miss).todense())
    return n - per_col[:, None] - per_col[None, :] + both_missing
