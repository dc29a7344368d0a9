"""Transport rules: MKT, logger evaluation, excursions, shocks and tilt, receipt, dry shippers.

Expected values: USP <1079.2> for MKT (via ``shared/docs/domain.md``); otherwise counted by hand
from the constructed logger traces (readings every 5 min, so each reading is 1/12 h) or from the
MKT formula written out in the test.
"""

from __future__ import annotations

import doctest
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saisei.domain import transport, transport_evaluation, transport_logger
from saisei.domain.transport import (
    DryShipper,
    ExcursionRule,
    LoggerRecord,
    ReceiptOutcome,
    Requalification,
    ShockEvent,
    ShockLimit,
    TemperatureBand,
    TemperatureReading,
    TiltEvent,
    TiltLimit,
    TransportSpec,
    acknowledge_excursion,
    check_dry_shipper_dispatch,
    decide_receipt,
    evaluate_logger,
    mean_kinetic_temperature,
    predict_hold_time_h,
)
from saisei.errors import ValidationFailed

T0 = datetime(2025, 2, 3, 6, 0, tzinfo=UTC)
FIVE_MIN = timedelta(minutes=5)
COLD = TemperatureBand("2-8 C", 2.0, 8.0)
ROOM = TemperatureBand("0-25 C", 0.0, 25.0)


def record(
    temps: Sequence[float],
    *,
    interval_h: float | None = 1 / 12,
    logger_id: str = "LG-1",
    start: datetime = T0,
    **extra: object,
) -> LoggerRecord:
    times = [start + i * FIVE_MIN for i in range(len(temps))]
    base = LoggerRecord.from_series(logger_id, times, temps, interval_h=interval_h)
    return LoggerRecord(base.logger_id, base.readings, base.interval_h, **extra)  # type: ignore[arg-type]


def spec(*rules: ExcursionRule, **extra: object) -> TransportSpec:
    return TransportSpec("fresh leukapheresis 2-8 C", rules or (ExcursionRule(COLD),), **extra)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Mean kinetic temperature
# --------------------------------------------------------------------------------------------


def test_mkt_usp_1079_2_example() -> None:
    # USP <1079.2> (shared/docs/domain.md): weekly means 2, 2, 5, 8, 8, 8, 8 C -> 6.25 C,
    # dH/R = 10000 K. Stated to two decimals, so checked to half a unit of the last digit.
    assert mean_kinetic_temperature([2, 2, 5, 8, 8, 8, 8]) == pytest.approx(6.25, abs=0.005)


def test_mkt_with_durations_matches_the_formula_written_out() -> None:
    temps, hours = [20.0, 30.0, 25.0], [1.0, 3.0, 0.5]
    k = 10000.0
    numerator = sum(h * math.exp(-k / (t + 273.15)) for t, h in zip(temps, hours, strict=True))
    expected = k / -math.log(numerator / sum(hours)) - 273.15
    assert mean_kinetic_temperature(temps, hours) == pytest.approx(expected, rel=1e-12)
    assert mean_kinetic_temperature(temps, hours, delta_h_over_r=5000) != pytest.approx(expected)


def test_mkt_weights_equal_repetition() -> None:
    assert mean_kinetic_temperature([4, 10], [3, 1]) == pytest.approx(
        mean_kinetic_temperature([4, 4, 4, 10]), rel=1e-12
    )


def test_mkt_is_stable_at_cryogenic_temperatures() -> None:
    mkt = mean_kinetic_temperature([-196.0, -190.0, -150.0])
    assert -196.0 < mkt < -150.0


@given(st.lists(st.floats(-196, 60), min_size=1, max_size=30))
def test_mkt_lies_between_the_mean_and_the_maximum(temps: list[float]) -> None:
    # exp(-k/T) is convex and increasing for T < k/2 = 5000 K, so by Jensen's inequality the
    # MKT is at least the arithmetic mean and at most the maximum.
    mkt = mean_kinetic_temperature(temps)
    mean = sum(temps) / len(temps)
    assert mean - 1e-9 <= mkt <= max(temps) + 1e-9


