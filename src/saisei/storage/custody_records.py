"""Stored custody-event rows to the domain's values and back, and the integrity of a stored
chain, in one place.

The custody services (recording, showing and verifying chains) and the quality system's release
prerequisite both judge a stored chain with :func:`assess_chain`, which applies the domain's
:func:`~saisei.domain.custody.verify_chain` (hash links and permitted order) to the rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from saisei.domain.custody import (
    ChainProblem,
    ChainProblemKind,
    ChainState,
    ChainVerification,
    CustodyEvent,
    CustodyEventType,
    LinkedEvent,
    Scan,
    verify_chain,
)
from saisei.domain.enums import DonorType, SubjectType
from saisei.errors import SaiseiError
from saisei.storage.models import ChainOfIdentity, Party
from saisei.storage.models import CustodyEvent as CustodyEventRow

__all__ = [
    "ChainAssessment",
    "assess_chain",
    "domain_event",
    "imported_event",
    "linked_event",
    "row_fields",
    "verify_rows",
]


def row_fields(event: CustodyEvent) -> dict[str, object]:
    """Column values of a row that stores ``event`` (party, chain and links are the caller's)."""
    return {
        "event_type": event.event_type.value,
        "actor": event.actor,
        "occurred_at": event.occurred_at,
        "scanned_ids": [scan.identity_code for scan in event.scans],
        "scans": [
            {"container_id": scan.container_id, "identity_code": scan.identity_code}
            for scan in event.scans
        ],
        "din": event.din,
        "patient_coi": event.patient_coi,
        "qc_disposition": event.qc_disposition.value if event.qc_disposition else None,
        "deviation_ref": event.deviation_ref,
        "comment": event.comment,
        "recorded_at": event.recorded_at,
        "details": dict(event.details),
    }


def domain_event(row: CustodyEventRow, party_code: str) -> CustodyEvent:
    """The domain event a stored row holds.

    Raises
    ------
    ValidationFailed
        When the stored fields no longer make a valid event (e.g. edited in the database).
    """
    return CustodyEvent(
        event_type=row.event_type,  # type: ignore[arg-type]  # validated by CustodyEvent
        occurred_at=row.occurred_at,
        actor=row.actor,
        party=party_code,
        scans=tuple(
            Scan(str(s.get("container_id", "")), str(s.get("identity_code", "")))
            for s in (row.scans or [])
        ),
        din=row.din,
        patient_coi=row.patient_coi,
        qc_disposition=row.qc_disposition,  # type: ignore[arg-type]  # validated by CustodyEvent
        deviation_ref=row.deviation_ref,
        comment=row.comment,
        recorded_at=row.recorded_at,
        details=dict(row.details or {}),
    )


def imported_event(row: CustodyEventRow, party_code: str) -> CustodyEvent:
    """The domain event an imported row describes, to be hash-linked.

    The exchange format records the identity codes read at an event (``scanned_ids``), not a
    separate container id: each code is taken as the label of the container it was read from
    (container id = code). A collection event's DIN is its subject (``subject_ref``) when the
    row names none. Structured ``scans`` and a stored ``din`` win when present.

    Raises
    ------
    ValidationFailed
        When the row does not make a custody event (unknown type, missing scans, DIN or QC
        disposition); the message names what is missing.
    """
    scans = (
        tuple(
            Scan(str(s.get("container_id", "")), str(s.get("identity_code", ""))) for s in row.scans
        )
        if row.scans
        else tuple(Scan(code, code) for code in (row.scanned_ids or []) if str(code).strip())
    )
    din = row.din
    if (
        din is None
        and row.event_type == CustodyEventType.COLLECTION.value
        and row.subject_type == SubjectType.COLLECTION
    ):
        din = row.subject_ref
    return CustodyEvent(
        event_type=row.event_type,  # type: ignore[arg-type]  # validated by CustodyEvent
        occurred_at=row.occurred_at,
        actor=row.actor,
        party=party_code,
        scans=scans,
        din=din,
        patient_coi=row.patient_coi,
        qc_disposition=row.qc_disposition,  # type: ignore[arg-type]  # validated by CustodyEvent
        deviation_ref=row.deviation_ref,
        comment=row.comment,
        recorded_at=row.recorded_at,
        details=dict(row.details or {}),
    )


def linked_event(row: CustodyEventRow, coi: str, party_code: str) -> LinkedEvent:
    """The row as a :class:`LinkedEvent` (its stored seq, links and hash)."""
    return LinkedEvent(
        coi=coi,
        seq=row.seq if row.seq is not None else 0,
        event=domain_event(row, party_code),
        previous_hash=row.prev_hash or "",
        hash=row.hash or "",
    )


def verify_rows(
    chain: ChainOfIdentity, rows: Sequence[CustodyEventRow], parties: Mapping[int, Party]
) -> tuple[ChainVerification | None, ChainProblem | None]:
    """Verify the hash-linked rows of one chain with the domain's :func:`verify_chain`.

    Returns ``(verification, None)``, or ``(None, problem)`` when a row cannot even be read
    back as a custody event (its stored fields were changed into something invalid).
    """
    linked = []
    for row in rows:
        party = parties.get(row.party_id) if row.party_id is not None else None
        try:
            linked.append(linked_event(row, chain.coi, party.code if party else ""))
        except SaiseiError as exc:
            return None, ChainProblem(
                row.seq or 0,
                ChainProblemKind.HASH,
                f"the stored fields of event {row.seq} (row id {row.id}) no longer make a "
                f"custody event: {exc.message}",
            )
    donor_type: DonorType = chain.donor.donor_type
    return verify_chain(chain.coi, donor_type, linked), None


@dataclass(frozen=True)
class ChainAssessment:
    """The integrity of one stored chain.

    Attributes
    ----------
    status : str
        ``intact`` (every event hash-linked, links and order verify), ``broken`` (a problem
        was found) or ``unlinked`` (no event is hash-linked: an import that could not be linked).
    events, linked_events : int
        Events stored, and how many of them are hash-linked.
    problems : tuple of str
        Every problem, in chain order; the first names the first broken event.
    state : ChainState or None
        The chain's state replayed from its verified events (None when not replayable).
    """

    status: str
    events: int
    linked_events: int
    problems: tuple[str, ...]
    state: ChainState | None


def _problem_text(problem: ChainProblem) -> str:
    return f"event {problem.seq} ({problem.kind.value}): {problem.message}"


def assess_chain(
    chain: ChainOfIdentity, rows: Sequence[CustodyEventRow], parties: Mapping[int, Party]
) -> ChainAssessment:
    """Verify a stored chain's rows: hash links, stored hashes and the permitted order.

    A row without a link inside a hash-linked chain was added outside saisei: the chain is
    ``broken``. A chain none of whose rows is linked is ``unlinked``.
    """
    linked = [r for r in rows if r.seq is not None and r.hash is not None]
    unlinked = [r for r in rows if r.seq is None or r.hash is None]
    if not linked:
        return ChainAssessment("unlinked", len(rows), 0, (), None)
    problems = [
        f"row id {r.id} ({r.event_type} at {r.occurred_at.isoformat()}) is not hash-linked: "
        "it was added to a recorded chain outside saisei"
        for r in unlinked
    ]
    verification, unreadable = verify_rows(chain, linked, parties)
    if unreadable is not None or verification is None:
        problems.insert(0, _problem_text(unreadable) if unreadable else "unreadable event")
        return ChainAssessment("broken", len(rows), len(linked), tuple(problems), None)
    problems[:0] = [_problem_text(p) for p in verification.problems]
    return ChainAssessment(
        "broken" if problems else "intact",
        len(rows),
        len(linked),
        tuple(problems),
        verification.state,
    )
