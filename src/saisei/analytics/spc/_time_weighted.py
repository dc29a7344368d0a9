"""Time-weighted charts: EWMA (Roberts 1959) and tabular CUSUM (Page 1954).

Both recursions are evaluated without a per-point Python loop: the EWMA as a first-order linear
filter (``scipy.signal.lfilter``), the CUSUM through the closed form of Lindley's recursion,
``C_i = S_i - min(-C_0, min_{j <= i} S_j)`` with ``S_i`` the cumulative sum of the increments.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy import signal

from saisei.errors import ValidationFailed

from ._charts import constant
from ._constants import chart_constants
from ._results import (
    ChartParams,
    ChartSeries,
    ControlChartResult,
    as_series,
    phase_params,
    positive,
)

__all__ = ["cusum_chart", "ewma_chart"]

_SIGMA_METHODS = ("moving_range", "std")


def _estimate(
    values: np.ndarray, center: float | None, sigma: float | None, method: str, where: str
) -> tuple[float, float]:
    if method not in _SIGMA_METHODS:
        raise ValidationFailed(
            f"The 'sigma_method' parameter of {where} must be one of {list(_SIGMA_METHODS)}. "
            f"Got {method!r} instead."
        )
    mu = float(values.mean()) if center is None else center
    if sigma is None:
        if method == "moving_range":
            sigma = float(np.mean(np.abs(np.diff(values)))) / chart_constants(2).d2
        else:
            sigma = float(values.std(ddof=1))
        if sigma <= 0:
            raise ValidationFailed(
                f"The 'x' parameter of {where} must vary for sigma to be estimated. Got a "
                "constant series; pass sigma explicitly."
            )
    return mu, sigma


def ewma_chart(
    x: Iterable[float] | np.ndarray,
    *,
    lam: float = 0.2,
    n_sigma: float = 3.0,
    center: float | None = None,
    sigma: float | None = None,
    params: ChartParams | None = None,
    limits: str = "exact",
    sigma_method: str = "moving_range",
) -> ControlChartResult:
    """Exponentially weighted moving average chart.

    ``z_i = lam x_i + (1 - lam) z_{i-1}`` with ``z_0 = center``; limits
    ``center +/- L sigma sqrt(lam / (2 - lam) [1 - (1 - lam)^(2i)])`` (Montgomery eq. 9.24-9.25)
    or, with ``limits="asymptotic"``, the steady-state ``center +/- L sigma sqrt(lam / (2 - lam))``
    (NIST/SEMATECH e-Handbook 6.3.2.4).

    Parameters
    ----------
    x : array_like of float, shape (m,)
        Individual observations (or subgroup means, with sigma / sqrt(n) as ``sigma``).
    lam : float, default 0.2
        Weight of the newest observation, 0 < lam <= 1.
    n_sigma : float, default 3.0
        Width of the limits, L, in sigmas of the EWMA.
    center, sigma : float, optional
        Target mean and process sigma (phase II); estimated from ``x`` when absent.
    params : ChartParams, optional
        ``params`` of an earlier EWMA chart (phase II).
    limits : {"exact", "asymptotic"}, default "exact"
        Time-varying limits, or the steady-state limits.
    sigma_method : {"moving_range", "std"}, default "moving_range"
        Phase I sigma estimate: MR-bar / d2(2) or the sample standard deviation.

    Returns
    -------
    ControlChartResult
        One series ``ewma``. Iterative exclusion and run rules are not offered: EWMA points are
        autocorrelated by construction.
    """
    where = "ewma_chart"
    values = as_series(x, "x", where)
    lam = positive(lam, "lam", where)
    if lam > 1:
        raise ValidationFailed(
            f"The 'lam' parameter of {where} must be a float in (0, 1]. Got {lam!r} instead."
        )
    n_sigma = positive(n_sigma, "n_sigma", where)
    if limits not in ("exact", "asymptotic"):
        raise ValidationFailed(
            f"The 'limits' parameter of {where} must be 'exact' or 'asymptotic'. "
            f"Got {limits!r} instead."
        )
    fixed_center, fixed_sigma = phase_params(
        where=where, chart="ewma", params=params, center=center, sigma=sigma
    )
    mu, sig = _estimate(values, fixed_center, fixed_sigma, sigma_method, where)
    z, _ = signal.lfilter([lam], [1.0, lam - 1.0], values, zi=[(1.0 - lam) * mu])
    i = np.arange(1, values.size + 1)
    steady = lam / (2.0 - lam)
    if limits == "exact":
        factor = steady * (1.0 - (1.0 - lam) ** (2 * i))
    else:
        factor = np.full(values.size, steady)
    half = n_sigma * sig * np.sqrt(factor)
    series = ChartSeries("ewma", z, constant(mu, values.size), mu - half, mu + half)
    phase2 = fixed_center is not None and fixed_sigma is not None
    return ControlChartResult(
        chart="ewma",
        phase="II" if phase2 else "I",
        params=ChartParams("ewma", mu, sig, 1),
        series=(series,),
        excluded=np.zeros(values.size, dtype=bool),
        options={"lam": lam, "n_sigma": n_sigma, "limits": limits},
    )


def _lindley(increments: np.ndarray, start: float) -> np.ndarray:
    # C_i = max(0, C_{i-1} + y_i), C_0 = start, solved in closed form (Lindley 1952).
    s = np.cumsum(increments)
    floor = np.minimum.accumulate(np.minimum(s, -start))
    return s - floor


def cusum_chart(
    x: Iterable[float] | np.ndarray,
    *,
    k: float = 0.5,
    h: float = 5.0,
    center: float | None = None,
    sigma: float | None = None,
    params: ChartParams | None = None,
    headstart: float = 0.0,
    sigma_method: str = "moving_range",
) -> ControlChartResult:
    """Tabular (two one-sided) CUSUM chart for the process mean.

    ``C+_i = max(0, C+_{i-1} + x_i - (mu0 + K))`` and ``C-_i = max(0, C-_{i-1} + (mu0 - K) -
    x_i)`` with ``K = k sigma`` and decision interval ``H = h sigma`` (Montgomery eq. 9.2-9.3).
    Both sums are reported as non-negative numbers with ``H`` as their upper limit.

    Parameters
    ----------
    x : array_like of float, shape (m,)
        Individual observations in time order.
    k : float, default 0.5
        Reference value in sigmas (half the shift to detect).
    h : float, default 5.0
        Decision interval in sigmas.
    center, sigma : float, optional
        Target mean mu0 and process sigma (phase II); estimated from ``x`` when absent.
    params : ChartParams, optional
        ``params`` of an earlier CUSUM chart (phase II).
    headstart : float, default 0.0
        Fast initial response: starting value of both sums in sigmas, usually h / 2
        (Lucas and Crosier 1982).
    sigma_method : {"moving_range", "std"}, default "moving_range"
        Phase I sigma estimate.

    Returns
    -------
    ControlChartResult
        Series ``cusum_upper`` and ``cusum_lower``.
    """
    where = "cusum_chart"
    values = as_series(x, "x", where)
    k = positive(k, "k", where, allow_zero=True)
    h = positive(h, "h", where)
    headstart = positive(headstart, "headstart", where, allow_zero=True)
    fixed_center, fixed_sigma = phase_params(
        where=where, chart="cusum", params=params, center=center, sigma=sigma
    )
    mu, sig = _estimate(values, fixed_center, fixed_sigma, sigma_method, where)
    m = values.size
    upper = _lindley(values - (mu + k * sig), headstart * sig)
    lower = _lindley((mu - k * sig) - values, headstart * sig)
    nan = constant(np.nan, m)
    series = (
        ChartSeries("cusum_upper", upper, constant(0.0, m), nan, constant(h * sig, m)),
        ChartSeries("cusum_lower", lower, constant(0.0, m), nan, constant(h * sig, m)),
    )
    phase2 = fixed_center is not None and fixed_sigma is not None
    return ControlChartResult(
        chart="cusum",
        phase="II" if phase2 else "I",
        params=ChartParams("cusum", mu, sig, 1),
        series=series,
        excluded=np.zeros(m, dtype=bool),
        options={"k": k, "h": h, "headstart": headstart},
    )