@given(st.floats(-196, 60))
def test_mkt_of_a_constant_temperature_is_that_temperature(t: float) -> None:
    assert mean_kinetic_temperature([t] * 5, [1, 2, 3, 4, 5]) == pytest.approx(t, abs=1e-9)


@pytest.mark.parametrize(
    ("temps", "durations", "dhr", "message"),
    [
        ([], None, 10000.0, "at least one temperature"),
        ([5.0, float("nan")], None, 10000.0, "finite and above"),
        ([-300.0], None, 10000.0, "finite and above"),
        ([5.0, 6.0], [1.0], 10000.0, "one duration per temperature"),
        ([5.0, 6.0], [0.0, 0.0], 10000.0, "not all zero"),
        ([5.0, 6.0], [1.0, -1.0], 10000.0, ">= 0"),
        ([5.0], None, 0.0, "delta_h_over_r"),
    ],
)
def test_mkt_input_errors(
    temps: list[float], durations: list[float] | None, dhr: float, message: str
) -> None:
    with pytest.raises(ValidationFailed, match=message):
        mean_kinetic_temperature(temps, durations, delta_h_over_r=dhr)


# --------------------------------------------------------------------------------------------
# Logger records
# --------------------------------------------------------------------------------------------


def test_a_logger_file_with_no_readings_is_rejected() -> None:
    with pytest.raises(
        ValidationFailed, match="'LG-7' has no readings; a logger file with no readings is rejected"
    ):
        LoggerRecord("LG-7", ())


def test_readings_must_move_forward_in_time() -> None:
    with pytest.raises(ValidationFailed, match="not usable") as info:
        LoggerRecord("LG-1", (TemperatureReading(T0, 5), TemperatureReading(T0, 6)))
    assert info.value.errors[0].row == 2


def test_reading_values_are_checked() -> None:
    with pytest.raises(ValidationFailed, match="timezone-aware"):
        TemperatureReading(datetime(2025, 1, 1), 5.0)
    with pytest.raises(ValidationFailed, match="above absolute zero"):
        TemperatureReading(T0, float("inf"))
    with pytest.raises(ValidationFailed, match="0-180 degrees"):
        TiltEvent(T0, 200)
    with pytest.raises(ValidationFailed, match="g >= 0"):
        ShockEvent(T0, -1)


def test_band_and_spec_validation() -> None:
    assert COLD.contains(2.0) and COLD.contains(8.0) and not COLD.contains(8.01)
    with pytest.raises(ValidationFailed, match="at least one bound"):
        TemperatureBand("none", None, None)
    with pytest.raises(ValidationFailed, match="not valid"):
        TemperatureBand("upside down", 8.0, 2.0)
    with pytest.raises(ValidationFailed, match="at least one excursion rule"):
        TransportSpec("empty", ())
    with pytest.raises(ValidationFailed, match="band names must be unique"):
        TransportSpec("twice", (ExcursionRule(COLD), ExcursionRule(COLD)))
    with pytest.raises(ValidationFailed, match="max_cumulative_h"):
        ExcursionRule(COLD, max_cumulative_h=-1)
    with pytest.raises(ValidationFailed, match="shock limit is not valid"):
        ShockLimit(-1)


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------

# 12 readings 5 min apart; readings 4-6 (three) at 10 C: 3 x 5 min = 0.25 h out of 2-8 C.
ONE_EXCURSION = [5, 5, 5, 5, 10, 10, 10, 5, 5, 5, 5, 5]


def test_time_out_of_range_min_max_and_excursion() -> None:
    result = evaluate_logger(record(ONE_EXCURSION), spec())
    assert result.time_out_of_range_h == pytest.approx(0.25)
    assert (result.min_c, result.max_c, result.n_readings) == (5, 10, 12)
    (exc,) = result.excursions
    assert exc.start == T0 + 4 * FIVE_MIN and exc.end == T0 + 7 * FIVE_MIN
    assert exc.duration_h == pytest.approx(0.25)
    assert (exc.min_c, exc.max_c, exc.n_readings) == (10, 10, 3)
    assert result.start == T0 and result.end == T0 + 12 * FIVE_MIN


