"""Control limits for Hotelling's T2, the squared prediction error (SPE) and DModX.

All functions are closed forms over scipy.stats distributions; ``alpha`` is the false-alarm
probability per observation (0.01 gives 99 % limits).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

T2_PHASES = ("II", "I")
SPE_METHODS = ("jackson-mudholkar", "box", "box-moments")


def t2_limit(n_components: int, n_samples: int, alpha: float, phase: str = "II") -> float:
    """Upper control limit of Hotelling's T2 for scores estimated from ``n_samples`` rows.

    Phase II (a new observation, independent of the training set):
    ``A (n^2 - 1) / (n (n - A)) F(1 - alpha; A, n - A)``.
    Phase I (an observation that was part of the training set):
    ``(n - 1)^2 / n * Beta(1 - alpha; A / 2, (n - A - 1) / 2)``.
    Both from Tracy, Young & Mason (1992), "Multivariate control charts for individual
    observations", J. Quality Technology 24(2), 88-95.

    Returns ``inf`` when ``n`` is too small for the distribution to exist.
    """
    a, n = int(n_components), int(n_samples)
    if phase == "II":
        if n - a < 1:
            return float("inf")
        return float(a * (n * n - 1) / (n * (n - a)) * stats.f.ppf(1 - alpha, a, n - a))
    if n - a - 1 <= 0:
        return float("inf")
    return float((n - 1) ** 2 / n * stats.beta.ppf(1 - alpha, a / 2, (n - a - 1) / 2))


def spe_limit_from_eigenvalues(
    residual_eigenvalues: np.ndarray, alpha: float, method: str = "jackson-mudholkar"
) -> float:
    """SPE (Q) limit from the eigenvalues of the covariance left out of the model.

    ``theta_i = sum(lambda_j ** i)`` over the discarded eigenvalues.

    - ``"jackson-mudholkar"``: Jackson & Mudholkar (1979), "Control procedures for residuals
      associated with principal component analysis", Technometrics 21(3), 341-349:
      ``theta1 * (z sqrt(2 theta2 h0^2) / theta1 + 1 + theta2 h0 (h0 - 1) / theta1^2)^(1/h0)``
      with ``h0 = 1 - 2 theta1 theta3 / (3 theta2^2)`` and ``z`` the standard normal
      ``1 - alpha`` quantile.
    - ``"box"``: Box (1954), "Some theorems on quadratic forms applied in the study of analysis
      of variance problems", Ann. Math. Statist. 25, 290-302: ``g chi2(1 - alpha; h)`` with
      ``g = theta2 / theta1`` and ``h = theta1^2 / theta2``.
    """
    lam = np.clip(np.asarray(residual_eigenvalues, dtype=float), 0.0, None)
    theta1, theta2, theta3 = (float(np.sum(lam**i)) for i in (1, 2, 3))
    if theta1 <= 0.0 or theta2 <= 0.0:
        return 0.0
    if method == "jackson-mudholkar":
        h0 = 1.0 - 2.0 * theta1 * theta3 / (3.0 * theta2**2)
        if h0 > 0:
            z = stats.norm.ppf(1 - alpha)
            base = (
                z * np.sqrt(2.0 * theta2 * h0**2) / theta1
                + 1.0
                + theta2 * h0 * (h0 - 1.0) / theta1**2
            )
            if base > 0:
                return float(theta1 * base ** (1.0 / h0))
        # h0 <= 0 happens only for pathological spectra; Box's form is defined there.
    g = theta2 / theta1
    h = theta1**2 / theta2
    return float(g * stats.chi2.ppf(1 - alpha, h))


def spe_limit_from_moments(spe_values: np.ndarray, alpha: float) -> float:
    """SPE limit from the mean and variance of reference SPE values (scaled chi-square).

    ``g chi2(1 - alpha; h)`` with ``g = v / (2 m)`` and ``h = 2 m^2 / v``, where ``m`` and ``v``
    are the mean and variance (ddof=1) of the reference SPE values. Nomikos & MacGregor (1995),
    "Multivariate SPC charts for monitoring batch processes", Technometrics 37(1), 41-59,
    after Box (1954).
    """
    values = np.asarray(spe_values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return float("inf")
    m = float(values.mean())
    v = float(values.var(ddof=1))
    if m <= 0.0:
        return 0.0
    if v <= 0.0:
        return m
    return float(v / (2 * m) * stats.chi2.ppf(1 - alpha, 2 * m * m / v))


def spe_limit_from_mean_var(n: float, mean: float, m2: float, alpha: float) -> float:
    """:func:`spe_limit_from_moments` from the count, mean and centred sum of squares.

    The same scaled chi-square (Nomikos & MacGregor 1995) for reference SPE values known only
    by their summary: ``v = m2 / (n - 1)``; ``inf`` for fewer than 2 values.
    """
    if n < 2:
        return float("inf")
    v = m2 / (n - 1)
    if mean <= 0.0:
        return 0.0
    if v <= 0.0:
        return float(mean)
    return float(v / (2 * mean) * stats.chi2.ppf(1 - alpha, 2 * mean * mean / v))


def dmodx_limit(
    n_components: int, n_samples: int, n_features: int, alpha: float, centred: bool = True
) -> float:
    """Critical value of normalised DModX, as SIMCA computes it.

    ``sqrt(F(1 - alpha; K - A, (N - A - A0)(K - A)))`` with ``A0 = 1`` for centred data
    (Eriksson, Byrne, Johansson, Trygg & Vikstrom, "Multi- and Megavariate Data Analysis",
    3rd ed., Umetrics 2013, appendix on statistics: "Distance to the model").
    """
    a0 = 1 if centred else 0
    df1 = n_features - n_components
    df2 = (n_samples - n_components - a0) * df1
    if df1 <= 0 or df2 <= 0:
        return float("inf")
    return float(np.sqrt(stats.f.ppf(1 - alpha, df1, df2)))


def dmodx_s0(
    residual_ss: float, n_components: int, n_samples: int, n_features: int, centred: bool = True
) -> float:
    """SIMCA's pooled residual standard deviation ``s0`` of the training set.

    ``s0 = sqrt(sum(E^2) / ((N - A - A0)(K - A)))``.
    """
    a0 = 1 if centred else 0
    dof = (n_samples - n_components - a0) * (n_features - n_components)
    if dof <= 0:
        return float("nan")
    return float(np.sqrt(residual_ss / dof))
