"""Monitoring models, scoring and alarms."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from saisei.api.deps import SOURCE, CurrentUser, PathId, StoreDep
from saisei.api.schemas.operations import (
    AcknowledgeAlarmsIn,
    AcknowledgeIn,
    BuildModelIn,
    ScoreIn,
)
from saisei.services import monitoring, overview, quality_prediction

router = APIRouter(prefix="/monitoring", tags=["monitoring"])


@router.get("/models")
def list_models(store: StoreDep, _actor: CurrentUser) -> dict[str, Any]:
    """Every stored monitoring model."""
    return {"items": [m.to_dict() for m in monitoring.list_models(store)]}


@router.post("/models", status_code=201)
def build_model(body: BuildModelIn, store: StoreDep, actor: CurrentUser) -> dict[str, Any]:
    """Fit a batch evolution model on reference lots and store it as a new version."""
    return monitoring.build_model(store, actor=actor.username, **body.model_dump()).to_dict()


@router.post("/score")
def score(body: ScoreIn, store: StoreDep, actor: CurrentUser) -> dict[str, Any]:
    """Score a lot (finished or running) and store its new alarms."""
    return monitoring.score_lot(
        store, body.lot, model=body.model, version=body.version, actor=actor.username
    ).to_dict()


@router.get("/alarms")
def list_alarms(
    store: StoreDep,
    _actor: CurrentUser,
    lot: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Stored alarms, newest first, optionally of one lot, each with ``acknowledged``."""
    return {"items": [a.to_dict() for a in overview.list_alarms(store, lot=lot, limit=limit)]}


@router.post("/alarms/acknowledge")
def acknowledge_alarms(
    body: AcknowledgeAlarmsIn, store: StoreDep, actor: CurrentUser
) -> dict[str, Any]:
    """Acknowledge several alarms with one comment, all or none: ``alarms`` (ids) or every
    open alarm of ``lot``. Returns them, by time in the batch."""
    done = monitoring.acknowledge_alarms(
        store,
        body.alarms,
        lot=body.lot,
        actor=actor.username,
        comment=body.comment,
        source=SOURCE,
    )
    return {"items": [a.to_dict() for a in done]}


@router.post("/alarms/{alarm_id}/acknowledge")
def acknowledge_alarm(
    alarm_id: PathId, body: AcknowledgeIn, store: StoreDep, actor: CurrentUser
) -> dict[str, Any]:
    """Acknowledge alarm ``alarm_id`` with a comment (who and when are stored and audited)."""
    return monitoring.acknowledge_alarm(
        store, alarm_id, actor=actor.username, comment=body.comment, source=SOURCE
    ).to_dict()


@router.get("/predictions")
def list_predictions(store: StoreDep, _actor: CurrentUser, lot: str) -> dict[str, Any]:
    """The latest predicted end-of-batch quality of ``lot``, one per quality model."""
    return {"items": [p.to_dict() for p in quality_prediction.latest_predictions(store, lot)]}
