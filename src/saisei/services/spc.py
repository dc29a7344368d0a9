"""Control charts and capability of stored quality attributes and process parameters.

What a plotted point is (see ``docs/cli.md``, ``saisei spc``):

- ``imr``, ``ewma``, ``cusum``: one point per lot, the lot's value (mean of its valid results),
  lots in manufacturing order (:mod:`saisei.services._data`).
- ``xbar-r``, ``xbar-s``: consecutive lots in that order form subgroups of ``subgroup_size``;
  lots left over at the end (an incomplete subgroup) are not charted and are listed in
  ``unused_lots``.
- ``p``: one point per calendar month (UTC) of lot start: the fraction of that month's lots
  whose value is outside specification (strictly below the lower or above the upper limit),
  with the month's number of lots as the sample size. Limits are the release specification
  stored for the attribute in each lot's process, or ``lsl``/``usl`` when given (which then
  replace the stored limits for every lot).
- ``u``: one point per calendar month: nonconformities per lot, where each lot's value is a
  count (a non-negative whole number, e.g. contaminated units or deviations found by a QC
  test) and the month's number of lots is the number of inspection units.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from saisei.analytics.spc import (
    ControlChartResult,
    NonNormalDataWarning,
    capability,
    cusum_chart,
    ewma_chart,
    individuals_chart,
    p_chart,
    u_chart,
    xbar_r_chart,
    xbar_s_chart,
)
from saisei.errors import ValidationFailed
from saisei.services._data import LotSeries, lot_series
from saisei.storage.store import Store

__all__ = [
    "CHARTS",
    "RULE_PRESETS",
    "CapabilityReport",
    "ChartLimits",
    "ChartPoint",
    "ChartViolation",
    "SpcChartReport",
    "spc_capability",
    "spc_chart",
]

CHARTS = ("imr", "xbar-r", "xbar-s", "ewma", "cusum", "p", "u")
RULE_PRESETS = ("nelson", "we", "none")
_NO_EXCLUSION = ("ewma", "cusum")
_POINT_DEFINITIONS = {
    "imr": "one point per lot: the mean of its valid results",
    "ewma": "one point per lot: the mean of its valid results",
    "cusum": "one point per lot: the mean of its valid results",
    "xbar-r": "one subgroup per {n} consecutive lots",
    "xbar-s": "one subgroup per {n} consecutive lots",
    "p": "one point per month of lot start: fraction of lots outside specification",
    "u": "one point per month of lot start: count per lot (lot value = count)",
}


def _number(value: Any) -> float | None:
    """A finite float, or None for NaN (JSON has no NaN)."""
    number = float(value)
    return number if np.isfinite(number) else None


@dataclass(frozen=True)
class ChartLimits:
    """Center line and control limits of one series.

    A value is None where the series has none (e.g. no lower CUSUM limit) or where it varies
    by point (``varying`` is then True; p and u limits with unequal sizes, exact EWMA limits);
    the points carry the limits at each point.
    """

    series: str
    center: float | None
    lcl: float | None
    ucl: float | None
    varying: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {
            "series": self.series,
            "center": self.center,
            "lcl": self.lcl,
            "ucl": self.ucl,
            "varying": self.varying,
        }


@dataclass(frozen=True)
class ChartPoint:
    """One plotted point of one series, with the lots behind it."""

    series: str
    index: int
    label: str
    lots: tuple[str, ...]
    statistic: float | None
    center: float | None
    lcl: float | None
    ucl: float | None
    beyond_limits: bool
    excluded: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {**self.__dict__, "lots": list(self.lots)}


@dataclass(frozen=True)
class ChartViolation:
    """A point beyond a control limit (``rule`` None) or a run rule firing (Nelson number)."""

    index: int
    label: str
    lots: tuple[str, ...]
    series: str
    rule: int | None
    name: str

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {**self.__dict__, "lots": list(self.lots)}

    def describe(self) -> str:
        """One line for people: what fired where."""
        what = f"rule {self.rule} ({self.name})" if self.rule else f"beyond {self.series} limits"
        lots = ", ".join(self.lots)
        return f"point {self.index} [{self.label}]: {what}; lots {lots}"


@dataclass(frozen=True)
class SpcChartReport:
    """A control chart of stored data: limits, every point and every violation.

    Attributes
    ----------
    name, kind, unit, stage, product : str or None
        What was charted (``kind`` is ``attribute`` or ``parameter``).
    chart : str
        One of :data:`CHARTS`.
    rules : str or None
        Run-rule preset applied to the primary series (None for EWMA and CUSUM, or ``none``).
    definition : str
        What one point is.
    phase : str
        Always "I": limits are estimated from these data.
    params : dict
        ``center``, ``sigma`` (NaN -> None for p and u), ``subgroup_size``.
    options : dict
        Chart design constants (``n_sigma``, ``lam``, ``k``, ``h``).
    limits : tuple of ChartLimits
        One per series, primary first.
    points : tuple of ChartPoint
        Every point of every series.
    violations : tuple of ChartViolation
        Points beyond limits and run-rule firings, in point order.
    excluded : tuple of str
        Labels of points left out of the limits by iterative exclusion.
    unused_lots : tuple of str
        Lots not charted (an incomplete last subgroup).
    summary_text : str
        The analytics' plain-text summary.
    """

    name: str
    kind: str
    unit: str | None
    stage: str | None
    product: str | None
    chart: str
    rules: str | None
    definition: str
    phase: str
    params: dict[str, Any]
    options: dict[str, Any]
    limits: tuple[ChartLimits, ...]
    points: tuple[ChartPoint, ...]
    violations: tuple[ChartViolation, ...]
    excluded: tuple[str, ...] = ()
    unused_lots: tuple[str, ...] = ()
    summary_text: str = ""

    @property
    def in_control(self) -> bool:
        """No point beyond a limit and no run rule fired."""
        return not self.violations

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {
            "name": self.name,
            "kind": self.kind,
            "unit": self.unit,
            "stage": self.stage,
            "product": self.product,
            "chart": self.chart,
            "rules": self.rules,
            "definition": self.definition,
            "phase": self.phase,
            "params": dict(self.params),
            "options": dict(self.options),
            "in_control": self.in_control,
            "limits": [lim.to_dict() for lim in self.limits],
            "violations": [v.to_dict() for v in self.violations],
            "excluded": list(self.excluded),
            "unused_lots": list(self.unused_lots),
            "points": [p.to_dict() for p in self.points],
        }


@dataclass(frozen=True)
class _Points:
    """What the chart function receives, and the labels and lots of each point."""

    labels: list[str]
    lots: list[tuple[str, ...]]
    unused: tuple[str, ...] = ()


def _choice(value: str, options: Sequence[str], option: str) -> str:
    if value not in options:
        raise ValidationFailed(
            f"The '{option}' option must be one of {', '.join(options)}. Got {value!r} instead."
        )
    return value


def _subgroups(frame: pd.DataFrame, size: int) -> tuple[np.ndarray, _Points]:
    if isinstance(size, bool) or not isinstance(size, int) or size < 2:
        raise ValidationFailed(
            f"The 'subgroup-size' option must be an integer >= 2. Got {size!r} instead."
        )
    m = len(frame) // size
    if m < 2:
        raise ValidationFailed(
            f"An X-bar chart with subgroups of {size} consecutive lots needs at least "
            f"{2 * size} lots; {len(frame)} are stored. Use a smaller --subgroup-size or --chart "
            "imr."
        )
    lots = frame["lot"].tolist()
    groups = [tuple(lots[i * size : (i + 1) * size]) for i in range(m)]
    values = frame["value"].to_numpy(dtype=float)[: m * size].reshape(m, size)
    labels = [f"{g[0]}..{g[-1]}" for g in groups]
    return values, _Points(labels, groups, tuple(lots[m * size :]))


def _limits_frame(frame: pd.DataFrame, lsl: float | None, usl: float | None) -> pd.DataFrame:
    if lsl is not None or usl is not None:
        frame = frame.assign(
            lower=np.nan if lsl is None else lsl, upper=np.nan if usl is None else usl
        )
    missing = frame.loc[frame["lower"].isna() & frame["upper"].isna(), "lot"].tolist()
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise ValidationFailed(
            "A p chart counts lots outside specification, but no release specification is "
            f"stored for {len(missing)} lot(s) ({shown}). Give the limits with --lsl and/or --usl."
        )
    return frame


def _by_month(frame: pd.DataFrame, counts: pd.Series, chart: str) -> tuple[pd.DataFrame, _Points]:
    months = frame["time"].dt.strftime("%Y-%m")
    grouped = (
        pd.DataFrame({"month": months, "count": counts, "lot": frame["lot"]})
        .groupby("month", sort=True)
        .agg(count=("count", "sum"), size=("lot", "size"), lots=("lot", tuple))
    )
    if len(grouped) < 2:
        raise ValidationFailed(
            f"A {chart} chart plots one point per month of lot start and needs lots in at "
            f"least 2 months; the stored lots fall in {len(grouped)}. Use --chart imr instead."
        )
    return grouped, _Points(grouped.index.tolist(), list(grouped["lots"]))


def _p_input(
    frame: pd.DataFrame, lsl: float | None, usl: float | None
) -> tuple[pd.DataFrame, _Points]:
    frame = _limits_frame(frame, lsl, usl)
    out = (frame["value"] < frame["lower"]) | (frame["value"] > frame["upper"])
    return _by_month(frame, out.astype(int), "p")


def _u_input(frame: pd.DataFrame) -> tuple[pd.DataFrame, _Points]:
    values = frame["value"]
    bad = frame.loc[(values < 0) | (values != np.round(values)), "lot"].tolist()
    if bad:
        raise ValidationFailed(
            "A u chart needs each lot's value to be a count (a whole number >= 0); lots "
            f"{', '.join(bad[:10])} hold other values. Chart them with --chart imr."
        )
    return _by_month(frame, values, "u")


def _run_chart(
    series: LotSeries,
    chart: str,
    rules: Any,
    *,
    subgroup_size: int,
    lsl: float | None,
    usl: float | None,
    exclude: bool,
    lam: float,
    k: float,
    h: float,
) -> tuple[ControlChartResult, _Points]:
    frame = series.frame
    per_lot = _Points(frame["lot"].tolist(), [(lot,) for lot in frame["lot"]])
    values = frame["value"].to_numpy(dtype=float)
    common = {"exclude_out_of_control": exclude, "rules": rules}
    if chart == "imr":
        return individuals_chart(values, **common), per_lot
    if chart == "ewma":
        return ewma_chart(values, lam=lam), per_lot
    if chart == "cusum":
        return cusum_chart(values, k=k, h=h), per_lot
    if chart in ("xbar-r", "xbar-s"):
        groups, points = _subgroups(frame, subgroup_size)
        function = xbar_r_chart if chart == "xbar-r" else xbar_s_chart
        return function(groups, **common), points
    if chart == "p":
        grouped, points = _p_input(frame, lsl, usl)
        return p_chart(grouped["count"], grouped["size"], **common), points
    grouped, points = _u_input(frame)
    return u_chart(grouped["count"], grouped["size"], **common), points


def _constant(values: np.ndarray) -> tuple[float | None, bool]:
    """The value shared by every finite entry (None if none or if it varies), and whether it
    varies."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None, False
    if np.ptp(finite) > 0:
        return None, True
    return float(finite[0]), False


