"""Bayesian design space: the posterior predictive probability that every CQA meets its
specification at given set-points (Peterson 2008).

Model (Peterson 2004, 2008): the CQAs of a batch made at set-points ``x`` follow a multivariate
regression ``y = B' m(x) + e``, ``e ~ N_q(0, Sigma)``, with ``m(x)`` the response-surface terms.
Under the non-informative prior ``p(B, Sigma) ∝ |Sigma|^{-(q+1)/2}`` the posterior predictive
of a new batch is multivariate t with ``nu = n - p - q + 1`` degrees of freedom, location
``B_hat' m(x)`` and scale matrix ``(1 + m(x)' (M'M)^{-1} m(x)) S / nu``, where ``S`` is the
residual sum-of-squares-and-products matrix. The probability of the specification box is then

- exact for one constrained CQA (the marginal is a univariate t);
- ``method="exact"``: the multivariate t probability of the box by Genz's quasi-Monte-Carlo
  integration (:class:`scipy.stats.multivariate_t`), slow for large grids;
- ``method="monte_carlo"``: ``n_draws`` predictive draws shared by every point (common random
  numbers, so a region's boundary is smooth), vectorised over grids.

The posterior of the *conditional* probability of meeting the specifications (its
uncertainty: how sure we are of the probability itself) comes from draws of
``Sigma ~ Inv-Wishart(n - p, S)`` and ``B | Sigma ~ MN(B_hat, (M'M)^{-1}, Sigma)``
(Box & Tiao 1973, section 8.4); its posterior mean is the predictive probability.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from saisei.analytics.design_space._terms import (
    check_terms,
    model_matrix,
    numeric_frame,
    term_names,
)
from saisei.errors import NotFittedError, ValidationFailed

Spec = tuple[float | None, float | None]
METHODS = ("auto", "exact", "monte_carlo")
_CHUNK = 200_000  # point x draw pairs per block of the Monte-Carlo count


class BayesianDesignSpace:
    """Posterior predictive probability of meeting every specification (Peterson 2008).

    Parameters
    ----------
    terms : {"linear", "interaction", "quadratic"}, default "linear"
        Response-surface terms of every CQA model (an intercept is always included).
    n_draws : int, default 4000
        Predictive draws for the Monte-Carlo probability of several CQAs, and posterior
        draws for the uncertainty of the probability.
    random_state : int, numpy Generator or None
        Seed of the draws.
    measurement_sd : mapping of attribute -> float, optional
        Known analytical (assay) SD of attributes, from method validation. When given, the
        probabilities are for the *true* attribute values of a new batch, not its measured
        ones: the assay variance is taken out of the residual covariance of each posterior
        draw (``Sigma - D``, clipped to be positive semi-definite) and every probability is
        computed by Monte Carlo over posterior draws (no closed form).

    Attributes
    ----------
    parameters_ : list of str
        Set-point names (columns of ``X``).
    attributes_ : list of str
        CQA names (columns of ``Y``).
    coef_ : DataFrame, shape (p, q)
        Least-squares coefficients on the standardised set-points (rows: term names).
    dof_ : int
        Degrees of freedom of the predictive multivariate t, ``n - p - q + 1``.
    scale_matrix_ : ndarray, shape (q, q)
        ``S / dof_``; the predictive scale matrix at a point is this times ``1 + h(x)``.
    n_samples_ : int
        Batches fitted.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"temperature": rng.uniform(36, 38, 30)})
    >>> Y = pd.DataFrame({"viability": 80 + 3 * (X["temperature"] - 37) + rng.normal(0, 1, 30)})
    >>> ds = BayesianDesignSpace(random_state=0).fit(X, Y)
    >>> p = ds.probability(pd.DataFrame({"temperature": [37.0]}), {"viability": (75, None)})
    >>> bool(p[0] > 0.99)
    True
    """

    def __init__(
        self,
        terms: str = "linear",
        *,
        n_draws: int = 4000,
        random_state: int | np.random.Generator | None = None,
        measurement_sd: Mapping[str, float] | None = None,
    ) -> None:
        self.terms = terms
        self.n_draws = n_draws
        self.random_state = random_state
        self.measurement_sd = measurement_sd

    # ------------------------------------------------------------------ fit
    def fit(self, X: pd.DataFrame, Y: pd.DataFrame) -> BayesianDesignSpace:
        """Fit the multivariate regression of the CQAs ``Y`` on the set-points ``X``.

        Parameters
        ----------
        X : DataFrame, shape (n, k)
            Set-points (one column per parameter, numbers in their units).
        Y : DataFrame, shape (n, q)
            Measured CQAs of the same batches, same row order.

        Returns
        -------
        self
        """
        check_terms(self.terms)
        if not isinstance(self.n_draws, int | np.integer) or self.n_draws < 100:
            raise ValidationFailed(
                "The 'n_draws' parameter of BayesianDesignSpace must be an integer >= 100. "
                f"Got {self.n_draws!r} instead."
            )
        xf = numeric_frame(X, "X (the set-points)")
        yf = numeric_frame(Y, "Y (the quality attributes)")
        if len(xf) != len(yf):
            raise ValidationFailed(
                f"X and Y must have one row per batch each. Got {len(xf)} and {len(yf)} rows."
            )
        self.parameters_ = [str(c) for c in xf.columns]
        self.attributes_ = [str(c) for c in yf.columns]
        if not self.parameters_ or not self.attributes_:
            raise ValidationFailed("X and Y need at least one column each.")
        x = xf.to_numpy()
        self.x_mean_ = x.mean(axis=0)
        self.x_scale_ = x.std(axis=0)
        self.x_min_ = x.min(axis=0)
        self.x_max_ = x.max(axis=0)
        constant = [p for p, s in zip(self.parameters_, self.x_scale_, strict=True) if s == 0]
        if constant:
            raise ValidationFailed(
                f"The set-point(s) {', '.join(constant)} never vary in the data, so their "
                "effect cannot be estimated. Leave them out of X."
            )
        M = model_matrix((x - self.x_mean_) / self.x_scale_, self.terms)
        y = yf.to_numpy()
        n, p = M.shape
        q = y.shape[1]
        dof = n - p - q + 1
        if dof < 1:
            raise ValidationFailed(
                f"{n} batches are too few for {p} model terms and {q} attributes: the predictive "
                f"distribution needs n - p - q + 1 >= 1 degrees of freedom (got {dof}). Use "
                "more batches, fewer terms or fewer attributes."
            )
        Qm, R = np.linalg.qr(M)
        if np.min(np.abs(np.diag(R))) < 1e-10 * np.max(np.abs(np.diag(R))):
            raise ValidationFailed(
                f"The {self.terms} model terms are collinear in these set-points (e.g. two "
                "parameters always move together). Use fewer terms or a design that varies them "
                "independently."
            )
        coef = np.linalg.solve(R, Qm.T @ y)
        resid = y - M @ coef
        S = resid.T @ resid
        R_inv = np.linalg.inv(R)
        self.xtx_inv_ = R_inv @ R_inv.T
        self.coef_ = pd.DataFrame(
            coef, index=term_names(self.parameters_, self.terms), columns=self.attributes_
        )
        self.residual_sscp_ = S
        self.dof_ = int(dof)
        self.n_samples_ = int(n)
        self.n_terms_ = int(p)
        self.scale_matrix_ = S / dof
        try:
            chol = np.linalg.cholesky(self.scale_matrix_)
        except np.linalg.LinAlgError:
            raise ValidationFailed(
                "The residuals of the attributes are perfectly correlated or zero, so no "
                "predictive distribution exists. Check for duplicated or derived attributes."
            ) from None
        rng = np.random.default_rng(self.random_state)
        z = rng.standard_normal((self.n_draws, q))
        w = rng.chisquare(dof, self.n_draws)
        # Standard multivariate t draws with scale matrix S / nu (location 0).
        self.t_draws_ = (z @ chol.T) / np.sqrt(w / dof)[:, None]
        self._rng = rng
        self.measurement_var_ = self._measurement_var()
        if self.measurement_var_ is not None:
            self._composition_draws(self.measurement_var_)
        return self

    def _measurement_var(self) -> np.ndarray | None:
        if self.measurement_sd is None:
            return None
        unknown = [a for a in self.measurement_sd if a not in self.attributes_]
        if unknown:
            raise ValidationFailed(
                f"'measurement_sd' names attribute(s) {', '.join(map(str, unknown))} that are "
                f"not in Y ({', '.join(self.attributes_)})."
            )
        sds = np.array([float(self.measurement_sd.get(a, 0.0)) for a in self.attributes_])
        if (sds < 0).any() or not np.isfinite(sds).all():
            raise ValidationFailed(
                f"Every 'measurement_sd' must be a finite number >= 0. Got {self.measurement_sd}."
            )
        return np.asarray(sds**2)

    def _posterior_sigmas(self, size: int) -> np.ndarray:
        q = len(self.attributes_)
        draws = stats.invwishart(df=self.n_samples_ - self.n_terms_, scale=self.residual_sscp_).rvs(
            size=size, random_state=self._rng
        )
        return np.asarray(draws).reshape(size, q, q)

    def _composition_draws(self, measurement_var: np.ndarray) -> None:
        # (B, Sigma) from the posterior, then one new batch's true values per draw.
        q, p, nd = len(self.attributes_), self.n_terms_, self.n_draws
        sigmas = self._posterior_sigmas(nd)
        L_x = np.linalg.cholesky(self.xtx_inv_)
        L_s = np.linalg.cholesky(sigmas)  # stacked: (nd, q, q)
        Z = self._rng.standard_normal((nd, p, q))
        B = self.coef_.to_numpy()[None] + np.einsum("ij,djk,dlk->dil", L_x, Z, L_s)
        vals, vecs = np.linalg.eigh(sigmas - np.diag(measurement_var)[None])
        z = self._rng.standard_normal((nd, q)) * np.sqrt(np.clip(vals, 0, None))
        e = np.einsum("dij,dj->di", vecs, z)
        self.coef_draws_ = B
        self.error_draws_ = e

    # ------------------------------------------------------------ helpers
    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError(
                "This BayesianDesignSpace is not fitted yet. Call 'fit' with set-points and "
                "attributes before using it."
            )

    def fitted_range(self, parameter: str) -> tuple[float, float]:
        """Smallest and largest fitted value of ``parameter``."""
        self._check_fitted()
        k = self.parameters_.index(parameter)
        return float(self.x_min_[k]), float(self.x_max_[k])

    def _design(self, X_new: pd.DataFrame) -> np.ndarray:
        x = numeric_frame(X_new, "X_new (the set-points)", self.parameters_).to_numpy()
        return model_matrix((x - self.x_mean_) / self.x_scale_, self.terms)

    def _bounds(self, specs: Mapping[str, Spec]) -> tuple[list[int], np.ndarray, np.ndarray]:
        if not isinstance(specs, Mapping) or not specs:
            raise ValidationFailed(
                "The 'specs' must map at least one attribute to (low, high), with None for an "
                f"open side. Got {specs!r} instead."
            )
        unknown = [a for a in specs if a not in self.attributes_]
        if unknown:
            raise ValidationFailed(
                f"The specification names attribute(s) {', '.join(map(str, unknown))} the model "
                f"was not fitted with ({', '.join(self.attributes_)})."
            )
        idx, low, high = [], [], []
        for name, limits in specs.items():
            try:
                lo, hi = limits
            except (TypeError, ValueError):
                raise ValidationFailed(
                    f"The specification of {name!r} must be a pair (low, high). Got {limits!r}."
                ) from None
            lo_f = -np.inf if lo is None else float(lo)
            hi_f = np.inf if hi is None else float(hi)
            if not lo_f < hi_f:
                raise ValidationFailed(
                    f"The specification of {name!r} must have low < high. Got ({lo}, {hi})."
                )
            idx.append(self.attributes_.index(name))
            low.append(lo_f)
            high.append(hi_f)
        return idx, np.array(low), np.array(high)

    def predict(self, X_new: pd.DataFrame) -> pd.DataFrame:
        """Predictive means of every attribute at ``X_new`` (one row per row of ``X_new``)."""
        self._check_fitted()
        M = self._design(X_new)
        return pd.DataFrame(M @ self.coef_.to_numpy(), columns=self.attributes_, index=X_new.index)

    def _leverage(self, M: np.ndarray) -> np.ndarray:
        return np.einsum("ij,jk,ik->i", M, self.xtx_inv_, M)

    def predictive_sd(self, X_new: pd.DataFrame) -> pd.DataFrame:
        """Scale (not SD) of each attribute's predictive t: ``sqrt((1 + h) S_jj / nu)``."""
        self._check_fitted()
        M = self._design(X_new)
        factor = np.sqrt(1.0 + self._leverage(M))
        return pd.DataFrame(
            factor[:, None] * np.sqrt(np.diag(self.scale_matrix_))[None, :],
            columns=self.attributes_,
            index=X_new.index,
        )

    # --------------------------------------------------------- probability
    def probability(
        self, X_new: pd.DataFrame, specs: Mapping[str, Spec], *, method: str = "auto"
    ) -> np.ndarray:
        """Posterior predictive probability that every attribute in ``specs`` is within spec.

        Parameters
        ----------
        X_new : DataFrame, shape (m, k)
            Set-points, same columns as ``X`` in ``fit``.
        specs : mapping of attribute -> (low, high)
            ``None`` for an open side. Attributes not named are not constrained.
        method : {"auto", "exact", "monte_carlo"}
            ``auto``: exact t for one attribute, Monte Carlo for several.

        Returns
        -------
        ndarray, shape (m,)
            P(all named attributes within their limits | data) per row.
        """
        self._check_fitted()
        if method not in METHODS:
            raise ValidationFailed(
                f"The 'method' must be one of {', '.join(METHODS)}. Got {method!r} instead."
            )
        idx, low, high = self._bounds(specs)
        M = self._design(X_new)
        if self.measurement_var_ is not None:
            return self._true_value_monte_carlo(M, idx, low, high)
        mu = (M @ self.coef_.to_numpy())[:, idx]
        factor = np.sqrt(1.0 + self._leverage(M))
        if len(idx) == 1:
            scale = factor * np.sqrt(self.scale_matrix_[idx[0], idx[0]])
            t_hi = stats.t.cdf((high[0] - mu[:, 0]) / scale, self.dof_)
            t_lo = stats.t.cdf((low[0] - mu[:, 0]) / scale, self.dof_)
            return np.asarray(t_hi - t_lo, dtype=float)
        if method == "exact":
            return self._exact(mu, factor, idx, low, high)
        return self._monte_carlo(mu, factor, idx, low, high)

    def _exact(
        self,
        mu: np.ndarray,
        factor: np.ndarray,
        idx: list[int],
        low: np.ndarray,
        high: np.ndarray,
    ) -> np.ndarray:
        shape = self.scale_matrix_[np.ix_(idx, idx)]
        dist = stats.multivariate_t(loc=np.zeros(len(idx)), shape=shape, df=self.dof_)
        rng = np.random.default_rng(0)
        out = np.empty(len(mu))
        for i in range(len(mu)):
            a = (low - mu[i]) / factor[i]
            b = (high - mu[i]) / factor[i]
            # Infinite limits are allowed by the Genz algorithm.
            out[i] = dist.cdf(b, lower_limit=a, maxpts=200_000 * len(idx), random_state=rng)
        return np.clip(out, 0.0, 1.0)

    def _monte_carlo(
        self,
        mu: np.ndarray,
        factor: np.ndarray,
        idx: list[int],
        low: np.ndarray,
        high: np.ndarray,
    ) -> np.ndarray:
        T = self.t_draws_[:, idx]
        n_draws = T.shape[0]
        out = np.empty(len(mu))
        step = max(1, _CHUNK // n_draws)
        for start in range(0, len(mu), step):
            sl = slice(start, start + step)
            a = (low[None, :] - mu[sl]) / factor[sl, None]
            b = (high[None, :] - mu[sl]) / factor[sl, None]
            inside = np.ones((a.shape[0], n_draws), dtype=bool)
            for j in range(len(idx)):
                tj = T[None, :, j]
                if np.isfinite(low[j]):
                    inside &= tj >= a[:, j, None]
                if np.isfinite(high[j]):
                    inside &= tj <= b[:, j, None]
            out[sl] = inside.mean(axis=1)
        return out

    def _true_value_monte_carlo(
        self, M: np.ndarray, idx: list[int], low: np.ndarray, high: np.ndarray
    ) -> np.ndarray:
        B = self.coef_draws_[:, :, idx]  # (nd, p, r)
        nd, p, r = B.shape
        flat = B.transpose(1, 0, 2).reshape(p, nd * r)
        e = self.error_draws_[:, idx]
        out = np.empty(len(M))
        step = max(1, _CHUNK // nd)
        for start in range(0, len(M), step):
            y = (M[start : start + step] @ flat).reshape(-1, nd, r) + e[None]
            out[start : start + step] = ((y >= low) & (y <= high)).all(axis=2).mean(axis=1)
        return out

    # ------------------------------------------------ uncertainty of the probability
    def probability_draws(
        self,
        X_new: pd.DataFrame,
        specs: Mapping[str, Spec],
        *,
        n_posterior: int = 1000,
        n_inner: int = 256,
    ) -> np.ndarray:
        """Posterior draws of the conditional probability of meeting every specification.

        For each posterior draw of ``(B, Sigma)`` the probability that a batch at ``X_new``
        meets the specifications (exact normal for one attribute, ``n_inner`` normal draws
        for several). Their spread is the uncertainty of the probability; their mean is the
        predictive probability.

        Returns
        -------
        ndarray, shape (m, n_posterior)
        """
        self._check_fitted()
        idx, low, high = self._bounds(specs)
        M = self._design(X_new)
        rng = self._rng
        q = len(self.attributes_)
        p = self.n_terms_
        sigmas = self._posterior_sigmas(n_posterior)
        if self.measurement_var_ is not None:
            D = np.diag(self.measurement_var_)
        L_x = np.linalg.cholesky(self.xtx_inv_)
        B_hat = self.coef_.to_numpy()
        out = np.empty((len(M), n_posterior))
        for d in range(n_posterior):
            L_s = np.linalg.cholesky(sigmas[d])
            B = B_hat + L_x @ rng.standard_normal((p, q)) @ L_s.T
            mean = (M @ B)[:, idx]
            cov = sigmas[d][np.ix_(idx, idx)]
            if self.measurement_var_ is not None:
                vals, vecs = np.linalg.eigh(sigmas[d] - D)
                cov = ((vecs * np.clip(vals, 1e-12, None)) @ vecs.T)[np.ix_(idx, idx)]
            if len(idx) == 1:
                sd = np.sqrt(cov[0, 0])
                out[:, d] = stats.norm.cdf((high[0] - mean[:, 0]) / sd) - stats.norm.cdf(
                    (low[0] - mean[:, 0]) / sd
                )
                continue
            e = rng.standard_normal((n_inner, len(idx))) @ np.linalg.cholesky(cov).T
            y = mean[:, None, :] + e[None, :, :]
            ok = ((y >= low) & (y <= high)).all(axis=2)
            out[:, d] = ok.mean(axis=1)
        return out

    def probability_interval(
        self,
        X_new: pd.DataFrame,
        specs: Mapping[str, Spec],
        *,
        level: float = 0.9,
        n_posterior: int = 1000,
    ) -> pd.DataFrame:
        """Predictive probability with a credible interval of the conditional probability.

        Returns
        -------
        DataFrame
            Columns ``probability`` (predictive), ``posterior_mean``, ``ci_low``, ``ci_high``
            (equal-tailed ``level`` interval of the conditional probability), ``posterior_sd``.
        """
        if not 0 < level < 1:
            raise ValidationFailed(f"The 'level' must be in (0, 1). Got {level!r} instead.")
        draws = self.probability_draws(X_new, specs, n_posterior=n_posterior)
        tail = (1 - level) / 2
        return pd.DataFrame(
            {
                "probability": self.probability(X_new, specs),
                "posterior_mean": draws.mean(axis=1),
                "ci_low": np.quantile(draws, tail, axis=1),
                "ci_high": np.quantile(draws, 1 - tail, axis=1),
                "posterior_sd": draws.std(axis=1),
            },
            index=X_new.index,
        )

    # ------------------------------------------------------------- regions
    def region(
        self,
        specs: Mapping[str, Spec],
        *,
        reliability: float = 0.9,
        ranges: Mapping[str, tuple[float, float]] | None = None,
        fixed: Mapping[str, float] | None = None,
        points: int = 50,
        method: str = "auto",
        mapper: Any = None,
    ) -> Any:
        """The design space at ``reliability`` over a grid, and the largest box inside it.

        Parameters
        ----------
        specs : mapping of attribute -> (low, high)
        reliability : float in (0, 1)
            A grid point belongs to the design space when P(all in spec) >= reliability.
        ranges : mapping of parameter -> (low, high), optional
            Parameters varied over the grid (default: every parameter over its fitted range).
        fixed : mapping of parameter -> value, optional
            Values of the parameters not varied (default: their mean in the fitted data).
        points : int
            Grid points per varied parameter.
        mapper : callable, optional
            A ``map``-like ``mapper(function, chunks)`` that evaluates the probability of
            chunks of grid points elsewhere (e.g. ``saisei.scale.client_map(client)`` on a
            Dask cluster). Every grid point's probability depends only on that point and the
            draws fixed at ``fit``, so the region is the same; with ``method="exact"`` (a
            random Genz integration shared by the points) the grid is evaluated here.

        Returns
        -------
        DesignSpaceRegion
        """
        from saisei.analytics.design_space._region import build_region

        self._check_fitted()
        return build_region(
            self,
            specs,
            reliability=reliability,
            ranges=ranges,
            fixed=fixed,
            points=points,
            method=method,
            mapper=mapper,
        )

    def proven_acceptable_ranges(
        self,
        specs: Mapping[str, Spec],
        *,
        reliability: float = 0.9,
        target: Mapping[str, float] | None = None,
        ranges: Mapping[str, tuple[float, float]] | None = None,
        parameters: Sequence[str] | None = None,
        points: int = 201,
    ) -> pd.DataFrame:
        """Proven acceptable range of each parameter with the others at target.

        The PAR of a parameter is the interval of values around its target, every other
        parameter at target, where P(all in spec) >= ``reliability`` (searched on ``points``
        values over ``ranges``; default the fitted range).

        Returns
        -------
        DataFrame
            One row per parameter: ``parameter``, ``target``, ``low``, ``high`` (NaN when the
            target itself fails), ``probability_at_target``, ``searched_low``,
            ``searched_high``, ``open_low``/``open_high`` (True when the PAR reaches the end
            of the searched range and may extend beyond it).
        """
        from saisei.analytics.design_space._region import build_pars

        self._check_fitted()
        return build_pars(
            self,
            specs,
            reliability=reliability,
            target=target,
            ranges=ranges,
            parameters=parameters,
            points=points,
        )
