"""Batches: list, detail, time series, monitoring view, QC results, custody."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from saisei.api.deps import SOURCE, CacheDep, CurrentUser, StoreDep
from saisei.api.schemas.quality import QCResultIn
from saisei.quality import specs
from saisei.services import batch_overview, batches, overview, trajectories

router = APIRouter(prefix="/batches", tags=["batches"])


@router.get("")
def list_batches(
    store: StoreDep,
    _actor: CurrentUser,
    product: Annotated[str | None, Query(description="Product type, e.g. MSC, CAR-T.")] = None,
    status: Annotated[str | None, Query(description="Batch status, e.g. quarantine.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0,
) -> dict[str, Any]:
    """Batches newest first, filtered by product and status, one page at a time."""
    return overview.batch_page(
        store, product=product, status=status, limit=limit, offset=offset
    ).to_dict()


@router.get("/{lot}")
def show_batch(lot: str, store: StoreDep, _actor: CurrentUser) -> dict[str, Any]:
    """Everything recorded against one lot: genealogy, stages, parameters, materials, QC."""
    return batches.show_batch(store, lot).to_dict()


@router.get("/{lot}/overview")
def batch_page(
    lot: str,
    store: StoreDep,
    cache: CacheDep,
    _actor: CurrentUser,
    at_h: Annotated[float | None, Query(description="Time (h) of the contributions.")] = None,
) -> dict[str, Any]:
    """The JSON twin of the batch page: batch, QC, deviations, readiness, disposition,
    custody chain, downsampled trajectories, monitoring view and alarms."""
    return batch_overview.batch_overview(store, lot, at_h=at_h, cache=cache).to_dict()


@router.get("/{lot}/timeseries")
def lot_timeseries(
    lot: str,
    store: StoreDep,
    cache: CacheDep,
    _actor: CurrentUser,
    stage: str | None = None,
    variable: Annotated[list[str] | None, Query(description="Repeat for several.")] = None,
    max_points: Annotated[int, Query(ge=10, le=20_000)] = 1000,
) -> dict[str, Any]:
    """The lot's series, each downsampled on the server with LTTB to ``max_points``."""
    return trajectories.lot_trajectories(
        store, lot, stage=stage, variables=variable, max_points=max_points, cache=cache
    ).to_dict()


@router.get("/{lot}/monitoring")
def lot_monitoring(
    lot: str,
    store: StoreDep,
    cache: CacheDep,
    _actor: CurrentUser,
    model: str | None = None,
    at_h: Annotated[float | None, Query(description="Time (h) of the contributions.")] = None,
) -> dict[str, Any]:
    """T2 and SPE along maturity against the model's limits, the reference envelope of each
    variable, and the variables' contributions at ``at_h`` (default: the worst point)."""
    return trajectories.lot_monitoring(store, lot, model=model, at_h=at_h, cache=cache).to_dict()


@router.get("/{lot}/qc")
def list_qc(lot: str, store: StoreDep, _actor: CurrentUser) -> dict[str, Any]:
    """QC results of the lot, each evaluated against its specification."""
    return {"items": [r.to_dict() for r in specs.list_qc_results(store, lot)]}


@router.post("/{lot}/qc", status_code=201)
def enter_qc(lot: str, body: QCResultIn, store: StoreDep, actor: CurrentUser) -> dict[str, Any]:
    """Record a QC result (needs qc.enter); an OOS result opens a deviation."""
    return specs.enter_qc_result(
        store, actor.username, lot, source=SOURCE, **body.model_dump()
    ).to_dict()
