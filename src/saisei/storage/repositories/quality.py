"""Queries of the quality system: users and sessions, specifications, QC results, deviations,
custody links, signatures, audit reviews and the audit events of one batch."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, selectinload

from saisei.domain.enums import DeviationStatus, QCStatus
from saisei.errors import NotFound, StorageError
from saisei.storage.models import (
    AuditEvent,
    AuditReview,
    Batch,
    CustodyEvent,
    Deviation,
    Party,
    PasswordHistory,
    ProcessDefinition,
    QCResult,
    QualityAttribute,
    Role,
    Shipment,
    Signature,
    Specification,
    User,
    UserSession,
)

__all__ = [
    "Session",
    "audit_events_of_entities",
    "audit_reviews",
    "batch_by_id",
    "count_users",
    "custody_events_of_chain",
    "db_errors",
    "deviations",
    "deviations_of_results",
    "ensure_roles",
    "find_attribute",
    "find_session",
    "find_specification",
    "find_user",
    "get_custody_event",
    "get_deviation",
    "get_party",
    "get_process",
    "get_qc_result",
    "get_shipment",
    "get_signature",
    "get_user",
    "list_users",
    "next_deviation_number",
    "open_deviations",
    "party_codes",
    "process_specifications",
    "qc_results_of_batch",
    "signatures_for",
    "update_counts",
    "valid_results",
]


@contextmanager
def db_errors() -> Iterator[None]:
    """Turn a database driver failure into :class:`StorageError` (callers cannot see SQLAlchemy)."""
    try:
        yield
    except DBAPIError as exc:
        raise StorageError(f"The database failed: {exc.orig}") from exc


# users and sessions -------------------------------------------------------------------------


def find_user(session: Session, username: str) -> User | None:
    """The user with ``username`` and its roles, or None."""
    return session.execute(
        select(User).options(selectinload(User.roles)).where(User.username == username)
    ).scalar_one_or_none()


def get_user(session: Session, username: str) -> User:
    """The user with ``username``; NotFound names how to list users."""
    user = find_user(session, username)
    if user is None:
        raise NotFound(f"No user {username!r}. List users with 'saisei users list'.")
    return user


def previous_password_hashes(session: Session, user_id: int, limit: int) -> list[str]:
    """The hashes of the user's ``limit`` most recently replaced passwords, newest first."""
    if limit <= 0:
        return []
    return list(
        session.execute(
            select(PasswordHistory.password_hash)
            .where(PasswordHistory.user_id == user_id)
            .order_by(PasswordHistory.replaced_at.desc(), PasswordHistory.id.desc())
            .limit(limit)
        ).scalars()
    )


def list_users(session: Session) -> list[User]:
    """Every user with roles, by user id."""
    return list(
        session.execute(
            select(User).options(selectinload(User.roles)).order_by(User.username)
        ).scalars()
    )


def count_users(session: Session) -> int:
    """Number of user accounts."""
    return session.execute(select(func.count()).select_from(User)).scalar_one()


def ensure_roles(session: Session, names: Iterable[str]) -> list[Role]:
    """The Role rows of ``names``, creating missing ones (inside the caller's unit of work)."""
    wanted = sorted(set(names))
    found = {
        r.name: r for r in session.execute(select(Role).where(Role.name.in_(wanted))).scalars()
    }
    for name in wanted:
        if name not in found:
            found[name] = Role(name=name)
            session.add(found[name])
    return [found[n] for n in wanted]


def get_party(session: Session, code: str) -> Party:
    """The party with ``code``."""
    found = session.execute(select(Party).where(Party.code == code)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"No party with code {code!r}.")
    return found


def party_codes(session: Session) -> dict[int, str]:
    """Party id -> code."""
    return {pid: code for pid, code in session.execute(select(Party.id, Party.code)).all()}


def find_session(session: Session, token_sha256: str) -> UserSession | None:
    """The sign-in session whose token hashes to ``token_sha256``."""
    return session.execute(
        select(UserSession).where(UserSession.token_sha256 == token_sha256)
    ).scalar_one_or_none()


# process, specifications, QC ----------------------------------------------------------------


