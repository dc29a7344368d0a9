"""Hash-linking imported custody chains, in the import's own transaction.

``saisei import`` stores custody events as rows of the exchange format. Before the import
commits, :func:`link_imported_chains` links every chain whose events all arrived unlinked: the
rows are read as domain events (:func:`saisei.storage.custody_records.imported_event`), ordered
by the time they happened, given ``seq``, ``prev_hash`` and ``hash`` exactly as
:func:`saisei.custody.events.record_event` would, and verified with the domain's
:func:`~saisei.domain.custody.verify_chain`.

Linking records the chain as imported; it does not make a bad chain good. A chain whose events
break the custody rules (a receipt without the hand-over before it, a scan of another chain's
COI or DIN) is linked as it is and verifies as ``broken``, naming the event. A chain with a row
that cannot be read as a custody event at all (an unknown event type, a hand-over without a
scan) is left unlinked and reported with the reason. Rows imported into a chain that already
holds hash-linked events are not linked: such a chain verifies as ``broken``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from saisei.domain.custody import link_events, verify_chain
from saisei.errors import ValidationFailed
from saisei.storage.custody_records import imported_event, row_fields
from saisei.storage.models import CustodyEvent as CustodyEventRow
from saisei.storage.repositories import custody as repo

__all__ = ["LinkedChain", "link_imported_chains"]


@dataclass(frozen=True)
class LinkedChain:
    """The outcome of linking one imported chain.

    Attributes
    ----------
    coi : str
        The chain.
    status : str
        ``intact`` or ``broken`` (linked and verified), or ``unlinked`` (not linkable).
    events : int
        Events of the chain.
    problem : str or None
        The first verification problem, or why the chain could not be linked.
    """

    coi: str
    status: str
    events: int
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {
            "coi": self.coi,
            "status": self.status,
            "events": self.events,
            "problem": self.problem,
        }


def _link_one(session: repo.Session, coi_id: int) -> LinkedChain | None:
    chain = repo.chain_by_id(session, coi_id)
    rows: list[CustodyEventRow] = repo.chain_events(session, coi_id)
    if any(row.seq is not None for row in rows):
        return None  # a recorded chain: rows added to it from outside stay unlinked (broken)
    rows.sort(key=lambda row: (row.occurred_at, row.id))
    parties = repo.parties_by_id(session, (row.party_id for row in rows))
    events = []
    for row in rows:
        party = parties.get(row.party_id) if row.party_id is not None else None
        try:
            events.append(imported_event(row, party.code if party else ""))
        except ValidationFailed as exc:
            detail = "; ".join(f"{e.field}: {e.message}" for e in exc.errors) or exc.message
            return LinkedChain(
                chain.coi,
                "unlinked",
                len(rows),
                f"row id {row.id} ({row.event_type} at {row.occurred_at.isoformat()}) is not "
                f"a complete custody event: {exc.message} {detail}".strip(),
            )
    linked = link_events(chain.coi, events)
    for row, item in zip(rows, linked, strict=True):
        for name, value in row_fields(item.event).items():
            setattr(row, name, value)
        row.seq, row.prev_hash, row.hash = item.seq, item.previous_hash, item.hash
    verification = verify_chain(chain.coi, chain.donor.donor_type, linked)
    if verification.intact:
        return LinkedChain(chain.coi, "intact", len(rows))
    first = verification.problems[0]
    return LinkedChain(
        chain.coi, "broken", len(rows), f"event {first.seq} ({first.kind.value}): {first.message}"
    )


def link_imported_chains(session: repo.Session) -> tuple[LinkedChain, ...]:
    """Hash-link and verify every chain whose custody events are all unlinked (imported).

    Runs inside the caller's unit of work (the import's), so the links are committed, and
    audited, with the rows themselves.

    Returns
    -------
    tuple of LinkedChain
        One per chain examined, in chain id order.
    """
    outcomes = []
    for coi_id in repo.chain_ids_with_unlinked_events(session):
        outcome = _link_one(session, coi_id)
        if outcome is not None:
            outcomes.append(outcome)
    session.flush()
    return tuple(outcomes)
