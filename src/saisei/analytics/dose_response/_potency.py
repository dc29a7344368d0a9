"""Relative potency from the constrained (parallel) logistic model, USP <1032>/<1034>.

Test and reference share ``A``, ``B``, ``D`` (and ``E`` for the 5PL) and differ only in ``C``;
``RP = C_ref / C_test`` (> 1: the test is more potent). Its interval is a Wald interval on
``log RP`` with the t distribution on the residual degrees of freedom of the constrained fit,
back-transformed, so it is always positive and asymmetric (Finney 1978, ch. 4; USP <1034>).

Parallelism is judged by equivalence, not by a p-value (USP <1032> sec. 4.5; Hauck et al.
2005, PDA J Pharm Sci Technol 59: 127-137): from separate fits with a pooled residual variance,
the 90 % intervals of the slope ratio ``B_test / B_ref`` and of the asymptote differences
``A_test - A_ref`` and ``D_test - D_ref`` (as fractions of the reference span ``|A_ref - D_ref|``)
must lie inside the equivalence limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from saisei.errors import ValidationFailed

from . import _models
from ._fit import fit_curve
from ._models import PARAM_NAMES, FloatArray
from ._solver import Solution, solve
from ._validation import check_dose_response, check_level, check_model

__all__ = [
    "AssayCheck",
    "ParallelismLimits",
    "RelativePotencyResult",
    "SuitabilityCriteria",
    "relative_potency",
]


@dataclass(frozen=True)
class ParallelismLimits:
    """Equivalence limits for parallelism; set them from historical assay data (USP <1032>).

    Attributes
    ----------
    slope_ratio : (float, float), default (0.80, 1.25)
        Limits of ``B_test / B_ref``.
    asymptote_difference : (float, float), default (-0.20, 0.20)
        Limits of ``(A_test - A_ref) / |A_ref - D_ref|`` and of the same for ``D``.
    level : float, default 0.90
        Two-sided confidence level of the intervals compared with the limits (two one-sided
        tests at 5 % each, Schuirmann 1987).
    """

    slope_ratio: tuple[float, float] = (0.80, 1.25)
    asymptote_difference: tuple[float, float] = (-0.20, 0.20)
    level: float = 0.90


@dataclass(frozen=True)
class SuitabilityCriteria:
    """System (reference) and sample (test) suitability criteria.

    Attributes
    ----------
    min_r_squared : float, default 0.95
        Each separate curve must explain this share of the variance.
    min_span_to_noise : float, default 5.0
        ``|A - D| / residual SE`` of each curve: the response window stands out of the noise.
    ec50_in_dose_range : bool, default True
        Each EC50 must lie between the lowest positive and the highest dose tested, so that
        potency is interpolated, not extrapolated.
    """

    min_r_squared: float = 0.95
    min_span_to_noise: float = 5.0
    ec50_in_dose_range: bool = True


@dataclass(frozen=True)
class AssayCheck:
    """One parallelism or suitability check: a value (with interval) against limits."""

    name: str
    value: float
    ci_low: float
    ci_high: float
    limit_low: float
    limit_high: float
    passed: bool


@dataclass(frozen=True)
class RelativePotencyResult:
    """Relative potency with its interval, parallelism and suitability.

    Attributes
    ----------
    relative_potency, ci_low, ci_high : float
        ``C_ref / C_test`` from the constrained model and its interval.
    level : float
    log_se : float
        Standard error of ``log RP`` (natural log).
    dof : int
        Residual degrees of freedom of the constrained fit.
    model : str
    params : dict of str to float
        Constrained fit: shared ``A, B, D[, E]`` and ``C_ref``, ``C_test``.
    converged : bool
    message : str
    parallel : bool
        All parallelism checks passed.
    parallelism, system_suitability, sample_suitability : tuple of AssayCheck
    method : str
    """

    relative_potency: float
    ci_low: float
    ci_high: float
    level: float
    log_se: float
    dof: int
    model: str
    params: dict[str, float]
    converged: bool
    message: str
    parallel: bool
    parallelism: tuple[AssayCheck, ...]
    system_suitability: tuple[AssayCheck, ...]
    sample_suitability: tuple[AssayCheck, ...]
    method: str = field(default="constrained parallel-line logistic model, Wald CI on log RP")

    @property
    def system_suitable(self) -> bool:
        """All reference-standard checks passed."""
        return all(c.passed for c in self.system_suitability)

    @property
    def sample_suitable(self) -> bool:
        """All test-sample checks (including parallelism) passed."""
        return all(c.passed for c in self.sample_suitability)

    @property
    def reportable(self) -> bool:
        """The potency may be reported: converged, system and sample suitable."""
        return self.converged and self.system_suitable and self.sample_suitable

    def to_frame(self) -> pd.DataFrame:
        """One row per check, grouped, followed by the relative potency itself."""
        rows = [
            {"group": group, **vars(check)}
            for group, checks in (
                ("parallelism", self.parallelism),
                ("system_suitability", self.system_suitability),
                ("sample_suitability", self.sample_suitability),
            )
            for check in checks
        ]
        rows.append(
            {
                "group": "potency",
                "name": "relative_potency",
                "value": self.relative_potency,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
                "limit_low": np.nan,
                "limit_high": np.nan,
                "passed": self.reportable,
            }
        )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """A short human-readable report."""
        verdict = "reportable" if self.reportable else "NOT reportable"
        lines = [
            f"Relative potency ({self.model.upper()}, constrained model): "
            f"{self.relative_potency:.6g} ({self.level:.0%} CI {self.ci_low:.6g} to "
            f"{self.ci_high:.6g}), {verdict}",
            f"parallel: {self.parallel}; system suitable: {self.system_suitable}; "
            f"sample suitable: {self.sample_suitable}",
        ]
        if not self.converged:
            lines.append(f"constrained fit NOT CONVERGED: {self.message}")
        lines.append(self.to_frame().to_string(index=False))
        return "\n".join(lines)


def relative_potency(
    dose_ref: object,
    resp_ref: object,
    dose_test: object,
    resp_test: object,
    *,
    model: str = "4pl",
    parallelism_limits: ParallelismLimits | None = None,
    suitability: SuitabilityCriteria | None = None,
    level: float = 0.95,
    max_iter: int = 2000,
) -> RelativePotencyResult:
    """Potency of a test sample relative to a reference standard.

    Parameters
    ----------
    dose_ref, resp_ref, dose_test, resp_test : array-like of shape (n_ref,), (n_test,)
        Doses (>= 0, same units for both, e.g. dilution-corrected concentration) and responses.
    model : {"4pl", "5pl"}, default "4pl"
    parallelism_limits : ParallelismLimits, optional
    suitability : SuitabilityCriteria, optional
    level : float, default 0.95
        Confidence level of the relative-potency interval.
    max_iter : int, default 2000
        Function evaluations per starting point.

    Returns
    -------
    RelativePotencyResult
        Never raises for a fit that fails to converge: ``converged`` is False, the checks say
        which fit failed and ``reportable`` is False.

    Examples
    --------
    >>> import numpy as np
    >>> dose = np.repeat([0.1, 0.3, 1, 3, 10, 30], 2)
    >>> curve = lambda x, c: 0.5 + (10 - 0.5) / (1 + (x / c) ** 1.2)
    >>> res = relative_potency(dose, curve(dose, 2.0), dose, curve(dose, 1.0))
    >>> round(res.relative_potency, 6)
    2.0
    """
    owner = "relative_potency"
    model = check_model(model, owner)
    level = check_level(level, "level", owner)
    limits = parallelism_limits or ParallelismLimits()
    criteria = suitability or SuitabilityCriteria()
    if not isinstance(limits, ParallelismLimits) or not isinstance(criteria, SuitabilityCriteria):
        raise ValidationFailed(
            "The 'parallelism_limits' and 'suitability' parameters of relative_potency must be "
            "ParallelismLimits and SuitabilityCriteria instances. "
            f"Got {type(limits).__name__} and {type(criteria).__name__} instead."
        )
    check_level(limits.level, "parallelism_limits.level", owner)
    p = len(PARAM_NAMES[model])
    x_r, y_r = check_dose_response(dose_ref, resp_ref, n_params=p, owner=owner, label="ref ")
    x_t, y_t = check_dose_response(dose_test, resp_test, n_params=p, owner=owner, label="test ")
    lower = np.full(p, -np.inf)
    lower[1] = 0.0
    upper = np.full(p, np.inf)
    ref = fit_curve(x_r, y_r, np.ones_like(y_r), model, lower, upper, max_iter)
    test = fit_curve(x_t, y_t, np.ones_like(y_t), model, lower, upper, max_iter)
    parallelism = _parallelism(ref, test, limits)
    parallel = ref.converged and test.converged and all(c.passed for c in parallelism)
    joint = _fit_constrained(x_r, y_r, x_t, y_t, model, ref, test, max_iter)
    log_rp = joint.theta[3] - joint.theta[4]
    contrast = np.zeros(joint.theta.size)
    contrast[3], contrast[4] = 1.0, -1.0
    log_se = float(np.sqrt(contrast @ joint.covariance @ contrast))
    t = stats.t.ppf(0.5 + level / 2.0, joint.dof)
    params = _constrained_params(joint.theta, model)
    system = _curve_checks("reference", ref, x_r, y_r, criteria)
    sample = _curve_checks("test", test, x_t, y_t, criteria)
    sample += (AssayCheck("parallel", float(parallel), np.nan, np.nan, 1.0, 1.0, parallel),)
    return RelativePotencyResult(
        float(np.exp(log_rp)),
        float(np.exp(log_rp - t * log_se)),
        float(np.exp(log_rp + t * log_se)),
        level,
        log_se,
        joint.dof,
        model,
        params,
        joint.converged,
        joint.message,
        parallel,
        parallelism,
        system,
        sample,
    )


def _pooled_covariance(ref: Solution, test: Solution) -> tuple[FloatArray, FloatArray, int]:
    # Separate fits with one pooled residual variance = the unconstrained joint model.
    dof = ref.dof + test.dof
    pooled = (ref.sse + test.sse) / dof

    def rescale(sol: Solution) -> FloatArray:
        own = sol.residual_variance
        return sol.covariance * (pooled / own) if own > 0 else sol.covariance

    return rescale(ref), rescale(test), dof


def _parallelism(
    ref: Solution, test: Solution, limits: ParallelismLimits
) -> tuple[AssayCheck, ...]:
    cov_r, cov_t, dof = _pooled_covariance(ref, test)
    t = stats.t.ppf(0.5 + limits.level / 2.0, dof)
    b_r, b_t = ref.theta[1], test.theta[1]
    log_ratio = np.log(b_t / b_r)
    se = np.sqrt(cov_r[1, 1] / b_r**2 + cov_t[1, 1] / b_t**2)
    low, high = limits.slope_ratio
    checks = [
        _interval_check(
            "slope_ratio",
            np.exp(log_ratio),
            np.exp(log_ratio - t * se),
            np.exp(log_ratio + t * se),
            low,
            high,
        )
    ]
    span = abs(ref.theta[0] - ref.theta[3])
    low, high = limits.asymptote_difference
    for name, i in (("A_difference", 0), ("D_difference", 3)):
        diff = (test.theta[i] - ref.theta[i]) / span
        se = np.sqrt(cov_r[i, i] + cov_t[i, i]) / span
        checks.append(_interval_check(name, diff, diff - t * se, diff + t * se, low, high))
    return tuple(checks)


def _interval_check(
    name: str, value: float, ci_low: float, ci_high: float, low: float, high: float
) -> AssayCheck:
    passed = bool(
        np.isfinite(ci_low) and np.isfinite(ci_high) and low <= ci_low and ci_high <= high
    )
    return AssayCheck(name, float(value), float(ci_low), float(ci_high), low, high, passed)


def _curve_checks(
    label: str, sol: Solution, x: FloatArray, y: FloatArray, criteria: SuitabilityCriteria
) -> tuple[AssayCheck, ...]:
    nan = np.nan
    ss_total = float(np.sum((y - y.mean()) ** 2))
    # A flat response has no variance to explain: R^2 is undefined and the check fails.
    r_squared = 1.0 - sol.sse / ss_total if ss_total > 0 else nan
    noise = np.sqrt(sol.residual_variance)
    span = abs(sol.theta[0] - sol.theta[3])
    span_to_noise = span / noise if noise > 0 else np.inf
    ec50 = float(np.exp(_models.log_effective_dose(sol.theta, 50.0)[0]))
    low_dose, high_dose = float(x[x > 0].min()), float(x.max())
    checks = [
        AssayCheck(
            f"{label}_fit_converged", float(sol.converged), nan, nan, 1.0, 1.0, sol.converged
        ),
        AssayCheck(
            f"{label}_r_squared",
            r_squared,
            nan,
            nan,
            criteria.min_r_squared,
            1.0,
            bool(r_squared >= criteria.min_r_squared),
        ),
        AssayCheck(
            f"{label}_span_to_noise",
            float(span_to_noise),
            nan,
            nan,
            criteria.min_span_to_noise,
            np.inf,
            bool(span_to_noise >= criteria.min_span_to_noise),
        ),
    ]
    if criteria.ec50_in_dose_range:
        checks.append(
            AssayCheck(
                f"{label}_ec50_in_dose_range",
                ec50,
                nan,
                nan,
                low_dose,
                high_dose,
                bool(low_dose <= ec50 <= high_dose),
            )
        )
    return tuple(checks)


def _fit_constrained(
    x_r: FloatArray,
    y_r: FloatArray,
    x_t: FloatArray,
    y_t: FloatArray,
    model: str,
    ref: Solution,
    test: Solution,
    max_iter: int,
) -> Solution:
    """Joint fit with shared ``A, B, D[, E]``.

    ``theta = (A, B, D, log C_ref, log C_test[, log E])``.
    """
    y = np.concatenate([y_r, y_t])
    is_ref = np.concatenate([np.ones(x_r.size, bool), np.zeros(x_t.size, bool)])

    def curve_theta(theta: FloatArray, log_c: float) -> FloatArray:
        return np.array([theta[0], theta[1], log_c, theta[2], *theta[5:]])

    def residuals(theta: FloatArray) -> FloatArray:
        out = np.empty_like(y)
        out[is_ref] = _models.curve(curve_theta(theta, theta[3]), x_r)
        out[~is_ref] = _models.curve(curve_theta(theta, theta[4]), x_t)
        return np.asarray(out - y, dtype=np.float64)

    # Columns of the shared parameters in the joint theta and in one curve's theta.
    shared_joint = np.array([0, 1, 2] + ([5] if model == "5pl" else []))
    shared_curve = np.array([0, 1, 3] + ([4] if model == "5pl" else []))

    def jacobian(theta: FloatArray) -> FloatArray:
        jac = np.zeros((y.size, theta.size))
        for mask, xs, k in ((is_ref, x_r, 3), (~is_ref, x_t, 4)):
            j = _models.jacobian(curve_theta(theta, theta[k]), xs)
            jac[np.ix_(mask, shared_joint)] = j[:, shared_curve]
            jac[mask, k] = j[:, 2]
        return jac

    starts = []
    for base in (ref.theta, test.theta):
        starts.append(np.array([base[0], base[1], base[3], ref.theta[2], test.theta[2], *base[4:]]))
    lower = np.full(5 + (model == "5pl"), -np.inf)
    lower[1] = 0.0
    return solve(
        residuals,
        jacobian,
        starts,
        lower=lower,
        upper=np.full_like(lower, np.inf),
        max_iter=max_iter,
    )


def _constrained_params(theta: FloatArray, model: str) -> dict[str, float]:
    params = {
        "A": float(theta[0]),
        "B": float(theta[1]),
        "D": float(theta[2]),
        "C_ref": float(np.exp(theta[3])),
        "C_test": float(np.exp(theta[4])),
    }
    if model == "5pl":
        params["E"] = float(np.exp(theta[5]))
    return params
