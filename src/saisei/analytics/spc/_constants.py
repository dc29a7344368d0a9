"""Control chart constants computed from their definitions.

Every factor in the usual table (Montgomery, *Introduction to Statistical Quality Control*,
Appendix VI; ASTM E2587 Table 2) derives from three moments of normal samples of size ``n``:

- ``d2(n) = E[R] / sigma``: mean of the relative range ``W = R / sigma``;
- ``d3(n) = sd(R) / sigma``: standard deviation of the relative range;
- ``c4(n) = E[s] / sigma``: mean of the sample standard deviation (divisor ``n - 1``).

``d2`` and ``d3`` are integrals over the distribution of the range (Tippett 1925; Harter 1960,
"Tables of range and studentized range", Ann. Math. Statist. 31), computed here by numerical
integration; ``c4`` has a closed form. The other factors follow from these three (Montgomery,
Appendix VI notes; ASTM E2587 section 6).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache

import numpy as np
import pandas as pd
from scipy import integrate, special, stats

from saisei.errors import ValidationFailed

__all__ = ["ChartConstants", "chart_constants", "constants_table"]

#: Subgroup sizes for which constants are computed. The published table stops at 25; the
#: integrals stay accurate well beyond, so the bound is generous.
MIN_SUBGROUP_SIZE = 2
MAX_SUBGROUP_SIZE = 100

# Grid for the inner integral over the sample minimum. The integrand is smooth and decays like
# the normal density, so the trapezoid rule on a uniform grid converges geometrically.
_X_GRID = np.linspace(-9.0, 9.0, 1201)
_X_STEP = _X_GRID[1] - _X_GRID[0]
_PHI = stats.norm.pdf(_X_GRID)
_CDF = stats.norm.cdf(_X_GRID)


@dataclass(frozen=True)
class ChartConstants:
    """Shewhart control chart factors for subgroups of size ``n``.

    Attributes
    ----------
    n : int
        Subgroup size.
    d2, d3 : float
        Mean and standard deviation of the relative range ``R / sigma``.
    c4 : float
        Mean of ``s / sigma`` (sample standard deviation with divisor ``n - 1``).
    A : float
        ``3 / sqrt(n)``: X-bar limits from a known sigma.
    A2 : float
        ``3 / (d2 sqrt(n))``: X-bar limits from the mean range.
    A3 : float
        ``3 / (c4 sqrt(n))``: X-bar limits from the mean standard deviation.
    B3, B4 : float
        S-chart limits as multiples of S-bar: ``1 -/+ 3 sqrt(1 - c4^2) / c4`` (B3 floored at 0).
    B5, B6 : float
        S-chart limits as multiples of a known sigma: ``c4 -/+ 3 sqrt(1 - c4^2)``.
    D1, D2 : float
        R-chart limits as multiples of a known sigma: ``d2 -/+ 3 d3`` (D1 floored at 0).
    D3, D4 : float
        R-chart limits as multiples of R-bar: ``1 -/+ 3 d3 / d2`` (D3 floored at 0).
    E2 : float
        ``3 / d2``: individuals limits from the mean moving range.
    """

    n: int
    d2: float
    d3: float
    c4: float
    A: float
    A2: float
    A3: float
    B3: float
    B4: float
    B5: float
    B6: float
    D1: float
    D2: float
    D3: float
    D4: float
    E2: float


def _check_n(n: object, where: str) -> int:
    if (
        isinstance(n, bool)
        or not isinstance(n, int | np.integer)
        or not MIN_SUBGROUP_SIZE <= int(n) <= MAX_SUBGROUP_SIZE
    ):
        raise ValidationFailed(
            f"The 'n' parameter of {where} must be an integer subgroup size in "
            f"[{MIN_SUBGROUP_SIZE}, {MAX_SUBGROUP_SIZE}]. Got {n!r} instead."
        )
    return int(n)


@cache
def _d2(n: int) -> float:
    # E[W] = integral over x of 1 - Phi(x)^n - (1 - Phi(x))^n (Tippett 1925).
    def integrand(x: float) -> float:
        p = stats.norm.cdf(x)
        q = stats.norm.sf(x)
        return float(1.0 - p**n - q**n)

    value, _ = integrate.quad(integrand, -np.inf, np.inf, epsabs=1e-12, epsrel=1e-12)
    return float(value)


def _range_cdf(r: float, n: int) -> float:
    # P(W <= r) = n * integral of phi(x) [Phi(x + r) - Phi(x)]^(n-1) dx (Harter 1960, eq. 1).
    inner = np.clip(stats.norm.cdf(_X_GRID + r) - _CDF, 0.0, 1.0)
    return float(n * np.sum(_PHI * inner ** (n - 1)) * _X_STEP)


@cache
def _d3(n: int) -> float:
    # E[W^2] = integral over r >= 0 of 2 r P(W > r); d3 = sqrt(E[W^2] - d2^2).
    def integrand(r: float) -> float:
        return 2.0 * r * (1.0 - _range_cdf(r, n))

    second, _ = integrate.quad(integrand, 0.0, 20.0, epsabs=1e-11, epsrel=1e-11, limit=200)
    return float(np.sqrt(second - _d2(n) ** 2))


def _c4(n: int) -> float:
    # c4 = sqrt(2 / (n - 1)) * Gamma(n / 2) / Gamma((n - 1) / 2) (Montgomery, Appendix VI).
    log_ratio = special.gammaln(n / 2.0) - special.gammaln((n - 1) / 2.0)
    return float(np.sqrt(2.0 / (n - 1)) * np.exp(log_ratio))


@cache
def _constants(n: int) -> ChartConstants:
    d2, d3, c4 = _d2(n), _d3(n), _c4(n)
    root_n = np.sqrt(n)
    s_spread = 3.0 * np.sqrt(1.0 - c4**2)
    return ChartConstants(
        n=n,
        d2=d2,
        d3=d3,
        c4=c4,
        A=float(3.0 / root_n),
        A2=float(3.0 / (d2 * root_n)),
        A3=float(3.0 / (c4 * root_n)),
        B3=float(max(0.0, 1.0 - s_spread / c4)),
        B4=float(1.0 + s_spread / c4),
        B5=float(max(0.0, c4 - s_spread)),
        B6=float(c4 + s_spread),
        D1=float(max(0.0, d2 - 3.0 * d3)),
        D2=float(d2 + 3.0 * d3),
        D3=float(max(0.0, 1.0 - 3.0 * d3 / d2)),
        D4=float(1.0 + 3.0 * d3 / d2),
        E2=float(3.0 / d2),
    )


def chart_constants(n: int) -> ChartConstants:
    """Control chart factors for subgroup size ``n``, computed from their definitions.

    Parameters
    ----------
    n : int
        Subgroup size, 2 to 100.

    Returns
    -------
    ChartConstants
        ``d2``, ``d3``, ``c4`` and the derived factors, unrounded.

    Raises
    ------
    ValidationFailed
        If ``n`` is not an integer in [2, 100].

    Examples
    --------
    >>> round(chart_constants(5).d2, 3)
    2.326
    """
    return _constants(_check_n(n, "chart_constants"))


def constants_table(max_n: int = 25) -> pd.DataFrame:
    """The table of control chart factors for subgroup sizes ``2 .. max_n``.

    Parameters
    ----------
    max_n : int, default 25
        Largest subgroup size in the table (2 to 100).

    Returns
    -------
    pandas.DataFrame
        One row per subgroup size, indexed by ``n``, one column per factor.
    """
    max_n = _check_n(max_n, "constants_table")
    rows = [asdict(_constants(n)) for n in range(MIN_SUBGROUP_SIZE, max_n + 1)]
    return pd.DataFrame(rows).set_index("n")
