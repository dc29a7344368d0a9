"""Shipments: creation between qualified parties, logger evaluation, receipt, acknowledgement.

:func:`evaluate_shipment` reads the shipment's logger readings from the time-series store
(segments with subject type ``shipment``; variables ``temperature`` in C, ``shock`` in g,
``tilt`` in degrees), evaluates them with :func:`saisei.domain.transport.evaluate_logger`
against the transport specification of the shipment's condition class (see
:mod:`saisei.custody._specs`), decides receipt with
:func:`~saisei.domain.transport.decide_receipt` and stores, through the unit of work, the
evaluation on ``Shipment.evaluation`` and the decision on ``Shipment.status`` (``accepted`` or
``quarantined``). :func:`acknowledge_shipment_excursion` records an acknowledgement (a comment
is required) and decides again with the specification stored with the evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from saisei.custody._specs import load_specs, spec_for, spec_from_mapping, spec_to_mapping
from saisei.custody.parties import check_party_qualified, party_problem
from saisei.domain.audit import jsonable
from saisei.domain.enums import ShipmentStatus, SubjectType
from saisei.domain.transport import (
    Excursion,
    ExcursionAcknowledgement,
    LoggerEvaluation,
    LoggerRecord,
    ShockEvent,
    TemperatureReading,
    TiltEvent,
    TransportSpec,
    acknowledge_excursion,
    decide_receipt,
    evaluate_logger,
)
from saisei.errors import Conflict, NotFound, ValidationFailed
from saisei.storage.models import Shipment
from saisei.storage.repositories import custody as repo
from saisei.storage.store import Store

__all__ = [
    "ShipmentEvaluation",
    "acknowledge_shipment_excursion",
    "create_shipment",
    "evaluate_shipment",
    "load_specs",
]


@dataclass(frozen=True)
class ShipmentEvaluation:
    """A shipment with its stored transport evaluation.

    Attributes
    ----------
    code, condition_class, status : str
        The shipment, its condition class and its status after the decision.
    decision : str
        ``accept`` or ``quarantine`` (for QA review).
    reasons : tuple of str
        Why it is quarantined.
    evaluation : dict
        The stored evaluation: specification, loggers, excursions (numbered from 1),
        acknowledgements.
    """

    code: str
    condition_class: str | None
    status: str
    decision: str
    reasons: tuple[str, ...]
    evaluation: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {k: jsonable(getattr(self, k)) for k in self.__dataclass_fields__}


def create_shipment(
    store: Store,
    actor: str,
    *,
    code: str,
    subject_type: str,
    subject_ref: str,
    from_party: str,
    to_party: str,
    shipped_at: datetime,
    container_id: str | None = None,
    condition_class: str | None = None,
    packed_at: datetime | None = None,
    source: str = "app",
) -> dict[str, Any]:
    """Register a shipment; refused when either party is not qualified on ``shipped_at``.

    Raises
    ------
    CustodyBreak
        The sender or receiver is unqualified or its qualification has expired.
    Conflict
        A shipment with ``code`` exists.
    """
    kind = SubjectType(subject_type)
    with store.unit_of_work(actor=actor, source=source, reason=f"shipment {code}") as uow:
        session = uow.session
        try:
            repo.get_shipment(session, code)
        except NotFound:
            pass
        else:
            raise Conflict(f"A shipment {code!r} is already stored.")
        sender, receiver = repo.get_party(session, from_party), repo.get_party(session, to_party)
        check_party_qualified(sender, shipped_at, role="from")
        check_party_qualified(receiver, shipped_at, role="to")
        shipment = Shipment(
            code=code,
            subject_type=kind,
            subject_ref=subject_ref,
            from_party_id=sender.id,
            to_party_id=receiver.id,
            container_id=container_id,
            condition_class=condition_class,
            packed_at=packed_at,
            shipped_at=shipped_at,
            status=ShipmentStatus.IN_TRANSIT,
            evaluation={},
        )
        session.add(shipment)
        uow.flush()
        return {
            "code": code,
            "from_party": sender.code,
            "to_party": receiver.code,
            "status": shipment.status.value,
        }


def _moments(frame: pd.DataFrame, shipment: Shipment) -> list[datetime]:
    if "timestamp" in frame and frame["timestamp"].notna().all():
        return [pd.Timestamp(t).to_pydatetime().astimezone(UTC) for t in frame["timestamp"]]
    if shipment.shipped_at is None:
        raise ValidationFailed(
            f"Logger readings of shipment {shipment.code} have no timestamps and the shipment "
            "has no shipped_at time to count 't' from."
        )
    return [shipment.shipped_at + timedelta(hours=float(t)) for t in frame["t"]]


def _logger_record(frame: pd.DataFrame, shipment: Shipment) -> LoggerRecord:
    """The logger's readings, shocks and tilts as the domain's :class:`LoggerRecord`."""

    def variable(name: str) -> pd.DataFrame:
        part = frame[(frame["variable"] == name) & frame["value"].notna()]
        return part.sort_values("t", kind="stable").drop_duplicates("t", keep="last")

    temps = variable("temperature")
    readings = tuple(
        TemperatureReading(at, float(v))
        for at, v in zip(_moments(temps, shipment), temps["value"], strict=True)
    )
    shocks = variable("shock")
    tilts = variable("tilt")
    return LoggerRecord(
        logger_id=shipment.container_id or shipment.code,
        readings=readings,
        shocks=tuple(
            ShockEvent(at, float(v))
            for at, v in zip(_moments(shocks, shipment), shocks["value"], strict=True)
        ),
        tilts=tuple(
            TiltEvent(at, float(v))
            for at, v in zip(_moments(tilts, shipment), tilts["value"], strict=True)
        ),
    )


def _excursion_dict(number: int, e: Excursion, acknowledged: set[str]) -> dict[str, Any]:
    return {
        "number": number,
        "key": e.key,
        "logger_id": e.logger_id,
        "band": e.band,
        "start": jsonable(e.start),
        "end": jsonable(e.end),
        "duration_h": e.duration_h,
        "min_c": e.min_c,
        "max_c": e.max_c,
        "n_readings": e.n_readings,
        "acknowledged": e.key in acknowledged,
    }


def _logger_dict(ev: LoggerEvaluation) -> dict[str, Any]:
    return {
        "logger_id": ev.logger_id,
        "spec_name": ev.spec_name,
        "start": jsonable(ev.start),
        "end": jsonable(ev.end),
        "n_readings": ev.n_readings,
        "min_c": ev.min_c,
        "max_c": ev.max_c,
        "mkt_c": ev.mkt_c,
        "time_out_of_range_h": ev.time_out_of_range_h,
        "bands": [
            {
                "band": b.rule.band.name,
                "time_out_of_range_h": b.time_out_of_range_h,
                "longest_excursion_h": b.longest_excursion_h,
                "violated": b.violated,
                "reasons": list(b.reasons),
            }
            for b in ev.bands
        ],
        "shock_counts": [
            {"threshold_g": c.threshold_g, "count": c.count, "max_count": c.max_count}
            for c in ev.shock_counts
        ],
        "tilt_counts": [
            {"threshold_deg": c.threshold_deg, "count": c.count, "max_count": c.max_count}
            for c in ev.tilt_counts
        ],
        "gaps": [
            {"kind": g.kind, "start": jsonable(g.start), "end": jsonable(g.end)} for g in ev.gaps
        ],
        "mkt_exceeded": ev.mkt_exceeded,
        "problems": list(ev.problems),
    }


def _ack_dict(a: ExcursionAcknowledgement) -> dict[str, Any]:
    return {
        "excursion_key": a.excursion_key,
        "actor": a.actor,
        "comment": a.comment,
        "acknowledged_at": jsonable(a.acknowledged_at),
    }


def _acks(evaluation: Mapping[str, Any]) -> list[ExcursionAcknowledgement]:
    return [
        ExcursionAcknowledgement(
            a["excursion_key"],
            a["actor"],
            a["comment"],
            datetime.fromisoformat(a["acknowledged_at"]),
        )
        for a in evaluation.get("acknowledgements", [])
    ]


def _evaluate(
    store: Store,
    session: repo.Session,
    shipment: Shipment,
    spec: TransportSpec,
    acks: Sequence[ExcursionAcknowledgement],
    actor: str,
    at: datetime,
) -> ShipmentEvaluation:
    """Evaluate, decide and store on ``shipment`` (inside the caller's unit of work)."""
    try:
        frame = store.timeseries.read(session, shipment=shipment.code)
    except NotFound:
        frame = None
    evaluations: list[LoggerEvaluation] = []
    if isinstance(frame, pd.DataFrame) and (frame["variable"] == "temperature").any():
        record = _logger_record(frame, shipment)
        evaluations.append(
            evaluate_logger(
                record, spec, dispatched_at=shipment.shipped_at, received_at=shipment.received_at
            )
        )
    decision = decide_receipt(evaluations, acks)
    parties = repo.parties_by_id(session, (shipment.from_party_id, shipment.to_party_id))
    when = shipment.shipped_at or at
    party_reasons = [
        f"{problem} on {when.date().isoformat()}"
        for p in parties.values()
        if (problem := party_problem(p, when)) is not None
    ]
    reasons = (*decision.reasons, *party_reasons)
    accepted = not reasons
    acknowledged = {a.excursion_key for a in acks}
    excursions = [e for ev in evaluations for e in ev.excursions]
    document = {
        "condition_class": shipment.condition_class,
        "spec": spec_to_mapping(spec),
        "evaluated_at": jsonable(at),
        "evaluated_by": actor,
        "decision": "accept" if accepted else "quarantine",
        "reasons": list(reasons),
        "loggers": [_logger_dict(ev) for ev in evaluations],
        "excursions": [_excursion_dict(i, e, acknowledged) for i, e in enumerate(excursions, 1)],
        "acknowledgements": [_ack_dict(a) for a in acks],
    }
    shipment.evaluation = document
    shipment.status = ShipmentStatus.ACCEPTED if accepted else ShipmentStatus.QUARANTINED
    session.flush()
    return ShipmentEvaluation(
        code=shipment.code,
        condition_class=shipment.condition_class,
        status=shipment.status.value,
        decision=str(document["decision"]),
        reasons=reasons,
        evaluation=document,
    )


def evaluate_shipment(
    store: Store,
    actor: str,
    code: str,
    *,
    specs: Mapping[str, TransportSpec] | None = None,
    now: datetime | None = None,
    source: str = "app",
) -> ShipmentEvaluation:
    """Evaluate a shipment's logger readings and store the evaluation and receipt decision.

    Parameters
    ----------
    specs : mapping of condition class to TransportSpec, optional
        Default: :func:`load_specs` ``(None)``, the documented default table.

    Raises
    ------
    NotFound
        Unknown shipment.
    ValidationFailed
        No specification for the condition class, or unusable logger data.
    """
    at = (now or datetime.now(UTC)).astimezone(UTC)
    table = specs if specs is not None else load_specs(None)
    with store.unit_of_work(actor=actor, source=source, reason=f"evaluate {code}") as uow:
        shipment = repo.get_shipment(uow.session, code)
        spec = spec_for(table, shipment.condition_class)
        previous = shipment.evaluation or {}
        # Acknowledgements carry over only while the same specification is used.
        same_spec = previous.get("spec") == spec_to_mapping(spec)
        acks = _acks(previous) if same_spec else []
        return _evaluate(store, uow.session, shipment, spec, acks, actor, at)


def _stored_excursion(item: Mapping[str, Any]) -> Excursion:
    return Excursion(
        logger_id=item["logger_id"],
        band=item["band"],
        start=datetime.fromisoformat(item["start"]),
        end=datetime.fromisoformat(item["end"]),
        duration_h=float(item["duration_h"]),
        min_c=float(item["min_c"]),
        max_c=float(item["max_c"]),
        n_readings=int(item["n_readings"]),
    )


def acknowledge_shipment_excursion(
    store: Store,
    actor: str,
    code: str,
    excursion: int,
    comment: str,
    *,
    now: datetime | None = None,
    source: str = "app",
) -> ShipmentEvaluation:
    """Acknowledge excursion number ``excursion`` (from 1) of the shipment's evaluation.

    The receipt is decided again with the stored specification: acknowledging accepts a
    shipment only when no rule is broken.

    Raises
    ------
    ValidationFailed
        No evaluation yet, no such excursion, or a blank comment.
    Conflict
        The excursion is already acknowledged.
    """
    at = (now or datetime.now(UTC)).astimezone(UTC)
    reason = comment.strip() if isinstance(comment, str) and comment.strip() else None
    with store.unit_of_work(
        actor=actor, source=source, reason=reason or f"acknowledge excursion {excursion}"
    ) as uow:
        shipment = repo.get_shipment(uow.session, code)
        stored = shipment.evaluation or {}
        if not stored.get("spec"):
            raise ValidationFailed(
                f"Shipment {code} has no evaluation yet; run 'saisei shipments evaluate {code}' "
                "first."
            )
        listed = stored.get("excursions", [])
        if not 1 <= excursion <= len(listed):
            raise ValidationFailed(
                f"Shipment {code} has {len(listed)} excursion(s); excursion {excursion} does not "
                "exist. See 'saisei shipments evaluate' for their numbers."
            )
        item = listed[excursion - 1]
        acks = _acks(stored)
        done = next((a for a in acks if a.excursion_key == item["key"]), None)
        if done is not None:
            raise Conflict(
                f"Excursion {excursion} of shipment {code} was already acknowledged by "
                f"{done.actor} at {done.acknowledged_at.isoformat()}."
            )
        acks.append(
            acknowledge_excursion(_stored_excursion(item), actor=actor, comment=comment, at=at)
        )
        spec = spec_from_mapping(str(shipment.condition_class), stored["spec"])
        return _evaluate(store, uow.session, shipment, spec, acks, actor, at)
