"""The JSON twin of the home page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from saisei.api.deps import CurrentUser, StoreDep
from saisei.services import overview

router = APIRouter(tags=["dashboard"])


@router.get("/dashboard")
def dashboard(store: StoreDep, _actor: CurrentUser) -> dict[str, Any]:
    """Batches in progress and awaiting release, open deviations, recent alarms, shipments
    in transit or quarantined."""
    return overview.dashboard(store).to_dict()
