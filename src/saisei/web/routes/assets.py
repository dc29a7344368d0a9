"""Local assets: plotly.js from the installed plotly package (no CDN)."""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter
from fastapi.responses import Response

from saisei.reports.render import plotly_js_source

router = APIRouter()


@cache
def _plotly() -> bytes:
    return plotly_js_source().encode("utf-8")


@router.get("/assets/plotly.min.js")
def plotly_js() -> Response:
    """The plotly.js bundle shipped with the installed plotly package."""
    return Response(
        _plotly(),
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=86400"},
    )
