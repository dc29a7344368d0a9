"""Clocks between custody events (issue 9, item 4).

Limit from ``shared/docs/domain.md``: fresh cord blood, collection to processing <= 48 h. The
warning point is 0.8 x 48 h = 38.4 h; "<= 48 h" means exactly 48 h is still within.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from saisei.domain.custody import (
    ClockRule,
    ClockStatus,
    CustodyEvent,
    CustodyEventType,
    Scan,
    evaluate_clock,
    evaluate_clocks,
)
from saisei.errors import ValidationFailed

E = CustodyEventType
T0 = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
RULE = ClockRule(
    "collection to processing", E.COLLECTION, E.PROCESSING_START, limit_h=48.0, warning_fraction=0.8
)


@pytest.mark.parametrize(
    ("elapsed", "status"),
    [
        (timedelta(hours=30), ClockStatus.OK),
        (timedelta(hours=38.4) - timedelta(seconds=1), ClockStatus.OK),
        (timedelta(hours=38.4), ClockStatus.WARNING),
        (timedelta(hours=48), ClockStatus.WARNING),
        (timedelta(hours=48, seconds=1), ClockStatus.EXCEEDED),
    ],
)
def test_running_clock_status(elapsed: timedelta, status: ClockStatus) -> None:
    reading = evaluate_clock(RULE, T0, now=T0 + elapsed)
    assert reading.status is status
    assert reading.running
    assert reading.elapsed_h == pytest.approx(elapsed.total_seconds() / 3600)
    assert reading.remaining_h == pytest.approx(48 - elapsed.total_seconds() / 3600)
    assert reading.warn_at == T0 + timedelta(hours=38.4)
    assert reading.due_at == T0 + timedelta(hours=48)


def test_stopped_clock_ignores_now() -> None:
    reading = evaluate_clock(RULE, T0, T0 + timedelta(hours=20), now=T0 + timedelta(days=9))
    assert reading.status is ClockStatus.OK and not reading.running
    assert reading.elapsed_h == pytest.approx(20.0)
    assert "stopped after 20.00 h of a 48 h limit" in reading.message


def test_clock_not_started() -> None:
    reading = evaluate_clock(RULE, None)
    assert reading.status is ClockStatus.NOT_STARTED and reading.elapsed_h is None
    assert "waits for 'collection'" in reading.message


def test_clock_input_errors() -> None:
    with pytest.raises(ValidationFailed, match="is running; give 'now'"):
        evaluate_clock(RULE, T0)
    with pytest.raises(ValidationFailed, match="before it started"):
        evaluate_clock(RULE, T0, T0 - timedelta(hours=1))
    with pytest.raises(ValidationFailed, match="timezone-aware"):
        evaluate_clock(RULE, datetime(2025, 1, 1), now=T0)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"limit_h": 0}, "limit_h"),
        ({"limit_h": float("inf")}, "limit_h"),
        ({"warning_fraction": 0}, "warning_fraction"),
        ({"warning_fraction": 1.5}, "warning_fraction"),
        ({"stop_event": E.COLLECTION}, "stop_event"),
        ({"name": " "}, "name"),
    ],
)
def test_clock_rule_validation(kwargs: dict[str, object], field: str) -> None:
    fields: dict[str, object] = {
        "name": "c",
        "start_event": E.COLLECTION,
        "stop_event": E.PROCESSING_START,
        "limit_h": 48.0,
        **kwargs,
    }
    with pytest.raises(ValidationFailed, match="is not valid") as info:
        ClockRule(**fields)  # type: ignore[arg-type]
    assert field in {e.field for e in info.value.errors}


def _event(kind: CustodyEventType, hours: float, **fields: object) -> CustodyEvent:
    return CustodyEvent(kind, T0 + timedelta(hours=hours), "u", "p", **fields)  # type: ignore[arg-type]


def test_clocks_over_a_chains_events_start_at_the_first_collection() -> None:
    scan = (Scan("SRC-1", "A999925000001"),)
    events = [
        _event(E.COLLECTION, 0, din="A999925000001"),
        _event(E.COLLECTION, 10, din="A999925000002"),
        _event(E.LABELLING, 11, scans=scan),
        _event(E.PROCESSING_START, 50, scans=scan),
    ]
    shipping = ClockRule("release to infusion", E.RELEASE, E.INFUSION, limit_h=72)
    collection, release = evaluate_clocks([RULE, shipping], events, now=T0 + timedelta(hours=60))
    assert collection.started_at == T0 and collection.stopped_at == T0 + timedelta(hours=50)
    assert collection.status is ClockStatus.EXCEEDED
    assert release.status is ClockStatus.NOT_STARTED
