"""Queries the importer and exporter need: existing rows by natural key, genealogy links."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saisei.storage.exchange import TableMap
from saisei.storage.models import BatchLink

__all__ = ["all_rows", "existing_links", "existing_rows"]


def existing_rows(session: Session, tmap: TableMap) -> dict[tuple[Any, ...], Any]:
    """Every stored row of the map's model, by natural key."""
    rows = session.execute(select(tmap.model)).scalars()
    return {tuple(getattr(r, k) for k in tmap.key): r for r in rows}


def existing_links(session: Session) -> set[tuple[int, int]]:
    """Stored genealogy links as (parent id, child id)."""
    return {(p, c) for p, c in session.execute(select(BatchLink.parent_id, BatchLink.child_id))}


def all_rows(session: Session, model: type[Any]) -> list[Any]:
    """Every row of ``model`` in insertion order."""
    return list(session.execute(select(model).order_by(model.id)).scalars())


def shipment_codes(session: Session) -> set[str]:
    """Codes of every stored shipment."""
    from saisei.storage.models import Shipment

    return set(session.execute(select(Shipment.code)).scalars())
