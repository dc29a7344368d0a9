"""PCAMonitor: a principal component model of normal operation with monitoring statistics."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin

from saisei.errors import ValidationFailed

from ._limits import SPE_METHODS
from ._linalg import LowRankFit, als_missing, pca_complete, pca_complete_tall
from ._monitor import LatentMonitorMixin, as_float_matrix, ensure_fitted
from ._project import TsrSupport
from ._scaling import apply_scaling, column_moments, fit_scaling, scaling_from_moments
from ._select import cumulative_q2, select_pca_components
from ._validation import check_alpha, check_blocks, check_choice, check_int, check_scale

PCA_PROJECTIONS = ("tsr", "pmp")


class PCAMonitor(
    LatentMonitorMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Principal component model of normal operation, for multivariate monitoring.

    Centres and scales the data, fits a PCA (exactly for complete data, by alternating least
    squares over the observed cells when values are missing) and sets control limits for
    Hotelling's T2, the squared prediction error (SPE) and DModX.

    Parameters
    ----------
    n_components : int or None, default=None
        Number of components A. ``None`` chooses it by cross-validation (Q2 > 0 rule; see
        ``docs/monitoring.md``), considering at most 20.
    scale : {"autoscale", "pareto", "center", "none"}, default="autoscale"
        Column preprocessing; the standard deviation uses ddof=1.
    alpha : float, default=0.01
        False-alarm probability per row for every limit (0.01 gives 99 % limits).
    blocks : mapping or sequence, optional
        Block scaling: ``{block: [columns]}`` or one block label per column. Each column of a
        block of ``k`` columns is further divided by ``sqrt(k)``.
    spe_method : {"jackson-mudholkar", "box", "box-moments"}, default="jackson-mudholkar"
        SPE limit: Jackson & Mudholkar (1979) or Box's scaled chi-square from the residual
        eigenvalues, or the scaled chi-square matched to the training SPE values.
    projection : {"tsr", "pmp"}, default="tsr"
        How rows with missing values are scored: trimmed score regression or projection to
        the model plane (see ``docs/monitoring.md``).
    cv_folds : int, default=7
        Row groups for cross-validation when ``n_components`` is None.
    tol : float, default=1e-10
        Convergence of the missing-data fit: relative change of the residual sum of squares.
    max_iter : int, default=500
        Iteration cap of the missing-data fit.

    Attributes
    ----------
    mean_, scale_ : ndarray of shape (n_features,)
        Preprocessing: the model works on ``(X - mean_) / scale_``.
    components_ : ndarray of shape (n_components_, n_features)
        Loadings (orthonormal rows), as scikit-learn's ``PCA.components_``.
    explained_variance_ : ndarray of shape (n_components_,)
        Variance of each score (ddof=1).
    explained_variance_ratio_ : ndarray of shape (n_components_,)
        Fraction of the total variance of the scaled data explained by each component (R2X).
    n_components_ : int
        Number of components fitted.
    q2_, q2_cum_ : ndarray or None
        Cross-validated Q2 of each candidate component, and its cumulative form, when
        ``n_components`` was None.
    t2_limit_ : float
        Phase II T2 limit (new rows): F distribution. ``t2_limit_phase1_``: beta distribution,
        for the training rows themselves.
    spe_limit_ : float
        SPE limit by ``spe_method``.
    dmodx_limit_, dmodx_s0_ : float
        Critical normalised DModX and the pooled residual SD ``s0``.
    scores_ : ndarray of shape (n_samples, n_components_)
        Training scores. ``t2_train_`` and ``spe_train_`` hold their statistics.
    residual_eigenvalues_ : ndarray
        Eigenvalues of the residual covariance, used by the SPE limit.
    solver_ : str
        ``"eigh"`` (covariance), ``"gram"`` (Gram matrix, more columns than rows) or ``"als"``.
    n_iter_ : int
        ALS iterations (1 for the exact, one-pass solvers).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)) @ rng.normal(size=(3, 8)) + 0.1 * rng.normal(size=(200, 8))
    >>> monitor = PCAMonitor(n_components=3).fit(X)
    >>> monitor.components_.shape
    (3, 8)
    >>> result = monitor.diagnose(X[:5] + [0, 0, 0, 0, 0, 0, 0, 5.0])
    >>> bool(result.alarm.all())
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
        projection: str = "tsr",
        cv_folds: int = 7,
        tol: float = 1e-10,
        max_iter: int = 500,
    ) -> None:
        self.n_components = n_components
        self.scale = scale
        self.alpha = alpha
        self.blocks = blocks
        self.spe_method = spe_method
        self.projection = projection
        self.cv_folds = cv_folds
        self.tol = tol
        self.max_iter = max_iter

    def _check_params(self) -> None:
        owner = type(self).__name__
        check_int(self.n_components, "n_components", owner, allow_none=True)
        check_scale(self.scale, owner)
        check_alpha(self.alpha, owner)
        check_choice(self.spe_method, "spe_method", owner, SPE_METHODS)
        check_choice(self.projection, "projection", owner, PCA_PROJECTIONS)
        check_int(self.cv_folds, "cv_folds", owner, minimum=2)
        check_int(self.max_iter, "max_iter", owner)
        if not isinstance(self.tol, float | int) or not self.tol > 0:
            raise ValidationFailed(
                f"The 'tol' parameter of {owner} must be a positive float. Got {self.tol!r} "
                "instead."
            )

    def fit(self, X: Any, y: Any = None) -> PCAMonitor:
        """Fit the model of normal operation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Reference data in original units; NaN marks a missing value.
        y : ignored

        Returns
        -------
        self : PCAMonitor
        """
        self._check_params()
        X = as_float_matrix(self, X, reset=True, min_samples=2)
        n, k = X.shape
        labels = check_blocks(
            self.blocks, k, type(self).__name__, getattr(self, "feature_names_in_", None)
        )
        column_sums = X.sum(axis=0)
        has_missing = bool(np.isnan(column_sums).any())
        self.q2_ = self.q2_cum_ = None
        self._orthonormal = True
        if self.n_components is not None:
            a = int(self.n_components)
            if a > min(n, k):
                raise ValidationFailed(
                    f"The 'n_components' parameter of PCAMonitor must be at most "
                    f"min(n_samples, n_features) = {min(n, k)}. Got {a} instead; lower it."
                )
            if not has_missing and n >= k:
                self._fit_tall(X, column_sums / n, a, labels)
                return self
        self.mean_, self.scale_ = fit_scaling(X, self.scale, labels)
        Xs = apply_scaling(X, self.mean_, self.scale_)
        if self.n_components is None:
            a, self.q2_ = select_pca_components(
                Xs, folds=self.cv_folds, tol=self.tol, max_iter=self.max_iter
            )
            self.q2_cum_ = cumulative_q2(self.q2_)
        if has_missing:
            fit = als_missing(Xs, a, tol=self.tol, max_iter=self.max_iter)
            self.solver_ = "als"
        else:
            fit = pca_complete(Xs, a)
            self.solver_ = "eigh" if n >= k else "gram"
        self._store(fit, a)
        # Total variance: the sum of the column variances, each over its observed values.
        self._set_variance_ratio(float(np.sum(column_moments(Xs)[1] ** 2)))
        self._fit_residual_model(Xs, fit.scores, centred=self.scale != "none")
        return self

    def _fit_tall(self, X: np.ndarray, mean: np.ndarray, a: int, labels: np.ndarray | None) -> None:
        """Complete data, n >= k: one exact eigendecomposition, no copy of X."""
        center = np.zeros_like(mean) if self.scale == "none" else mean

        def scaling(std: np.ndarray) -> np.ndarray:
            return scaling_from_moments(center, std, self.scale, labels)[1]

        fit, self.scale_, row_ss = pca_complete_tall(X, a, center, scaling)
        self.mean_ = center
        self.solver_ = "eigh"
        self._store(fit, a)
        self._set_variance_ratio(float(np.sum(fit.eigenvalues)))
        self._set_score_variances(fit.scores)
        # |x|^2 = |t|^2 + |e|^2 for orthonormal loadings; the residual eigenvalues are the
        # discarded ones, and the covariance is what trimmed score regression needs.
        spe_train = np.maximum(row_ss - np.einsum("ia,ia->i", fit.scores, fit.scores), 0.0)
        assert fit.covariance is not None
        self._tsr = TsrSupport(self._rotation, cov=fit.covariance)
        self._set_limits(
            spe_train, fit.eigenvalues[a:], X.shape[0], X.shape[1], self.scale != "none"
        )

    def _store(self, fit: LowRankFit, a: int) -> None:
        self.n_iter_ = max(fit.n_iter, 1)
        self.n_components_ = a
        self._n_features_out = a
        self._rotation = fit.loadings
        self._xloadings = fit.loadings
        self.components_ = fit.loadings.T.copy()
        self.scores_ = fit.scores
        self.explained_variance_ = fit.eigenvalues[:a].copy()

    def _set_variance_ratio(self, total_variance: float) -> None:
        self.explained_variance_ratio_ = (
            self.explained_variance_ / total_variance
            if total_variance > 0
            else np.zeros(self.n_components_)
        )

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Reconstruct rows in original units from scores of shape (n, n_components_)."""
        ensure_fitted(self)
        T = np.asarray(X, dtype=np.float64)
        return (T @ self.components_) * self.scale_ + self.mean_
