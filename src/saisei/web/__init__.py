"""Server-rendered pages (Jinja2, Plotly) over the same services as the API, in English and
Japanese. Each page has a JSON twin in the API; see docs/web.md."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

__all__ = ["create_web_router", "error_page", "mount_static"]


def create_web_router() -> APIRouter:
    """Every page route, mounted at ``/``."""
    from saisei.web.routes import admin, analysis, assets, auth, forms, pages

    router = APIRouter(include_in_schema=False)
    for module in (auth, assets, pages, forms, analysis, admin):
        router.include_router(module.router)
    return router


def error_page(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None
) -> Response:
    """The page of a failed page request (redirects pass through)."""
    from saisei.web.context import page_context
    from saisei.web.render import render

    if status in (302, 303) and headers and "Location" in headers:
        return RedirectResponse(headers["Location"], status_code=status)
    return render(
        page_context(request), "error.html", http_status=status, status_code=status, message=message
    )


def mount_static(app: FastAPI) -> None:
    """Serve the local stylesheet and script under ``/static``."""
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
