"""Drivers of a quality attribute and stored design spaces (read-only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from saisei.api.deps import CacheDep, CurrentUser, StoreDep
from saisei.services import design_space, design_space_map, drivers

router = APIRouter(tags=["analysis"])

Version = Annotated[int | None, Query(ge=1, le=2_147_483_647)]


@router.get("/drivers")
def driver_analysis(
    store: StoreDep,
    cache: CacheDep,
    _actor: CurrentUser,
    attribute: Annotated[str, Query(min_length=1, max_length=64)],
    product: Annotated[str | None, Query(description="MSC, CAR-T, iPSC-derived, AAV, LV.")] = None,
) -> dict[str, Any]:
    """Factors ranked by how much they drive a QC attribute: mixed-model effects and variance
    shares, permutation importance, confounded pairs."""
    return drivers.driver_document(store, attribute, product=product or None, cache=cache)


@router.get("/design-spaces")
def list_design_spaces(store: StoreDep, _actor: CurrentUser) -> dict[str, Any]:
    """Every stored design space (all versions)."""
    return {"items": [d.to_dict() for d in design_space.list_design_spaces(store)]}


@router.get("/design-spaces/{name}")
def show_design_space(
    name: str, store: StoreDep, _actor: CurrentUser, version: Version = None
) -> dict[str, Any]:
    """One stored design space (newest version by default) with its PAR table."""
    return design_space.show_design_space(store, name, version).to_dict()


@router.get("/design-spaces/{name}/map")
def design_space_probability_map(
    name: str,
    store: StoreDep,
    _actor: CurrentUser,
    version: Version = None,
    x: Annotated[str | None, Query(max_length=100)] = None,
    y: Annotated[str | None, Query(max_length=100)] = None,
    points: Annotated[
        int, Query(ge=design_space_map.MIN_POINTS, le=design_space_map.MAX_POINTS)
    ] = design_space_map.DEFAULT_POINTS,
) -> dict[str, Any]:
    """P(all CQAs in spec) over parameters ``x`` and ``y`` (others at target)."""
    return design_space_map.probability_map(
        store, name, version=version, x=x, y=y, points=points
    ).to_dict()
