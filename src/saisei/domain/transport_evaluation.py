"""Evaluating logger records against a transport specification, and the receipt decision.

:func:`evaluate_logger` reports, for one logger over the shipment window, min, max, mean kinetic
temperature, and per band the time out of range, the excursions and whether the band's rule is
broken; shock and tilt counts above each threshold; and data gaps. :func:`decide_receipt` turns
the evaluations of a shipment into *accept* or *quarantine for QA review*; every excursion must
be acknowledged with a comment (:func:`acknowledge_excursion`) before a shipment is accepted.
The time convention is stated in :mod:`saisei.domain.transport_logger`. Import from
:mod:`saisei.domain.transport`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise

from saisei.domain.custody_events import as_utc
from saisei.domain.transport_logger import (
    ExcursionRule,
    LoggerRecord,
    TemperatureBand,
    TemperatureReading,
    TransportSpec,
    hours_in,
    mean_kinetic_temperature,
)
from saisei.errors import FieldError, ValidationFailed

__all__ = [
    "BandEvaluation",
    "DataGap",
    "Excursion",
    "ExcursionAcknowledgement",
    "LoggerEvaluation",
    "ReceiptDecision",
    "ReceiptOutcome",
    "ShockCount",
    "TiltCount",
    "acknowledge_excursion",
    "decide_receipt",
    "evaluate_logger",
]

_EPS_H = 1e-10  # hours, below datetime resolution; absorbs float noise at exact limits


@dataclass(frozen=True)
class Excursion:
    """A continuous stretch of readings outside one band.

    Attributes
    ----------
    logger_id, band : str
        Where it was seen.
    start, end : datetime
        From the first reading outside to the next reading back inside (or the window end).
    duration_h : float
        Hours outside the band.
    min_c, max_c : float
        Extreme temperatures during the excursion.
    n_readings : int
        Readings outside the band.
    """

    logger_id: str
    band: str
    start: datetime
    end: datetime
    duration_h: float
    min_c: float
    max_c: float
    n_readings: int

    @property
    def key(self) -> str:
        """Stable identifier ``logger/band/start`` used by acknowledgements."""
        return f"{self.logger_id}/{self.band}/{self.start.isoformat()}"


@dataclass(frozen=True)
class BandEvaluation:
    """One rule applied to one logger."""

    rule: ExcursionRule
    time_out_of_range_h: float
    longest_excursion_h: float
    excursions: tuple[Excursion, ...]
    violated: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ShockCount:
    """Shocks above one threshold."""

    threshold_g: float
    count: int
    max_count: int

    @property
    def exceeded(self) -> bool:
        """True when more shocks than allowed were counted."""
        return self.count > self.max_count


@dataclass(frozen=True)
class TiltCount:
    """Tilts above one threshold."""

    threshold_deg: float
    count: int
    max_count: int

    @property
    def exceeded(self) -> bool:
        """True when more tilts than allowed were counted."""
        return self.count > self.max_count


@dataclass(frozen=True)
class DataGap:
    """A stretch of the shipment without readings: ``gap``, ``late_start`` or ``early_stop``."""

    kind: str
    start: datetime
    end: datetime
    duration_h: float


@dataclass(frozen=True)
class LoggerEvaluation:
    """The evaluation of one logger against a transport specification.

    Attributes
    ----------
    logger_id, spec_name : str
        What was evaluated against what.
    start, end : datetime
        The window evaluated.
    n_readings : int
        Readings inside the window.
    min_c, max_c, mkt_c : float
        Lowest, highest and mean kinetic temperature over the window.
    bands : tuple of BandEvaluation
        One per rule, in the specification's order.
    shock_counts, tilt_counts : tuple
        One per limit.
    gaps : tuple of DataGap
        Missing data.
    mkt_exceeded : bool
        True when the MKT is above ``max_mkt_c``.
    """

    logger_id: str
    spec_name: str
    start: datetime
    end: datetime
    n_readings: int
    min_c: float
    max_c: float
    mkt_c: float
    bands: tuple[BandEvaluation, ...]
    shock_counts: tuple[ShockCount, ...]
    tilt_counts: tuple[TiltCount, ...]
    gaps: tuple[DataGap, ...]
    mkt_exceeded: bool

    @property
    def time_out_of_range_h(self) -> float:
        """Hours outside the first (labelled) band."""
        return self.bands[0].time_out_of_range_h

    @property
    def excursions(self) -> tuple[Excursion, ...]:
        """Every excursion from every band."""
        return tuple(e for band in self.bands for e in band.excursions)

    @property
    def problems(self) -> tuple[str, ...]:
        """Why this logger calls for QA review (empty when nothing does)."""
        found = [reason for band in self.bands for reason in band.reasons]
        found += [
            f"{c.count} shock(s) above {c.threshold_g:g} g (allowed {c.max_count})"
            for c in self.shock_counts
            if c.exceeded
        ]
        found += [
            f"{c.count} tilt(s) above {c.threshold_deg:g} degrees (allowed {c.max_count})"
            for c in self.tilt_counts
            if c.exceeded
        ]
        if self.mkt_exceeded:
            found.append(f"mean kinetic temperature {self.mkt_c:.2f} C is above the limit")
        found += [
            f"no readings for {g.duration_h:.2f} h ({g.kind.replace('_', ' ')}) from "
            f"{g.start.isoformat()}"
            for g in self.gaps
        ]
        return tuple(f"logger {self.logger_id}: {p}" for p in found)


@dataclass(frozen=True)
class _Span:
    reading: TemperatureReading
    start: datetime
    end: datetime

    @property
    def duration_h(self) -> float:
        return hours_in(self.end - self.start)


def _spans(record: LoggerRecord, start: datetime, end: datetime) -> list[_Span]:
    """Each reading's span, clipped to the window; readings that do not touch it are left out."""
    last = timedelta(hours=record.typical_interval_h)
    readings = record.readings
    spans = []
    for i, reading in enumerate(readings):
        until = readings[i + 1].at if i + 1 < len(readings) else reading.at + last
        lo, hi = max(reading.at, start), min(until, end)
        if hi > lo or start <= reading.at <= end:
            spans.append(_Span(reading, lo, max(hi, lo)))
    return spans


