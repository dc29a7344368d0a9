"""Deviations: record, classify, investigate, CAPA and close with a QA signature.

Life cycle (:data:`saisei.domain.quality_rules.DEVIATION_TRANSITIONS`): ``open`` ->
``investigation`` (root cause recorded) -> ``capa`` (corrective and preventive action) ->
``closed``. A minor deviation may close from ``investigation``; a major or critical one needs
its CAPA first. Closing needs a QA e-signature with meaning ``approval``. A deviation links to
a batch, a QC result (OOS), a custody event (custody break), a shipment (transport excursion)
or a monitoring alarm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from saisei.domain.audit import jsonable
from saisei.domain.enums import DeviationSeverity, DeviationStatus, SignatureMeaning
from saisei.domain.quality_rules import (
    DEVIATION_CATEGORIES,
    check_deviation_transition,
    require_reason,
)
from saisei.errors import Conflict, ValidationFailed
from saisei.quality.access import authorize, utc_now
from saisei.quality.esign import (
    Credentials,
    SignatureView,
    apply_signature,
    signature_views,
    verify_signer,
)
from saisei.quality.permissions import check_permission
from saisei.quality.records import deviation_content
from saisei.quality.users import AuthPolicy
from saisei.storage.models import Deviation
from saisei.storage.repositories import batches as batch_repo
from saisei.storage.repositories import quality as repo
from saisei.storage.store import Store

__all__ = [
    "DeviationView",
    "classify_deviation",
    "close_deviation",
    "list_deviations",
    "record_capa",
    "record_deviation",
    "record_investigation",
    "show_deviation",
]


@dataclass(frozen=True)
class DeviationView:
    """A deviation with its links and signatures (printed name, UTC time, meaning, validity)."""

    number: str
    lot: str | None
    category: str
    severity: str
    status: str
    description: str
    root_cause: str | None
    capa: str | None
    opened_at: datetime
    closed_at: datetime | None
    recorded_by: str | None
    links: dict[str, Any]
    signatures: tuple[SignatureView, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        out = {k: jsonable(getattr(self, k)) for k in self.__dataclass_fields__}
        out["signatures"] = [s.to_dict() for s in self.signatures]
        return out


def _severity(value: str) -> DeviationSeverity:
    try:
        return DeviationSeverity(value)
    except ValueError:
        options = ", ".join(s.value for s in DeviationSeverity)
        raise ValidationFailed(f"The severity must be one of {options}. Got {value!r}.") from None


def _view(session: repo.Session, deviation: Deviation) -> DeviationView:
    lot = (
        repo.batch_by_id(session, deviation.batch_id).lot_number
        if deviation.batch_id is not None
        else None
    )
    links = {
        k: v
        for k, v in {
            "qc_result_id": deviation.qc_result_id,
            "custody_event_id": deviation.custody_event_id,
            "shipment_id": deviation.shipment_id,
            "alarm_ref": deviation.alarm_ref,
        }.items()
        if v is not None
    }
    return DeviationView(
        number=deviation.number,
        lot=lot,
        category=deviation.category,
        severity=deviation.severity.value,
        status=deviation.status.value,
        description=deviation.description,
        root_cause=deviation.root_cause,
        capa=deviation.capa,
        opened_at=deviation.opened_at,
        closed_at=deviation.closed_at,
        recorded_by=deviation.recorded_by,
        links=links,
        signatures=tuple(signature_views(session, "deviation", deviation.number)),
    )


def record_deviation(
    store: Store,
    actor: str,
    *,
    description: str,
    category: str,
    severity: str,
    lot: str | None = None,
    qc_result_id: int | None = None,
    custody_event_id: int | None = None,
    shipment_code: str | None = None,
    alarm_ref: str | None = None,
    source: str = "app",
    now: datetime | None = None,
) -> DeviationView:
    """Record a deviation (needs ``deviations.record``); it opens with status ``open``."""
    if category not in DEVIATION_CATEGORIES:
        raise ValidationFailed(
            f"The deviation category must be one of {', '.join(DEVIATION_CATEGORIES)}. "
            f"Got {category!r}."
        )
    if not description.strip():
        raise ValidationFailed("A deviation needs a description of what happened. Got none.")
    parsed = _severity(severity)
    with store.unit_of_work(actor=actor, source=source, reason="deviation recorded") as uow:
        authorize(uow.session, actor, "deviations.record_deviation")
        batch_id = batch_repo.get_batch(uow.session, lot).id if lot is not None else None
        if qc_result_id is not None:
            result = repo.get_qc_result(uow.session, qc_result_id)
            batch_id = batch_id if batch_id is not None else result.batch_id
        if custody_event_id is not None:
            repo.get_custody_event(uow.session, custody_event_id)
        shipment_id = (
            repo.get_shipment(uow.session, shipment_code).id if shipment_code is not None else None
        )
        deviation = Deviation(
            number=repo.next_deviation_number(uow.session),
            batch_id=batch_id,
            category=category,
            severity=parsed,
            description=description.strip(),
            status=DeviationStatus.OPEN,
            opened_at=utc_now(now),
            details={},
            recorded_by=actor,
            qc_result_id=qc_result_id,
            custody_event_id=custody_event_id,
            shipment_id=shipment_id,
            alarm_ref=alarm_ref,
        )
        uow.session.add(deviation)
        uow.flush()
        return _view(uow.session, deviation)


def classify_deviation(
    store: Store,
    actor: str,
    number: str,
    severity: str,
    *,
    reason: str | None,
    source: str = "app",
) -> DeviationView:
    """Set the severity (minor, major, critical) of an open deviation; QA, with a reason."""
    parsed = _severity(severity)
    why = require_reason(reason, f"classify deviation {number}")
    with store.unit_of_work(actor=actor, source=source, reason=why) as uow:
        authorize(uow.session, actor, "deviations.classify_deviation")
        deviation = repo.get_deviation(uow.session, number)
        if deviation.status == DeviationStatus.CLOSED:
            raise Conflict(f"Deviation {number} is closed; its classification is final.")
        deviation.severity = parsed
        uow.flush()
        return _view(uow.session, deviation)


def record_investigation(
    store: Store,
    actor: str,
    number: str,
    *,
    root_cause: str,
    reason: str | None = None,
    source: str = "app",
) -> DeviationView:
    """Record the root cause; the deviation moves to ``investigation``.

    A root cause that replaces an earlier one needs a reason.
    """
    if not root_cause.strip():
        raise ValidationFailed("The investigation needs a root cause. Got none.")
    with store.reader() as session:
        replaces = repo.get_deviation(session, number).root_cause is not None
    why = (
        require_reason(reason, f"change the root cause of deviation {number}")
        if replaces
        else reason or "root cause recorded"
    )
    with store.unit_of_work(actor=actor, source=source, reason=why) as uow:
        authorize(uow.session, actor, "deviations.record_investigation")
        deviation = repo.get_deviation(uow.session, number)
        if deviation.status != DeviationStatus.INVESTIGATION:
            check_deviation_transition(number, deviation.status, DeviationStatus.INVESTIGATION)
            deviation.status = DeviationStatus.INVESTIGATION
        deviation.root_cause = root_cause.strip()
        uow.flush()
        return _view(uow.session, deviation)


def record_capa(
    store: Store, actor: str, number: str, *, capa: str, source: str = "app"
) -> DeviationView:
    """Record the corrective and preventive action; the deviation moves to ``capa``."""
    if not capa.strip():
        raise ValidationFailed("The CAPA needs a description of the actions. Got none.")
    with store.unit_of_work(actor=actor, source=source, reason="CAPA recorded") as uow:
        authorize(uow.session, actor, "deviations.record_capa")
        deviation = repo.get_deviation(uow.session, number)
        check_deviation_transition(number, deviation.status, DeviationStatus.CAPA)
        deviation.capa = capa.strip()
        deviation.status = DeviationStatus.CAPA
        uow.flush()
        return _view(uow.session, deviation)


def close_deviation(
    store: Store,
    number: str,
    credentials: Credentials,
    policy: AuthPolicy,
    *,
    conclusion: str | None = None,
    source: str = "app",
    now: datetime | None = None,
) -> DeviationView:
    """Close a deviation with the QA e-signature (meaning ``approval``).

    Raises
    ------
    Conflict
        When the status does not permit closing, the root cause is missing, or a major or
        critical deviation has no CAPA.
    """
    moment = utc_now(now)
    signer = verify_signer(store, credentials, policy, source=source, now=moment)
    check_permission(signer.username, signer.roles, "deviations.close_deviation")
    with store.unit_of_work(
        actor=signer.username, source=source, reason=conclusion or "deviation closed"
    ) as uow:
        authorize(uow.session, signer.username, "deviations.close_deviation")
        deviation = repo.get_deviation(uow.session, number)
        check_deviation_transition(number, deviation.status, DeviationStatus.CLOSED)
        if not deviation.root_cause:
            raise Conflict(f"Deviation {number} cannot close without a root cause.")
        if deviation.severity != DeviationSeverity.MINOR and deviation.status != (
            DeviationStatus.CAPA
        ):
            raise Conflict(
                f"Deviation {number} is {deviation.severity.value}: record its CAPA "
                f"('saisei deviations capa {number}') before closing."
            )
        deviation.status = DeviationStatus.CLOSED
        deviation.closed_at = moment
        if conclusion:
            deviation.details = {**deviation.details, "conclusion": conclusion}
        uow.flush()
        apply_signature(
            uow,
            signer,
            record_type="deviation",
            record_id=number,
            meaning=SignatureMeaning.APPROVAL,
            content=deviation_content(deviation),
            now=moment,
        )
        return _view(uow.session, deviation)


def list_deviations(
    store: Store, *, lot: str | None = None, status: str | None = None
) -> list[DeviationView]:
    """Deviations by number, optionally of one lot and in one status."""
    parsed = None
    if status is not None:
        try:
            parsed = DeviationStatus(status)
        except ValueError:
            options = ", ".join(s.value for s in DeviationStatus)
            raise ValidationFailed(
                f"The status filter must be one of {options}. Got {status!r}."
            ) from None
    with store.reader() as session:
        batch_id = batch_repo.get_batch(session, lot).id if lot is not None else None
        return [
            _view(session, d) for d in repo.deviations(session, batch_id=batch_id, status=parsed)
        ]


def show_deviation(store: Store, number: str) -> DeviationView:
    """One deviation with its links and signatures."""
    with store.reader() as session:
        return _view(session, repo.get_deviation(session, number))
