"""Server-rendered pages (Jinja2, Plotly) over the same services as the API, in English and
Japanese. Each page has a JSON twin in the API."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

__all__ = ["create_web_router"]


def create_web_router() -> APIRouter:
    """Every page route, mounted at ``/``."""
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    def home() -> RedirectResponse:
        return RedirectResponse("/docs")

    return router
