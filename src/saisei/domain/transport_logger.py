"""Temperature-logger inputs: readings, bands, excursion rules, specifications, and MKT.

Time convention (stated once, used by :mod:`saisei.domain.transport_evaluation`): a logger
reading stands for the temperature from its own time until the next reading (a step function,
as logger software counts "time out of range" in logging intervals); the last reading stands for
one logging interval (the nominal ``interval_h`` of the record, else the median spacing). When a
shipment window is given, every span is clipped to it. Spacing longer than ``max_gap_h`` (default
twice the interval) is reported as a data gap, as is a logger that started after dispatch or
stopped before receipt.

Sources: ``shared/docs/domain.md`` (logger practice; USP <1079.2> for MKT). Temperatures are
configuration (ISO 21973 sets none). Import from :mod:`saisei.domain.transport`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from saisei.domain.custody_events import as_utc
from saisei.errors import FieldError, ValidationFailed

__all__ = [
    "ABSOLUTE_ZERO_C",
    "DEFAULT_DELTA_H_OVER_R",
    "ExcursionRule",
    "LoggerRecord",
    "ShockEvent",
    "ShockLimit",
    "TemperatureBand",
    "TemperatureReading",
    "TiltEvent",
    "TiltLimit",
    "TransportSpec",
    "hours_in",
    "mean_kinetic_temperature",
]

ABSOLUTE_ZERO_C = -273.15
#: dH/R in kelvin: 83.144 kJ/mol / 8.3144 J/(mol K) (USP <1079.2>).
DEFAULT_DELTA_H_OVER_R = 10000.0


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def mean_kinetic_temperature(
    temperatures_c: Iterable[float],
    durations: Iterable[float] | None = None,
    delta_h_over_r: float = DEFAULT_DELTA_H_OVER_R,
) -> float:
    """Mean kinetic temperature in degrees Celsius (USP <1079.2>).

    ``MKT = (dH/R) / -ln( sum(t_i exp(-(dH/R) / T_i)) / sum(t_i) )``, T in kelvin. Evaluated
    with a log-sum-exp so that cryogenic temperatures do not underflow.

    Parameters
    ----------
    temperatures_c : iterable of float
        Temperatures in degrees Celsius (for example, interval means).
    durations : iterable of float, optional
        Weight (duration, any one unit) of each temperature; equal weights when omitted.
    delta_h_over_r : float
        Activation energy over the gas constant, kelvin; default 10000 K (83.144 kJ/mol).

    Returns
    -------
    float
        MKT in degrees Celsius.

    Raises
    ------
    ValidationFailed
        For no temperatures, a non-finite value or one below absolute zero, durations of the
        wrong length, negative or all zero, or a non-positive ``delta_h_over_r``.

    Examples
    --------
    USP <1079.2>: weekly means 2, 2, 5, 8, 8, 8, 8 degrees C give an MKT of 6.25 degrees C.

    >>> round(mean_kinetic_temperature([2, 2, 5, 8, 8, 8, 8]), 2)
    6.25
    """
    temps = [float(t) for t in temperatures_c]
    if not temps:
        raise ValidationFailed("Mean kinetic temperature needs at least one temperature.")
    bad = [t for t in temps if not math.isfinite(t) or t <= ABSOLUTE_ZERO_C]
    if bad:
        raise ValidationFailed(
            f"Temperatures for MKT must be finite and above {ABSOLUTE_ZERO_C} C; got {bad[:5]}."
        )
    if not _finite(delta_h_over_r) or delta_h_over_r <= 0:
        raise ValidationFailed(
            f"'delta_h_over_r' must be a finite number of kelvin > 0; got {delta_h_over_r!r}."
        )
    weights = [1.0] * len(temps) if durations is None else [float(d) for d in durations]
    if len(weights) != len(temps):
        raise ValidationFailed(
            f"MKT needs one duration per temperature; got {len(weights)} "
            f"durations for {len(temps)} temperatures."
        )
    if any(not math.isfinite(w) or w < 0 for w in weights) or sum(weights) <= 0:
        raise ValidationFailed("MKT durations must be finite, >= 0 and not all zero.")
    terms = [
        math.log(w) - delta_h_over_r / (t - ABSOLUTE_ZERO_C)
        for t, w in zip(temps, weights, strict=True)
        if w > 0
    ]
    top = max(terms)
    log_sum = top + math.log(math.fsum(math.exp(a - top) for a in terms))
    mkt_k = delta_h_over_r / (math.log(math.fsum(weights)) - log_sum)
    return mkt_k + ABSOLUTE_ZERO_C


@dataclass(frozen=True)
class TemperatureReading:
    """One logger reading: time (timezone-aware, stored in UTC) and temperature in C."""

    at: datetime
    temperature_c: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", as_utc(self.at, "at"))
        if not _finite(self.temperature_c) or self.temperature_c <= ABSOLUTE_ZERO_C:
            raise ValidationFailed(
                f"A temperature reading at {self.at.isoformat()} must be a "
                f"finite number of C above absolute zero; got "
                f"{self.temperature_c!r}."
            )


@dataclass(frozen=True)
class ShockEvent:
    """A shock the logger recorded: time and peak acceleration in g."""

    at: datetime
    peak_g: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", as_utc(self.at, "at"))
        if not _finite(self.peak_g) or self.peak_g < 0:
            raise ValidationFailed(
                f"A shock's peak must be a finite number of g >= 0; got {self.peak_g!r}."
            )


@dataclass(frozen=True)
class TiltEvent:
    """A tilt the logger recorded: time and angle from upright in degrees (0-180)."""

    at: datetime
    angle_deg: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", as_utc(self.at, "at"))
        if not _finite(self.angle_deg) or not 0 <= self.angle_deg <= 180:
            raise ValidationFailed(f"A tilt angle must be 0-180 degrees; got {self.angle_deg!r}.")


@dataclass(frozen=True)
class LoggerRecord:
    """Everything one logger recorded on one shipment.

    Attributes
    ----------
    logger_id : str
        The logger's identifier.
    readings : tuple of TemperatureReading
        At least one, strictly increasing in time. A logger file with no readings is rejected.
    interval_h : float or None
        Nominal logging interval in hours (1-5 min is usual: 1/60 to 1/12 h).
    shocks, tilts : tuple
        Shock and tilt events recorded.
    """

    logger_id: str
    readings: tuple[TemperatureReading, ...]
    interval_h: float | None = None
    shocks: tuple[ShockEvent, ...] = ()
    tilts: tuple[TiltEvent, ...] = ()

    def __post_init__(self) -> None:
        for name in ("readings", "shocks", "tilts"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        errors: list[FieldError] = []
        if not self.readings:
            raise ValidationFailed(
                f"Logger {self.logger_id!r} has no readings; a logger file "
                "with no readings is rejected. Load the logger's data again."
            )
        if self.interval_h is not None and (not _finite(self.interval_h) or self.interval_h <= 0):
            errors.append(
                FieldError(
                    "must be a finite number of hours > 0",
                    field="interval_h",
                    value=self.interval_h,
                )
            )
        for i, (a, b) in enumerate(pairwise(self.readings), 2):
            if b.at <= a.at:
                errors.append(
                    FieldError(
                        f"time {b.at.isoformat()} is not after the reading "
                        f"before ({a.at.isoformat()})",
                        row=i,
                        field="at",
                        value=b.at,
                    )
                )
        if errors:
            raise ValidationFailed(f"Logger {self.logger_id!r} data are not usable.", errors)

    @classmethod
    def from_series(
        cls,
        logger_id: str,
        times: Sequence[datetime],
        temperatures_c: Sequence[float],
        *,
        interval_h: float | None = None,
    ) -> LoggerRecord:
        """Build a record from parallel sequences of times and temperatures."""
        if len(times) != len(temperatures_c):
            raise ValidationFailed(
                f"Logger {logger_id!r}: {len(times)} times but {len(temperatures_c)} temperatures."
            )
        readings = tuple(
            TemperatureReading(t, float(v)) for t, v in zip(times, temperatures_c, strict=True)
        )
        return cls(logger_id, readings, interval_h)

    @property
    def typical_interval_h(self) -> float:
        """The nominal interval, else the median spacing of readings (0 for one reading)."""
        if self.interval_h is not None:
            return self.interval_h
        spacings = [hours_in(b.at - a.at) for a, b in pairwise(self.readings)]
        return statistics.median(spacings) if spacings else 0.0


@dataclass(frozen=True)
class TemperatureBand:
    """A temperature band, bounds inclusive; ``None`` leaves a side open.

    Examples
    --------
    >>> TemperatureBand("2-8 C", 2.0, 8.0).contains(8.0)
    True
    """

    name: str
    low_c: float | None
    high_c: float | None

    def __post_init__(self) -> None:
        errors = [
            FieldError("must be a finite number or None", field=f, value=getattr(self, f))
            for f in ("low_c", "high_c")
            if getattr(self, f) is not None and not _finite(getattr(self, f))
        ]
        if self.low_c is None and self.high_c is None:
            errors.append(FieldError("a band needs at least one bound", field="low_c"))
        elif (
            not errors
            and self.low_c is not None
            and self.high_c is not None
            and self.low_c > self.high_c
        ):
            errors.append(
                FieldError("low_c must not exceed high_c", field="low_c", value=self.low_c)
            )
        if errors:
            raise ValidationFailed(f"Temperature band {self.name!r} is not valid.", errors)

    def contains(self, temperature_c: float) -> bool:
        """True when ``temperature_c`` is inside the band (bounds included)."""
        return (self.low_c is None or temperature_c >= self.low_c) and (
            self.high_c is None or temperature_c <= self.high_c
        )


@dataclass(frozen=True)
class ExcursionRule:
    """A band and how long the temperature may be outside it.

    Attributes
    ----------
    band : TemperatureBand
        The band the product should stay in.
    max_continuous_h : float or None
        Longest single excursion allowed (an excursion lasting exactly this is allowed).
    max_cumulative_h : float or None
        Total time outside the band allowed.
        With both limits None, no time at all outside the band is allowed.
    """

    band: TemperatureBand
    max_continuous_h: float | None = None
    max_cumulative_h: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_continuous_h", "max_cumulative_h"):
            value = getattr(self, name)
            if value is not None and (not _finite(value) or value < 0):
                raise ValidationFailed(
                    f"Excursion rule for band {self.band.name!r}: '{name}' "
                    f"must be a finite number of hours >= 0; got {value!r}."
                )


@dataclass(frozen=True)
class ShockLimit:
    """Count shocks with peak strictly above ``threshold_g``; more than ``max_count`` fails."""

    threshold_g: float
    max_count: int = 0

    def __post_init__(self) -> None:
        _check_count_limit("shock", "threshold_g", self.threshold_g, self.max_count)


@dataclass(frozen=True)
class TiltLimit:
    """Count tilts strictly above ``threshold_deg``; more than ``max_count`` fails."""

    threshold_deg: float
    max_count: int = 0

    def __post_init__(self) -> None:
        _check_count_limit("tilt", "threshold_deg", self.threshold_deg, self.max_count)


def _check_count_limit(kind: str, name: str, threshold: float, max_count: int) -> None:
    errors = []
    if not _finite(threshold) or threshold < 0:
        errors.append(FieldError("must be a finite number >= 0", field=name, value=threshold))
    if isinstance(max_count, bool) or not isinstance(max_count, int) or max_count < 0:
        errors.append(FieldError("must be an int >= 0", field="max_count", value=max_count))
    if errors:
        raise ValidationFailed(f"The {kind} limit is not valid.", errors)


@dataclass(frozen=True)
class TransportSpec:
    """The transport specification of a product's shipments (ISO 21973: product configuration).

    Attributes
    ----------
    name : str
        E.g. ``"fresh leukapheresis 2-8 C"``.
    rules : tuple of ExcursionRule
        One per band; the first is the labelled range (the headline time out of range).
    shock_limits, tilt_limits : tuple
        Thresholds to count at and the counts allowed.
    max_mkt_c : float or None
        Highest acceptable mean kinetic temperature.
    delta_h_over_r : float
        For MKT, kelvin.
    max_gap_h : float or None
        Longest spacing of readings that is not a data gap; default twice the interval.
    """

    name: str
    rules: tuple[ExcursionRule, ...]
    shock_limits: tuple[ShockLimit, ...] = ()
    tilt_limits: tuple[TiltLimit, ...] = ()
    max_mkt_c: float | None = None
    delta_h_over_r: float = DEFAULT_DELTA_H_OVER_R
    max_gap_h: float | None = None

    def __post_init__(self) -> None:
        for name in ("rules", "shock_limits", "tilt_limits"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not self.rules:
            raise ValidationFailed(
                f"Transport specification {self.name!r} needs at least one "
                "excursion rule (the labelled temperature band)."
            )
        names = [rule.band.name for rule in self.rules]
        if len(set(names)) != len(names):
            raise ValidationFailed(
                f"Transport specification {self.name!r}: band names must be unique; got {names}."
            )


def hours_in(delta: timedelta) -> float:
    """A timedelta in hours."""
    return delta.total_seconds() / 3600.0
