"""Needle to needle: one chain with its events and shipments, and verification of every chain.

:func:`show_chain` reads a chain by its COI or by one of its DINs: every custody event in
order with time, party, actor and scans, the chain's stage replayed by the domain's state
machine, and the shipments of its collections and lots with their stored transport
evaluations. :func:`verify_chains` checks every stored chain's hash links with
:func:`saisei.domain.custody.verify_chain`.

Imported chains are hash-linked by the import (:mod:`saisei.custody.imported`) and verify like
recorded ones: an imported chain with a missing hand-over or a scan of another chain's identity
is ``broken``. A chain whose imported rows could not be read as custody events stays
``unlinked`` (no ``seq``/``hash``); it does not fail verification unless ``strict`` is set. A
row without a link inside a hash-linked chain is a row added outside saisei, and the chain is
``broken``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from saisei.domain.audit import jsonable
from saisei.domain.identity import ChainOfIdentityId, parse_identity_code
from saisei.storage.custody_records import assess_chain
from saisei.storage.models import ChainOfIdentity, CustodyEvent, Party, Shipment
from saisei.storage.repositories import custody as repo
from saisei.storage.store import Store

__all__ = [
    "ChainCheck",
    "ChainView",
    "CustodyVerification",
    "show_chain",
    "verify_chains",
]


@dataclass(frozen=True)
class ChainCheck:
    """The verification of one chain.

    Attributes
    ----------
    coi : str
        The chain.
    status : str
        ``intact``, ``broken`` or ``unlinked`` (imported, no hash links).
    events, linked_events : int
        Events stored, and how many of them are hash-linked.
    problems : tuple of str
        Every problem, in chain order; the first names the first broken event.
    """

    coi: str
    status: str
    events: int
    linked_events: int
    problems: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {k: jsonable(getattr(self, k)) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class CustodyVerification:
    """The verification of every chain that has custody events."""

    chains: tuple[ChainCheck, ...]
    strict: bool

    @property
    def broken(self) -> tuple[ChainCheck, ...]:
        """Chains that fail (with ``strict``, unlinked ones too)."""
        failing = {"broken", "unlinked"} if self.strict else {"broken"}
        return tuple(c for c in self.chains if c.status in failing)

    @property
    def ok(self) -> bool:
        """True when no chain fails."""
        return not self.broken

    @property
    def first_problem(self) -> str | None:
        """The first failing chain's first problem, for messages."""
        for check in self.broken:
            detail = check.problems[0] if check.problems else "not hash-linked"
            return f"chain {check.coi}: {detail}"
        return None

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        counts = {s: sum(c.status == s for c in self.chains) for s in ("intact", "broken")}
        counts["unlinked"] = sum(c.status == "unlinked" for c in self.chains)
        return {
            "ok": self.ok,
            "strict": self.strict,
            "chains_checked": len(self.chains),
            "counts": counts,
            "first_problem": self.first_problem,
            "chains": [c.to_dict() for c in self.chains],
        }


@dataclass(frozen=True)
class ChainView:
    """One chain needle to needle.

    Attributes
    ----------
    coi, donor, donor_type : str
        The chain and its (pseudonymous) donor.
    product_type : str or None
        Product family.
    dins, lots : tuple of str
        Its collections and the lots made from it.
    stage : str
        Stage after the last event (``unknown`` when the chain is not hash-linked).
    blocked_by : str or None
        Deviation holding the chain.
    integrity : ChainCheck
        Its verification.
    events : tuple of dict
        Every event in order: seq, type, times, party, actor, scans, link.
    shipments : tuple of dict
        Shipments of its collections and lots, with their stored transport evaluations.
    """

    coi: str
    donor: str
    donor_type: str
    product_type: str | None
    dins: tuple[str, ...]
    lots: tuple[str, ...]
    stage: str
    blocked_by: str | None
    integrity: ChainCheck
    events: tuple[dict[str, Any], ...]
    shipments: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        out = {k: jsonable(getattr(self, k)) for k in self.__dataclass_fields__}
        out["integrity"] = self.integrity.to_dict()
        return out