def _limits(result: ControlChartResult) -> tuple[ChartLimits, ...]:
    out = []
    for s in result.series:
        (center, c_var), (lcl, l_var), (ucl, u_var) = map(_constant, (s.center, s.lcl, s.ucl))
        out.append(ChartLimits(s.name, center, lcl, ucl, c_var or l_var or u_var))
    return tuple(out)


def _points(result: ControlChartResult, points: _Points) -> tuple[ChartPoint, ...]:
    out: list[ChartPoint] = []
    for s in result.series:
        beyond = s.beyond_limits
        out.extend(
            ChartPoint(
                series=s.name,
                index=i,
                label=points.labels[i],
                lots=points.lots[i],
                statistic=_number(s.statistic[i]),
                center=_number(s.center[i]),
                lcl=_number(s.lcl[i]),
                ucl=_number(s.ucl[i]),
                beyond_limits=bool(beyond[i]),
                excluded=bool(result.excluded[i]),
            )
            for i in range(s.statistic.size)
        )
    return tuple(out)


def _violations(result: ControlChartResult, points: _Points) -> tuple[ChartViolation, ...]:
    found: list[tuple[int, int, ChartViolation]] = []

    def add(index: int, series: str, rule: int | None, name: str) -> None:
        violation = ChartViolation(
            index, points.labels[index], points.lots[index], series, rule, name
        )
        found.append((index, rule or 0, violation))

    for s in result.series:
        for i in np.flatnonzero(s.beyond_limits):
            add(int(i), s.name, None, "beyond_limits")
    if result.rules is not None:
        for v in result.rules.violations:
            add(v.index, result.primary.name, v.rule, v.name)
    return tuple(v for _, _, v in sorted(found, key=lambda t: (t[0], t[1])))


