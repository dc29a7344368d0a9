"""Specifications per process version, QC results evaluated on entry, OOS handling.

A result is judged against the specification of its batch's process, attribute and purpose
(release or in-process) when it is entered; the outcome and the specification used are stored
with it. An out-of-specification result opens a deviation (category ``oos``) at once. A result
is never deleted or overwritten: invalidation keeps the value and needs a reason, and a
retest is a new result linked to the one it repeats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from saisei.domain.audit import jsonable
from saisei.domain.enums import BatchStatus, DeviationSeverity, DeviationStatus, QCStatus
from saisei.domain.quality_rules import (
    SPEC_PURPOSES,
    SpecLimits,
    SpecOutcome,
    evaluate,
    require_reason,
)
from saisei.errors import Conflict, ValidationFailed
from saisei.quality.access import authorize, utc_now
from saisei.storage.models import Deviation, QCResult, QualityAttribute, Specification
from saisei.storage.repositories import batches as batch_repo
from saisei.storage.repositories import quality as repo
from saisei.storage.store import Store

__all__ = [
    "QCEntry",
    "QCResultView",
    "SpecView",
    "define_specification",
    "enter_qc_result",
    "invalidate_qc_result",
    "limits_of",
    "list_qc_results",
    "list_specifications",
]

_CLOSED_BATCH = frozenset({BatchStatus.RELEASED, BatchStatus.REJECTED, BatchStatus.CANCELLED})


@dataclass(frozen=True)
class SpecView:
    """A specification as shown: attribute, unit, purpose, limits and levels."""

    id: int
    process: str
    attribute: str
    unit: str
    purpose: str
    criterion: str
    sides: str
    lower: float | None
    upper: float | None
    alert_low: float | None
    alert_high: float | None
    action_low: float | None
    action_high: float | None
    expected_text: str | None

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class QCEntry:
    """What entering a QC result did: its id, outcome and any deviation it opened."""

    id: int
    lot: str
    attribute: str
    value: float | None
    value_text: str | None
    unit: str | None
    purpose: str
    outcome: str
    message: str
    specification: str | None
    deviation: str | None
    retest_of: int | None

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class QCResultView:
    """A stored QC result with its evaluation, status, links and change history."""

    id: int
    attribute: str
    value: float | None
    value_text: str | None
    unit: str | None
    purpose: str
    outcome: str | None
    specification: str | None
    status: str
    invalidation_reason: str | None
    retest_of: int | None
    deviations: tuple[str, ...]
    tested_at: datetime | None
    analyst: str | None
    changed_since_entry: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        out = {k: jsonable(getattr(self, k)) for k in self.__dataclass_fields__}
        out["deviations"] = list(self.deviations)
        return out


def limits_of(spec: Specification) -> SpecLimits:
    """The pure-rule limits of a stored specification."""
    return SpecLimits(
        lower=spec.lower,
        upper=spec.upper,
        alert_low=spec.alert_low,
        alert_high=spec.alert_high,
        action_low=spec.action_low,
        action_high=spec.action_high,
        expected_text=spec.expected_text,
    )


def _spec_view(spec: Specification, attribute: QualityAttribute, process: str) -> SpecView:
    limits = limits_of(spec)
    return SpecView(
        id=spec.id,
        process=process,
        attribute=attribute.name,
        unit=attribute.unit,
        purpose=spec.purpose,
        criterion=limits.describe(),
        sides=limits.sides,
        lower=spec.lower,
        upper=spec.upper,
        alert_low=spec.alert_low,
        alert_high=spec.alert_high,
        action_low=spec.action_low,
        action_high=spec.action_high,
        expected_text=spec.expected_text,
    )


def _purpose(purpose: str) -> str:
    if purpose not in SPEC_PURPOSES:
        raise ValidationFailed(
            f"The purpose must be one of {', '.join(SPEC_PURPOSES)}. Got {purpose!r}."
        )
    return purpose


def define_specification(
    store: Store,
    actor: str,
    *,
    process: str,
    version: str,
    attribute: str,
    unit: str,
    limits: SpecLimits,
    purpose: str = "release",
    reason: str | None,
    source: str = "app",
) -> SpecView:
    """Create or change the specification of one attribute of a process version.

    Needs ``specs.manage`` and a reason (a specification is GMP-relevant; a change is audited
    old -> new). A new attribute is created with ``unit``; an existing one must have it.
    """
    why = require_reason(reason, f"set the {purpose} specification of {attribute!r}")
    _purpose(purpose)
    with store.unit_of_work(actor=actor, source=source, reason=why) as uow:
        authorize(uow.session, actor, "specs.define_specification")
        definition = repo.get_process(uow.session, process, version)
        found, spec = repo.find_specification(uow.session, definition.id, attribute, purpose)
        if found is None:
            found = QualityAttribute(process_id=definition.id, name=attribute, unit=unit)
            uow.session.add(found)
            uow.flush()
        elif found.unit != unit:
            raise ValidationFailed(
                f"The attribute {attribute!r} of {process} {version} is measured in "
                f"{found.unit!r}; the specification must use that unit. Got {unit!r}."
            )
        if spec is None:
            spec = Specification(attribute_id=found.id, purpose=purpose)
            uow.session.add(spec)
        spec.lower, spec.upper = limits.lower, limits.upper
        spec.alert_low, spec.alert_high = limits.alert_low, limits.alert_high
        spec.action_low, spec.action_high = limits.action_low, limits.action_high
        spec.expected_text = limits.expected_text
        spec.text = limits.describe()
        uow.flush()
        return _spec_view(spec, found, f"{process} {version}")


def list_specifications(store: Store, process: str, version: str) -> list[SpecView]:
    """Specifications of a process version, by attribute and purpose."""
    with store.reader() as session:
        definition = repo.get_process(session, process, version)
        return [
            _spec_view(spec, attribute, f"{process} {version}")
            for attribute, spec in repo.process_specifications(session, definition.id)
        ]


def _check_value(value: float | None, value_text: str | None) -> None:
    if (value is None) == (value_text is None or not value_text.strip()):
        raise ValidationFailed(
            "A QC result needs exactly one of a numeric value or a text result. "
            f"Got value={value!r}, text={value_text!r}."
        )


def _retest_target(session: repo.Session, retest_of: int, batch_id: int, attribute: str) -> None:
    original = repo.get_qc_result(session, retest_of)
    if original.batch_id != batch_id or original.attribute != attribute:
        raise ValidationFailed(
            f"A retest must repeat a result of the same lot and attribute; result {retest_of} "
            f"is {original.attribute!r} of another lot or attribute."
        )


def enter_qc_result(
    store: Store,
    actor: str,
    lot: str,
    attribute: str,
    *,
    value: float | None = None,
    value_text: str | None = None,
    unit: str | None = None,
    method: str | None = None,
    sample_id: str | None = None,
    tested_at: datetime | None = None,
    purpose: str = "release",
    retest_of: int | None = None,
    source: str = "app",
    now: datetime | None = None,
) -> QCEntry:
    """Record a QC result and evaluate it against its specification at once.

    Needs ``qc.enter``. An ``oos`` outcome opens a deviation (category ``oos``, severity
    major) linked to the result; the lot cannot be released until it is closed or the result
    invalidated.

    Raises
    ------
    ValidationFailed
        No value or both value and text, a unit other than the attribute's, a bad purpose,
        or a retest of another lot's or attribute's result.
    Conflict
        When the lot is already released, rejected or cancelled.
    """
    _purpose(purpose)
    _check_value(value, value_text)
    moment = utc_now(now)
    with store.unit_of_work(actor=actor, source=source, reason="QC result entered") as uow:
        authorize(uow.session, actor, "specs.enter_qc_result")
        batch = batch_repo.get_batch(uow.session, lot)
        if batch.status in _CLOSED_BATCH:
            raise Conflict(
                f"Lot {lot!r} is {batch.status.value}; QC results can no longer be entered."
            )
        found = spec = None
        if batch.process_id is not None:
            found, spec = repo.find_specification(uow.session, batch.process_id, attribute, purpose)
        if found is not None and unit is not None and unit != found.unit:
            raise ValidationFailed(
                f"The attribute {attribute!r} is measured in {found.unit!r}. Got {unit!r}; "
                "convert the value first."
            )
        if retest_of is not None:
            _retest_target(uow.session, retest_of, batch.id, attribute)
        limits = limits_of(spec) if spec is not None else None
        evaluation = evaluate(limits, value, value_text)
        result = QCResult(
            batch_id=batch.id,
            attribute=attribute,
            value=value,
            value_text=value_text,
            unit=unit if unit is not None else (found.unit if found is not None else None),
            method=method,
            sample_id=sample_id,
            tested_at=tested_at,
            analyst=actor,
            status=QCStatus.VALID,
            purpose=purpose,
            spec_id=spec.id if spec is not None else None,
            outcome=evaluation.outcome.value,
            retest_of_id=retest_of,
            entered_at=moment,
        )
        uow.session.add(result)
        uow.flush()
        number = None
        if evaluation.outcome == SpecOutcome.OOS:
            number = repo.next_deviation_number(uow.session)
            uow.session.add(
                Deviation(
                    number=number,
                    batch_id=batch.id,
                    category="oos",
                    severity=DeviationSeverity.MAJOR,
                    description=(
                        f"Out-of-specification result for lot {lot}: {attribute} "
                        f"{evaluation.message} (QC result {result.id})."
                    ),
                    status=DeviationStatus.OPEN,
                    opened_at=moment,
                    details={},
                    recorded_by=actor,
                    qc_result_id=result.id,
                )
            )
        return QCEntry(
            id=result.id,
            lot=lot,
            attribute=attribute,
            value=value,
            value_text=value_text,
            unit=result.unit,
            purpose=purpose,
            outcome=evaluation.outcome.value,
            message=evaluation.message,
            specification=limits.describe() if limits is not None else None,
            deviation=number,
            retest_of=retest_of,
        )


def invalidate_qc_result(
    store: Store, actor: str, result_id: int, *, reason: str | None, source: str = "app"
) -> QCResultView:
    """Mark a result invalid (assignable laboratory error); the value stays on record.

    Needs ``qc.invalidate`` (QA) and a reason.
    """
    why = require_reason(reason, f"invalidate QC result {result_id}")
    with store.unit_of_work(actor=actor, source=source, reason=why) as uow:
        authorize(uow.session, actor, "specs.invalidate_qc_result")
        result = repo.get_qc_result(uow.session, result_id)
        if result.status == QCStatus.INVALIDATED:
            raise Conflict(f"QC result {result_id} is already invalidated.")
        batch = repo.batch_by_id(uow.session, result.batch_id)
        if batch.status in _CLOSED_BATCH:
            raise Conflict(
                f"Lot {batch.lot_number!r} is {batch.status.value}; its results are final."
            )
        result.status = QCStatus.INVALIDATED
        result.invalidation_reason = why
        uow.flush()
        return _views(uow.session, [result])[0]


def _views(session: repo.Session, results: list[QCResult]) -> list[QCResultView]:
    ids = [r.id for r in results]
    linked: dict[int, list[str]] = {}
    for deviation in repo.deviations_of_results(session, ids):
        if deviation.qc_result_id is not None:
            linked.setdefault(deviation.qc_result_id, []).append(deviation.number)
    changed = repo.update_counts(session, "qc_result", [str(i) for i in ids])
    specs = {
        s.id: limits_of(s).describe()
        for s in (session.get(Specification, r.spec_id) for r in results if r.spec_id)
        if s is not None
    }
    return [
        QCResultView(
            id=r.id,
            attribute=r.attribute,
            value=r.value,
            value_text=r.value_text,
            unit=r.unit,
            purpose=r.purpose,
            outcome=r.outcome,
            specification=specs.get(r.spec_id) if r.spec_id else None,
            status=r.status.value,
            invalidation_reason=r.invalidation_reason,
            retest_of=r.retest_of_id,
            deviations=tuple(linked.get(r.id, [])),
            tested_at=r.tested_at,
            analyst=r.analyst,
            changed_since_entry=changed.get(str(r.id), 0) > 0,
        )
        for r in results
    ]


def list_qc_results(store: Store, lot: str) -> list[QCResultView]:
    """QC results of a lot in entry order, with outcome, links and change history."""
    with store.reader() as session:
        batch = batch_repo.get_batch(session, lot)
        return _views(session, repo.qc_results_of_batch(session, batch.id))
