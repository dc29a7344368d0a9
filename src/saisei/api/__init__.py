"""The JSON API under ``/api/v1``: routers over the services, one error shape.

Routes parse input, check permission through a dependency, call one service and serialise;
they never run SQL or commit.
"""

from __future__ import annotations

from fastapi import APIRouter

from saisei.api.routers import system

__all__ = ["create_api_router"]


def create_api_router() -> APIRouter:
    """Every API route, to be mounted at ``/api/v1``."""
    router = APIRouter()
    router.include_router(system.router)
    return router
