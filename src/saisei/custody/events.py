"""Recording custody events: replay, check, hash-link and persist in one unit of work.

:func:`record_event` is the one way a custody event enters the store. In one transaction it
loads the chain's stored events, verifies their hash links and replays them through the
domain's state machine (:mod:`saisei.domain.custody`), applies the new event (order, time,
scans, dispense, hold), links it after the last event (``seq``, ``prev_hash``, ``hash``) and
stores it; the unit of work audits the row.

A scan mismatch is a hard stop. The event is **not** recorded; in the same transaction a
critical deviation of category ``custody`` is opened and a ``chain_blocked`` event naming it is
recorded (the domain models a hold as that event: while a chain is blocked only the matching
``chain_unblocked`` event is permitted). After the commit :class:`CustodyChainBlocked` (a
:class:`~saisei.domain.custody.CustodyScanMismatch`, so a :class:`~saisei.errors.CustodyBreak`)
is raised, naming the deviation. An unreadable code (``ValidationFailed``) records nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from saisei.domain.audit import jsonable
from saisei.domain.custody import (
    GENESIS_HASH,
    ChainState,
    ClockReading,
    ClockRule,
    ClockStatus,
    CustodyEvent,
    CustodyEventType,
    CustodyScanMismatch,
    CustodyStage,
    DetailValue,
    Scan,
    ScanOutcome,
    apply_event,
    evaluate_clocks,
    link_event,
)
from saisei.domain.enums import DeviationSeverity, DeviationStatus, SubjectType
from saisei.domain.identity import validate_coi
from saisei.errors import CustodyBreak, IntegrityViolation
from saisei.storage import custody_records as _records
from saisei.storage.models import ChainOfIdentity, Deviation, Party
from saisei.storage.models import CustodyEvent as CustodyEventRow
from saisei.storage.repositories import custody as repo
from saisei.storage.repositories import quality as quality_repo
from saisei.storage.store import Store

__all__ = [
    "CustodyChainBlocked",
    "RecordedEvent",
    "record_event",
]


class CustodyChainBlocked(CustodyScanMismatch):
    """A scan mismatch stopped an event: a deviation was opened and the chain blocked.

    Attributes
    ----------
    outcome : ScanOutcome
        The refused scan outcome.
    deviation_number : str
        The deviation opened (status ``open``, severity ``critical``, category ``custody``).
    coi : str
        The blocked chain.
    """

    code = "custody_chain_blocked"

    def __init__(self, outcome: ScanOutcome, *, deviation_number: str, coi: str) -> None:
        super().__init__(outcome)
        self.deviation_number = deviation_number
        self.coi = coi


@dataclass(frozen=True)
class RecordedEvent:
    """A custody event as stored, with the chain's state and clocks after it.

    Attributes
    ----------
    coi : str
        The chain.
    seq : int
        Position in the chain (1-based).
    event_type, party, actor : str
        What, where, who.
    occurred_at, recorded_at : datetime
        When it happened and when it was entered (UTC).
    stage : str
        The chain's stage after the event.
    blocked_by : str or None
        Deviation holding the chain, if any.
    prev_hash, hash : str
        The hash link.
    clocks : tuple of dict
        Each clock rule's reading (status, elapsed and remaining hours, message).
    warnings : tuple of str
        Clock readings at ``warning`` or ``exceeded``.
    """

    coi: str
    seq: int
    event_type: str
    party: str
    actor: str
    occurred_at: datetime
    recorded_at: datetime
    stage: str
    blocked_by: str | None
    prev_hash: str
    hash: str
    clocks: tuple[dict[str, Any], ...]
    warnings: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {k: jsonable(getattr(self, k)) for k in self.__dataclass_fields__}


def clock_dict(reading: ClockReading) -> dict[str, Any]:
    """One clock reading as a plain dictionary."""
    return {
        "name": reading.rule.name,
        "status": reading.status.value,
        "limit_h": reading.rule.limit_h,
        "elapsed_h": reading.elapsed_h,
        "remaining_h": reading.remaining_h,
        "started_at": jsonable(reading.started_at),
        "stopped_at": jsonable(reading.stopped_at),
        "due_at": jsonable(reading.due_at),
        "message": reading.message,
    }


def clock_warnings(readings: Iterable[ClockReading]) -> tuple[str, ...]:
    """Messages of the readings that warn or are exceeded."""
    return tuple(
        r.message for r in readings if r.status in (ClockStatus.WARNING, ClockStatus.EXCEEDED)
    )


def _scans(scans: Iterable[Scan | tuple[str, str]]) -> tuple[Scan, ...]:
    return tuple(s if isinstance(s, Scan) else Scan(s[0], s[1]) for s in scans)


def _replay_stored(
    session: repo.Session, chain: ChainOfIdentity
) -> tuple[ChainState, list[CustodyEvent], str]:
    """The chain's state, its stored events and the last hash; refuses broken chains."""
    rows = repo.chain_events(session, chain.id)
    unlinked = [row for row in rows if row.seq is None or row.hash is None]
    if unlinked:
        raise CustodyBreak(
            f"Chain {chain.coi} holds {len(unlinked)} imported custody event(s) that are not "
            "hash-linked; saisei cannot check new events against them. Record the chain's "
            "events through saisei from its first event, or keep it as an imported record "
            "('saisei custody verify' lists it as unlinked)."
        )
    parties = repo.parties_by_id(session, (row.party_id for row in rows))
    verification, unreadable = _records.verify_rows(chain, rows, parties)
    if unreadable is not None or verification is None:
        raise IntegrityViolation(
            f"Custody chain {chain.coi} does not verify: {unreadable.message if unreadable else ''}"
            " No event may be appended to it; investigate with 'saisei custody verify'."
        )
    verification.raise_if_broken()
    previous = rows[-1].hash if rows and rows[-1].hash else GENESIS_HASH
    events = [
        _records.domain_event(row, parties[row.party_id].code if row.party_id else "")
        for row in rows
    ]
    return verification.state, events, previous