def spc_chart(
    store: Store,
    name: str,
    *,
    chart: str = "imr",
    rules: str = "nelson",
    kind: str = "auto",
    product: str | None = None,
    stage: str | None = None,
    subgroup_size: int = 5,
    lsl: float | None = None,
    usl: float | None = None,
    exclude_out_of_control: bool = False,
    lam: float = 0.2,
    k: float = 0.5,
    h: float = 5.0,
) -> SpcChartReport:
    """Phase I control chart of a stored attribute or parameter across lots.

    Parameters
    ----------
    name : str
        QC attribute (valid QC results) or process parameter (recorded values).
    chart : {"imr", "xbar-r", "xbar-s", "ewma", "cusum", "p", "u"}
        See the module docstring for what each point is.
    rules : {"nelson", "we", "none"}
        Run rules on the primary series (not applied to EWMA and CUSUM).
    kind, product, stage
        Which values: see :func:`saisei.services._data.lot_series`.
    subgroup_size : int, default 5
        Consecutive lots per subgroup for the X-bar charts.
    lsl, usl : float, optional
        Specification limits for the p chart (replace the stored release specification).
    exclude_out_of_control : bool
        Iteratively drop points beyond the limits from the estimates (not EWMA, CUSUM).
    lam, k, h : float
        EWMA weight; CUSUM reference value and decision interval, in sigmas.

    Raises
    ------
    NotFound
        If nothing is stored under ``name``.
    ValidationFailed
        For unknown options or data the chart cannot take.
    """
    _choice(chart, CHARTS, "chart")
    _choice(rules, RULE_PRESETS, "rules")
    if exclude_out_of_control and chart in _NO_EXCLUSION:
        raise ValidationFailed(
            f"Iterative exclusion is not offered for the {chart} chart (its points are "
            "autocorrelated). Leave out --exclude-out-of-control, or use --chart imr."
        )
    if (lsl is not None or usl is not None) and chart != "p":
        raise ValidationFailed(
            f"--lsl and --usl apply to the p chart only, not to the {chart} chart. "
            "For capability against specification limits use 'saisei spc capability'."
        )
    series = lot_series(store, name, kind=kind, product=product, stage=stage)
    preset = None if rules == "none" or chart in _NO_EXCLUSION else rules
    result, points = _run_chart(
        series,
        chart,
        preset,
        subgroup_size=subgroup_size,
        lsl=lsl,
        usl=usl,
        exclude=exclude_out_of_control,
        lam=lam,
        k=k,
        h=h,
    )
    p = result.params
    return SpcChartReport(
        name=name,
        kind=series.kind,
        unit=series.unit,
        stage=series.stage,
        product=product,
        chart=chart,
        rules=preset,
        definition=_POINT_DEFINITIONS[chart].format(n=subgroup_size),
        phase=result.phase,
        params={
            "center": _number(p.center),
            "sigma": _number(p.sigma),
            "subgroup_size": p.subgroup_size,
        },
        options={
            key: value if isinstance(value, str) else float(value)
            for key, value in result.options.items()
        },
        limits=_limits(result),
        points=_points(result, points),
        violations=_violations(result, points),
        excluded=tuple(points.labels[i] for i in np.flatnonzero(result.excluded)),
        unused_lots=points.unused,
        summary_text=result.summary(),
    )