def get_process(session: Session, name: str, version: str) -> ProcessDefinition:
    """The process definition ``name`` ``version``."""
    process = session.execute(
        select(ProcessDefinition).where(
            ProcessDefinition.name == name, ProcessDefinition.version == version
        )
    ).scalar_one_or_none()
    if process is None:
        raise NotFound(f"No process definition {name!r} version {version!r}.")
    return process


def find_attribute(session: Session, process_id: int, name: str) -> QualityAttribute | None:
    """The quality attribute ``name`` of a process, or None."""
    return session.execute(
        select(QualityAttribute).where(
            QualityAttribute.process_id == process_id, QualityAttribute.name == name
        )
    ).scalar_one_or_none()


def find_specification(
    session: Session, process_id: int, attribute: str, purpose: str
) -> tuple[QualityAttribute | None, Specification | None]:
    """The attribute and its specification for ``purpose`` (each None when absent)."""
    found = find_attribute(session, process_id, attribute)
    if found is None:
        return None, None
    spec = session.execute(
        select(Specification).where(
            Specification.attribute_id == found.id, Specification.purpose == purpose
        )
    ).scalar_one_or_none()
    return found, spec


def process_specifications(
    session: Session, process_id: int, purpose: str | None = None
) -> list[tuple[QualityAttribute, Specification]]:
    """Every (attribute, specification) of a process, by attribute name and purpose."""
    query = (
        select(QualityAttribute, Specification)
        .join(Specification, Specification.attribute_id == QualityAttribute.id)
        .where(QualityAttribute.process_id == process_id)
        .order_by(QualityAttribute.name, Specification.purpose)
    )
    if purpose is not None:
        query = query.where(Specification.purpose == purpose)
    return [(a, s) for a, s in session.execute(query).all()]


def get_qc_result(session: Session, result_id: int) -> QCResult:
    """The QC result with id ``result_id``."""
    result = session.get(QCResult, result_id)
    if result is None:
        raise NotFound(f"No QC result with id {result_id}. List them with 'saisei qc list LOT'.")
    return result


def qc_results_of_batch(session: Session, batch_id: int) -> list[QCResult]:
    """QC results of a batch in entry order."""
    return list(
        session.execute(
            select(QCResult).where(QCResult.batch_id == batch_id).order_by(QCResult.id)
        ).scalars()
    )


# deviations ---------------------------------------------------------------------------------


def get_deviation(session: Session, number: str) -> Deviation:
    """The deviation with ``number``."""
    found = session.execute(
        select(Deviation).where(Deviation.number == number)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"No deviation {number!r}. List them with 'saisei deviations list'.")
    return found


def deviations(
    session: Session, *, batch_id: int | None = None, status: DeviationStatus | None = None
) -> list[Deviation]:
    """Deviations by number, optionally of one batch and in one status."""
    query = select(Deviation).order_by(Deviation.number)
    if batch_id is not None:
        query = query.where(Deviation.batch_id == batch_id)
    if status is not None:
        query = query.where(Deviation.status == status)
    return list(session.execute(query).scalars())


def open_deviations(
    session: Session, batch_id: int, category: str | None = None
) -> list[Deviation]:
    """Deviations of a batch that are not closed, optionally of one category."""
    query = select(Deviation).where(
        Deviation.batch_id == batch_id, Deviation.status != DeviationStatus.CLOSED
    )
    if category is not None:
        query = query.where(Deviation.category == category)
    return list(session.execute(query.order_by(Deviation.number)).scalars())


def deviations_of_results(session: Session, result_ids: Sequence[int]) -> list[Deviation]:
    """Deviations linked to any of the QC results ``result_ids``."""
    if not result_ids:
        return []
    return list(
        session.execute(
            select(Deviation)
            .where(Deviation.qc_result_id.in_(list(result_ids)))
            .order_by(Deviation.number)
        ).scalars()
    )


def next_deviation_number(session: Session) -> str:
    """The next deviation number ``DEV-00001``, ``DEV-00002``, ...: one after the highest taken.

    Only numbers of exactly this pattern count (imported deviations may be numbered otherwise,
    e.g. ``DEV-MSC-0001``). Taking the highest rather than counting rows keeps the numbering
    free of collisions when numbers are missing or imported out of order; the unique constraint
    still guards two concurrent writers.
    """
    taken = session.execute(
        select(Deviation.number).where(Deviation.number.like("DEV-_____"))
    ).scalars()
    highest = max((int(n[4:]) for n in taken if n[4:].isdigit()), default=0)
    return f"DEV-{highest + 1:05d}"


