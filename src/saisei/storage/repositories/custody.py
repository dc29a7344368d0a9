"""Queries of the chain of custody: parties, chains of identity, custody events, shipments."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from saisei.errors import NotFound
from saisei.storage.models import (
    Batch,
    ChainOfIdentity,
    Collection,
    CustodyEvent,
    Party,
    Shipment,
)

__all__ = [
    "Session",
    "batch_of_chain",
    "chain_by_code",
    "chain_by_din",
    "chain_by_id",
    "chain_events",
    "chain_ids_with_events",
    "chain_ids_with_unlinked_events",
    "collections_of_chain",
    "get_party",
    "get_shipment",
    "list_parties",
    "lot_numbers_of_chain",
    "parties_by_id",
    "shipments_of_refs",
]


def get_party(session: Session, code: str) -> Party:
    """The party with ``code``."""
    found = session.execute(select(Party).where(Party.code == code)).scalar_one_or_none()
    if found is None:
        raise NotFound(
            f"No party {code!r} is stored. List the parties with 'saisei custody parties list'."
        )
    return found


def list_parties(session: Session, *, party_type: str | None = None) -> list[Party]:
    """Every party by code, optionally of one type."""
    query = select(Party).order_by(Party.code)
    if party_type is not None:
        query = query.where(Party.party_type == party_type)
    return list(session.execute(query).scalars())


def parties_by_id(session: Session, ids: Iterable[int | None]) -> dict[int, Party]:
    """Parties with the given ids, by id."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(Party).where(Party.id.in_(wanted))).scalars()
    return {p.id: p for p in rows}


def chain_by_code(session: Session, coi: str) -> ChainOfIdentity:
    """The chain of identity ``coi`` (15-character content), with its donor loaded."""
    found = session.execute(
        select(ChainOfIdentity)
        .options(joinedload(ChainOfIdentity.donor))
        .where(ChainOfIdentity.coi == coi)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"No chain of identity {coi} is stored.")
    return found


def chain_by_id(session: Session, coi_id: int) -> ChainOfIdentity:
    """The chain of identity with primary key ``coi_id``, with its donor loaded."""
    found = session.execute(
        select(ChainOfIdentity)
        .options(joinedload(ChainOfIdentity.donor))
        .where(ChainOfIdentity.id == coi_id)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"No chain of identity with id {coi_id} is stored.")
    return found


def chain_by_din(session: Session, din: str) -> ChainOfIdentity:
    """The chain of identity the collection with DIN ``din`` (13 characters) belongs to."""
    collection = session.execute(
        select(Collection).where(Collection.din == din)
    ).scalar_one_or_none()
    if collection is None:
        raise NotFound(f"No collection with DIN {din} is stored.")
    if collection.coi_id is None:
        raise NotFound(f"The collection with DIN {din} is not linked to a chain of identity.")
    return chain_by_id(session, collection.coi_id)


def chain_events(session: Session, coi_id: int) -> list[CustodyEvent]:
    """Custody events of one chain: hash-linked ones by ``seq``, then unlinked ones by time."""
    rows = session.execute(
        select(CustodyEvent)
        .where(CustodyEvent.coi_id == coi_id)
        .order_by(CustodyEvent.seq, CustodyEvent.occurred_at, CustodyEvent.id)
    ).scalars()
    events = list(rows)
    # NULL sorts first on SQLite and last on PostgreSQL; put the linked events first everywhere.
    return [e for e in events if e.seq is not None] + [e for e in events if e.seq is None]


def chain_ids_with_events(session: Session) -> list[int]:
    """Ids of every chain of identity that has custody events, in id order."""
    rows = session.execute(
        select(CustodyEvent.coi_id)
        .where(CustodyEvent.coi_id.is_not(None))
        .group_by(CustodyEvent.coi_id)
        .order_by(CustodyEvent.coi_id)
    ).scalars()
    return [int(i) for i in rows if i is not None]


def chain_ids_with_unlinked_events(session: Session) -> list[int]:
    """Ids of every chain of identity with custody events that are not hash-linked (imported)."""
    rows = session.execute(
        select(CustodyEvent.coi_id)
        .where(CustodyEvent.coi_id.is_not(None), CustodyEvent.seq.is_(None))
        .group_by(CustodyEvent.coi_id)
        .order_by(CustodyEvent.coi_id)
    ).scalars()
    return [int(i) for i in rows if i is not None]


def collections_of_chain(session: Session, coi_id: int) -> list[Collection]:
    """Collections (DINs) of one chain, by collection time."""
    return list(
        session.execute(
            select(Collection)
            .where(Collection.coi_id == coi_id)
            .order_by(Collection.collected_at, Collection.id)
        ).scalars()
    )


def lot_numbers_of_chain(session: Session, coi_id: int) -> list[str]:
    """Lot numbers of the batches made from one chain."""
    return list(
        session.execute(
            select(Batch.lot_number).where(Batch.coi_id == coi_id).order_by(Batch.id)
        ).scalars()
    )


def batch_of_chain(session: Session, coi_id: int) -> Batch | None:
    """The first batch made from one chain, if any."""
    return session.execute(
        select(Batch).where(Batch.coi_id == coi_id).order_by(Batch.id).limit(1)
    ).scalar_one_or_none()


def get_shipment(session: Session, code: str) -> Shipment:
    """The shipment with ``code``."""
    found = session.execute(select(Shipment).where(Shipment.code == code)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"No shipment {code!r} is stored.")
    return found


def shipments_of_refs(
    session: Session, refs: Iterable[str], codes: Iterable[str] = ()
) -> list[Shipment]:
    """Shipments whose subject is one of ``refs`` or whose code is one of ``codes``."""
    subjects, named = sorted(set(refs)), sorted(set(codes))
    if not subjects and not named:
        return []
    return list(
        session.execute(
            select(Shipment)
            .where(or_(Shipment.subject_ref.in_(subjects), Shipment.code.in_(named)))
            .order_by(Shipment.shipped_at, Shipment.id)
        ).scalars()
    )
