"""Power of the TOST when its margin is k x SD of the same reference lots.

In a comparability study the tier 1 margin is usually ``k * s_R`` computed from the very
reference lots that enter the test, so the margin is random and correlated with the standard
error. The fixed-margin power (:func:`tost_power`) then overstates the chance of passing: for
10 + 10 lots, k = 1.5 and no true difference it gives 0.886 where the Welch procedure passes
about 81 % of the time. Conditioning on both sample SDs,

    P = E[ Phi((k s_R - q se - theta) / tau) - Phi((-k s_R + q se - theta) / tau) ]^+

with ``tau = sqrt(sigma_R^2 / n_R + sigma_T^2 / n_T)``, ``se`` and ``q = t_{1-alpha, dof}`` the
(Welch or pooled) standard error and quantile, and the expectation over the two independent
scaled chi distributions of ``s_R`` and ``s_T``: a two-dimensional Gauss-Legendre rule over the
bulk (1e-15 to 1 - 1e-15 quantiles) of each, accurate to about 1e-5. The same conditioning on
the sample variance gives the exact fixed-margin power (Phillips 1990).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import special

from saisei.analytics.comparability._validation import (
    FloatArray,
    check_count,
    check_finite,
    check_positive,
    check_probability,
)

__all__ = ["tost_power_estimated_margin"]

_NODES = 96
_TAIL = 1e-15


def tost_power_estimated_margin(
    *,
    n_reference: int,
    n_test: int,
    k: float = 1.5,
    effect_size: float = 0.0,
    sd_ratio: float = 1.0,
    alpha: float = 0.05,
    equal_var: bool = False,
) -> float:
    """Probability that a TOST with margin ``k * SD(reference lots)`` concludes equivalence.

    Parameters
    ----------
    n_reference, n_test : int
        Lots per group, each >= 2.
    k : float, default 1.5
        Margin multiplier of the reference sample SD (as in :func:`equivalence_margin`).
    effect_size : float, default 0.0
        True difference of means test - reference in units of sigma_R (dimensionless).
    sd_ratio : float, default 1.0
        sigma_T / sigma_R, the true SD of post-change lots relative to pre-change lots.
    alpha : float, default 0.05
        Level of each one-sided test.
    equal_var : bool, default False
        Pooled-variance TOST (True) or Welch (False), as in :func:`tost`.

    Returns
    -------
    float
        Probability in [0, 1]. Exactly 0 for designs that can never pass: with the Welch test,
        3 + 3 lots and k = 1.5 the interval half-width always exceeds the margin.

    Examples
    --------
    >>> round(tost_power_estimated_margin(n_reference=10, n_test=10), 3)
    0.812
    """
    owner = "tost_power_estimated_margin"
    n_r = check_count(n_reference, "n_reference", owner, minimum=2)
    n_t = check_count(n_test, "n_test", owner, minimum=2)
    k = check_positive(k, "k", owner)
    theta = check_finite(effect_size, "effect_size", owner)
    rho = check_positive(sd_ratio, "sd_ratio", owner)
    alpha = check_probability(alpha, "alpha", owner, upper=0.5)
    return _estimated_margin_power(n_r, n_t, k, theta, rho, alpha, bool(equal_var))


@functools.lru_cache(maxsize=1024)
def _estimated_margin_power(
    n_r: int, n_t: int, k: float, theta: float, rho: float, alpha: float, equal_var: bool
) -> float:
    """The double integral of the module docstring (cached: studies repeat the same design)."""
    u_r, w_r = _chi_rule(n_r - 1)
    u_t, w_t = _chi_rule(n_t - 1)
    s_r = u_r[:, None]  # sample SDs in units of sigma_R
    s_t = rho * u_t[None, :]
    if equal_var:
        dof: float | FloatArray = float(n_r + n_t - 2)
        pooled = ((n_r - 1) * s_r**2 + (n_t - 1) * s_t**2) / dof
        se = np.sqrt(pooled * (1.0 / n_r + 1.0 / n_t))
    else:
        a, b = s_r**2 / n_r, s_t**2 / n_t
        se = np.sqrt(a + b)
        dof = (a + b) ** 2 / (a**2 / (n_r - 1) + b**2 / (n_t - 1))
    half_width = special.stdtrit(dof, 1.0 - alpha) * se
    tau = math.sqrt(1.0 / n_r + rho**2 / n_t)
    margin = k * s_r
    inside = special.ndtr((margin - half_width - theta) / tau) - special.ndtr(
        (half_width - margin - theta) / tau
    )
    value = float(np.sum(w_r[:, None] * w_t[None, :] * np.maximum(inside, 0.0)))
    return min(1.0, max(0.0, value))


@functools.cache
def _chi_rule(dof: int) -> tuple[FloatArray, FloatArray]:
    """Gauss-Legendre nodes and density-weighted weights for U = sqrt(chi2_dof / dof)."""
    half_dof = 0.5 * dof
    low = math.sqrt(2.0 * float(special.gammaincinv(half_dof, _TAIL)) / dof)
    high = math.sqrt(2.0 * float(special.gammainccinv(half_dof, _TAIL)) / dof)
    nodes, weights = special.roots_legendre(_NODES)
    half = 0.5 * (high - low)
    u = half * np.asarray(nodes, dtype=np.float64) + (low + half)
    x = dof * u * u
    log_density = (
        special.xlogy(half_dof - 1.0, x)
        - 0.5 * x
        - half_dof * math.log(2.0)
        - special.gammaln(half_dof)
        + np.log(2.0 * dof * u)
    )
    return u, half * np.asarray(weights, dtype=np.float64) * np.exp(log_density)
