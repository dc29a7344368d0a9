"""Drivers of a quality attribute, design spaces, comparability studies, stored models
(read-only pages)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from saisei.domain.enums import ProductType
from saisei.reports import analysis_figures
from saisei.reports.figures import comparability_figures
from saisei.services import (
    comparability,
    design_space,
    design_space_map,
    drivers,
    monitoring,
    processes,
)
from saisei.web.context import SignedIn
from saisei.web.render import figure_json, render

router = APIRouter()

_PRODUCTS = [p.value for p in ProductType]


def _attributes(page: SignedIn, product: str | None) -> list[str]:
    """Attribute names of the stored process definitions (of ``product``), for the chooser."""
    found = processes.list_processes(page.request.app.state.store)
    names = {
        a["name"]
        for p in found
        if product is None or p["product_type"] == product
        for a in p["attributes"]
    }
    return sorted(names)


@router.get("/drivers")
def drivers_page(
    page: SignedIn,
    attribute: Annotated[str | None, Query(max_length=64)] = None,
    product: str | None = None,
) -> Response:
    """Which factors drive a quality attribute (JSON twin: GET /api/v1/drivers)."""
    report: dict[str, Any] | None = None
    drawn: list[dict[str, str]] = []
    if attribute:
        report = drivers.driver_document(
            page.request.app.state.store,
            attribute,
            product=product or None,
            cache=page.request.app.state.cache,
        )
        drawn = [
            {
                "key": "drivers-importance",
                "json": figure_json(analysis_figures.driver_importance_figure(report)),
            },
            {
                "key": "drivers-effects",
                "json": figure_json(analysis_figures.driver_effect_figure(report)),
            },
        ]
    return render(
        page,
        "drivers.html",
        report=report,
        figures=drawn,
        attribute=attribute or "",
        product=product or "",
        products=_PRODUCTS,
        attributes=_attributes(page, product or None),
    )


@router.get("/design-space")
def design_space_page(
    page: SignedIn,
    name: str | None = None,
    version: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    x: str | None = None,
    y: str | None = None,
) -> Response:
    """Probability map and PAR table of a stored design space (JSON twins:
    GET /api/v1/design-spaces/{name} and .../map)."""
    store = page.request.app.state.store
    stored = [d.to_dict() for d in design_space.list_design_spaces(store)]
    document: dict[str, Any] | None = None
    view: dict[str, Any] | None = None
    drawn: list[dict[str, str]] = []
    if stored:
        # without a name: the most recently stored design space
        view = design_space.show_design_space(store, name or None, version).to_dict()
        if len(view["parameters"]) >= 2:
            document = design_space_map.probability_map(
                store, view["name"], version=view["version"], x=x or None, y=y or None
            ).to_dict()
            drawn = [
                {
                    "key": "design-space-map",
                    "json": figure_json(analysis_figures.design_space_map_figure(document)),
                }
            ]
    return render(
        page,
        "design_space.html",
        stored=stored,
        view=view,
        document=document,
        figures=drawn,
    )


@router.get("/comparability")
def comparability_studies(page: SignedIn) -> Response:
    """Comparability studies (JSON twin: GET /api/v1/comparability/studies)."""
    studies = comparability.list_studies(page.request.app.state.store)
    return render(page, "comparability.html", studies=[s.to_dict() for s in studies])


@router.get("/comparability/{code}")
def comparability_study(
    code: str,
    page: SignedIn,
    run: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> Response:
    """Plan, pre- and post-change lots, per-attribute verdicts (JSON twins:
    GET /api/v1/comparability/studies/{code} and .../result)."""
    store = page.request.app.state.store
    study = comparability.show_study(store, code)
    result: dict[str, Any] | None = None
    drawn: list[dict[str, str]] = []
    if study.runs:
        found = comparability.study_result(store, code, run=run)
        result = found.to_dict()
        drawn = [
            {"key": f.key, "json": figure_json(f.figure)}
            for f in comparability_figures(found.result, found.reference, found.test)
        ]
    return render(
        page, "comparability_study.html", study=study.to_dict(), result=result, figures=drawn
    )


@router.get("/models")
def models_page(page: SignedIn) -> Response:
    """Stored monitoring and quality models, and a form to build a quality model (JSON twin:
    GET /api/v1/monitoring/models)."""
    store = page.request.app.state.store
    return render(
        page,
        "models.html",
        models=monitoring.list_models(store),
        products=_PRODUCTS,
        attributes=_attributes(page, None),
    )
