"""Specification rules, QC entry with OOS handling, and the deviation life cycle."""

from __future__ import annotations

import pytest
from quality_helpers import Plant, creds

from saisei.domain.enums import DeviationStatus
from saisei.domain.quality_rules import (
    SpecLimits,
    SpecOutcome,
    check_deviation_transition,
    evaluate,
)
from saisei.errors import Conflict, NotFound, ValidationFailed
from saisei.quality.deviations import (
    classify_deviation,
    close_deviation,
    list_deviations,
    record_capa,
    record_deviation,
    record_investigation,
    show_deviation,
)
from saisei.quality.specs import (
    define_specification,
    enter_qc_result,
    invalidate_qc_result,
    list_qc_results,
    list_specifications,
)
from saisei.quality.users import AuthPolicy
from saisei.storage.store import Store

# Limits from shared/docs/domain.md: CAR-T viability >= 80 % (commercial), vector copy
# number < 5 per transduced cell, MSC CD45 <= 2 % (ISCT 2006).


@pytest.mark.parametrize(
    ("limits", "value", "outcome"),
    [
        (SpecLimits(lower=80.0), 80.0, SpecOutcome.PASS),  # "not less than" is inclusive
        (SpecLimits(lower=80.0), 79.9, SpecOutcome.OOS),
        (SpecLimits(upper=5.0), 5.0, SpecOutcome.PASS),
        (SpecLimits(upper=5.0), 5.01, SpecOutcome.OOS),
        (SpecLimits(lower=0.0, upper=2.0), 2.5, SpecOutcome.OOS),
        (SpecLimits(lower=0.0, upper=2.0), -0.1, SpecOutcome.OOS),
        (SpecLimits(lower=70.0, action_low=75.0, alert_low=80.0), 77.0, SpecOutcome.ALERT),
        (SpecLimits(lower=70.0, action_low=75.0, alert_low=80.0), 72.0, SpecOutcome.ACTION),
        (SpecLimits(lower=70.0, action_low=75.0, alert_low=80.0), 85.0, SpecOutcome.PASS),
        (SpecLimits(alert_high=20.0, action_high=30.0), 31.0, SpecOutcome.ACTION),
    ],
)
def test_evaluation_one_and_two_sided_with_levels(
    limits: SpecLimits, value: float, outcome: SpecOutcome
) -> None:
    assert evaluate(limits, value).outcome == outcome


def test_text_specifications_and_missing_ones() -> None:
    sterile = SpecLimits(expected_text="no growth")
    assert evaluate(sterile, text="No Growth ").outcome == SpecOutcome.PASS
    assert evaluate(sterile, text="growth").outcome == SpecOutcome.OOS
    assert evaluate(None, 1.0).outcome == SpecOutcome.NO_SPEC
    with pytest.raises(ValidationFailed, match="is numeric; the QC result needs a numeric value"):
        evaluate(SpecLimits(lower=1.0), text="high")


def test_levels_must_nest() -> None:
    with pytest.raises(ValidationFailed, match="Got alert_low=60.0 above alert_high=50.0"):
        SpecLimits(lower=10.0, alert_low=60.0, alert_high=50.0)
    with pytest.raises(ValidationFailed, match="needs at least one limit"):
        SpecLimits()
    assert SpecLimits(lower=1.0, upper=2.0).sides == "two-sided"
    assert SpecLimits(upper=2.0).sides == "upper"


def test_deviation_transitions() -> None:
    check_deviation_transition("D", DeviationStatus.OPEN, DeviationStatus.INVESTIGATION)
    with pytest.raises(Conflict, match="cannot go from status 'open' to 'closed'"):
        check_deviation_transition("D", DeviationStatus.OPEN, DeviationStatus.CLOSED)


def test_define_and_list_specifications_needs_a_reason(store: Store, plant: Plant) -> None:
    with pytest.raises(ValidationFailed, match="A reason is required to set the release spec"):
        define_specification(
            store,
            plant.qa,
            process=plant.process,
            version=plant.version,
            attribute="CD90",
            unit="%",
            limits=SpecLimits(lower=95.0),
            reason=None,
        )
    view = define_specification(
        store,
        plant.qa,
        process=plant.process,
        version=plant.version,
        attribute="viability",
        unit="%",
        limits=SpecLimits(lower=75.0, alert_low=85.0),
        reason="tightened after PPQ",
    )
    assert (view.criterion, view.sides) == (">= 75", "lower")
    listed = {
        (s.attribute, s.purpose): s.criterion for s in list_specifications(store, "MSC-BM", "2.1")
    }
    assert listed[("viability", "release")] == ">= 75"
    with pytest.raises(ValidationFailed, match="is measured in '%'"):
        define_specification(
            store,
            plant.qa,
            process=plant.process,
            version=plant.version,
            attribute="viability",
            unit="fraction",
            limits=SpecLimits(lower=0.75),
            reason="units",
        )