def test_mkt_of_the_logger_weights_readings_by_their_time() -> None:
    result = evaluate_logger(record(ONE_EXCURSION), spec())
    # Nine readings at 5 C and three at 10 C, each standing for 5 min.
    assert result.mkt_c == pytest.approx(mean_kinetic_temperature([5] * 9 + [10] * 3), rel=1e-12)
    assert evaluate_logger(record([4.0] * 6), spec()).mkt_c == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("rule", "violated"),
    [
        (ExcursionRule(COLD), True),  # no allowance at all
        (ExcursionRule(COLD, max_cumulative_h=0.5), False),
        (ExcursionRule(COLD, max_cumulative_h=0.25), False),  # exactly at the allowance
        (ExcursionRule(COLD, max_cumulative_h=0.2), True),
        (ExcursionRule(COLD, max_continuous_h=0.25), False),
        (ExcursionRule(COLD, max_continuous_h=0.2), True),
    ],
)
def test_excursion_rules(rule: ExcursionRule, violated: bool) -> None:
    band = evaluate_logger(record(ONE_EXCURSION), spec(rule)).bands[0]
    assert band.violated is violated
    assert bool(band.reasons) is violated


def test_continuous_and_cumulative_rules_differ() -> None:
    # Two excursions of 2 readings (10 min) each: cumulative 20 min, longest 10 min.
    temps = [5, 9, 9, 5, 5, 1, 1, 5]
    rule = ExcursionRule(COLD, max_continuous_h=0.2, max_cumulative_h=0.3)
    band = evaluate_logger(record(temps), spec(rule)).bands[0]
    assert band.time_out_of_range_h == pytest.approx(20 / 60)
    assert band.longest_excursion_h == pytest.approx(10 / 60)
    assert band.violated and len(band.reasons) == 1
    assert "more than the 0.3 h allowed cumulatively" in band.reasons[0]


def test_every_band_is_evaluated() -> None:
    temps = [5, 5, 30, 5]
    result = evaluate_logger(
        record(temps), spec(ExcursionRule(COLD, max_cumulative_h=1.0), ExcursionRule(ROOM))
    )
    cold, room = result.bands
    assert not cold.violated
    assert room.violated and "where no time outside is allowed" in room.reasons[0]


def test_shock_and_tilt_counts_over_thresholds() -> None:
    shocks = tuple(
        ShockEvent(T0 + i * FIVE_MIN, g) for i, g in enumerate([0.5, 1.0, 1.5, 4.0, 6.0])
    )
    tilts = (TiltEvent(T0, 10), TiltEvent(T0 + FIVE_MIN, 95))
    result = evaluate_logger(
        record([5] * 8, shocks=shocks, tilts=tilts),
        spec(
            shock_limits=(ShockLimit(1.0, max_count=5), ShockLimit(4.0, max_count=0)),
            tilt_limits=(TiltLimit(45.0, max_count=0),),
        ),
    )
    # Above 1 g (strictly): 1.5, 4.0, 6.0; above 4 g: 6.0.
    assert [(c.threshold_g, c.count, c.exceeded) for c in result.shock_counts] == [
        (1.0, 3, False),
        (4.0, 1, True),
    ]
    assert [(c.count, c.exceeded) for c in result.tilt_counts] == [(1, True)]
    assert any("1 shock(s) above 4 g (allowed 0)" in p for p in result.problems)


def test_shipment_window_leaves_out_what_happened_before_dispatch() -> None:
    # Pre-conditioning at 20 C for 4 readings, dispatch half-way through the 4th reading.
    temps = [20, 20, 20, 20, 5, 5, 5, 5]
    dispatched = T0 + 3 * FIVE_MIN + timedelta(minutes=2, seconds=30)
    result = evaluate_logger(
        record(temps, shocks=(ShockEvent(T0, 9.0),)),
        spec(shock_limits=(ShockLimit(4.0),)),
        dispatched_at=dispatched,
        received_at=T0 + 8 * FIVE_MIN,
    )
    assert result.time_out_of_range_h == pytest.approx(2.5 / 60)
    assert result.shock_counts[0].count == 0
    assert result.n_readings == 5 and not result.gaps