@dataclass(frozen=True)
class CapabilityReport:
    """Capability and performance indices of a stored attribute or parameter.

    Attributes
    ----------
    name, kind, unit, stage, product
        What was analysed.
    lots : tuple of str
        Lots used, in manufacturing order (one value per lot).
    lsl, usl : float or None
        Specification limits used.
    limits_source : {"specification", "options"}
        Whether the limits are the stored release specification or were given.
    method : str
        ``normal``, ``boxcox`` or ``percentile``.
    n, mean, sigma_within, sigma_overall, normality_pvalue, ppm_below, ppm_above
        As in :class:`saisei.analytics.spc.CapabilityResult` (None for NaN).
    indices : dict
        ``{"cp": {"estimate", "ci_low", "ci_high"}, ...}`` for cp, cpl, cpu, cpk, pp, ppl,
        ppu, ppk.
    confidence : float
    warnings : tuple of str
        Normality warnings: normal-theory indices may mislead.
    """

    name: str
    kind: str
    unit: str | None
    stage: str | None
    product: str | None
    lots: tuple[str, ...]
    lsl: float | None
    usl: float | None
    limits_source: str
    method: str
    n: int
    mean: float | None
    sigma_within: float | None
    sigma_overall: float | None
    normality_pvalue: float | None
    ppm_below: float | None
    ppm_above: float | None
    indices: dict[str, dict[str, float | None]]
    confidence: float
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        out = dict(self.__dict__)
        out["lots"] = list(self.lots)
        out["warnings"] = list(self.warnings)
        out["indices"] = {k: dict(v) for k, v in self.indices.items()}
        return out


