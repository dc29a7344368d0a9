"""Append-only, hash-chained audit trail: writing events and verifying the chain.

Only inserts exist here. Events are appended inside the caller's transaction, after locking
the chain head, so an event and the change it records commit or roll back together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from saisei.domain.audit import GENESIS_HASH, AuditRecord, chain_hash
from saisei.storage.base import utcnow
from saisei.storage.models import AuditChainHead, AuditEvent

__all__ = [
    "AuditDraft",
    "ChainVerification",
    "append_events",
    "audit_events",
    "data_revision",
    "has_genesis",
    "verify_chain",
]

_HEAD_ID = 1


@dataclass(frozen=True)
class AuditDraft:
    """An audit event before it gets its place (``seq``) and hash in the chain."""

    tag: str
    actor: str
    entity_type: str | None = None
    entity_id: str | None = None
    old_values: str = "{}"
    new_values: str = "{}"
    reason: str | None = None
    occurred_at: datetime = field(default_factory=utcnow)


def append_events(session: Session, drafts: Sequence[AuditDraft]) -> list[AuditEvent]:
    """Append ``drafts`` to the chain in the session's transaction.

    The chain head row is locked (``FOR UPDATE`` on PostgreSQL; SQLite serialises writers) so
    two transactions never claim the same sequence number.
    """
    if not drafts:
        return []
    head = session.execute(
        select(AuditChainHead).where(AuditChainHead.id == _HEAD_ID).with_for_update()
    ).scalar_one_or_none()
    seq, prev_hash = (head.seq, head.hash) if head is not None else (0, GENESIS_HASH)
    events: list[AuditEvent] = []
    for draft in drafts:
        seq += 1
        record = AuditRecord(
            seq=seq,
            tag=draft.tag,
            actor=draft.actor,
            occurred_at=draft.occurred_at,
            entity_type=draft.entity_type,
            entity_id=draft.entity_id,
            old_values=draft.old_values,
            new_values=draft.new_values,
            reason=draft.reason,
            prev_hash=prev_hash,
        )
        prev_hash = chain_hash(record)
        events.append(AuditEvent(**vars(record), hash=prev_hash))
    session.add_all(events)
    if head is None:
        session.add(AuditChainHead(id=_HEAD_ID, seq=seq, hash=prev_hash))
    else:
        head.seq, head.hash = seq, prev_hash
    return events


#: Audit subjects of sign-in bookkeeping (session activity, failed sign-ins, lockouts).
_SIGN_IN_SUBJECTS = ("user_session", "user")


def data_revision(session: Session) -> int:
    """Sequence number of the newest audit event about stored data (0 when there is none).

    Every change of the store appends audit events in its transaction, so the number changes
    whenever stored data change: a key for views derived from the whole store. Sign-in
    bookkeeping (sessions, users' sign-in counters) is left out: it changes with every visit.
    Read backwards along the primary key, it stops at the first event that counts.
    """
    query = (
        select(AuditEvent.seq)
        .where(
            or_(
                AuditEvent.entity_type.is_(None),
                AuditEvent.entity_type.not_in(_SIGN_IN_SUBJECTS),
            )
        )
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    )
    seq = session.execute(query).scalar_one_or_none()
    return 0 if seq is None else int(seq)


def has_genesis(session: Session) -> bool:
    """Whether the chain has at least its first event."""
    return session.execute(select(func.count()).select_from(AuditEvent)).scalar_one() > 0


@dataclass(frozen=True)
class ChainVerification:
    """Outcome of :func:`verify_chain`.

    Attributes
    ----------
    ok : bool
        True when every event and the head verify.
    events_checked : int
        Number of audit rows read.
    first_broken_seq : int or None
        Sequence number of the first row that fails (None if the failure is the head).
    problem : str or None
        A sentence naming what is wrong at that row.
    head_hash : str or None
        Hash of the last event when the chain verifies; keep it off-system to anchor the chain.
    """

    ok: bool
    events_checked: int
    first_broken_seq: int | None = None
    problem: str | None = None
    head_hash: str | None = None


def _check_rows(rows: Iterable[AuditEvent]) -> tuple[ChainVerification, str, int]:
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    for event in rows:
        count += 1
        if event.seq != expected_seq:
            return (
                ChainVerification(
                    False,
                    count,
                    event.seq,
                    f"audit row seq {event.seq} found where seq {expected_seq} was expected: "
                    f"a row was deleted or inserted",
                ),
                prev_hash,
                expected_seq - 1,
            )
        if event.prev_hash != prev_hash:
            return (
                ChainVerification(
                    False,
                    count,
                    event.seq,
                    f"audit row seq {event.seq} does not link to the row before it "
                    f"(prev_hash {event.prev_hash[:12]}... expected {prev_hash[:12]}...)",
                ),
                prev_hash,
                expected_seq - 1,
            )
        recomputed = chain_hash(
            AuditRecord(
                seq=event.seq,
                tag=event.tag,
                actor=event.actor,
                occurred_at=event.occurred_at,
                entity_type=event.entity_type,
                entity_id=event.entity_id,
                old_values=event.old_values,
                new_values=event.new_values,
                reason=event.reason,
                prev_hash=event.prev_hash,
            )
        )
        if recomputed != event.hash:
            return (
                ChainVerification(
                    False,
                    count,
                    event.seq,
                    f"audit row seq {event.seq} ({event.tag}) was modified after it was written: "
                    f"its content no longer matches its hash",
                ),
                prev_hash,
                expected_seq - 1,
            )
        prev_hash = event.hash
        expected_seq += 1
    return ChainVerification(True, count), prev_hash, expected_seq - 1


def verify_chain(session: Session) -> ChainVerification:
    """Recompute every hash of the chain and compare it with the stored rows and the head.

    Detects an edited row (hash mismatch), a deleted or inserted row (sequence gap or broken
    link), rows swapped in order (the sequence number is hashed), a truncated tail (head
    points past the last row) and an empty chain (no genesis event).
    """
    rows = session.execute(
        select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=2000)
    )
    try:
        result, last_hash, last_seq = _check_rows(rows.scalars())
    finally:
        rows.close()  # a server-side cursor stays open when the check stops early
    if not result.ok:
        return result
    if result.events_checked == 0:
        return ChainVerification(
            False, 0, None, "the audit trail is empty: no genesis event was found"
        )
    head = session.get(AuditChainHead, _HEAD_ID)
    if head is None or head.seq != last_seq or head.hash != last_hash:
        head_seq = head.seq if head is not None else None
        return ChainVerification(
            False,
            result.events_checked,
            None,
            f"the audit chain head (seq {head_seq}) does not match the last row (seq "
            f"{last_seq}): rows after seq {last_seq} were removed, or the head was altered",
        )
    return ChainVerification(True, result.events_checked, head_hash=last_hash)


def audit_events(
    session: Session,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    limit: int | None = None,
) -> list[AuditEvent]:
    """Audit events in chain order, optionally for one entity."""
    query = select(AuditEvent).order_by(AuditEvent.seq)
    if entity_type is not None:
        query = query.where(AuditEvent.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.execute(query).scalars())