#: Stages at which the chain's material is still the collected source material.
_SOURCE_STAGES = frozenset(
    {
        CustodyStage.NEW,
        CustodyStage.COLLECTED,
        CustodyStage.LABELLED,
        CustodyStage.PACKED,
        CustodyStage.IN_TRANSIT,
        CustodyStage.RECEIVED,
        CustodyStage.ACCESSIONED,
    }
)


def _subject(
    session: repo.Session, chain: ChainOfIdentity, state: ChainState, event: CustodyEvent
) -> tuple[SubjectType, str]:
    """What the event is about: the collection (DIN) before processing, the lot after."""
    if state.stage in _SOURCE_STAGES:
        din = event.din or next((d.value for d in sorted(state.dins, key=str)), None)
        return SubjectType.COLLECTION, din or chain.coi
    lots = repo.lot_numbers_of_chain(session, chain.id)
    return SubjectType.BATCH, lots[0] if lots else chain.coi


def _store_event(
    session: repo.Session,
    chain: ChainOfIdentity,
    party: Party,
    event: CustodyEvent,
    seq: int,
    previous: str,
    subject: tuple[SubjectType, str],
) -> CustodyEventRow:
    linked = link_event(chain.coi, seq, event, previous)
    row = CustodyEventRow(
        coi_id=chain.id,
        subject_type=subject[0],
        subject_ref=subject[1],
        party_id=party.id,
        verified=bool(event.scans),
        seq=seq,
        prev_hash=linked.previous_hash,
        hash=linked.hash,
        **_records.row_fields(event),
    )
    session.add(row)
    session.flush()
    return row


def _block_chain(
    session: repo.Session,
    chain: ChainOfIdentity,
    party: Party,
    state: ChainState,
    event: CustodyEvent,
    mismatch: CustodyScanMismatch,
    previous: str,
    subject: tuple[SubjectType, str],
) -> str:
    """Open the deviation and record the ``chain_blocked`` event; returns the deviation no."""
    number = quality_repo.next_deviation_number(session)
    batch = repo.batch_of_chain(session, chain.id)
    attempted = "; ".join(f"{s.container_id} = {s.identity_code}" for s in event.scans)
    deviation = Deviation(
        number=number,
        batch_id=batch.id if batch else None,
        category="custody",
        severity=DeviationSeverity.CRITICAL,
        description=(
            f"Scan mismatch at the '{event.event_type.label}' event of chain {chain.coi} "
            f"(party {party.code}, {event.actor}, {event.occurred_at.isoformat()}): "
            f"{mismatch.outcome.message}"
        ),
        status=DeviationStatus.OPEN,
        opened_at=event.recorded_at or datetime.now(UTC),
        recorded_by=event.actor,
        details={
            "coi": chain.coi,
            "event_type": event.event_type.value,
            "scans": attempted,
            "patient_coi": event.patient_coi,
            "discrepancies": [d.message for d in mismatch.outcome.discrepancies],
        },
    )
    session.add(deviation)
    session.flush()
    blocked = CustodyEvent(
        event_type=CustodyEventType.CHAIN_BLOCKED,
        occurred_at=event.occurred_at,
        actor=event.actor,
        party=event.party,
        deviation_ref=number,
        comment=(
            f"Hard stop: scan mismatch at the '{event.event_type.label}' event; the event was "
            f"not recorded. Scanned: {attempted or event.patient_coi or 'nothing'}."
        ),
        recorded_at=event.recorded_at,
    )
    apply_event(state, blocked)  # a blocking event is permitted whenever the chain is unblocked
    row = _store_event(session, chain, party, blocked, state.event_count + 1, previous, subject)
    deviation.custody_event_id = row.id
    return number


