"""Template rendering and Plotly figures as JSON for the pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped]
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from saisei.web.context import NONCE_COOKIE, Page
from saisei.web.i18n import LANGUAGES

__all__ = ["figure_json", "render", "templates"]

_TEMPLATES = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(_TEMPLATES))
templates.env.globals["LANGUAGES"] = LANGUAGES


def figure_json(figure: go.Figure) -> str:
    """A figure as the JSON the page script hands to Plotly."""
    return str(figure.to_json())


def render(page: Page, template: str, http_status: int = 200, **values: Any) -> HTMLResponse:
    """Render ``pages/<template>`` for ``page``'s viewer."""
    response = templates.TemplateResponse(
        page.request,
        f"pages/{template}",
        {"page": page, "t": page.t, "when": page.when, "utc": page.utc, **values},
        status_code=http_status,
    )
    if page.new_nonce is not None:
        response.set_cookie(NONCE_COOKIE, page.new_nonce, httponly=True, samesite="strict")
    return response
