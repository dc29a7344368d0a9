"""Comparability studies."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from saisei.api.deps import CurrentUser, StoreDep
from saisei.services import comparability

router = APIRouter(prefix="/comparability", tags=["comparability"])


@router.get("/studies")
def list_studies(store: StoreDep, _actor: CurrentUser) -> dict[str, Any]:
    """Every study with its status and signatures."""
    return {"items": [s.to_dict() for s in comparability.list_studies(store)]}


@router.get("/studies/{code}")
def show_study(code: str, store: StoreDep, _actor: CurrentUser) -> dict[str, Any]:
    """One study: plan, signatures (validity recomputed), amendments, runs."""
    return comparability.show_study(store, code).to_dict()


@router.get("/studies/{code}/result")
def study_result(
    code: str,
    store: StoreDep,
    _actor: CurrentUser,
    run: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> dict[str, Any]:
    """The result of a run (default: the latest), rebuilt from its stored snapshot."""
    return comparability.study_result(store, code, run=run).to_dict()