def _excursions(logger_id: str, band: TemperatureBand, spans: list[_Span]) -> list[Excursion]:
    runs: list[list[_Span]] = []
    for span in spans:
        if band.contains(span.reading.temperature_c):
            runs.append([])
        elif runs and runs[-1]:
            runs[-1].append(span)
        else:
            runs.append([span])
    found = []
    for run in (r for r in runs if r):
        temps = [s.reading.temperature_c for s in run]
        found.append(
            Excursion(
                logger_id,
                band.name,
                run[0].start,
                run[-1].end,
                sum(s.duration_h for s in run),
                min(temps),
                max(temps),
                len(run),
            )
        )
    return found


def _band_evaluation(logger_id: str, rule: ExcursionRule, spans: list[_Span]) -> BandEvaluation:
    excursions = _excursions(logger_id, rule.band, spans)
    tor_h = sum(e.duration_h for e in excursions)
    longest_h = max((e.duration_h for e in excursions), default=0.0)
    band = _describe(rule.band)
    reasons = []
    if rule.max_cumulative_h is None and rule.max_continuous_h is None and excursions:
        reasons.append(
            f"{tor_h:.2f} h outside {band} in {len(excursions)} excursion(s), where "
            "no time outside is allowed"
        )
    if rule.max_cumulative_h is not None and tor_h > rule.max_cumulative_h + _EPS_H:
        reasons.append(
            f"{tor_h:.2f} h outside {band} in all, more than the "
            f"{rule.max_cumulative_h:g} h allowed cumulatively"
        )
    if rule.max_continuous_h is not None and longest_h > rule.max_continuous_h + _EPS_H:
        reasons.append(
            f"an excursion of {longest_h:.2f} h outside {band}, longer than the "
            f"{rule.max_continuous_h:g} h allowed continuously"
        )
    return BandEvaluation(rule, tor_h, longest_h, tuple(excursions), bool(reasons), tuple(reasons))


