"""Normal tolerance intervals: exact factors and the classical approximations.

- One-sided exact factor (Owen 1963; ISO 16269-6:2014 clause 5.2):
  ``k1 = t'_{gamma}(n - 1, z_p sqrt(n)) / sqrt(n)`` with ``t'`` the noncentral t quantile.
- Two-sided exact factor (Odeh and Owen 1980; ISO 16269-6 Annex F): ``k2`` solves
  ``gamma = 2 sqrt(n) integral_0^inf phi(sqrt(n) z) P(chi2_{n-1} > (n - 1) r(z)^2 / k^2) dz``,
  where ``r(z)`` solves ``Phi(z + r) - Phi(z - r) = p``, i.e. ``r^2`` is the ``p`` quantile of
  a noncentral chi-square with 1 degree of freedom and noncentrality ``z^2``.
- Howe (1969) two-sided approximation:
  ``k2 = z_{(1+p)/2} sqrt((n - 1)(1 + 1/n) / chi2_{1-gamma, n-1})`` (NIST e-Handbook 7.2.6.3).
- Natrella (1963) one-sided approximation: ``k1 = (z_p + sqrt(z_p^2 - a b)) / a`` with
  ``a = 1 - z_g^2 / (2(n - 1))``, ``b = z_p^2 - z_g^2 / n`` (NIST e-Handbook 7.2.6.3).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from saisei.errors import ValidationFailed

from ._results import as_series

__all__ = ["ToleranceInterval", "tolerance_factor", "tolerance_interval"]

_METHODS = {2: ("exact", "howe"), 1: ("exact", "natrella")}
# Gauss-Legendre nodes on t = sqrt(n) z in [0, 10]: phi(10) ~ 8e-23, beyond double precision
# relative to the integral, and the integrand is smooth, so 160 nodes give ~1e-12.
_GL_T, _GL_W = np.polynomial.legendre.leggauss(160)
_T_MAX = 10.0


@dataclass(frozen=True)
class ToleranceInterval:
    """A normal tolerance interval.

    Attributes
    ----------
    lower, upper : float
        Two-sided: the interval ``mean -/+ k s``. One-sided: the lower limit ``mean - k s``
        and the upper limit ``mean + k s``, each a one-sided limit at the stated confidence on
        its own (use one of them, not both as an interval).
    k : float
        Tolerance factor.
    mean, sd : float
        Sample mean and standard deviation (divisor n - 1), in the data's units.
    n : int
        Sample size.
    coverage, confidence : float
        Proportion of the population to cover, and confidence level.
    sides : {1, 2}
        Two-sided interval or one-sided limits.
    method : str
        "exact", "howe" (two-sided) or "natrella" (one-sided).
    """

    lower: float
    upper: float
    k: float
    mean: float
    sd: float
    n: int
    coverage: float
    confidence: float
    sides: int
    method: str

    def to_frame(self) -> pd.DataFrame:
        """One-row table of every field."""
        return pd.DataFrame([self.__dict__])

    def summary(self) -> str:
        """One sentence saying what the interval claims."""
        what = "interval" if self.sides == 2 else "one-sided limits"
        return (
            f"Normal tolerance {what} ({self.method}): with {self.confidence:.4g} confidence at "
            f"least {self.coverage:.4g} of the population lies "
            + (
                f"between {self.lower!r} and {self.upper!r}"
                if self.sides == 2
                else f"above {self.lower!r} (lower limit) / below {self.upper!r} (upper limit)"
            )
            + f"; k = {self.k!r}, n = {self.n}, mean = {self.mean!r}, s = {self.sd!r}."
        )


def _check_fraction(value: object, name: str, where: str) -> float:
    ok = isinstance(value, int | float | np.floating) and not isinstance(value, bool)
    if not ok or not 0.0 < float(value) < 1.0:  # type: ignore[arg-type]
        raise ValidationFailed(
            f"The '{name}' parameter of {where} must be a float in (0, 1). Got {value!r} instead."
        )
    return float(value)  # type: ignore[arg-type]


def _check(
    n: object, coverage: object, confidence: object, sides: object, method: object, where: str
) -> tuple[int, float, float, int, str]:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        raise ValidationFailed(
            f"The 'n' parameter of {where} must be an integer >= 2. Got {n!r} instead."
        )
    p = _check_fraction(coverage, "coverage", where)
    g = _check_fraction(confidence, "confidence", where)
    if sides not in (1, 2) or isinstance(sides, bool):
        raise ValidationFailed(
            f"The 'sides' parameter of {where} must be 1 or 2. Got {sides!r} instead."
        )
    allowed = _METHODS[int(sides)]
    if method not in allowed:
        raise ValidationFailed(
            f"The 'method' parameter of {where} with sides={sides} must be one of "
            f"{list(allowed)}. Got {method!r} instead."
        )
    return int(n), p, g, int(sides), str(method)


def _two_sided_exact(n: int, p: float, g: float) -> float:
    # Odeh & Owen (1980): integrate over the standardised sample mean; the inner probability
    # is the chi-square survival at (n - 1) r^2 / k^2.
    t = 0.5 * _T_MAX * (_GL_T + 1.0)
    weight = 0.5 * _T_MAX * _GL_W * 2.0 * stats.norm.pdf(t)
    r2 = stats.ncx2.ppf(p, 1, (t / np.sqrt(n)) ** 2)
    df = n - 1

    def gap(k: float) -> float:
        return float(np.sum(weight * stats.chi2.sf(df * r2 / k**2, df))) - g

    start = _two_sided_howe(n, p, g)
    low, high = 0.5 * start, 2.0 * start
    while gap(low) > 0:
        low /= 2.0
    while gap(high) < 0:
        high *= 2.0
    return float(optimize.brentq(gap, low, high, xtol=1e-12, rtol=1e-12))


def _two_sided_howe(n: int, p: float, g: float) -> float:
    z = stats.norm.ppf((1.0 + p) / 2.0)
    chi = stats.chi2.ppf(1.0 - g, n - 1)
    return float(z * np.sqrt((n - 1) * (1.0 + 1.0 / n) / chi))


def _one_sided_exact(n: int, p: float, g: float) -> float:
    root_n = np.sqrt(n)
    return float(stats.nct.ppf(g, n - 1, stats.norm.ppf(p) * root_n) / root_n)


def _one_sided_natrella(n: int, p: float, g: float) -> float:
    zp, zg = stats.norm.ppf(p), stats.norm.ppf(g)
    a = 1.0 - zg**2 / (2.0 * (n - 1))
    b = zp**2 - zg**2 / n
    if a <= 0 or zp**2 - a * b < 0:
        raise ValidationFailed(
            f"The 'n' parameter of tolerance_factor is too small ({n}) for the Natrella "
            "approximation at this confidence. Use method='exact'."
        )
    return float((zp + np.sqrt(zp**2 - a * b)) / a)


def tolerance_factor(
    n: int,
    *,
    coverage: float = 0.95,
    confidence: float = 0.95,
    sides: int = 2,
    method: str = "exact",
) -> float:
    """Normal tolerance factor k such that ``mean +/- k s`` is a tolerance interval.

    Parameters
    ----------
    n : int
        Sample size, >= 2.
    coverage : float, default 0.95
        Proportion p of the population to cover, in (0, 1).
    confidence : float, default 0.95
        Confidence level gamma, in (0, 1).
    sides : {1, 2}, default 2
        Two-sided interval or one-sided limit.
    method : str, default "exact"
        Two-sided: "exact" (Odeh-Owen integration) or "howe"; one-sided: "exact" (noncentral
        t) or "natrella".

    Returns
    -------
    float
        The factor k (dimensionless).

    Examples
    --------
    >>> round(tolerance_factor(43, coverage=0.90, confidence=0.99, method="howe"), 4)
    2.2173
    """
    n, p, g, sides, method = _check(n, coverage, confidence, sides, method, "tolerance_factor")
    if sides == 2:
        return _two_sided_exact(n, p, g) if method == "exact" else _two_sided_howe(n, p, g)
    return _one_sided_exact(n, p, g) if method == "exact" else _one_sided_natrella(n, p, g)


def tolerance_interval(
    x: Iterable[float] | np.ndarray,
    *,
    coverage: float = 0.95,
    confidence: float = 0.95,
    sides: int = 2,
    method: str = "exact",
) -> ToleranceInterval:
    """Normal tolerance interval (two-sided) or limits (one-sided) from a sample.

    Parameters
    ----------
    x : array_like of float, shape (n,)
        Sample, n >= 2, assumed normal, in the measurement's units.
    coverage : float, default 0.95
        Proportion of the population the interval must contain.
    confidence : float, default 0.95
        Confidence that it does.
    sides : {1, 2}, default 2
        Two-sided interval, or one-sided lower and upper limits.
    method : str, default "exact"
        See :func:`tolerance_factor`.

    Returns
    -------
    ToleranceInterval
        Limits, factor and sample statistics.

    Raises
    ------
    ValidationFailed
        On a sample with fewer than 2 finite values, or parameters out of range.
    """
    values = as_series(x, "x", "tolerance_interval")
    n = values.size
    n, p, g, sides, method = _check(n, coverage, confidence, sides, method, "tolerance_interval")
    k = tolerance_factor(n, coverage=p, confidence=g, sides=sides, method=method)
    mean = float(values.mean())
    sd = float(values.std(ddof=1))
    return ToleranceInterval(
        lower=mean - k * sd,
        upper=mean + k * sd,
        k=k,
        mean=mean,
        sd=sd,
        n=n,
        coverage=p,
        confidence=g,
        sides=sides,
        method=method,
    )