def _spec_limits(
    series: LotSeries, lsl: float | None, usl: float | None
) -> tuple[float | None, float | None, str]:
    if lsl is not None or usl is not None:
        return lsl, usl, "options"
    frame = series.frame
    stored = frame.loc[frame["lower"].notna() | frame["upper"].notna(), ["lower", "upper"]]
    found = {(_number(lo), _number(hi)) for lo, hi in stored.itertuples(index=False)}
    pairs = sorted(found, key=str)
    if not pairs:
        raise ValidationFailed(
            f"No release specification is stored for {series.name!r}. "
            "Give the limits with --lsl and/or --usl."
        )
    if len(pairs) > 1:
        shown = "; ".join(f"[{lo}, {hi}]" for lo, hi in pairs)
        raise ValidationFailed(
            f"The lots of {series.name!r} have different release specifications ({shown}). "
            "Narrow them with --product or give the limits with --lsl and/or --usl."
        )
    lower, upper = pairs[0]
    return lower, upper, "specification"


def spc_capability(
    store: Store,
    name: str,
    *,
    lsl: float | None = None,
    usl: float | None = None,
    kind: str = "auto",
    product: str | None = None,
    stage: str | None = None,
    method: str = "normal",
    confidence: float = 0.95,
) -> CapabilityReport:
    """Cp, Cpk, Pp, Ppk (with intervals) of one value per lot against specification limits.

    Limits default to the release :class:`Specification` stored for the attribute in the
    lots' process definition; ``lsl``/``usl`` replace it (one of them alone gives a one-sided
    specification). Within sigma is MR-bar / d2(2) over lots in manufacturing order.

    Raises
    ------
    NotFound
        If nothing is stored under ``name``.
    ValidationFailed
        When no limits are stored or given, lots disagree on their specification, or the
        analytics refuse the data.
    """
    series = lot_series(store, name, kind=kind, product=product, stage=stage)
    lower, upper, source = _spec_limits(series, lsl, usl)
    values = series.frame["value"].to_numpy(dtype=float)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NonNormalDataWarning)
        result = capability(values, lsl=lower, usl=upper, method=method, confidence=confidence)
    notes = []
    for w in caught:
        if issubclass(w.category, NonNormalDataWarning):
            notes.append(str(w.message))
        else:  # not ours to swallow
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    cis = {"cp": result.cp_ci, "cpk": result.cpk_ci, "pp": result.pp_ci, "ppk": result.ppk_ci}
    indices = {
        index: {
            "estimate": _number(getattr(result, index)),
            "ci_low": _number(cis.get(index, (np.nan, np.nan))[0]),
            "ci_high": _number(cis.get(index, (np.nan, np.nan))[1]),
        }
        for index in ("cp", "cpl", "cpu", "cpk", "pp", "ppl", "ppu", "ppk")
    }
    return CapabilityReport(
        name=name,
        kind=series.kind,
        unit=series.unit,
        stage=series.stage,
        product=product,
        lots=tuple(series.frame["lot"]),
        lsl=lower,
        usl=upper,
        limits_source=source,
        method=result.method,
        n=result.n,
        mean=_number(result.mean),
        sigma_within=_number(result.sigma_within),
        sigma_overall=_number(result.sigma_overall),
        normality_pvalue=_number(result.normality_pvalue),
        ppm_below=_number(result.ppm_below),
        ppm_above=_number(result.ppm_above),
        indices=indices,
        confidence=confidence,
        warnings=tuple(notes),
    )
