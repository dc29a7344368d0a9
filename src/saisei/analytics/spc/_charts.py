"""Shewhart charts for variables: individuals and moving range, X-bar/R, X-bar/S.

Limits follow Montgomery, *Introduction to Statistical Quality Control* (chapter 6), written
from the process sigma so that phase I (sigma estimated) and phase II (sigma given) share one
formula: X-bar limits ``center +/- L sigma / sqrt(n)``; R chart ``d2 sigma`` with limits
``max(0, d2 - L d3) sigma`` and ``(d2 + L d3) sigma`` (= D3 R-bar, D4 R-bar when L = 3);
S chart ``c4 sigma`` with limits ``(c4 -/+ L sqrt(1 - c4^2)) sigma`` (= B3 S-bar, B4 S-bar).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from saisei.errors import ValidationFailed

from ._constants import chart_constants
from ._results import (
    ChartParams,
    ChartSeries,
    ControlChartResult,
    as_series,
    as_subgroups,
    phase_params,
    positive,
)
from ._rules import RuleSet, RunRulesResult, run_rules

__all__ = ["individuals_chart", "xbar_r_chart", "xbar_s_chart"]

RulesArg = str | RuleSet | Iterable[int] | None
# estimate(keep) -> params; build(params) -> (series, beyond mask used for exclusion)
Estimator = Callable[[np.ndarray], ChartParams]
Builder = Callable[[ChartParams], tuple[tuple[ChartSeries, ...], np.ndarray]]


def constant(value: float, size: int) -> np.ndarray:
    """An array of ``size`` copies of ``value``."""
    return np.full(size, float(value))


def check_iterations(max_iterations: object, where: str) -> int:
    """A non-negative integer number of limit revisions."""
    if (
        isinstance(max_iterations, bool)
        or not isinstance(max_iterations, int | np.integer)
        or max_iterations < 0
    ):
        raise ValidationFailed(
            f"The 'max_iterations' parameter of {where} must be an integer >= 0. "
            f"Got {max_iterations!r} instead."
        )
    return int(max_iterations)


def fit_with_exclusion(
    estimate: Estimator,
    build: Builder,
    size: int,
    *,
    exclude: bool,
    max_iterations: int,
    min_kept: int = 2,
) -> tuple[ChartParams, tuple[ChartSeries, ...], np.ndarray, int]:
    """Phase I: estimate, flag points beyond limits, drop them and re-estimate until stable.

    Points once excluded stay excluded (Montgomery section 6.2: trial limits are revised after
    removing points with assignable causes). Stops when no new point is beyond the limits,
    after ``max_iterations`` revisions, or when fewer than ``min_kept`` points would remain.
    """
    excluded = np.zeros(size, dtype=bool)
    iterations = 0
    params = estimate(~excluded)
    series, beyond = build(params)
    while exclude and iterations < max_iterations:
        new = beyond & ~excluded
        if not new.any() or np.count_nonzero(~(excluded | new)) < min_kept:
            break
        excluded |= new
        iterations += 1
        params = estimate(~excluded)
        series, beyond = build(params)
    return params, series, excluded, iterations


def attach_rules(
    statistic: np.ndarray, center: np.ndarray, sigma: np.ndarray | float, rules: RulesArg
) -> RunRulesResult | None:
    """Run rules on the primary series, or None when ``rules`` is None."""
    if rules is None:
        return None
    return run_rules(statistic, center=center, sigma=sigma, rules=rules)


def _moving_ranges(x: np.ndarray) -> np.ndarray:
    mr = np.full(x.size, np.nan)
    mr[1:] = np.abs(np.diff(x))
    return mr


def individuals_chart(
    x: Iterable[float] | np.ndarray,
    *,
    center: float | None = None,
    sigma: float | None = None,
    params: ChartParams | None = None,
    exclude_out_of_control: bool = False,
    max_iterations: int = 10,
    rules: RulesArg = "nelson",
    n_sigma: float = 3.0,
) -> ControlChartResult:
    """Individuals (X) and moving range (MR) chart.

    Phase I estimates the center as the mean and sigma as ``MR-bar / d2(2)`` (moving ranges of
    two consecutive points). Phase II uses the given ``center`` and ``sigma`` (or ``params``).

    Parameters
    ----------
    x : array_like of float, shape (m,)
        Individual measurements in time order, m >= 2, in the measurement's units.
    center, sigma : float, optional
        Known process mean and standard deviation (phase II). Either alone fixes that value and
        estimates the other.
    params : ChartParams, optional
        ``params`` of an earlier individuals chart; its center and sigma are used (phase II).
    exclude_out_of_control : bool, default False
        Phase I: drop points beyond the X limits and re-estimate, up to ``max_iterations``
        times. Moving ranges that touch an excluded point are dropped from MR-bar.
    max_iterations : int, default 10
        Most limit revisions made by exclusion.
    rules : {"nelson", "we"}, RuleSet, iterable of int or None, default "nelson"
        Run rules applied to the individuals series; None for none.
    n_sigma : float, default 3.0
        Width of the limits in sigmas.

    Returns
    -------
    ControlChartResult
        Series ``individuals`` and ``moving_range``.

    Examples
    --------
    >>> chart = individuals_chart([49.6, 47.6, 49.9, 51.3, 47.8, 51.2, 52.6, 52.4, 53.6, 52.1])
    >>> round(float(chart.primary.ucl[0]), 2)
    55.8
    """
    where = "individuals_chart"
    values = as_series(x, "x", where)
    n_sigma = positive(n_sigma, "n_sigma", where)
    max_iterations = check_iterations(max_iterations, where)
    fixed_center, fixed_sigma = phase_params(
        where=where, chart="individuals", params=params, center=center, sigma=sigma
    )
    mr = _moving_ranges(values)
    c2 = chart_constants(2)

    def estimate(keep: np.ndarray) -> ChartParams:
        mu = float(np.mean(values[keep])) if fixed_center is None else fixed_center
        if fixed_sigma is not None:
            return ChartParams("individuals", mu, fixed_sigma, 1)
        pair = keep.copy()
        pair[1:] &= keep[:-1]
        pair[0] = False
        if not pair.any():
            raise ValidationFailed(
                "The 'x' parameter of individuals_chart must leave at least one moving range "
                "of two consecutive kept points. Got none."
            )
        mr_bar = float(np.mean(mr[pair]))
        if mr_bar <= 0:
            raise ValidationFailed(
                "The 'x' parameter of individuals_chart must vary: all moving ranges are 0, "
                "so sigma cannot be estimated. Pass sigma explicitly."
            )
        return ChartParams("individuals", mu, mr_bar / c2.d2, 1)

    def build(p: ChartParams) -> tuple[tuple[ChartSeries, ...], np.ndarray]:
        m = values.size
        xs = ChartSeries(
            "individuals",
            values,
            constant(p.center, m),
            constant(p.center - n_sigma * p.sigma, m),
            constant(p.center + n_sigma * p.sigma, m),
        )
        mrs = ChartSeries(
            "moving_range",
            mr,
            constant(c2.d2 * p.sigma, m),
            constant(max(0.0, c2.d2 - n_sigma * c2.d3) * p.sigma, m),
            constant((c2.d2 + n_sigma * c2.d3) * p.sigma, m),
        )
        return (xs, mrs), xs.beyond_limits

    phase2 = fixed_center is not None and fixed_sigma is not None
    p, series, excluded, iterations = fit_with_exclusion(
        estimate,
        build,
        values.size,
        exclude=exclude_out_of_control and not phase2,
        max_iterations=max_iterations,
    )
    primary = series[0]
    return ControlChartResult(
        chart="individuals",
        phase="II" if phase2 else "I",
        params=p,
        series=series,
        excluded=excluded,
        iterations=iterations,
        rules=attach_rules(primary.statistic, primary.center, p.sigma, rules),
        options={"n_sigma": n_sigma},
    )


def _subgroup_chart(
    subgroups: object,
    *,
    kind: str,
    center: float | None,
    sigma: float | None,
    params: ChartParams | None,
    exclude_out_of_control: bool,
    max_iterations: int,
    rules: RulesArg,
    n_sigma: float,
) -> ControlChartResult:
    where = f"{kind}_chart"
    data = as_subgroups(subgroups, where)
    n_sigma = positive(n_sigma, "n_sigma", where)
    max_iterations = check_iterations(max_iterations, where)
    fixed_center, fixed_sigma = phase_params(
        where=where, chart=kind, params=params, center=center, sigma=sigma
    )
    m, n = data.shape
    const = chart_constants(n)
    means = data.mean(axis=1)
    if kind == "xbar_r":
        spread = data.max(axis=1) - data.min(axis=1)
        unbias, scale_sd, spread_name = const.d2, const.d3, "range"
    else:
        spread = data.std(axis=1, ddof=1)
        unbias, scale_sd, spread_name = const.c4, np.sqrt(1.0 - const.c4**2), "std"

    def estimate(keep: np.ndarray) -> ChartParams:
        mu = float(np.mean(means[keep])) if fixed_center is None else fixed_center
        if fixed_sigma is not None:
            return ChartParams(kind, mu, fixed_sigma, n)
        # sigma-hat = R-bar / d2 or S-bar / c4 (Montgomery eqs. 6.6 and 6.27).
        sig = float(np.mean(spread[keep])) / unbias
        if sig <= 0:
            raise ValidationFailed(
                f"The 'subgroups' parameter of {where} must vary within subgroups: every "
                f"{spread_name} is 0, so sigma cannot be estimated. Pass sigma explicitly."
            )
        return ChartParams(kind, mu, sig, n)

    def build(p: ChartParams) -> tuple[tuple[ChartSeries, ...], np.ndarray]:
        half = n_sigma * p.sigma / np.sqrt(n)
        xbar = ChartSeries(
            "xbar",
            means,
            constant(p.center, m),
            constant(p.center - half, m),
            constant(p.center + half, m),
        )
        sp = ChartSeries(
            spread_name,
            spread,
            constant(unbias * p.sigma, m),
            constant(max(0.0, unbias - n_sigma * scale_sd) * p.sigma, m),
            constant((unbias + n_sigma * scale_sd) * p.sigma, m),
        )
        return (xbar, sp), xbar.beyond_limits | sp.beyond_limits

    phase2 = fixed_center is not None and fixed_sigma is not None
    p, series, excluded, iterations = fit_with_exclusion(
        estimate,
        build,
        m,
        exclude=exclude_out_of_control and not phase2,
        max_iterations=max_iterations,
    )
    primary = series[0]
    return ControlChartResult(
        chart=kind,
        phase="II" if phase2 else "I",
        params=p,
        series=series,
        excluded=excluded,
        iterations=iterations,
        rules=attach_rules(primary.statistic, primary.center, p.sigma / np.sqrt(n), rules),
        options={"n_sigma": n_sigma},
    )


def xbar_r_chart(
    subgroups: np.ndarray | Iterable[Iterable[float]],
    *,
    center: float | None = None,
    sigma: float | None = None,
    params: ChartParams | None = None,
    exclude_out_of_control: bool = False,
    max_iterations: int = 10,
    rules: RulesArg = "nelson",
    n_sigma: float = 3.0,
) -> ControlChartResult:
    """X-bar and R chart for equal-size subgroups.

    Phase I estimates the center as the grand mean and sigma as ``R-bar / d2(n)``; the limits
    are then ``x-double-bar +/- A2 R-bar`` and ``D3 R-bar, D4 R-bar`` (Montgomery eq. 6.4-6.5).

    Parameters
    ----------
    subgroups : array_like of float, shape (m, n)
        One row per subgroup in time order, 2 <= n <= 100 observations each, m >= 2.
    center, sigma : float, optional
        Known process mean and standard deviation of one observation (phase II).
    params : ChartParams, optional
        ``params`` of an earlier X-bar/R chart (phase II).
    exclude_out_of_control : bool, default False
        Phase I: drop subgroups whose mean or range is beyond its limits and re-estimate.
    max_iterations : int, default 10
        Most limit revisions made by exclusion.
    rules : {"nelson", "we"}, RuleSet, iterable of int or None, default "nelson"
        Run rules applied to the subgroup means (sigma / sqrt(n) as their sigma).
    n_sigma : float, default 3.0
        Width of the limits in sigmas.

    Returns
    -------
    ControlChartResult
        Series ``xbar`` and ``range``.
    """
    return _subgroup_chart(
        subgroups,
        kind="xbar_r",
        center=center,
        sigma=sigma,
        params=params,
        exclude_out_of_control=exclude_out_of_control,
        max_iterations=max_iterations,
        rules=rules,
        n_sigma=n_sigma,
    )


def xbar_s_chart(
    subgroups: np.ndarray | Iterable[Iterable[float]],
    *,
    center: float | None = None,
    sigma: float | None = None,
    params: ChartParams | None = None,
    exclude_out_of_control: bool = False,
    max_iterations: int = 10,
    rules: RulesArg = "nelson",
    n_sigma: float = 3.0,
) -> ControlChartResult:
    """X-bar and S chart for equal-size subgroups.

    Phase I estimates sigma as ``S-bar / c4(n)``; the limits are then ``x-double-bar +/- A3
    S-bar`` and ``B3 S-bar, B4 S-bar`` (Montgomery eq. 6.27-6.28).

    Parameters
    ----------
    subgroups : array_like of float, shape (m, n)
        One row per subgroup in time order, 2 <= n <= 100 observations each, m >= 2.
    center, sigma : float, optional
        Known process mean and standard deviation of one observation (phase II).
    params : ChartParams, optional
        ``params`` of an earlier X-bar/S chart (phase II).
    exclude_out_of_control : bool, default False
        Phase I: drop subgroups whose mean or standard deviation is beyond its limits and
        re-estimate.
    max_iterations : int, default 10
        Most limit revisions made by exclusion.
    rules : {"nelson", "we"}, RuleSet, iterable of int or None, default "nelson"
        Run rules applied to the subgroup means.
    n_sigma : float, default 3.0
        Width of the limits in sigmas.

    Returns
    -------
    ControlChartResult
        Series ``xbar`` and ``std``.
    """
    return _subgroup_chart(
        subgroups,
        kind="xbar_s",
        center=center,
        sigma=sigma,
        params=params,
        exclude_out_of_control=exclude_out_of_control,
        max_iterations=max_iterations,
        rules=rules,
        n_sigma=n_sigma,
    )
