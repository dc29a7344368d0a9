"""Product-specific clocks between custody events, with an early warning.

A clock rule is a limit between two custody events, for example collection to processing start
<= 48 h for fresh cord blood (``shared/docs/domain.md``, transport of cells and tissue). The
clock warns once a configurable fraction of the limit has elapsed and is exceeded only when the
elapsed time is strictly above the limit (``<= 48 h`` is within). Limits are product
configuration; none is built in. Import from :mod:`saisei.domain.custody`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from saisei.domain.custody_events import CustodyEvent, CustodyEventType, as_utc
from saisei.errors import FieldError, ValidationFailed

__all__ = ["ClockReading", "ClockRule", "ClockStatus", "evaluate_clock", "evaluate_clocks"]

# Hours; below the microsecond resolution of datetimes. Absorbs float noise such as
# 0.8 * 48 = 38.400000000000006, so that a boundary reached exactly counts as reached.
_EPS_H = 1e-10


class ClockStatus(StrEnum):
    """Where a clock stands against its limit."""

    NOT_STARTED = "not_started"
    OK = "ok"
    WARNING = "warning"
    EXCEEDED = "exceeded"


@dataclass(frozen=True)
class ClockRule:
    """A limit on the time between two custody events.

    Attributes
    ----------
    name : str
        E.g. ``"collection to processing"``.
    start_event, stop_event : CustodyEventType
        The clock starts at the first ``start_event`` and stops at the first ``stop_event`` at
        or after it.
    limit_h : float
        The limit in hours (elapsed time equal to it is within).
    warning_fraction : float
        Warn from this fraction of the limit, in (0, 1]; default 0.8.
    """

    name: str
    start_event: CustodyEventType
    stop_event: CustodyEventType
    limit_h: float
    warning_fraction: float = 0.8

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        if not isinstance(self.name, str) or not self.name.strip():
            errors.append(FieldError("must be a non-empty string", field="name", value=self.name))
        try:
            object.__setattr__(self, "start_event", CustodyEventType(self.start_event))
            object.__setattr__(self, "stop_event", CustodyEventType(self.stop_event))
        except ValueError as exc:
            errors.append(FieldError(f"unknown custody event type: {exc}", field="event"))
        if self.start_event == self.stop_event:
            errors.append(
                FieldError(
                    "start and stop events must differ", field="stop_event", value=self.stop_event
                )
            )
        if not _positive(self.limit_h):
            errors.append(
                FieldError(
                    "must be a finite number of hours > 0", field="limit_h", value=self.limit_h
                )
            )
        if not (_positive(self.warning_fraction) and self.warning_fraction <= 1):
            errors.append(
                FieldError(
                    "must be in (0, 1]", field="warning_fraction", value=self.warning_fraction
                )
            )
        if errors:
            raise ValidationFailed(f"Clock rule {self.name!r} is not valid.", errors)

    @property
    def warning_h(self) -> float:
        """Elapsed hours from which the clock warns."""
        return self.limit_h * self.warning_fraction


def _positive(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


@dataclass(frozen=True)
class ClockReading:
    """One clock evaluated at one moment.

    Attributes
    ----------
    rule : ClockRule
        The rule.
    status : ClockStatus
        Not started, ok, warning or exceeded.
    started_at, stopped_at : datetime or None
        When the clock started and stopped (None while running or not started).
    elapsed_h, remaining_h : float or None
        Hours elapsed and left to the limit (negative when exceeded); None if not started.
    warn_at, due_at : datetime or None
        When the warning starts and when the limit is reached.
    message : str
        The reading in words.
    """

    rule: ClockRule
    status: ClockStatus
    started_at: datetime | None
    stopped_at: datetime | None
    elapsed_h: float | None
    remaining_h: float | None
    warn_at: datetime | None
    due_at: datetime | None
    message: str

    @property
    def running(self) -> bool:
        """True when the clock has started and not stopped."""
        return self.started_at is not None and self.stopped_at is None


def evaluate_clock(
    rule: ClockRule,
    started_at: datetime | None,
    stopped_at: datetime | None = None,
    *,
    now: datetime | None = None,
) -> ClockReading:
    """Evaluate ``rule`` for a clock that started (and perhaps stopped) at the given times.

    Parameters
    ----------
    rule : ClockRule
        The limit.
    started_at : datetime or None
        Start time (timezone-aware); None when the start event has not happened.
    stopped_at : datetime, optional
        Stop time; None while the clock runs.
    now : datetime, optional
        The moment of evaluation; required for a running clock.

    Raises
    ------
    ValidationFailed
        For naive datetimes, a stop before the start, or a running clock without ``now``.
    """
    if started_at is None:
        return ClockReading(
            rule,
            ClockStatus.NOT_STARTED,
            None,
            None,
            None,
            None,
            None,
            None,
            f"{rule.name}: not started (waits for '{rule.start_event.label}').",
        )
    start = as_utc(started_at, "started_at")
    stop = as_utc(stopped_at, "stopped_at") if stopped_at is not None else None
    if stop is not None:
        end = stop
    elif now is None:
        raise ValidationFailed(f"Clock {rule.name!r} is running; give 'now' to evaluate it.")
    else:
        end = as_utc(now, "now")
    if end < start:
        raise ValidationFailed(
            f"Clock {rule.name!r} ends at {end.isoformat()}, before it started at "
            f"{start.isoformat()}."
        )
    elapsed_h = (end - start).total_seconds() / 3600.0
    if elapsed_h > rule.limit_h + _EPS_H:
        status = ClockStatus.EXCEEDED
    elif elapsed_h >= rule.warning_h - _EPS_H:
        status = ClockStatus.WARNING
    else:
        status = ClockStatus.OK
    state = "stopped after" if stop is not None else "running for"
    message = (
        f"{rule.name}: {status.value}, {state} {elapsed_h:.2f} h of a {rule.limit_h:g} h "
        f"limit (warning from {rule.warning_h:.2f} h)."
    )
    return ClockReading(
        rule,
        status,
        start,
        stop,
        elapsed_h,
        rule.limit_h - elapsed_h,
        start + timedelta(hours=rule.warning_h),
        start + timedelta(hours=rule.limit_h),
        message,
    )


def evaluate_clocks(
    rules: Iterable[ClockRule], events: Iterable[CustodyEvent], *, now: datetime | None = None
) -> tuple[ClockReading, ...]:
    """Evaluate every rule over one chain's events (in chain order).

    Each clock starts at the first event of its start type (the earliest, which is the
    conservative choice when several collections feed one chain) and stops at the first event
    of its stop type at or after that.
    """
    events = tuple(events)
    readings = []
    for rule in rules:
        start = next((e.occurred_at for e in events if e.event_type is rule.start_event), None)
        stop = None
        if start is not None:
            stop = next(
                (
                    e.occurred_at
                    for e in events
                    if e.event_type is rule.stop_event and e.occurred_at >= start
                ),
                None,
            )
        readings.append(evaluate_clock(rule, start, stop, now=now))
    return tuple(readings)
