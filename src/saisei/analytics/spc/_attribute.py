"""Attribute charts: p (fraction nonconforming) and u (nonconformities per unit).

Montgomery, *Introduction to Statistical Quality Control*, chapter 7: p chart limits
``p-bar +/- L sqrt(p-bar (1 - p-bar) / n_i)`` (eq. 7.8, variable n_i in section 7.2.2); u chart
limits ``u-bar +/- L sqrt(u-bar / n_i)`` (eq. 7.19). Negative lower limits are set to 0 and
p-chart upper limits are capped at 1.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from saisei.errors import ValidationFailed

from ._charts import RulesArg, attach_rules, check_iterations, constant, fit_with_exclusion
from ._results import ChartParams, ChartSeries, ControlChartResult, as_series, positive

__all__ = ["p_chart", "u_chart"]


def _sizes(sizes: object, m: int, name: str, where: str) -> np.ndarray:
    arr = np.asarray(sizes, dtype=float)
    if arr.ndim == 0:
        arr = np.full(m, float(arr))
    if arr.shape != (m,) or not np.all(np.isfinite(arr)) or not np.all(arr > 0):
        raise ValidationFailed(
            f"The '{name}' parameter of {where} must be a positive number or an array of {m} "
            f"positive numbers. Got {sizes!r} instead."
        )
    return arr


def _center(
    center: float | None, params: ChartParams | None, chart: str, where: str
) -> float | None:
    if params is not None:
        if not isinstance(params, ChartParams) or params.chart != chart:
            got = params.chart if isinstance(params, ChartParams) else type(params).__name__
            raise ValidationFailed(
                f"The 'params' parameter of {where} must be the ChartParams of a previous "
                f"{chart} chart. Got {got} instead."
            )
        center = params.center if center is None else center
    return None if center is None else float(center)


def _attribute_chart(
    counts: np.ndarray,
    sizes: np.ndarray,
    *,
    chart: str,
    fixed: float | None,
    exclude: bool,
    max_iterations: int,
    rules: RulesArg,
    n_sigma: float,
) -> ControlChartResult:
    where = f"{chart}_chart"
    m = counts.size
    rate = counts / sizes

    def estimate(keep: np.ndarray) -> ChartParams:
        value = float(counts[keep].sum() / sizes[keep].sum()) if fixed is None else fixed
        degenerate = value <= 0 or (chart == "p" and value >= 1)
        if degenerate:
            what = "strictly between 0 and 1" if chart == "p" else "greater than 0"
            raise ValidationFailed(
                f"The center line of {where} must be {what} for the limits to exist. Got "
                f"{value!r}; with no (or only) nonconforming units pass center explicitly."
            )
        return ChartParams(chart, value, float("nan"), 1)

    def sd(p: ChartParams) -> np.ndarray:
        if chart == "p":
            return np.sqrt(p.center * (1.0 - p.center) / sizes)
        return np.sqrt(p.center / sizes)

    def build(p: ChartParams) -> tuple[tuple[ChartSeries, ...], np.ndarray]:
        half = n_sigma * sd(p)
        upper = p.center + half
        if chart == "p":
            upper = np.minimum(upper, 1.0)
        s = ChartSeries(chart, rate, constant(p.center, m), np.maximum(p.center - half, 0.0), upper)
        return (s,), s.beyond_limits

    phase2 = fixed is not None
    p, series, excluded, iterations = fit_with_exclusion(
        estimate,
        build,
        m,
        exclude=exclude and not phase2,
        max_iterations=max_iterations,
        min_kept=1,
    )
    return ControlChartResult(
        chart=chart,
        phase="II" if phase2 else "I",
        params=p,
        series=series,
        excluded=excluded,
        iterations=iterations,
        rules=attach_rules(rate, series[0].center, sd(p), rules),
        options={"n_sigma": n_sigma},
    )


def p_chart(
    nonconforming: Iterable[float] | np.ndarray,
    sizes: float | Iterable[float] | np.ndarray,
    *,
    center: float | None = None,
    params: ChartParams | None = None,
    exclude_out_of_control: bool = False,
    max_iterations: int = 10,
    rules: RulesArg = "nelson",
    n_sigma: float = 3.0,
) -> ControlChartResult:
    """p chart for the fraction nonconforming (e.g. OOS batches, contaminated units).

    Parameters
    ----------
    nonconforming : array_like of int, shape (m,)
        Nonconforming units in each sample, 0 <= d_i <= n_i.
    sizes : int or array_like of int, shape (m,)
        Sample sizes n_i (one number when all are equal).
    center : float, optional
        Known fraction nonconforming p (phase II).
    params : ChartParams, optional
        ``params`` of an earlier p chart (phase II).
    exclude_out_of_control : bool, default False
        Phase I: drop samples beyond the limits and re-estimate p-bar = sum d / sum n.
    max_iterations : int, default 10
        Most limit revisions made by exclusion.
    rules : {"nelson", "we"}, RuleSet, iterable of int or None, default "nelson"
        Run rules applied with sigma_i = sqrt(p-bar (1 - p-bar) / n_i).
    n_sigma : float, default 3.0
        Width of the limits in sigmas.

    Returns
    -------
    ControlChartResult
        One series ``p``; limits vary with n_i.
    """
    where = "p_chart"
    counts = as_series(nonconforming, "nonconforming", where, min_size=2)
    n = _sizes(sizes, counts.size, "sizes", where)
    if np.any(counts < 0) or np.any(counts > n):
        raise ValidationFailed(
            "The 'nonconforming' parameter of p_chart must hold counts between 0 and the sample "
            f"size. Got values outside [0, n] at positions "
            f"{np.flatnonzero((counts < 0) | (counts > n))[:5].tolist()}."
        )
    return _attribute_chart(
        counts,
        n,
        chart="p",
        fixed=_center(center, params, "p", where),
        exclude=exclude_out_of_control,
        max_iterations=check_iterations(max_iterations, where),
        rules=rules,
        n_sigma=positive(n_sigma, "n_sigma", where),
    )


def u_chart(
    nonconformities: Iterable[float] | np.ndarray,
    units: float | Iterable[float] | np.ndarray,
    *,
    center: float | None = None,
    params: ChartParams | None = None,
    exclude_out_of_control: bool = False,
    max_iterations: int = 10,
    rules: RulesArg = "nelson",
    n_sigma: float = 3.0,
) -> ControlChartResult:
    """u chart for nonconformities (defects, colonies, particles) per inspection unit.

    Parameters
    ----------
    nonconformities : array_like of float, shape (m,)
        Count of nonconformities c_i in each sample, >= 0.
    units : float or array_like of float, shape (m,)
        Inspection units n_i in each sample (> 0; may be fractional, e.g. litres).
    center : float, optional
        Known nonconformities per unit u (phase II).
    params : ChartParams, optional
        ``params`` of an earlier u chart (phase II).
    exclude_out_of_control : bool, default False
        Phase I: drop samples beyond the limits and re-estimate u-bar = sum c / sum n.
    max_iterations : int, default 10
        Most limit revisions made by exclusion.
    rules : {"nelson", "we"}, RuleSet, iterable of int or None, default "nelson"
        Run rules applied with sigma_i = sqrt(u-bar / n_i).
    n_sigma : float, default 3.0
        Width of the limits in sigmas.

    Returns
    -------
    ControlChartResult
        One series ``u``; limits vary with n_i.
    """
    where = "u_chart"
    counts = as_series(nonconformities, "nonconformities", where, min_size=2)
    n = _sizes(units, counts.size, "units", where)
    if np.any(counts < 0):
        raise ValidationFailed(
            "The 'nonconformities' parameter of u_chart must hold counts >= 0. Got negative "
            f"values at positions {np.flatnonzero(counts < 0)[:5].tolist()}."
        )
    return _attribute_chart(
        counts,
        n,
        chart="u",
        fixed=_center(center, params, "u", where),
        exclude=exclude_out_of_control,
        max_iterations=check_iterations(max_iterations, where),
        rules=rules,
        n_sigma=positive(n_sigma, "n_sigma", where),
    )
