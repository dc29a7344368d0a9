"""The audit trail and integrity verification."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from saisei.api.deps import CurrentUser, StoreDep
from saisei.services import audit, integrity

router = APIRouter(prefix="/audit", tags=["audit trail"])


@router.get("")
def show_audit(
    store: StoreDep,
    _actor: CurrentUser,
    entity_type: str | None = None,
    entity_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> dict[str, Any]:
    """Audit events in chain order (the last ``limit``), optionally of one entity."""
    events = audit.show_audit(store, entity_type=entity_type, entity_id=entity_id, limit=limit)
    return {"items": [e.to_dict() for e in events], "limit": limit}


@router.get("/verify")
def verify(store: StoreDep, _actor: CurrentUser) -> dict[str, Any]:
    """Recompute the audit hash chain and every time-series segment's SHA-256."""
    return integrity.verify_integrity(store).to_dict()
