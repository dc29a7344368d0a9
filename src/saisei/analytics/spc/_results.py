"""Result types of the control charts, and input checks shared by the chart functions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from saisei.errors import ValidationFailed

from ._rules import RULE_NAMES, RunRulesResult

__all__ = ["ChartParams", "ChartSeries", "ControlChartResult"]


@dataclass(frozen=True)
class ChartParams:
    """The estimated (phase I) or given (phase II) parameters behind a chart's limits.

    Pass ``result.params`` to the same chart function to monitor new data against fixed limits.

    Attributes
    ----------
    chart : str
        Chart function the parameters belong to (``"individuals"``, ``"xbar_r"``, ...).
    center : float
        Process mean (variables charts), mean proportion p-bar (p chart) or mean count per unit
        u-bar (u chart), in the data's units.
    sigma : float
        Process standard deviation of one observation, in the data's units; NaN for p and u
        charts, whose sigma follows from the center and the sample size.
    subgroup_size : int
        Observations per subgroup (1 for individuals, EWMA, CUSUM, p and u).
    """

    chart: str
    center: float
    sigma: float
    subgroup_size: int = 1


@dataclass(frozen=True, eq=False)
class ChartSeries:
    """One plotted series of a control chart with its center line and limits.

    Attributes
    ----------
    name : str
        ``"individuals"``, ``"moving_range"``, ``"xbar"``, ``"range"``, ``"std"``, ``"ewma"``,
        ``"cusum_upper"``, ``"cusum_lower"``, ``"p"`` or ``"u"``.
    statistic : numpy.ndarray, shape (m,)
        Plotted values in time order (NaN where undefined, e.g. the first moving range).
    center, lcl, ucl : numpy.ndarray, shape (m,)
        Center line and lower/upper control limits at each point (NaN where there is none).
    """

    name: str
    statistic: np.ndarray
    center: np.ndarray
    lcl: np.ndarray
    ucl: np.ndarray

    @property
    def beyond_limits(self) -> np.ndarray:
        """Boolean array, shape (m,): the point lies strictly outside a control limit."""
        with np.errstate(invalid="ignore"):
            above = self.statistic > self.ucl
            below = self.statistic < self.lcl
        return np.asarray(above | below)


@dataclass(frozen=True, eq=False)
class ControlChartResult:
    """A control chart: its series, limits, parameters, exclusions and rule violations.

    Attributes
    ----------
    chart : str
        Chart function that produced it.
    phase : {"I", "II"}
        "I" when the parameters were estimated from these data, "II" when they were given.
    params : ChartParams
        Parameters behind the limits; pass to the chart function for phase II.
    series : tuple of ChartSeries
        The primary series first (individuals, X-bar, EWMA, upper CUSUM, p, u), then the
        companion series (moving range, range, std, lower CUSUM).
    excluded : numpy.ndarray of bool, shape (m,)
        Points left out of the parameter estimates by iterative exclusion (phase I).
    iterations : int
        Number of limit revisions made by iterative exclusion (0 when none).
    rules : RunRulesResult or None
        Run rules applied to the primary series, when asked for.
    options : mapping
        Chart design constants (``n_sigma``; ``lam`` for EWMA; ``k``, ``h`` for CUSUM).
    """

    chart: str
    phase: Literal["I", "II"]
    params: ChartParams
    series: tuple[ChartSeries, ...]
    excluded: np.ndarray
    iterations: int = 0
    rules: RunRulesResult | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def primary(self) -> ChartSeries:
        """The first (main) series."""
        return self.series[0]

    def get(self, name: str) -> ChartSeries:
        """The series called ``name``."""
        for s in self.series:
            if s.name == name:
                return s
        names = [s.name for s in self.series]
        raise ValidationFailed(
            f"The 'name' parameter of ControlChartResult.get must be one of {names}. "
            f"Got {name!r} instead."
        )

    @property
    def out_of_control(self) -> np.ndarray:
        """Boolean array, shape (m,): beyond a limit on any series, or a run rule fired."""
        flags = np.zeros(self.primary.statistic.size, dtype=bool)
        for s in self.series:
            flags |= s.beyond_limits
        if self.rules is not None:
            flags |= self.rules.any
        return flags

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per series and point.

        Columns: ``series``, ``index``, ``statistic``, ``center``, ``lcl``, ``ucl``,
        ``beyond_limits``, ``excluded``, ``rules`` (comma-separated Nelson numbers that fired at
        the point, primary series only).
        """
        frames = []
        for number, s in enumerate(self.series):
            fired = [""] * s.statistic.size
            if number == 0 and self.rules is not None:
                fired = [
                    ",".join(str(c + 1) for c in np.flatnonzero(row)) for row in self.rules.fired
                ]
            frames.append(
                pd.DataFrame(
                    {
                        "series": s.name,
                        "index": np.arange(s.statistic.size),
                        "statistic": s.statistic,
                        "center": s.center,
                        "lcl": s.lcl,
                        "ucl": s.ucl,
                        "beyond_limits": s.beyond_limits,
                        "excluded": self.excluded,
                        "rules": fired,
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def summary(self) -> str:
        """Plain-text account: parameters, limits, points beyond limits, rule violations."""
        p = self.params
        lines = [
            f"{self.chart} chart, phase {self.phase}: {self.primary.statistic.size} points",
            f"  center={p.center!r} sigma={p.sigma!r} subgroup_size={p.subgroup_size}",
        ]
        if self.options:
            lines.append("  " + " ".join(f"{k}={v!r}" for k, v in self.options.items()))
        if self.iterations or self.excluded.any():
            lines.append(
                f"  excluded after {self.iterations} revision(s): "
                f"{np.flatnonzero(self.excluded).tolist()}"
            )
        for s in self.series:
            lines.append(
                f"  {s.name}: center {_span(s.center)}, LCL {_span(s.lcl)}, UCL {_span(s.ucl)}; "
                f"beyond limits at {np.flatnonzero(s.beyond_limits).tolist()}"
            )
        if self.rules is not None:
            for v in self.rules.violations:
                lines.append(f"  rule {v.rule} ({RULE_NAMES[v.rule]}) at point {v.index}")
        return "\n".join(lines)


def _span(values: np.ndarray) -> str:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return "none"
    low, high = float(finite.min()), float(finite.max())
    return f"{low!r}" if low == high else f"{low!r}..{high!r}"


def as_series(x: object, name: str, where: str, *, min_size: int = 2) -> np.ndarray:
    """A 1-D float array of finite values with at least ``min_size`` entries."""
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ValidationFailed(
            f"The '{name}' parameter of {where} must be a 1-D array of numbers. "
            f"Got {type(x).__name__} instead."
        ) from None
    if arr.ndim != 1 or arr.size < min_size:
        raise ValidationFailed(
            f"The '{name}' parameter of {where} must be a 1-D array with at least {min_size} "
            f"values. Got shape {arr.shape} instead."
        )
    if not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.isfinite(arr))[:5].tolist()
        raise ValidationFailed(
            f"The '{name}' parameter of {where} must hold finite numbers; remove or impute "
            f"missing values first. Got NaN or infinity at positions {bad}."
        )
    return arr


def as_subgroups(x: object, where: str) -> np.ndarray:
    """A 2-D float array (m subgroups, n observations), m >= 2, 2 <= n <= 100, all finite."""
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ValidationFailed(
            f"The 'subgroups' parameter of {where} must be a 2-D array (subgroups x "
            f"observations) of numbers. Got {type(x).__name__} instead."
        ) from None
    if arr.ndim != 2 or arr.shape[0] < 2 or not 2 <= arr.shape[1] <= 100:
        raise ValidationFailed(
            f"The 'subgroups' parameter of {where} must be a 2-D array with at least 2 subgroups "
            f"(rows) of 2 to 100 observations (columns). Got shape {arr.shape} instead."
        )
    if not np.all(np.isfinite(arr)):
        raise ValidationFailed(
            f"The 'subgroups' parameter of {where} must hold finite numbers in equal-size "
            "subgroups. Got NaN or infinity."
        )
    return arr


def positive(value: object, name: str, where: str, *, allow_zero: bool = False) -> float:
    """A finite float > 0 (or >= 0)."""
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    number = float(value) if ok else float("nan")  # type: ignore[arg-type]
    if not np.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValidationFailed(
            f"The '{name}' parameter of {where} must be a finite number {bound}. "
            f"Got {value!r} instead."
        )
    return number


def phase_params(
    *,
    where: str,
    chart: str,
    params: ChartParams | None,
    center: float | None,
    sigma: float | None,
    needs_sigma: bool = True,
) -> tuple[float | None, float | None]:
    """Resolve phase II inputs: explicit ``center``/``sigma`` win over ``params``."""
    if params is not None:
        if not isinstance(params, ChartParams):
            raise ValidationFailed(
                f"The 'params' parameter of {where} must be the ChartParams of a previous "
                f"result. Got {type(params).__name__} instead."
            )
        if params.chart != chart:
            raise ValidationFailed(
                f"The 'params' parameter of {where} must come from a {chart} chart. "
                f"Got parameters of a {params.chart} chart instead."
            )
        center = params.center if center is None else center
        sigma = params.sigma if sigma is None else sigma
    if center is not None and not np.isfinite(float(center)):
        raise ValidationFailed(
            f"The 'center' parameter of {where} must be a finite number. Got {center!r} instead."
        )
    if needs_sigma and sigma is not None:
        sigma = positive(sigma, "sigma", where)
    return (None if center is None else float(center)), sigma