# custody, shipments -------------------------------------------------------------------------


def custody_events_of_chain(session: Session, coi_id: int) -> list[CustodyEvent]:
    """Custody events of one chain of identity in the order they were stored."""
    return list(
        session.execute(
            select(CustodyEvent).where(CustodyEvent.coi_id == coi_id).order_by(CustodyEvent.id)
        ).scalars()
    )


def get_custody_event(session: Session, event_id: int) -> CustodyEvent:
    """The custody event with id ``event_id``."""
    found = session.get(CustodyEvent, event_id)
    if found is None:
        raise NotFound(f"No custody event with id {event_id}.")
    return found


def get_shipment(session: Session, code: str) -> Shipment:
    """The shipment with ``code``."""
    found = session.execute(select(Shipment).where(Shipment.code == code)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"No shipment {code!r}.")
    return found


# signatures, reviews, audit -----------------------------------------------------------------


def signatures_for(session: Session, record_type: str, record_id: str) -> list[Signature]:
    """Signatures of one record, oldest first."""
    return list(
        session.execute(
            select(Signature)
            .where(Signature.record_type == record_type, Signature.record_id == record_id)
            .order_by(Signature.id)
        ).scalars()
    )


def get_signature(session: Session, signature_id: int) -> Signature:
    """The signature with id ``signature_id``."""
    found = session.get(Signature, signature_id)
    if found is None:
        raise NotFound(f"No signature with id {signature_id}.")
    return found


def audit_reviews(session: Session, batch_id: int) -> list[AuditReview]:
    """Audit-trail reviews of a batch, oldest first."""
    return list(
        session.execute(
            select(AuditReview).where(AuditReview.batch_id == batch_id).order_by(AuditReview.id)
        ).scalars()
    )


def audit_events_of_entities(
    session: Session, entities: Mapping[str, Sequence[str]]
) -> list[AuditEvent]:
    """Audit events whose entity is one of ``entities`` (entity type -> ids), in chain order.

    Creation events are also matched by the ``id`` in their new values: the unit of work
    writes them before the row's identity is known, so their ``entity_id`` may be empty.
    """
    wanted = {kind: {str(i) for i in ids} for kind, ids in entities.items() if ids}
    if not wanted:
        return []
    clauses = [
        and_(
            AuditEvent.entity_type == kind,
            or_(
                AuditEvent.entity_id.in_(sorted(ids)),
                and_(AuditEvent.entity_id.is_(None), AuditEvent.tag.like("%:create")),
            ),
        )
        for kind, ids in wanted.items()
    ]
    found: list[AuditEvent] = []
    for event in session.execute(
        select(AuditEvent).where(or_(*clauses)).order_by(AuditEvent.seq)
    ).scalars():
        if event.entity_id is not None:
            found.append(event)
            continue
        created_id = json.loads(event.new_values).get("id")
        if str(created_id) in wanted.get(event.entity_type or "", set()):
            found.append(event)
    return found


def update_counts(session: Session, entity_type: str, ids: Sequence[str]) -> dict[str, int]:
    """How many times each entity was changed after creation (``update`` audit events)."""
    if not ids:
        return {}
    rows = session.execute(
        select(AuditEvent.entity_id, func.count())
        .where(
            AuditEvent.entity_type == entity_type,
            AuditEvent.entity_id.in_(list(ids)),
            AuditEvent.tag.like("%:update"),
        )
        .group_by(AuditEvent.entity_id)
    ).all()
    return {str(entity_id): int(count) for entity_id, count in rows}


def batch_by_id(session: Session, batch_id: int) -> Batch:
    """The batch with primary key ``batch_id``."""
    found = session.get(Batch, batch_id)
    if found is None:
        raise NotFound(f"No batch with id {batch_id}.")
    return found


def valid_results(results: Iterable[QCResult]) -> list[QCResult]:
    """The results that are not invalidated."""
    return [r for r in results if r.status == QCStatus.VALID]