def test_data_gaps_are_reported() -> None:
    times = [T0, T0 + FIVE_MIN, T0 + 6 * FIVE_MIN, T0 + 7 * FIVE_MIN]
    gappy = LoggerRecord.from_series("LG-2", times, [5, 5, 5, 5], interval_h=1 / 12)
    result = evaluate_logger(
        gappy, spec(), dispatched_at=T0 - 30 * FIVE_MIN, received_at=T0 + 20 * FIVE_MIN
    )
    assert [g.kind for g in result.gaps] == ["late_start", "gap", "early_stop"]
    assert result.gaps[1].duration_h == pytest.approx(25 / 60)
    assert any("no readings for" in p for p in result.problems)


def test_window_without_readings_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="has no readings between"):
        evaluate_logger(
            record([5, 5]),
            spec(),
            dispatched_at=T0 + timedelta(days=1),
            received_at=T0 + timedelta(days=2),
        )
    with pytest.raises(ValidationFailed, match="ends .* before it starts"):
        evaluate_logger(record([5, 5]), spec(), dispatched_at=T0, received_at=T0 - FIVE_MIN)


def test_mkt_limit() -> None:
    result = evaluate_logger(record([7.5] * 6), spec(max_mkt_c=7.0))
    assert result.mkt_exceeded
    assert any("mean kinetic temperature 7.50 C is above the limit" in p for p in result.problems)


# --------------------------------------------------------------------------------------------
# Receipt decision
# --------------------------------------------------------------------------------------------


def test_clean_shipment_is_accepted() -> None:
    decision = decide_receipt(evaluate_logger(record([5] * 12), spec()))
    assert decision.outcome is ReceiptOutcome.ACCEPT and decision.accepted
    assert decision.reasons == () and decision.unacknowledged == ()


def test_broken_rule_quarantines_for_qa_review() -> None:
    evaluation = evaluate_logger(record(ONE_EXCURSION), spec())
    ack = acknowledge_excursion(
        evaluation.excursions[0], actor="qa.one", comment="courier left the box in the sun", at=T0
    )
    decision = decide_receipt([evaluation], [ack])
    assert decision.outcome is ReceiptOutcome.QUARANTINE
    assert any("where no time outside is allowed" in r for r in decision.reasons)


def test_excursion_within_allowance_needs_acknowledgement_with_a_comment() -> None:
    evaluation = evaluate_logger(
        record(ONE_EXCURSION), spec(ExcursionRule(COLD, max_cumulative_h=0.5))
    )
    pending = decide_receipt(evaluation)
    assert pending.outcome is ReceiptOutcome.QUARANTINE
    assert pending.unacknowledged == evaluation.excursions
    assert "is not acknowledged with a comment" in pending.reasons[0]
    with pytest.raises(ValidationFailed, match="requires a comment"):
        acknowledge_excursion(evaluation.excursions[0], actor="rx.one", comment="  ", at=T0)
    ack = acknowledge_excursion(
        evaluation.excursions[0],
        actor="rx.one",
        comment="within allowance; hand-over on warm dock",
        at=T0,
    )
    assert decide_receipt(evaluation, [ack]).outcome is ReceiptOutcome.ACCEPT


def test_no_logger_data_quarantines() -> None:
    decision = decide_receipt([])
    assert decision.outcome is ReceiptOutcome.QUARANTINE
    assert decision.reasons == ("no logger data for the shipment",)


# --------------------------------------------------------------------------------------------
# Dry shippers
# --------------------------------------------------------------------------------------------

REQUALIFIED = Requalification(
    T0 - timedelta(days=30),
    static_hold_time_h=240.0,
    passed=True,
    valid_until=T0 + timedelta(days=335),
)
SHIPPER = DryShipper("DS-01", (REQUALIFIED,))