def test_qc_entry_evaluates_and_oos_opens_a_linked_deviation(store: Store, plant: Plant) -> None:
    alert = enter_qc_result(store, plant.analyst, plant.lot, "viability", value=78.0, unit="%")
    assert (alert.outcome, alert.specification, alert.deviation) == ("alert", ">= 70", None)
    oos = enter_qc_result(store, plant.analyst, plant.lot, "viability", value=61.0)
    assert oos.outcome == "oos" and oos.unit == "%"
    deviation = show_deviation(store, oos.deviation or "")
    assert (deviation.category, deviation.severity, deviation.status) == ("oos", "major", "open")
    assert deviation.links == {"qc_result_id": oos.id}
    free = enter_qc_result(store, plant.analyst, plant.lot, "endotoxin", value=0.2, unit="EU/mL")
    assert free.outcome == "no_spec"
    with pytest.raises(ValidationFailed, match="measured in '%'. Got 'fraction'"):
        enter_qc_result(store, plant.analyst, plant.lot, "viability", value=0.9, unit="fraction")
    with pytest.raises(ValidationFailed, match="exactly one of a numeric value or a text"):
        enter_qc_result(store, plant.analyst, plant.lot, "viability")


def test_invalidation_needs_a_reason_and_retests_link_to_the_original(
    store: Store, plant: Plant
) -> None:
    original = enter_qc_result(store, plant.analyst, plant.lot, "CD73", value=90.0, unit="%")
    with pytest.raises(ValidationFailed, match="A reason is required to invalidate QC result"):
        invalidate_qc_result(store, plant.qa, original.id, reason="  ")
    invalidate_qc_result(store, plant.qa, original.id, reason="flow cytometer misaligned")
    with pytest.raises(Conflict, match="already invalidated"):
        invalidate_qc_result(store, plant.qa, original.id, reason="again")
    retest = enter_qc_result(
        store, plant.analyst, plant.lot, "CD73", value=96.0, unit="%", retest_of=original.id
    )
    with pytest.raises(ValidationFailed, match="A retest must repeat a result of the same lot"):
        enter_qc_result(
            store, plant.analyst, plant.lot, "viability", value=90.0, retest_of=original.id
        )
    with pytest.raises(NotFound, match="No QC result with id 999999"):
        enter_qc_result(store, plant.analyst, plant.lot, "CD73", value=96.0, retest_of=999999)
    rows = {r.id: r for r in list_qc_results(store, plant.lot)}
    assert rows[original.id].status == "invalidated"
    assert rows[original.id].invalidation_reason == "flow cytometer misaligned"
    assert rows[original.id].value == 90.0  # the value stays on record
    assert rows[retest.id].retest_of == original.id


def test_deviation_life_cycle_with_signed_closure(
    store: Store, plant: Plant, policy: AuthPolicy
) -> None:
    recorded = record_deviation(
        store,
        plant.analyst,
        description="CO2 alarm in incubator 3 for 40 min",
        category="alarm",
        severity="minor",
        lot=plant.lot,
        alarm_ref="ALM-2026-0042",
    )
    number = recorded.number
    assert (recorded.status, recorded.links) == ("open", {"alarm_ref": "ALM-2026-0042"})
    with pytest.raises(Conflict, match="cannot go from status 'open' to 'closed'"):
        close_deviation(store, number, creds(plant.qa), policy)
    classify_deviation(store, plant.qa, number, "major", reason="two lots in the incubator")
    record_investigation(store, plant.analyst, number, root_cause="CO2 regulator failure")
    with pytest.raises(ValidationFailed, match="A reason is required to change the root cause"):
        record_investigation(store, plant.analyst, number, root_cause="other")
    with pytest.raises(Conflict, match="is major: record its CAPA"):
        close_deviation(store, number, creds(plant.qa), policy)
    record_capa(store, plant.qa, number, capa="replace regulator; add redundant sensor")
    closed = close_deviation(
        store, number, creds(plant.qa), policy, conclusion="no impact on product"
    )
    assert closed.status == "closed" and closed.closed_at is not None
    (signature,) = closed.signatures
    assert (signature.meaning, signature.printed_name, signature.valid) == (
        "approval",
        "Aiko Sato",
        True,
    )
    with pytest.raises(Conflict, match="is closed; its classification is final"):
        classify_deviation(store, plant.qa, number, "minor", reason="re-think")
    assert [d.number for d in list_deviations(store, lot=plant.lot, status="closed")] == [number]
    with pytest.raises(ValidationFailed, match="category must be one of oos, custody"):
        record_deviation(store, plant.analyst, description="x", category="misc", severity="minor")
