"""Chains of identity and custody, parties, shipments."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from saisei.api.deps import SOURCE, CurrentUser, PathId, StoreDep
from saisei.api.schemas.operations import AcknowledgeIn
from saisei.custody import chains, parties
from saisei.domain.enums import PartyType
from saisei.services import overview, shipments

router = APIRouter(tags=["custody"])


@router.get("/custody/chains/{code}")
def show_chain(code: str, store: StoreDep, _actor: CurrentUser) -> dict[str, Any]:
    """One chain found by its COI or one of its DINs: events, integrity, shipments."""
    return chains.show_chain(store, code).to_dict()


@router.get("/custody/verify")
def verify_chains(store: StoreDep, _actor: CurrentUser, strict: bool = False) -> dict[str, Any]:
    """Verify the hash links and permitted order of every chain."""
    return chains.verify_chains(store, strict=strict).to_dict()


@router.get("/custody/parties")
def list_parties(
    store: StoreDep, _actor: CurrentUser, party_type: PartyType | None = None
) -> dict[str, Any]:
    """Parties with their qualification status."""
    found = parties.list_parties(store, party_type=party_type.value if party_type else None)
    return {"items": [p.to_dict() for p in found]}


@router.get("/shipments")
def list_shipments(
    store: StoreDep,
    _actor: CurrentUser,
    status: Annotated[str | None, Query(description="e.g. in_transit, quarantined.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0,
) -> dict[str, Any]:
    """Shipments, newest dispatch first."""
    found = overview.list_shipments(store, status=status, limit=limit, offset=offset)
    return {"items": [s.to_dict() for s in found], "limit": limit, "offset": offset}


@router.get("/shipments/{code}")
def show_shipment(
    code: str,
    store: StoreDep,
    _actor: CurrentUser,
    max_points: Annotated[int, Query(ge=10, le=20_000)] = 2000,
) -> dict[str, Any]:
    """A shipment, its stored evaluation and its logger traces (LTTB-downsampled)."""
    return overview.shipment_detail(store, code, max_points=max_points).to_dict()


@router.post("/shipments/{code}/evaluate")
def evaluate(code: str, store: StoreDep, actor: CurrentUser) -> dict[str, Any]:
    """Evaluate the logger readings against the condition class and decide receipt."""
    return shipments.evaluate_shipment(store, actor.username, code, source=SOURCE).to_dict()


@router.post("/shipments/{code}/excursions/{number}/acknowledge")
def acknowledge(
    code: str, number: PathId, body: AcknowledgeIn, store: StoreDep, actor: CurrentUser
) -> dict[str, Any]:
    """Acknowledge excursion ``number`` (from 1) with a comment; receipt is decided again."""
    return shipments.acknowledge_excursion(
        store, actor.username, code, number, body.comment, source=SOURCE
    ).to_dict()