def _describe(band: TemperatureBand) -> str:
    low = "" if band.low_c is None else f">= {band.low_c:g} C"
    high = "" if band.high_c is None else f"<= {band.high_c:g} C"
    bounds = " and ".join(part for part in (low, high) if part)
    return f"band '{band.name}' ({bounds})"


def _gaps(
    readings: list[TemperatureReading], start: datetime, end: datetime, max_gap_h: float | None
) -> tuple[DataGap, ...]:
    if max_gap_h is None or not readings:
        return ()
    limit = timedelta(hours=max_gap_h + _EPS_H)
    gaps = []
    if readings[0].at - start > limit:
        gaps.append(DataGap("late_start", start, readings[0].at, hours_in(readings[0].at - start)))
    for a, b in pairwise(readings):
        if b.at - a.at > limit:
            gaps.append(DataGap("gap", a.at, b.at, hours_in(b.at - a.at)))
    if end - readings[-1].at > limit:
        gaps.append(DataGap("early_stop", readings[-1].at, end, hours_in(end - readings[-1].at)))
    return tuple(gaps)


def _window(
    record: LoggerRecord, dispatched_at: datetime | None, received_at: datetime | None
) -> tuple[datetime, datetime]:
    start = (
        as_utc(dispatched_at, "dispatched_at")
        if dispatched_at is not None
        else record.readings[0].at
    )
    end = (
        as_utc(received_at, "received_at")
        if received_at is not None
        else record.readings[-1].at + timedelta(hours=record.typical_interval_h)
    )
    if end < start:
        raise ValidationFailed(
            f"Logger {record.logger_id!r}: the shipment window ends "
            f"({end.isoformat()}) before it starts ({start.isoformat()})."
        )
    return start, end


def evaluate_logger(
    record: LoggerRecord,
    spec: TransportSpec,
    *,
    dispatched_at: datetime | None = None,
    received_at: datetime | None = None,
) -> LoggerEvaluation:
    """Evaluate one logger's record against a transport specification.

    Parameters
    ----------
    record : LoggerRecord
        The logger's readings, shocks and tilts.
    spec : TransportSpec
        Bands with their excursion rules, shock and tilt limits, MKT limit.
    dispatched_at, received_at : datetime, optional
        The shipment window (timezone-aware). Readings, shocks and tilts outside it are left
        out; a logger that starts late or stops early is reported as a data gap. Without them
        the whole record is evaluated.

    Raises
    ------
    ValidationFailed
        If the window is inverted or holds no reading.
    """
    start, end = _window(record, dispatched_at, received_at)
    spans = _spans(record, start, end)
    if not spans:
        raise ValidationFailed(
            f"Logger {record.logger_id!r} has no readings between {start.isoformat()} and "
            f"{end.isoformat()}; it cannot show the shipment's temperatures."
        )
    temps = [s.reading.temperature_c for s in spans]
    durations = [s.duration_h for s in spans]
    mkt_c = mean_kinetic_temperature(
        temps, durations if sum(durations) > 0 else None, spec.delta_h_over_r
    )

    def inside(moment: datetime) -> bool:
        return (dispatched_at is None or moment >= start) and (received_at is None or moment <= end)

    shocks = [s for s in record.shocks if inside(s.at)]
    tilts = [t for t in record.tilts if inside(t.at)]
    max_gap_h = spec.max_gap_h
    if max_gap_h is None and record.typical_interval_h > 0:
        max_gap_h = 2 * record.typical_interval_h
    return LoggerEvaluation(
        logger_id=record.logger_id,
        spec_name=spec.name,
        start=start,
        end=end,
        n_readings=len(spans),
        min_c=min(temps),
        max_c=max(temps),
        mkt_c=mkt_c,
        bands=tuple(_band_evaluation(record.logger_id, rule, spans) for rule in spec.rules),
        shock_counts=tuple(
            ShockCount(
                lim.threshold_g, sum(s.peak_g > lim.threshold_g for s in shocks), lim.max_count
            )
            for lim in spec.shock_limits
        ),
        tilt_counts=tuple(
            TiltCount(
                lim.threshold_deg,
                sum(t.angle_deg > lim.threshold_deg for t in tilts),
                lim.max_count,
            )
            for lim in spec.tilt_limits
        ),
        gaps=_gaps([s.reading for s in spans], start, end, max_gap_h),
        mkt_exceeded=spec.max_mkt_c is not None and mkt_c > spec.max_mkt_c,
    )


