"""Health and version of the running service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from saisei import __version__
from saisei.api.deps import get_store
from saisei.storage.store import Store

router = APIRouter(tags=["system"])


@router.get("/health")
def health(store: Annotated[Store, Depends(get_store)]) -> dict[str, Any]:
    """Version, database schema revision and whether it is current."""
    revision = store.revision()
    return {
        "ok": revision == store.head_revision(),
        "version": __version__,
        "schema_revision": revision,
        "database": store.dialect,
    }