def test_dispatch_allowed_when_hold_time_covers_transit_and_margin() -> None:
    check = check_dry_shipper_dispatch(SHIPPER, dispatch_at=T0, planned_transit_h=72, margin_h=48)
    assert check.allowed and check.predicted_hold_time_h == 240.0
    assert check.required_hold_time_h == 120.0
    check.raise_if_refused()


def test_dispatch_refused_when_hold_time_is_short() -> None:
    # Charged 130 h before dispatch: 240 - 130 = 110 h left < 72 h transit + 48 h margin.
    check = check_dry_shipper_dispatch(
        SHIPPER,
        dispatch_at=T0,
        planned_transit_h=72,
        margin_h=48,
        charged_at=T0 - timedelta(hours=130),
    )
    assert not check.allowed and check.predicted_hold_time_h == pytest.approx(110.0)
    with pytest.raises(
        ValidationFailed,
        match=r"Dispatch of dry shipper DS-01 is refused: its "
        r"predicted hold time of 110\.0 h is shorter",
    ):
        check.raise_if_refused()


def test_dispatch_exactly_at_the_requirement_is_allowed() -> None:
    check = check_dry_shipper_dispatch(
        SHIPPER,
        dispatch_at=T0,
        planned_transit_h=72,
        margin_h=48,
        charged_at=T0 - timedelta(hours=120),
    )
    assert check.allowed


def test_tipping_costs_sixty_percent_of_the_hold_time() -> None:
    # shared/docs/domain.md: tipped over, a dry shipper can lose 60 % of its hold time.
    assert predict_hold_time_h(REQUALIFIED, tipped=True) == pytest.approx(96.0)
    assert predict_hold_time_h(REQUALIFIED, derating_fraction=0.25) == pytest.approx(180.0)
    check = check_dry_shipper_dispatch(
        SHIPPER, dispatch_at=T0, planned_transit_h=72, margin_h=48, tipped=True
    )
    assert not check.allowed


@pytest.mark.parametrize(
    ("shipper", "reason"),
    [
        (DryShipper("DS-02"), "no requalification record"),
        (
            DryShipper(
                "DS-03",
                (Requalification(T0 - timedelta(days=1), 240.0, False, T0 + timedelta(days=364)),),
            ),
            "failed",
        ),
        (
            DryShipper(
                "DS-04",
                (Requalification(T0 - timedelta(days=400), 240.0, True, T0 - timedelta(days=35)),),
            ),
            "expired",
        ),
    ],
)
def test_dispatch_refused_without_valid_requalification(shipper: DryShipper, reason: str) -> None:
    check = check_dry_shipper_dispatch(shipper, dispatch_at=T0, planned_transit_h=24, margin_h=12)
    assert not check.allowed and any(reason in r for r in check.reasons)


def test_the_latest_requalification_counts() -> None:
    failed_later = Requalification(T0 - timedelta(days=2), 90.0, False, T0 + timedelta(days=10))
    shipper = DryShipper("DS-05", (failed_later, REQUALIFIED))
    assert shipper.latest_requalification(T0) == failed_later
    assert shipper.latest_requalification(T0 - timedelta(days=10)) == REQUALIFIED


def test_dispatch_input_errors() -> None:
    with pytest.raises(ValidationFailed, match="planned_transit_h"):
        check_dry_shipper_dispatch(SHIPPER, dispatch_at=T0, planned_transit_h=-1, margin_h=0)
    with pytest.raises(ValidationFailed, match="after dispatch"):
        check_dry_shipper_dispatch(
            SHIPPER,
            dispatch_at=T0,
            planned_transit_h=1,
            margin_h=0,
            charged_at=T0 + timedelta(hours=1),
        )
    with pytest.raises(ValidationFailed, match="timezone-aware"):
        check_dry_shipper_dispatch(
            SHIPPER, dispatch_at=datetime(2025, 1, 1), planned_transit_h=1, margin_h=0
        )


@pytest.mark.parametrize("module", [transport, transport_logger, transport_evaluation])
def test_docstring_examples(module: ModuleType) -> None:
    assert doctest.testmod(module).failed == 0
