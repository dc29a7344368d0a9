"""Dashboard, batch list and batch page, shipments, control charts, audit trail."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from markupsafe import Markup

from saisei.services import audit, batch_overview, overview, quality_prediction, spc
from saisei.services.caching import ResultCache
from saisei.web.context import SignedIn
from saisei.web.figures import batch_figures, chart_figures, shipment_figures
from saisei.web.render import render, templates

router = APIRouter()


def _cache(page: SignedIn) -> ResultCache:
    cache: ResultCache = page.request.app.state.cache
    return cache


@router.get("/")
def home(page: SignedIn) -> Response:
    """Batches in progress and awaiting release, alarms, deviations, shipments to watch."""
    board = overview.dashboard(page.request.app.state.store)
    return render(page, "home.html", board=board.to_dict())


@router.get("/batches")
def batches(
    page: SignedIn,
    product: str | None = None,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0,
) -> Response:
    """The batch list with filters and pages."""
    found = overview.batch_page(
        page.request.app.state.store,
        product=product or None,
        status=status or None,
        limit=limit,
        offset=offset,
    )
    return render(
        page, "batches.html", result=found.to_dict(), product=product or "", status=status or ""
    )


def _batch_page(
    lot: str, found: batch_overview.BatchOverview, cache: ResultCache, at_h: float | None
) -> tuple[dict[str, Any], dict[str, Any], Markup]:
    """The batch page's view, figures and alarm rows, which are the same for every viewer;
    the figures also outlive changes elsewhere in the store."""
    view = found.to_dict()
    alarm_rows = Markup(
        templates.get_template("partials/_alarm_rows.html").render(alarms=view["alarms"], lot=lot)
    )
    monitoring = view["monitoring"]
    key = (
        "batch-figures",
        lot,
        tuple(view["series_fingerprint"]),
        monitoring["model"],
        monitoring["version"],
        len(view["alarms"]),
        at_h,
    )
    return view, cache.get(key, lambda: batch_figures(view)), alarm_rows


@router.get("/batches/{lot}")
def batch(lot: str, page: SignedIn, at_h: float | None = None) -> Response:
    """Everything about one lot (JSON twin: GET /api/v1/batches/{lot}/overview)."""
    cache = _cache(page)
    found = batch_overview.batch_overview(page.request.app.state.store, lot, at_h=at_h, cache=cache)
    # One serialisation per state of the store (the view carries the audit head it was read at).
    view, drawn, alarm_rows = cache.get(
        ("batch-page", lot, found.as_of_seq, at_h), lambda: _batch_page(lot, found, cache, at_h)
    )
    # predictions are audit events: the audit head the view was read at keys them too
    predictions = cache.get(
        ("batch-predictions", lot, found.as_of_seq),
        lambda: [
            p.to_dict()
            for p in quality_prediction.latest_predictions(page.request.app.state.store, lot)
        ],
    )
    return render(
        page,
        "batch.html",
        view=view,
        figures=drawn,
        alarm_rows=alarm_rows,
        lot=lot,
        predictions=predictions,
    )


@router.get("/shipments")
def shipments(page: SignedIn, status: str | None = None) -> Response:
    """Shipments, newest first (JSON twin: GET /api/v1/shipments)."""
    found = overview.list_shipments(page.request.app.state.store, status=status or None)
    return render(page, "shipments.html", items=[s.to_dict() for s in found], status=status or "")


@router.get("/shipments/{code}")
def shipment(code: str, page: SignedIn) -> Response:
    """Logger plot with bands, excursions and their acknowledgement."""
    detail = overview.shipment_detail(page.request.app.state.store, code).to_dict()
    return render(page, "shipment.html", detail=detail, figures=shipment_figures(detail))


@router.get("/spc")
def control_charts(
    page: SignedIn,
    name: str | None = None,
    chart: str = "imr",
    rules: str = "nelson",
    product: str | None = None,
) -> Response:
    """A control chart with its rule violations (JSON twin: GET /api/v1/spc/chart)."""
    report = None
    drawn: list[dict[str, str]] = []
    if name:
        report = spc.spc_chart(
            page.request.app.state.store, name, chart=chart, rules=rules, product=product or None
        ).to_dict()
        drawn = chart_figures(report)
    return render(
        page,
        "spc.html",
        report=report,
        figures=drawn,
        name=name or "",
        chart=chart,
        rules=rules,
        product=product or "",
        charts=spc.CHARTS,
        presets=spc.RULE_PRESETS,
    )


@router.get("/audit")
def audit_trail(
    page: SignedIn,
    entity_type: str | None = None,
    entity_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> Response:
    """The audit trail, newest last (JSON twin: GET /api/v1/audit)."""
    events = audit.show_audit(
        page.request.app.state.store,
        entity_type=entity_type or None,
        entity_id=entity_id or None,
        limit=limit,
    )
    return render(
        page,
        "audit.html",
        events=[e.to_dict() for e in events],
        entity_type=entity_type or "",
        entity_id=entity_id or "",
        limit=limit,
    )
