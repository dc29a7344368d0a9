"""One JSON error shape for every failure: ``{"ok": false, "error", "errors", "status"}``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from saisei.errors import (
    AuthenticationFailed,
    AuthenticationUnavailable,
    Conflict,
    NotFound,
    PermissionDenied,
    SaiseiError,
    SignatureRequired,
    ValidationFailed,
)

__all__ = ["HtmlFallback", "error_body", "install_error_handlers", "status_of"]

#: Renders an error for a page (not an /api path): request, status, message, headers.
HtmlFallback = Callable[[Request, int, str, Mapping[str, str] | None], Response]

_STATUS: tuple[tuple[type[SaiseiError], int], ...] = (
    (NotFound, 404),
    (Conflict, 409),
    (ValidationFailed, 422),
    (AuthenticationFailed, 401),
    (AuthenticationUnavailable, 503),
    (PermissionDenied, 403),
    (SignatureRequired, 428),
)


def status_of(exc: SaiseiError) -> int:
    """HTTP status for a saisei error (400 for kinds without a closer match)."""
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 400


def error_body(
    message: str, status: int, errors: list[dict[str, Any]] | None = None, code: str | None = None
) -> dict[str, Any]:
    """The one error document of the API."""
    body: dict[str, Any] = {"ok": False, "error": message, "errors": errors or [], "status": status}
    if code is not None:
        body["code"] = code
    return body


def _field_errors(exc: SaiseiError) -> list[dict[str, Any]]:
    if not isinstance(exc, ValidationFailed):
        return []
    return [
        {
            "file": e.file,
            "row": e.row,
            "field": e.field,
            "value": None if e.value is None else str(e.value),
            "message": e.message,
        }
        for e in exc.errors
    ]


def _is_api(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path in {"/openapi.json", "/docs", "/redoc"}


def install_error_handlers(app: FastAPI, *, html_fallback: HtmlFallback | None = None) -> None:
    """Translate saisei errors, HTTP errors and request validation into the error shape.

    Requests outside ``/api`` get ``html_fallback``'s page instead, when one is given.
    """

    def page(request: Request) -> bool:
        return html_fallback is not None and not _is_api(request)

    @app.exception_handler(SaiseiError)
    async def _saisei(request: Request, exc: SaiseiError) -> Response:
        status = status_of(exc)
        if html_fallback is not None and page(request):
            return html_fallback(request, status, exc.message, None)
        return JSONResponse(
            error_body(exc.message, status, _field_errors(exc), exc.code), status_code=status
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if html_fallback is not None and page(request):
            return html_fallback(request, exc.status_code, str(exc.detail), exc.headers)
        return JSONResponse(
            error_body(str(exc.detail), exc.status_code),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _request(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ())),
                "message": str(e.get("msg")),
                "value": None,
            }
            for e in exc.errors()
        ]
        if html_fallback is not None and page(request):
            detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
            return html_fallback(request, 422, f"The request is not valid: {detail}", None)
        return JSONResponse(error_body("The request is not valid.", 422, errors), 422)
