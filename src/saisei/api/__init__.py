"""The JSON API under ``/api/v1``: routers over the services, one error shape.

Routes parse input, check permission through a dependency, call one service and serialise;
they never run SQL or commit.
"""

from __future__ import annotations

from fastapi import APIRouter

from saisei.api.routers import (
    admin,
    analysis,
    audit,
    auth,
    batches,
    comparability,
    custody,
    dashboard,
    monitoring,
    quality,
    release,
    spc,
    system,
    users,
)

__all__ = ["create_api_router"]


def create_api_router() -> APIRouter:
    """Every API route, to be mounted at ``/api/v1``."""
    router = APIRouter()
    for module in (
        system,
        auth,
        dashboard,
        batches,
        release,
        quality,
        audit,
        custody,
        monitoring,
        spc,
        comparability,
        users,
        analysis,
        admin,
    ):
        router.include_router(module.router)
    return router
