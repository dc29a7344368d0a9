"""PLSMonitor: PLS regression of quality on process data, with monitoring statistics."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    RegressorMixin,
    TransformerMixin,
)
from sklearn.utils import check_array

from saisei.errors import ValidationFailed

from ._limits import SPE_METHODS
from ._monitor import LatentMonitorMixin, as_float_matrix, ensure_fitted
from ._nipals import (
    PlsFit,
    pls_complete,
    pls_kernel,
    pls_nipals_missing,
    scores_single_component,
)
from ._project import TsrSupport
from ._scaling import apply_scaling, fit_scaling, scaling_from_moments
from ._select import MAX_AUTO_COMPONENTS, count_from_q2, cumulative_q2, folds_of
from ._validation import check_alpha, check_blocks, check_choice, check_int, check_scale

_CHUNK = 4096


class PLSMonitor(
    LatentMonitorMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    RegressorMixin,
    BaseEstimator,
):
    """PLS regression model of normal operation: predicts Y and monitors X.

    Parameters
    ----------
    n_components : int or None, default=None
        Number of components. ``None`` chooses it by cross-validation: components are added
        while their Q2 (of Y) is positive, considering at most 20.
    scale : {"autoscale", "pareto", "center", "none"}, default="autoscale"
        Preprocessing of both X and Y (ddof=1 standard deviation, as scikit-learn's
        ``PLSRegression(scale=True)`` for "autoscale").
    alpha : float, default=0.01
        False-alarm probability of the T2, SPE and DModX limits.
    blocks : mapping or sequence, optional
        Block scaling of the X columns (see :class:`PCAMonitor`).
    spe_method : {"jackson-mudholkar", "box", "box-moments"}, default="jackson-mudholkar"
        SPE limit method.
    cv_folds : int or None, default=7
        Row groups for the cross-validated Q2. ``None`` skips cross-validation (``q2_`` is then
        None); it needs an explicit ``n_components``.
    tol, max_iter : float, int
        Convergence of the NIPALS inner loop, used when X or Y has missing values.

    Attributes
    ----------
    mean_, scale_ : ndarray of shape (n_features,)
        X preprocessing. ``y_mean_``, ``y_scale_``: Y preprocessing.
    x_weights_, x_loadings_, x_rotations_ : ndarray of shape (n_features, n_components_)
        W, P and R = W (P'W)^-1, as in scikit-learn's PLSRegression.
    y_loadings_ : ndarray of shape (n_targets, n_components_)
        Q (C in SIMCA).
    x_scores_, y_scores_ : ndarray of shape (n_samples, n_components_)
        Training scores T and U.
    coef_ : ndarray of shape (n_targets, n_features)
        Regression coefficients in original units; ``intercept_`` of shape (n_targets,).
    vip_ : ndarray of shape (n_features,)
        Variable importance in projection (Wold, Johansson & Cocchi 1993).
    r2x_, r2y_ : ndarray of shape (n_components_,)
        Fraction of the X and Y sums of squares explained by each component;
        ``r2x_cum_``, ``r2y_cum_`` their running sums.
    q2_, q2_cum_ : ndarray or None
        Cross-validated ``Q2_a = 1 - PRESS_a / SS_(a-1)`` per component and
        ``1 - prod(PRESS_a / SS_(a-1))``, over the components fitted (or all candidates when
        ``n_components`` was None).
    t2_limit_, spe_limit_, dmodx_limit_ : float
        Limits for monitoring X, as in :class:`PCAMonitor`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 6))
    >>> y = X @ [1.0, -2.0, 0.5, 0.0, 0.0, 0.0] + 0.1 * rng.normal(size=100)
    >>> model = PLSMonitor(n_components=2).fit(X, y)
    >>> bool(model.score(X, y) > 0.99)
    True
    """

    def __init__(
        self,
        n_components: int | None = None,
        *,
        scale: str = "autoscale",
        alpha: float = 0.01,
        blocks: Any = None,
        spe_method: str = "jackson-mudholkar",
        cv_folds: int | None = 7,
        tol: float = 1e-10,
        max_iter: int = 500,
    ) -> None:
        self.n_components = n_components
        self.scale = scale
        self.alpha = alpha
        self.blocks = blocks
        self.spe_method = spe_method
        self.cv_folds = cv_folds
        self.tol = tol
        self.max_iter = max_iter

    projection = "tsr"

    def _check_params(self) -> None:
        owner = type(self).__name__
        check_int(self.n_components, "n_components", owner, allow_none=True)
        check_scale(self.scale, owner)
        check_alpha(self.alpha, owner)
        check_choice(self.spe_method, "spe_method", owner, SPE_METHODS)
        check_int(self.cv_folds, "cv_folds", owner, minimum=2, allow_none=True)
        check_int(self.max_iter, "max_iter", owner)
        if self.n_components is None and self.cv_folds is None:
            raise ValidationFailed(
                "PLSMonitor needs cross-validation to choose the number of components: with "
                "n_components=None, 'cv_folds' must be an int >= 2. Got None instead."
            )
        if not isinstance(self.tol, float | int) or not self.tol > 0:
            raise ValidationFailed(
                f"The 'tol' parameter of {owner} must be a positive float. Got {self.tol!r} "
                "instead."
            )

    def fit(self, X: Any, y: Any) -> PLSMonitor:
        """Fit the PLS model of Y on X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Process data; NaN marks a missing value.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Quality data; NaN marks a missing value.

        Returns
        -------
        self : PLSMonitor
        """
        self._check_params()
        if y is None:
            raise ValueError(
                "PLSMonitor requires y to be passed, but the target y is None. Pass the "
                "quality data as y."
            )
        X = as_float_matrix(self, X, reset=True, min_samples=2)
        Y = check_array(
            y, input_name="y", dtype=np.float64, ensure_2d=False, ensure_all_finite="allow-nan"
        )
        self._predict_1d = Y.ndim == 1
        Y = Y.reshape(-1, 1) if Y.ndim == 1 else Y
        n, k = X.shape
        if np.isnan(Y).all(axis=0).any():
            raise ValidationFailed(
                "PLSMonitor needs at least one observed value in every column of y; a column "
                "is entirely missing (NaN). Drop that response or supply its values."
            )
        if Y.shape[0] != n:
            raise ValidationFailed(
                f"PLSMonitor needs one row of y per row of X: X has {n} rows, y has "
                f"{Y.shape[0]}. Pass matching rows."
            )
        labels = check_blocks(
            self.blocks, k, type(self).__name__, getattr(self, "feature_names_in_", None)
        )
        limit = min(n, k)
        if self.n_components is None:
            a_max = max(min(MAX_AUTO_COMPONENTS, k, n - 2), 1)
        else:
            a_max = int(self.n_components)
            if a_max > limit:
                raise ValidationFailed(
                    f"The 'n_components' parameter of PLSMonitor must be at most "
                    f"min(n_samples, n_features) = {limit}. Got {a_max} instead; lower it."
                )
        self._orthonormal = False
        column_sums = X.sum(axis=0)
        if n >= k and not np.isnan(column_sums).any() and not np.isnan(Y).any():
            self._fit_tall(X, Y, column_sums / n, labels, a_max)
            return self
        self.mean_, self.scale_ = fit_scaling(X, self.scale, labels)
        self.y_mean_, self.y_scale_ = fit_scaling(Y, self.scale)
        Xs = apply_scaling(X, self.mean_, self.scale_)
        Ys = apply_scaling(Y, self.y_mean_, self.y_scale_)
        fit = self._decompose(Xs, Ys, a_max)
        self.q2_, self.q2_cum_ = None, None
        if self.cv_folds is not None and n >= 3:
            q2 = self._cross_validate(Xs, Ys, fit, a_max)
            a = count_from_q2(q2) if self.n_components is None else a_max
            self.q2_ = q2
            self.q2_cum_ = cumulative_q2(q2)
        else:
            a = a_max if self.n_components is not None else 1
        if a < a_max:
            fit = PlsFit(
                fit.weights[:, :a],
                fit.x_loadings[:, :a],
                fit.y_loadings[:, :a],
                fit.rotation[:, :a],
                fit.scores[:, :a],
                fit.n_iter,
            )
        self._store(fit, Xs, Ys, a)
        return self

    def _fit_tall(
        self, X: np.ndarray, Y: np.ndarray, mean: np.ndarray, labels: np.ndarray | None, a_max: int
    ) -> None:
        """Complete data, n >= k: kernel PLS on cross-products, fold cross-products for Q2.

        Two passes over X in row chunks (one reused buffer): the centred cross-products of
        every cross-validation group, then the scores (full model and each fold model) and
        the SPE. The fold models come from the total cross-products minus their group's.
        """
        n, k = X.shape
        center = np.zeros(k) if self.scale == "none" else mean
        self.y_mean_, self.y_scale_ = fit_scaling(Y, self.scale)
        Ys = (Y - self.y_mean_) / self.y_scale_
        groups = min(int(self.cv_folds), n) if self.cv_folds is not None and n >= 3 else 1
        m = Ys.shape[1]
        G_parts = np.zeros((groups, k, k))
        H_parts = np.zeros((groups, k, m))
        buffer = np.empty((min(_CHUNK, n), k))
        for start in range(0, n, _CHUNK):
            stop = min(start + _CHUNK, n)
            xc = buffer[: stop - start]
            np.subtract(X[start:stop], center, out=xc)
            for g in range(groups):
                first = (g - start) % groups
                part = xc[first::groups]
                G_parts[g] += part.T @ part
                H_parts[g] += part.T @ Ys[start + first : stop : groups]
        G_raw, H_raw = G_parts.sum(axis=0), H_parts.sum(axis=0)
        std = np.sqrt(np.clip(np.diag(G_raw), 0.0, None) / max(n - 1, 1))
        self.mean_, self.scale_ = center, scaling_from_moments(center, std, self.scale, labels)[1]
        inv = 1.0 / self.scale_
        G = G_raw * np.outer(inv, inv)
        H = H_raw * inv[:, None]
        W, P, Q, R, _tt = pls_kernel(G, H, a_max)
        folds = []
        if groups > 1:
            for g in range(groups):
                Gg = (G_raw - G_parts[g]) * np.outer(inv, inv)
                Hg = (H_raw - H_parts[g]) * inv[:, None]
                folds.append(pls_kernel(Gg, Hg, a_max))
        # Second pass: scores of the full model, predictions of each fold model, SPE.
        T = np.empty((n, a_max))
        spe = np.empty(n)
        press = np.zeros(a_max)
        RP = np.hstack([R, P])
        PtP = P.T @ P
        for start in range(0, n, _CHUNK):
            stop = min(start + _CHUNK, n)
            xs = buffer[: stop - start]
            np.subtract(X[start:stop], center, out=xs)
            xs *= inv
            both = xs @ RP
            t, px = both[:, :a_max], both[:, a_max:]
            T[start:stop] = t
            # |x - P t|^2 = |x|^2 - 2 t'P'x + t'P'P t
            spe[start:stop] = np.maximum(
                np.einsum("ij,ij->i", xs, xs)
                - 2 * np.einsum("ia,ia->i", t, px)
                + np.einsum("ia,ab,ib->i", t, PtP, t),
                0.0,
            )
            for g, (_w, _p, Qg, Rg, _t) in enumerate(folds):
                first = (g - start) % groups
                tg = xs[first::groups] @ Rg
                yg = Ys[start + first : stop : groups]
                pred = np.cumsum(tg[:, :, None] * Qg.T[None, :, :], axis=1)
                press += np.sum((yg[:, None, :] - pred) ** 2, axis=(0, 2))
        self.q2_, self.q2_cum_ = None, None
        a = a_max if self.n_components is not None else 1
        if folds:
            residual = Ys.copy()
            fitted_ss = np.empty(a_max + 1)
            fitted_ss[0] = float(np.sum(residual**2))
            for b in range(a_max):
                residual -= np.outer(T[:, b], Q[:, b])
                fitted_ss[b + 1] = float(np.sum(residual**2))
            with np.errstate(divide="ignore", invalid="ignore"):
                q2 = 1.0 - press / fitted_ss[:-1]
            self.q2_, self.q2_cum_ = q2, cumulative_q2(q2)
            if self.n_components is None:
                a = count_from_q2(q2)
        fit = PlsFit(W[:, :a], P[:, :a], Q[:, :a], R[:, :a], T[:, :a])
        self._store_tall(fit, G, Ys, spe if a == a_max else None, X, a)

    def _store_tall(
        self,
        fit: PlsFit,
        G: np.ndarray,
        Ys: np.ndarray,
        spe: np.ndarray | None,
        X: np.ndarray,
        a: int,
    ) -> None:
        n, k = X.shape
        dof = max(n - 1, 1)
        self._store_model(fit, Ys, a, ssx=float(np.trace(G)))
        self._set_score_variances(fit.scores)
        if spe is None:  # fewer components than were fitted: recompute the residuals
            spe = np.empty(n)
            for rows, xs in self._scaled_chunks(X):
                xs -= fit.scores[rows] @ fit.x_loadings.T
                spe[rows] = np.einsum("ij,ij->i", xs, xs)
        cov = G / dof
        # X'X = P (T'T) P' + E'E for PLS (T'E = 0): the residual covariance without E.
        resid_cov = cov - (fit.x_loadings * self.score_variances_) @ fit.x_loadings.T
        eigs = np.clip(np.linalg.eigvalsh(resid_cov)[::-1], 0.0, None)
        self._tsr = TsrSupport(self._rotation, cov=cov)
        self._set_limits(spe, eigs, n, k, self.scale != "none")

    @staticmethod
    def _decompose(Xs: np.ndarray, Ys: np.ndarray, a: int) -> PlsFit:
        if np.isnan(Xs).any() or np.isnan(Ys).any():
            return pls_nipals_missing(Xs, Ys, a)
        return pls_complete(Xs, Ys, a)

    def _cross_validate(
        self, Xs: np.ndarray, Ys: np.ndarray, full: PlsFit, a_max: int
    ) -> np.ndarray:
        """Q2 per component: global scaling, interleaved folds, PRESS over observed Y."""
        n = Xs.shape[0]
        press = np.zeros(a_max)
        y_obs = ~np.isnan(Ys)
        for test in folds_of(n, int(self.cv_folds or 7)):
            train = np.setdiff1d(np.arange(n), test)
            fold_a = min(a_max, train.size - 1)
            if fold_a < 1:
                press[:] = np.inf
                continue
            fold = self._decompose(Xs[train], Ys[train], fold_a)
            T = scores_single_component(Xs[test], fold, fold_a)
            Y_test = np.where(y_obs[test], Ys[test], 0.0)
            pred = np.zeros_like(Y_test)
            for a in range(a_max):
                if a < fold_a:
                    pred += np.outer(T[:, a], fold.y_loadings[:, a])
                    press[a] += float(np.sum(np.where(y_obs[test], Y_test - pred, 0.0) ** 2))
                else:
                    press[a] = np.inf
        resid = np.where(y_obs, Ys, 0.0)
        fitted_ss = np.empty(a_max + 1)
        fitted_ss[0] = float(np.sum(resid**2))
        for a in range(a_max):
            resid = resid - np.outer(full.scores[:, a], full.y_loadings[:, a]) * y_obs
            fitted_ss[a + 1] = float(np.sum(resid**2))
        with np.errstate(divide="ignore", invalid="ignore"):
            return 1.0 - press / fitted_ss[:-1]

    def _store(self, fit: PlsFit, Xs: np.ndarray, Ys: np.ndarray, a: int) -> None:
        self._store_model(fit, Ys, a, ssx=float(np.nansum(Xs**2)))
        self._fit_residual_model(Xs, fit.scores, centred=self.scale != "none")

    def _store_model(self, fit: PlsFit, Ys: np.ndarray, a: int, *, ssx: float) -> None:
        self.n_components_ = a
        self._n_features_out = a
        self.n_iter_ = max(fit.n_iter, 1)
        self.x_weights_ = fit.weights
        self.x_loadings_ = fit.x_loadings
        self.y_loadings_ = fit.y_loadings
        self.x_rotations_ = fit.rotation
        self.x_scores_ = fit.scores
        self._rotation = fit.rotation
        self._xloadings = fit.x_loadings
        y_obs = ~np.isnan(Ys)
        Y0 = np.where(y_obs, Ys, 0.0)
        U = np.zeros((Ys.shape[0], a))
        for b in range(a):  # scikit-learn's y scores: deflated Y on the Y loadings
            q = fit.y_loadings[:, b]
            qq = float(q @ q)
            U[:, b] = (Y0 @ q) / qq if qq > 0 else 0.0
            Y0 = Y0 - np.outer(fit.scores[:, b], q) * y_obs
        self.y_scores_ = U
        self.coef_ = ((fit.rotation @ fit.y_loadings.T) * self.y_scale_).T / self.scale_
        self.intercept_ = self.y_mean_.copy()
        tt = np.einsum("ia,ia->a", fit.scores, fit.scores)
        ssy = float(np.nansum(Ys**2))
        explained_x = tt * np.einsum("ka,ka->a", fit.x_loadings, fit.x_loadings)
        explained_y = tt * np.einsum("ma,ma->a", fit.y_loadings, fit.y_loadings)
        self.r2x_ = explained_x / ssx if ssx > 0 else np.zeros(a)
        self.r2y_ = explained_y / ssy if ssy > 0 else np.zeros(a)
        self.r2x_cum_ = np.cumsum(self.r2x_)
        self.r2y_cum_ = np.cumsum(self.r2y_)
        self.vip_ = _vip(fit.weights, explained_y)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.required = True
        return tags

    def predict(self, X: Any) -> np.ndarray:
        """Predicted Y in original units; rows with missing X values are projected by TSR.

        Returns
        -------
        ndarray of shape (n_samples,) for a 1-D training y, else (n_samples, n_targets).
        """
        ensure_fitted(self)
        X = as_float_matrix(self, X, reset=False)
        T = self._scores_of_array(X)
        Y = (T @ self.y_loadings_.T) * self.y_scale_ + self.y_mean_
        return Y[:, 0] if self._predict_1d else Y


def _vip(W: np.ndarray, explained_y: np.ndarray) -> np.ndarray:
    """VIP_j = sqrt(K sum_a SSY_a (w_ja / |w_a|)^2 / sum_a SSY_a) (Wold et al. 1993)."""
    k = W.shape[0]
    total = float(explained_y.sum())
    if total <= 0:
        return np.zeros(k)
    norms = np.linalg.norm(W, axis=0)
    wn = W / np.where(norms > 0, norms, 1.0)
    return np.sqrt(k * (wn**2 @ explained_y) / total)
