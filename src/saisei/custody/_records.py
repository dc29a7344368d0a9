"""Stored custody-event rows to the domain's values and back, in one place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from saisei.domain.custody import (
    ChainProblem,
    ChainProblemKind,
    ChainVerification,
    CustodyEvent,
    LinkedEvent,
    Scan,
    verify_chain,
)
from saisei.domain.enums import DonorType
from saisei.errors import SaiseiError
from saisei.storage.models import ChainOfIdentity, Party
from saisei.storage.models import CustodyEvent as CustodyEventRow

__all__ = [
    "domain_event",
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
