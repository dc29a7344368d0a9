"""Exact power and sample size of the two one-sided tests (TOST).

The TOST rejects both nulls when ``lower + t * SE_hat < d_hat < upper - t * SE_hat`` with
``t = t_{1-alpha, dof}``. With ``d_hat ~ N(theta, se^2)`` independent of
``SE_hat = se * U``, ``U = sqrt(chi2_dof / dof)``, the exact power is

    P = int_0^u_max [Phi((upper - theta)/se - t u) - Phi((lower - theta)/se + t u)] f_U(u) du

with ``u_max = (upper - lower) / (2 t se)``: the difference of Owen's Q functions (Owen 1965,
"A special case of a bivariate non-central t-distribution", Biometrika 52, 437-446; Phillips
1990, J. Pharmacokinet. Biopharm. 18(2), 137-144), evaluated here by Gauss-Legendre quadrature
over the bulk of U. It matches R PowerTOST's ``method = "exact"`` (Owen's Q) to 1e-7. It is
exact for the pooled-variance (equal_var=True) and the paired TOST; for the Welch TOST it is
the usual planning approximation.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from saisei.analytics.comparability._validation import (
    FloatArray,
    check_count,
    check_finite,
    check_positive,
    check_probability,
)
from saisei.errors import ValidationFailed

__all__ = [
    "SampleSizeResult",
    "equivalence_power",
    "paired_tost_power",
    "paired_tost_sample_size",
    "tost_power",
    "tost_sample_size",
]

_METHOD = "exact (Owen's Q by numerical integration)"
_NODES = 96
_TAIL = 1e-15


@dataclass(frozen=True)
class SampleSizeResult:
    """Smallest number of lots reaching a target TOST power, and the power achieved.

    Attributes
    ----------
    n_reference, n_test : int
        Lots per group (both equal the number of pairs for a paired design).
    power : float
        Exact power achieved with these lots, in [0, 1].
    target_power : float
        Power asked for.
    margin : float
        Equivalence margin (unit of the attribute).
    sigma : float
        Assumed standard deviation: of a lot value (parallel) or of a within-pair difference
        (paired), unit of the attribute.
    true_difference : float
        Assumed true mean difference test - reference.
    alpha : float
        Level of each one-sided test.
    design : str
        ``"parallel"`` or ``"paired"``.
    method : str
        How the power was computed.
    """

    n_reference: int
    n_test: int
    power: float
    target_power: float
    margin: float
    sigma: float
    true_difference: float
    alpha: float
    design: str
    method: str

    def to_frame(self) -> pd.DataFrame:
        """Return the result as a one-row DataFrame."""
        return pd.DataFrame([asdict(self)])

    def summary(self) -> str:
        """Return a short human-readable account of the calculation."""
        lots = (
            f"{self.n_test} pairs"
            if self.design == "paired"
            else f"{self.n_reference} reference and {self.n_test} test lots"
        )
        return (
            f"TOST sample size ({self.design}): {lots} give power {self.power:.4f} "
            f"(target {self.target_power:.4g}) for margin +/-{self.margin:.4g}, "
            f"sigma {self.sigma:.4g}, true difference {self.true_difference:.4g}, "
            f"alpha {self.alpha:.4g}; {self.method}."
        )


def equivalence_power(
    *,
    lower: float,
    upper: float,
    true_difference: float,
    std_error: float,
    dof: float,
    alpha: float = 0.05,
) -> float:
    """Exact power of a TOST on an estimate with known true standard error and t dof.

    The building block for any design: parallel groups (``se = sigma sqrt(1/n_R + 1/n_T)``,
    ``dof = n_R + n_T - 2``), paired (``sigma_d / sqrt(n)``, ``n - 1``), 2x2 crossover
    (``sigma_w sqrt(2/n)``, ``n - 2``).

    Parameters
    ----------
    lower, upper : float
        Equivalence limits of the difference, ``lower < upper`` (unit of the attribute).
    true_difference : float
        True mean difference at which power is evaluated.
    std_error : float
        True (population) standard error of the estimated difference, > 0.
    dof : float
        Degrees of freedom of the variance estimate, >= 1.
    alpha : float, default 0.05
        Level of each one-sided test, in (0, 0.5).

    Returns
    -------
    float
        Probability, in [0, 1], of concluding equivalence.

    Examples
    --------
    >>> round(equivalence_power(lower=-1.0, upper=1.0, true_difference=0.0,
    ...                         std_error=0.2, dof=1000.0), 3)
    0.999
    """
    owner = "equivalence_power"
    lower = check_finite(lower, "lower", owner)
    upper = check_finite(upper, "upper", owner)
    if not lower < upper:
        raise ValidationFailed(
            f"The 'lower' parameter of {owner} must be below 'upper'. "
            f"Got lower={lower!r}, upper={upper!r} instead."
        )
    theta = check_finite(true_difference, "true_difference", owner)
    se = check_positive(std_error, "std_error", owner)
    dof = check_finite(dof, "dof", owner)
    if dof < 1.0:
        raise ValidationFailed(
            f"The 'dof' parameter of {owner} must be a float >= 1. Got {dof!r} instead."
        )
    alpha = check_probability(alpha, "alpha", owner, upper=0.5)
    return _power(lower, upper, theta, se, dof, alpha)


def tost_power(
    *,
    margin: float,
    sigma: float,
    n_reference: int,
    n_test: int,
    true_difference: float = 0.0,
    alpha: float = 0.05,
) -> float:
    """Exact power of the TOST comparing two independent groups of lots.

    Parameters
    ----------
    margin : float
        Equivalence margin (> 0); acceptance region (-margin, +margin).
    sigma : float
        Assumed lot-to-lot standard deviation, common to both processes (often sigma_R).
    n_reference, n_test : int
        Lots per group, each >= 2.
    true_difference : float, default 0.0
        Assumed true difference test - reference.
    alpha : float, default 0.05
        Level of each one-sided test.

    Returns
    -------
    float
        Power of the pooled-variance TOST (exact); the Welch TOST has slightly less for very
        small or unbalanced groups.

    Examples
    --------
    >>> round(tost_power(margin=1.5, sigma=1.0, n_reference=10, n_test=10), 3)
    0.886
    """
    owner = "tost_power"
    margin = check_positive(margin, "margin", owner)
    sigma = check_positive(sigma, "sigma", owner)
    n_r = check_count(n_reference, "n_reference", owner, minimum=2)
    n_t = check_count(n_test, "n_test", owner, minimum=2)
    theta = check_finite(true_difference, "true_difference", owner)
    alpha = check_probability(alpha, "alpha", owner, upper=0.5)
    return _parallel_power(margin, sigma, n_r, n_t, theta, alpha)


def paired_tost_power(
    *,
    margin: float,
    sigma_diff: float,
    n_pairs: int,
    true_difference: float = 0.0,
    alpha: float = 0.05,
) -> float:
    """Exact power of the paired (split-source) TOST.

    Parameters
    ----------
    margin : float
        Equivalence margin (> 0).
    sigma_diff : float
        Assumed SD of a within-pair difference test - reference (> 0). With between-donor SD
        tau and process SD sigma on each arm, ``sigma_diff = sigma * sqrt(2)``: donor variation
        cancels.
    n_pairs : int
        Split starting materials, >= 2.
    true_difference : float, default 0.0
        Assumed true mean difference.
    alpha : float, default 0.05
        Level of each one-sided test.

    Returns
    -------
    float
        Power, in [0, 1].
    """
    owner = "paired_tost_power"
    margin = check_positive(margin, "margin", owner)
    sigma = check_positive(sigma_diff, "sigma_diff", owner)
    n = check_count(n_pairs, "n_pairs", owner, minimum=2)
    theta = check_finite(true_difference, "true_difference", owner)
    alpha = check_probability(alpha, "alpha", owner, upper=0.5)
    return _power(-margin, margin, theta, sigma / math.sqrt(n), float(n - 1), alpha)


def tost_sample_size(
    *,
    margin: float,
    sigma: float,
    true_difference: float = 0.0,
    target_power: float = 0.8,
    alpha: float = 0.05,
    n_reference: int | None = None,
    max_lots: int = 1000,
) -> SampleSizeResult:
    """Smallest number of lots giving at least ``target_power`` for a two-group TOST.

    Parameters
    ----------
    margin : float
        Equivalence margin (> 0).
    sigma : float
        Assumed lot-to-lot SD common to both processes (> 0), e.g. sigma_R.
    true_difference : float, default 0.0
        Assumed true difference test - reference; ``|true_difference| < margin``.
    target_power : float, default 0.8
        Power required, in (0, 1).
    alpha : float, default 0.05
        Level of each one-sided test.
    n_reference : int, optional
        When given (historical lots already made), only the number of test lots is searched;
        otherwise equal group sizes are searched.
    max_lots : int, default 1000
        Largest group size tried.

    Returns
    -------
    SampleSizeResult

    Raises
    ------
    ValidationFailed
        When the target cannot be reached within ``max_lots`` (for example because the fixed
        reference group alone is too small), or ``|true_difference| >= margin``.

    Examples
    --------
    >>> res = tost_sample_size(margin=1.5, sigma=1.0, target_power=0.8)
    >>> (res.n_reference, res.n_test)
    (9, 9)
    """
    owner = "tost_sample_size"
    margin, sigma, theta, target, alpha = _check_plan_inputs(
        owner, margin, sigma, "sigma", true_difference, target_power, alpha
    )
    max_lots = check_count(max_lots, "max_lots", owner, minimum=2)
    if n_reference is None:
        start = _normal_start(margin, sigma, theta, target, alpha, per_group_factor=2.0)
        n = _search(
            lambda m: _parallel_power(margin, sigma, m, m, theta, alpha),
            target,
            start,
            max_lots,
            owner,
        )
        n_r = n_t = n
    else:
        n_r = check_count(n_reference, "n_reference", owner, minimum=2)
        n_t = _search(
            lambda m: _parallel_power(margin, sigma, n_r, m, theta, alpha),
            target,
            2,
            max_lots,
            owner,
        )
    return SampleSizeResult(
        n_reference=n_r,
        n_test=n_t,
        power=_parallel_power(margin, sigma, n_r, n_t, theta, alpha),
        target_power=target,
        margin=margin,
        sigma=sigma,
        true_difference=theta,
        alpha=alpha,
        design="parallel",
        method=_METHOD,
    )


def paired_tost_sample_size(
    *,
    margin: float,
    sigma_diff: float,
    true_difference: float = 0.0,
    target_power: float = 0.8,
    alpha: float = 0.05,
    max_pairs: int = 1000,
) -> SampleSizeResult:
    """Smallest number of split starting materials giving ``target_power`` for a paired TOST.

    Parameters
    ----------
    margin : float
        Equivalence margin (> 0).
    sigma_diff : float
        Assumed SD of a within-pair difference (> 0).
    true_difference : float, default 0.0
        Assumed true mean difference, ``|true_difference| < margin``.
    target_power : float, default 0.8
        Power required, in (0, 1).
    alpha : float, default 0.05
        Level of each one-sided test.
    max_pairs : int, default 1000
        Largest number of pairs tried.

    Returns
    -------
    SampleSizeResult
        ``n_reference == n_test == n_pairs``.
    """
    owner = "paired_tost_sample_size"
    margin, sigma, theta, target, alpha = _check_plan_inputs(
        owner, margin, sigma_diff, "sigma_diff", true_difference, target_power, alpha
    )
    max_pairs = check_count(max_pairs, "max_pairs", owner, minimum=2)

    def power_at(n: int) -> float:
        return _power(-margin, margin, theta, sigma / math.sqrt(n), float(n - 1), alpha)

    start = _normal_start(margin, sigma, theta, target, alpha, per_group_factor=1.0)
    n = _search(power_at, target, start, max_pairs, owner)
    return SampleSizeResult(
        n_reference=n,
        n_test=n,
        power=power_at(n),
        target_power=target,
        margin=margin,
        sigma=sigma,
        true_difference=theta,
        alpha=alpha,
        design="paired",
        method=_METHOD,
    )


def _check_plan_inputs(
    owner: str,
    margin: object,
    sigma: object,
    sigma_name: str,
    true_difference: object,
    target_power: object,
    alpha: object,
) -> tuple[float, float, float, float, float]:
    """Validate the inputs shared by the sample-size functions."""
    margin_f = check_positive(margin, "margin", owner)
    sigma_f = check_positive(sigma, sigma_name, owner)
    theta = check_finite(true_difference, "true_difference", owner)
    target = check_probability(target_power, "target_power", owner)
    alpha_f = check_probability(alpha, "alpha", owner, upper=0.5)
    if abs(theta) >= margin_f:
        raise ValidationFailed(
            f"The 'true_difference' parameter of {owner} must lie inside (-margin, +margin) = "
            f"({-margin_f!r}, {margin_f!r}): outside it equivalence can be concluded at most "
            f"with probability alpha. Got {theta!r} instead."
        )
    return margin_f, sigma_f, theta, target, alpha_f


def _parallel_power(
    margin: float, sigma: float, n_r: int, n_t: int, theta: float, alpha: float
) -> float:
    se = sigma * math.sqrt(1.0 / n_r + 1.0 / n_t)
    return _power(-margin, margin, theta, se, float(n_r + n_t - 2), alpha)


def _power(lower: float, upper: float, theta: float, se: float, dof: float, alpha: float) -> float:
    """Exact TOST power (Owen 1965; Phillips 1990) by Gauss-Legendre quadrature over U."""
    t_crit = float(special.stdtrit(dof, 1.0 - alpha))
    # U = SE_hat / se = sqrt(X / dof) with X ~ chi2(dof); its quantiles from those of X.
    half_dof = 0.5 * dof
    u_low = math.sqrt(2.0 * float(special.gammaincinv(half_dof, _TAIL)) / dof)
    u_high = math.sqrt(2.0 * float(special.gammainccinv(half_dof, _TAIL)) / dof)
    # Beyond u_max the interval is wider than the acceptance region: no rejection possible.
    u_high = min(u_high, (upper - lower) / (2.0 * t_crit * se))
    if u_high <= u_low:
        return 0.0
    # Between its 1e-15 and 1 - 1e-15 quantiles the density of U is smooth and the interval
    # spans a few of its SDs for any dof >= 1, so a fixed 96-point rule reaches ~1e-10.
    nodes, weights = _legendre()
    half = 0.5 * (u_high - u_low)
    u = half * nodes + (u_low + half)
    inside = special.ndtr((upper - theta) / se - t_crit * u) - special.ndtr(
        (lower - theta) / se + t_crit * u
    )
    # Density of U: f_X(dof u^2) * 2 dof u, with f_X the chi-square density (log scale).
    x = dof * u * u
    log_density = (
        special.xlogy(half_dof - 1.0, x)
        - 0.5 * x
        - half_dof * math.log(2.0)
        - special.gammaln(half_dof)
        + np.log(2.0 * dof * u)
    )
    value = half * float(np.sum(weights * inside * np.exp(log_density)))
    return min(1.0, max(0.0, value))


@functools.cache
def _legendre() -> tuple[FloatArray, FloatArray]:
    nodes, weights = special.roots_legendre(_NODES)
    return np.asarray(nodes, dtype=np.float64), np.asarray(weights, dtype=np.float64)


def _normal_start(
    margin: float, sigma: float, theta: float, target: float, alpha: float, per_group_factor: float
) -> int:
    """Large-sample start (normal approximation; Chow, Shao & Wang 2008, ch. 3.2)."""
    z_a = float(stats.norm.ppf(1.0 - alpha))
    z_b = float(stats.norm.ppf(1.0 - (1.0 - target) / 2.0 if theta == 0.0 else target))
    n = per_group_factor * (sigma * (z_a + z_b) / (margin - abs(theta))) ** 2
    return max(2, math.ceil(n))


def _search(
    power_at: Callable[[int], float], target: float, start: int, max_n: int, owner: str
) -> int:
    """Smallest n in [2, max_n] with power_at(n) >= target; power is increasing in n."""
    n = min(max(2, start), max_n)
    if power_at(n) >= target:
        while n > 2 and power_at(n - 1) >= target:
            n -= 1
        return n
    while n < max_n:
        n += 1
        if power_at(n) >= target:
            return n
    raise ValidationFailed(
        f"The 'target_power' of {owner} cannot be reached with at most {max_n} lots per group: "
        f"power at {max_n} is {power_at(max_n):.4f}. Lower the target, widen the margin, or "
        "raise the limit (with a fixed reference group the power is bounded by its size)."
    )