class ReceiptOutcome(StrEnum):
    """What receipt inspection decides about a shipment's temperature history."""

    ACCEPT = "accept"
    QUARANTINE = "quarantine"  # for QA review


@dataclass(frozen=True)
class ExcursionAcknowledgement:
    """A person's acknowledgement of one excursion, with the comment it requires."""

    excursion_key: str
    actor: str
    comment: str
    acknowledged_at: datetime


def acknowledge_excursion(
    excursion: Excursion, *, actor: str, comment: str, at: datetime
) -> ExcursionAcknowledgement:
    """Acknowledge an excursion; a comment is required.

    Raises
    ------
    ValidationFailed
        If the comment or the actor is blank, or ``at`` is naive.
    """
    errors = []
    if not isinstance(comment, str) or not comment.strip():
        errors.append(FieldError("a comment is required", field="comment", value=comment))
    if not isinstance(actor, str) or not actor.strip():
        errors.append(FieldError("the acknowledging user is required", field="actor", value=actor))
    if errors:
        raise ValidationFailed(
            f"Acknowledging excursion {excursion.key} requires a comment: say what happened "
            "and why it does or does not matter for the product.",
            errors,
        )
    return ExcursionAcknowledgement(excursion.key, actor.strip(), comment.strip(), as_utc(at, "at"))


@dataclass(frozen=True)
class ReceiptDecision:
    """The receipt decision for one shipment.

    Attributes
    ----------
    outcome : ReceiptOutcome
        Accept, or quarantine for QA review.
    reasons : tuple of str
        Why it is quarantined (empty when accepted).
    unacknowledged : tuple of Excursion
        Excursions still waiting for an acknowledgement with a comment.
    evaluations : tuple of LoggerEvaluation
        What the decision was based on.
    """

    outcome: ReceiptOutcome
    reasons: tuple[str, ...]
    unacknowledged: tuple[Excursion, ...]
    evaluations: tuple[LoggerEvaluation, ...]

    @property
    def accepted(self) -> bool:
        """True when the shipment is accepted."""
        return self.outcome is ReceiptOutcome.ACCEPT


def decide_receipt(
    evaluations: LoggerEvaluation | Iterable[LoggerEvaluation],
    acknowledgements: Iterable[ExcursionAcknowledgement] = (),
) -> ReceiptDecision:
    """Accept a shipment, or quarantine it for QA review.

    It is quarantined when there is no logger evaluation, when any logger breaks a band rule,
    a shock or tilt limit or the MKT limit, has a data gap, or when any excursion (even one
    within its allowance) has not been acknowledged with a comment. Otherwise it is accepted.
    """
    evals = (evaluations,) if isinstance(evaluations, LoggerEvaluation) else tuple(evaluations)
    acknowledged = {a.excursion_key for a in acknowledgements}
    reasons: list[str] = []
    if not evals:
        reasons.append("no logger data for the shipment")
    for evaluation in evals:
        reasons.extend(evaluation.problems)
    pending = tuple(e for ev in evals for e in ev.excursions if e.key not in acknowledged)
    reasons += [
        f"excursion {e.key} ({e.duration_h:.2f} h, {e.min_c:g} to {e.max_c:g} C) is "
        "not acknowledged with a comment"
        for e in pending
    ]
    outcome = ReceiptOutcome.QUARANTINE if reasons else ReceiptOutcome.ACCEPT
    return ReceiptDecision(outcome, tuple(reasons), pending, evals)
