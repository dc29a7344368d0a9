"""Single-curve 4PL/5PL fits: the ``DoseResponseModel`` estimator and its result types."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator

from saisei.errors import NotFittedError, ValidationFailed

from . import _models
from ._models import PARAM_NAMES, FloatArray
from ._profile import profile_interval
from ._solver import Solution, solve
from ._validation import (
    check_bounds,
    check_dose_response,
    check_level,
    check_model,
    check_weights,
)

__all__ = [
    "DoseResponseConvergenceWarning",
    "DoseResponseFit",
    "DoseResponseModel",
    "EffectiveDose",
]


class DoseResponseConvergenceWarning(UserWarning):
    """A dose-response fit did not converge or its parameters are not identifiable.

    The estimator keeps the best point it found in ``params_`` but sets ``converged_`` to
    ``False`` and leaves standard errors and intervals as NaN.
    """


@dataclass(frozen=True)
class EffectiveDose:
    """An effective dose ``ED_p`` with its standard error and confidence interval.

    Attributes
    ----------
    percent : float
        ``p`` in (0, 100): the response has moved ``p`` % of the way from ``A`` to ``D``.
    estimate, se, ci_low, ci_high : float
        Dose, in the units of the fitted doses.
    level : float
        Confidence level of the interval.
    method : str
        ``"delta"`` or ``"profile"``.
    """

    percent: float
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    level: float
    method: str


@dataclass(frozen=True)
class DoseResponseFit:
    """Everything a fitted 4PL/5PL reports; numbers are never rounded.

    Attributes
    ----------
    model : str
        ``"4pl"`` or ``"5pl"``.
    params, standard_errors : dict of str to float
        ``A, B, C, D[, E]`` on the natural scale, with asymptotic standard errors.
    ec50 : EffectiveDose
        The dose of half-maximal effect (``C`` for the 4PL).
    residual_se : float
        ``sqrt(SSE_w / dof)``, in response units.
    dof, n_obs : int
        Residual degrees of freedom and number of observations.
    r_squared : float
        ``1 - SSE_w / SST_w``.
    converged : bool
        Whether the optimiser met its tolerance with identifiable parameters.
    message : str
        Why not, when it did not.
    """

    model: str
    params: dict[str, float]
    standard_errors: dict[str, float]
    ec50: EffectiveDose
    residual_se: float
    dof: int
    n_obs: int
    r_squared: float
    converged: bool
    message: str

    def to_frame(self) -> pd.DataFrame:
        """One row per parameter: estimate, standard error, t value."""
        frame = pd.DataFrame({"estimate": self.params, "std_error": self.standard_errors})
        frame["t_value"] = frame["estimate"] / frame["std_error"]
        frame.index.name = "parameter"
        return frame

    def summary(self) -> str:
        """A short human-readable report."""
        head = f"{self.model.upper()} dose-response fit, n = {self.n_obs}, dof = {self.dof}"
        status = "converged" if self.converged else f"NOT CONVERGED: {self.message}"
        e = self.ec50
        return "\n".join(
            [
                head,
                f"status: {status}",
                self.to_frame().to_string(),
                f"residual SE {self.residual_se:.6g}, R^2 {self.r_squared:.6g}",
                f"EC50 {e.estimate:.6g} ({e.level:.0%} CI {e.ci_low:.6g} to {e.ci_high:.6g}, "
                f"{e.method})",
            ]
        )


class DoseResponseModel(BaseEstimator):  # type: ignore[misc]
    """Four- or five-parameter logistic dose-response model.

    ``y = D + (A - D) / (1 + (x / C) ** B) ** E`` with ``E = 1`` for the 4PL (USP <1032>;
    drc ``LL.4``/``LL.5``). Fitted by (weighted) least squares from several data-driven
    starting points; the best converged point is kept.

    Parameters
    ----------
    model : {"4pl", "5pl"}, default "4pl"
    weights : None, "1/y", "1/y^2" or array of shape (n,), optional
        Weights of the squared residuals; strings weight by the observed response.
    bounds : dict of str to (float, float), optional
        Natural-scale limits per parameter name, e.g. ``{"D": (-1.0, 1.0)}``; ``B``, ``C``
        and ``E`` are always kept positive. A fit that ends on a bound is reported as not
        converged, because its standard errors are then not valid.
    ci_level : float, default 0.95
        Confidence level of ``ec50_ci_``.
    ci_method : {"delta", "profile"}, default "delta"
        ``"delta"``: Wald interval on the dose scale with the t distribution on the residual
        degrees of freedom, as drc's ``ED(interval = "delta")``. ``"profile"``: profile
        likelihood (profile-t, Bates & Watts 1988, sec. 6.1), asymmetric and always positive.
    max_iter : int, default 2000
        Function evaluations allowed per starting point.

    Attributes
    ----------
    params_ : dict of str to float
        ``A`` (response at zero dose), ``B`` (slope > 0), ``C`` (inflection dose), ``D``
        (response at infinite dose) and, for the 5PL, ``E`` (asymmetry).
    standard_errors_ : dict of str to float
    covariance_ : ndarray of shape (p, p)
        Asymptotic covariance of ``params_`` (natural scale), NaN when not converged.
    ec50_ : float
        Dose of half-maximal effect, in dose units; ``C`` for the 4PL.
    ec50_se_ : float
    ec50_ci_ : tuple of (float, float)
    residual_se_ : float
    dof_ : int
    r_squared_ : float
    converged_ : bool
    convergence_message_ : str
    fit_result_ : DoseResponseFit

    Examples
    --------
    >>> import numpy as np
    >>> dose = np.repeat([0.1, 0.3, 1, 3, 10, 30], 2)
    >>> y = 1 + (10 - 1) / (1 + (dose / 2.0) ** 1.5)
    >>> m = DoseResponseModel().fit(dose, y)
    >>> round(m.ec50_, 6)
    2.0
    """

    def __init__(
        self,
        model: str = "4pl",
        *,
        weights: object = None,
        bounds: Mapping[str, tuple[float, float]] | None = None,
        ci_level: float = 0.95,
        ci_method: str = "delta",
        max_iter: int = 2000,
    ) -> None:
        self.model = model
        self.weights = weights
        self.bounds = bounds
        self.ci_level = ci_level
        self.ci_method = ci_method
        self.max_iter = max_iter

    def fit(self, dose: object, response: object) -> DoseResponseModel:
        """Fit the curve.

        Parameters
        ----------
        dose : array-like of shape (n,) or (n, 1)
            Concentrations >= 0 (not logarithms); zero is the blank/vehicle control.
        response : array-like of shape (n,)

        Returns
        -------
        self
        """
        owner = "DoseResponseModel"
        model = check_model(self.model, owner)
        check_level(self.ci_level, "ci_level", owner)
        if self.ci_method not in ("delta", "profile"):
            raise ValidationFailed(
                f"The 'ci_method' parameter of {owner} must be 'delta' or 'profile'. "
                f"Got {self.ci_method!r} instead."
            )
        if (
            isinstance(self.max_iter, bool)
            or not isinstance(self.max_iter, int)
            or (self.max_iter < 1)
        ):
            raise ValidationFailed(
                f"The 'max_iter' parameter of {owner} must be a positive int. "
                f"Got {self.max_iter!r} instead."
            )
        names = PARAM_NAMES[model]
        x, y = check_dose_response(dose, response, n_params=len(names), owner=owner)
        w = check_weights(self.weights, y, owner)
        lower, upper = check_bounds(self.bounds, model, owner)
        self._sqrt_w = np.sqrt(w)
        self._dose, self._response = x, y
        solution = fit_curve(x, y, self._sqrt_w, model, lower, upper, self.max_iter)
        self._solution = solution
        self._set_state(model, names, solution, x, y, w)
        if not solution.converged:
            warnings.warn(
                f"The {model.upper()} fit did not converge: {solution.message}. params_ hold "
                "the best point found; standard errors and intervals are NaN. Check that the "
                "doses span both asymptotes, or constrain them with 'bounds'.",
                DoseResponseConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _set_state(
        self,
        model: str,
        names: tuple[str, ...],
        sol: Solution,
        x: FloatArray,
        y: FloatArray,
        w: FloatArray,
    ) -> None:
        params, scale = _models.from_theta(sol.theta)
        cov = sol.covariance * np.outer(scale, scale)
        self.model_ = model
        self.params_ = dict(zip(names, map(float, params), strict=True))
        self.standard_errors_ = dict(zip(names, map(float, np.sqrt(np.diag(cov))), strict=True))
        self.covariance_ = cov
        self.dof_ = sol.dof
        self.residual_se_ = float(np.sqrt(sol.residual_variance))
        y_bar = np.average(y, weights=w)
        ss_total = float(np.sum(w * (y - y_bar) ** 2))
        # Undefined for a flat response (nothing to explain), not a division by zero.
        self.r_squared_ = 1.0 - sol.sse / ss_total if ss_total > 0 else float("nan")
        self.converged_ = sol.converged
        self.convergence_message_ = sol.message
        ec50 = self.effective_dose(50.0)
        self.ec50_, self.ec50_se_ = ec50.estimate, ec50.se
        self.ec50_ci_ = (ec50.ci_low, ec50.ci_high)
        self.fit_result_ = DoseResponseFit(
            model,
            self.params_,
            self.standard_errors_,
            ec50,
            self.residual_se_,
            sol.dof,
            int(x.size),
            self.r_squared_,
            sol.converged,
            sol.message,
        )

    def _check_fitted(self) -> None:
        if not hasattr(self, "fit_result_"):
            raise NotFittedError(
                "This DoseResponseModel instance is not fitted yet. Call 'fit' with doses and "
                "responses before using this method."
            )

    def predict(self, dose: object) -> FloatArray:
        """Fitted response at ``dose`` (array-like of shape (n,) or (n, 1), >= 0)."""
        self._check_fitted()
        x = np.asarray(dose, dtype=float)
        x = x[:, 0] if x.ndim == 2 and x.shape[1] == 1 else x
        if np.any(~np.isfinite(x)) or np.any(x < 0):
            raise ValidationFailed(
                "'dose' of DoseResponseModel.predict must be finite and >= 0. "
                f"Got minimum {np.nanmin(x)!r}."
            )
        return _models.curve(self._solution.theta, x)

    def effective_dose(self, percent: float, *, level: float | None = None) -> EffectiveDose:
        """Dose ``ED_p`` at which the response has moved ``percent`` % from ``A`` to ``D``.

        Parameters
        ----------
        percent : float in (0, 100)
        level : float in (0, 1), optional
            Confidence level; ``ci_level`` when omitted.
        """
        if not hasattr(self, "_solution"):
            self._check_fitted()
        owner = "DoseResponseModel.effective_dose"
        if (
            isinstance(percent, bool)
            or not isinstance(percent, int | float)
            or not (0 < percent < 100)
        ):
            raise ValidationFailed(
                f"The 'percent' parameter of {owner} must be a number in (0, 100). "
                f"Got {percent!r} instead."
            )
        level = check_level(self.ci_level if level is None else level, "level", owner)
        sol = self._solution
        log_ed, grad = _models.log_effective_dose(sol.theta, float(percent))
        estimate = float(np.exp(log_ed))
        # Delta method: SE(ED) = ED * sqrt(g' V g) with g the gradient of log ED on theta.
        se = estimate * float(np.sqrt(grad @ sol.covariance @ grad))
        if self.ci_method == "profile" and sol.converged:
            low, high = profile_interval(
                self._dose, self._response, self._sqrt_w, sol, float(percent), level
            )
            return EffectiveDose(float(percent), estimate, se, low, high, level, "profile")
        t = stats.t.ppf(0.5 + level / 2.0, sol.dof)
        return EffectiveDose(
            float(percent), estimate, se, estimate - t * se, estimate + t * se, level, "delta"
        )

    def summary(self) -> str:
        """Human-readable report of the fit (see :class:`DoseResponseFit`)."""
        self._check_fitted()
        return self.fit_result_.summary()

    def to_frame(self) -> pd.DataFrame:
        """Parameter table (see :meth:`DoseResponseFit.to_frame`)."""
        self._check_fitted()
        return self.fit_result_.to_frame()


def fit_curve(
    x: FloatArray,
    y: FloatArray,
    sqrt_w: FloatArray,
    model: str,
    lower: FloatArray,
    upper: FloatArray,
    max_iter: int,
) -> Solution:
    """Weighted least-squares fit of one curve from the data-driven starting points."""

    def residuals(theta: FloatArray) -> FloatArray:
        return sqrt_w * (_models.curve(theta, x) - y)

    def jacobian(theta: FloatArray) -> FloatArray:
        return sqrt_w[:, None] * _models.jacobian(theta, x)

    starts = _models.start_values(x, y, model)
    return solve(residuals, jacobian, starts, lower=lower, upper=upper, max_iter=max_iter)
