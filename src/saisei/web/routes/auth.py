"""Sign-in and sign-out pages, and the language and time-zone preferences."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse, Response

from saisei.errors import AuthenticationFailed, AuthenticationUnavailable
from saisei.services.sessions import SESSION_COOKIE, SessionGate
from saisei.web.context import (
    LANG_COOKIE,
    SOURCE,
    TZ_COOKIE,
    Page,
    check_csrf,
    page_context,
)
from saisei.web.i18n import LANGUAGES
from saisei.web.render import render

router = APIRouter()
_YEAR_S = 365 * 24 * 3600


def _local(target: str | None) -> str:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login")
def login_form(page: Annotated[Page, Depends(page_context)], next: str = "/") -> Response:
    """The sign-in form."""
    return render(page, "login.html", next=_local(next), error=None)


@router.post("/login")
def login(
    page: Annotated[Page, Depends(check_csrf)],
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Verify user id and password, open a session and set its cookie."""
    gate: SessionGate = page.request.app.state.sessions
    try:
        session = gate.sign_in(username, password, source=SOURCE)
    except (AuthenticationFailed, AuthenticationUnavailable) as exc:
        status = 503 if isinstance(exc, AuthenticationUnavailable) else 401
        return render(page, "login.html", http_status=status, next=_local(next), error=exc.message)
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        httponly=True,
        samesite="lax",
        secure=bool(page.request.app.state.secure_cookies),
    )
    return response


@router.post("/logout")
def logout(page: Annotated[Page, Depends(check_csrf)]) -> Response:
    """End the session and forget its cookie."""
    if page.token:
        gate: SessionGate = page.request.app.state.sessions
        gate.sign_out(page.token, source=SOURCE)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/prefs")
def preferences(lang: str | None = None, tz: str | None = None, next: str = "/") -> Response:
    """Remember the page language and display time zone (cookies), then go back."""
    response = RedirectResponse(_local(next), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, str(lang), max_age=_YEAR_S, samesite="lax")
    if tz:
        response.set_cookie(TZ_COOKIE, tz, max_age=_YEAR_S, samesite="lax")
    return response