def record_event(
    store: Store,
    *,
    coi: str,
    event_type: str,
    actor: str,
    party: str,
    occurred_at: datetime,
    scans: Sequence[Scan | tuple[str, str]] = (),
    din: str | None = None,
    patient_coi: str | None = None,
    qc_disposition: str | None = None,
    deviation_ref: str | None = None,
    comment: str | None = None,
    details: Mapping[str, DetailValue] | None = None,
    clock_rules: Sequence[ClockRule] = (),
    now: datetime | None = None,
    source: str = "app",
    reason: str | None = None,
) -> RecordedEvent:
    """Check a custody event against its chain and record it, hash-linked, in one transaction.

    Parameters
    ----------
    coi : str
        The chain (COI in any accepted form).
    event_type : str
        A :class:`~saisei.domain.custody.CustodyEventType` value.
    party : str
        Code of the party where (or by whom) it happened.
    scans : sequence of Scan or (container_id, identity_code)
        What was scanned (required at hand-overs, see the domain rules).
    clock_rules : sequence of ClockRule
        Product clocks to evaluate after the event (none are built in).
    now : datetime, optional
        The moment of entry (default: the current UTC time); running clocks are read then.

    Raises
    ------
    ValidationFailed
        An incomplete event or an unreadable scan (nothing is recorded).
    NotFound
        An unknown chain or party.
    CustodyBreak
        A forbidden transition (the domain's message; nothing is recorded), or a chain with
        unlinked imported events.
    CustodyChainBlocked
        A scan mismatch: the deviation and the ``chain_blocked`` event are committed, the event
        itself is not.
    IntegrityViolation
        The stored chain does not verify; nothing may be appended to it.
    """
    entered = (now or datetime.now(UTC)).astimezone(UTC)
    chain_code = validate_coi(coi).value
    event = CustodyEvent(
        event_type=event_type,  # type: ignore[arg-type]  # validated by CustodyEvent
        occurred_at=occurred_at,
        actor=actor,
        party=party,
        scans=_scans(scans),
        din=din,
        patient_coi=patient_coi,
        qc_disposition=qc_disposition,  # type: ignore[arg-type]  # validated by CustodyEvent
        deviation_ref=deviation_ref,
        comment=comment,
        recorded_at=entered,
        details=dict(details or {}),
    )
    why = reason or f"custody event {event.event_type.value} on chain {chain_code}"
    blocked: CustodyChainBlocked | None = None
    with store.unit_of_work(actor=actor, source=source, reason=why) as uow:
        session = uow.session
        chain = repo.chain_by_code(session, chain_code)
        party_row = repo.get_party(session, event.party)
        state, stored, previous = _replay_stored(session, chain)
        subject = _subject(session, chain, state, event)
        try:
            after = apply_event(state, event)
        except CustodyScanMismatch as mismatch:
            number = _block_chain(
                session, chain, party_row, state, event, mismatch, previous, subject
            )
            outcome = replace(
                mismatch.outcome,
                message=(
                    f"{mismatch.outcome.message} Deviation {number} was opened and chain "
                    f"{chain.coi} is blocked; the '{event.event_type.label}' event was not "
                    "recorded."
                ),
            )
            blocked = CustodyChainBlocked(outcome, deviation_number=number, coi=chain.coi)
        else:
            row = _store_event(
                session, chain, party_row, event, after.event_count, previous, subject
            )
            readings = evaluate_clocks(
                clock_rules, [*stored, event], now=max(entered, event.occurred_at)
            )
            result = RecordedEvent(
                coi=chain.coi,
                seq=after.event_count,
                event_type=event.event_type.value,
                party=party_row.code,
                actor=event.actor,
                occurred_at=event.occurred_at,
                recorded_at=entered,
                stage=after.stage.value,
                blocked_by=after.blocked_by,
                prev_hash=row.prev_hash or "",
                hash=row.hash or "",
                clocks=tuple(clock_dict(r) for r in readings),
                warnings=clock_warnings(readings),
            )
    if blocked is not None:
        raise blocked
    return result