def _check(
    chain: ChainOfIdentity, rows: list[CustodyEvent], parties: dict[int, Party]
) -> tuple[ChainCheck, str, str | None]:
    """Verification, replayed stage and hold of one chain."""
    assessed = assess_chain(chain, rows, parties)
    check = ChainCheck(
        chain.coi, assessed.status, assessed.events, assessed.linked_events, assessed.problems
    )
    if assessed.state is None:
        return check, "unknown" if assessed.status == "unlinked" else "", None
    return check, assessed.state.stage.value, assessed.state.blocked_by


def _event_dict(row: CustodyEvent, parties: dict[int, Party]) -> dict[str, Any]:
    party = parties.get(row.party_id) if row.party_id is not None else None
    return {
        "seq": row.seq,
        "event_type": row.event_type,
        "occurred_at": jsonable(row.occurred_at),
        "recorded_at": jsonable(row.recorded_at),
        "party": party.code if party else None,
        "party_name": party.name if party else None,
        "party_type": party.party_type.value if party else None,
        "actor": row.actor,
        "subject_type": row.subject_type.value,
        "subject_ref": row.subject_ref,
        "scans": row.scans if row.scans is not None else list(row.scanned_ids or []),
        "verified": row.verified,
        "din": row.din,
        "patient_coi": row.patient_coi,
        "qc_disposition": row.qc_disposition,
        "deviation_ref": row.deviation_ref,
        "comment": row.comment,
        "details": row.details or {},
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


def _shipment_dict(shipment: Shipment, parties: dict[int, Party]) -> dict[str, Any]:
    sender, receiver = parties.get(shipment.from_party_id), parties.get(shipment.to_party_id)
    return {
        "code": shipment.code,
        "subject_type": shipment.subject_type.value,
        "subject_ref": shipment.subject_ref,
        "from_party": sender.code if sender else None,
        "to_party": receiver.code if receiver else None,
        "container_id": shipment.container_id,
        "condition_class": shipment.condition_class,
        "packed_at": jsonable(shipment.packed_at),
        "shipped_at": jsonable(shipment.shipped_at),
        "received_at": jsonable(shipment.received_at),
        "status": shipment.status.value,
        "evaluation": shipment.evaluation or None,
    }


def _find_chain(session: repo.Session, code: str) -> ChainOfIdentity:
    identity = parse_identity_code(code)
    if isinstance(identity, ChainOfIdentityId):
        return repo.chain_by_code(session, identity.value)
    return repo.chain_by_din(session, identity.value)


def show_chain(store: Store, code: str) -> ChainView:
    """One chain, found by its COI or one of its DINs, needle to needle.

    Raises
    ------
    ValidationFailed
        When ``code`` is neither a COI nor a DIN.
    NotFound
        When no chain or collection has it.
    """
    with store.reader() as session:
        chain = _find_chain(session, code)
        rows = repo.chain_events(session, chain.id)
        dins = tuple(c.din for c in repo.collections_of_chain(session, chain.id))
        lots = tuple(repo.lot_numbers_of_chain(session, chain.id))
        named = [
            str(r.details["shipment"]) for r in rows if r.details and r.details.get("shipment")
        ]
        shipments = repo.shipments_of_refs(session, [*dins, *lots, chain.coi], named)
        parties = repo.parties_by_id(
            session,
            [r.party_id for r in rows]
            + [s.from_party_id for s in shipments]
            + [s.to_party_id for s in shipments],
        )
        check, stage, blocked_by = _check(chain, rows, parties)
        return ChainView(
            coi=chain.coi,
            donor=chain.donor.code,
            donor_type=chain.donor.donor_type.value,
            product_type=chain.product_type.value if chain.product_type else None,
            dins=dins,
            lots=lots,
            stage=stage or "unknown",
            blocked_by=blocked_by,
            integrity=check,
            events=tuple(_event_dict(r, parties) for r in rows),
            shipments=tuple(_shipment_dict(s, parties) for s in shipments),
        )


def verify_chains(store: Store, *, strict: bool = False) -> CustodyVerification:
    """Verify the hash links and permitted order of every chain that has custody events.

    Parameters
    ----------
    strict : bool
        Count imported chains without hash links as failures too.
    """
    checks = []
    with store.reader() as session:
        for coi_id in repo.chain_ids_with_events(session):
            chain = repo.chain_by_id(session, coi_id)
            rows = repo.chain_events(session, coi_id)
            parties = repo.parties_by_id(session, (r.party_id for r in rows))
            checks.append(_check(chain, rows, parties)[0])
    return CustodyVerification(tuple(checks), strict)
