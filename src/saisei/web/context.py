"""Who is looking at a page, in which language and time zone, and the CSRF token of its forms."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from saisei.errors import AuthenticationFailed
from saisei.quality.users import AuthenticatedUser
from saisei.services.sessions import SESSION_COOKIE, SessionGate, csrf_token, csrf_valid
from saisei.web.i18n import catalogue, negotiate

__all__ = [
    "LANG_COOKIE",
    "NONCE_COOKIE",
    "SOURCE",
    "TZ_COOKIE",
    "Page",
    "SignedIn",
    "check_csrf",
    "page_context",
    "signed_in",
]

#: Audit source of changes made through the pages.
SOURCE = "web"
LANG_COOKIE = "saisei_lang"
TZ_COOKIE = "saisei_tz"
#: Pre-session nonce: the CSRF seed of the login form.
NONCE_COOKIE = "saisei_nonce"


@dataclass
class Page:
    """The viewer of a page: user (None before sign-in), language, zone, CSRF token."""

    request: Request
    user: AuthenticatedUser | None
    token: str | None
    language: str
    zone_name: str
    csrf: str
    new_nonce: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        """The display time zone."""
        return ZoneInfo(self.zone_name)

    def t(self, key: str) -> str:
        """The message ``key`` in the page language (the key itself when missing)."""
        return catalogue(self.language).get(key, key)

    def when(self, value: Any) -> str:
        """A UTC time (datetime or ISO 8601 text) in the display zone, e.g. ``2026-03-02
        18:00 JST``; empty for None."""
        if value is None or value == "":
            return ""
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        local = moment.astimezone(self.zone)
        return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"

    def utc(self, value: Any) -> str:
        """The same time in UTC (shown on hover)."""
        if value is None or value == "":
            return ""
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _zone(name: str | None) -> str:
    if not name:
        return "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name


def page_context(request: Request) -> Page:
    """The page context; the user is None when there is no live session."""
    gate: SessionGate = request.app.state.sessions
    token = request.cookies.get(SESSION_COOKIE)
    user = None
    if token:
        try:
            user = gate.user(token, source=SOURCE)
        except AuthenticationFailed:
            token = None
    return _page(request, user, token)


async def _signed_in_context(request: Request) -> Page:
    """:func:`page_context` in the event loop when the session was verified recently (no
    store access, so no worker thread); in a worker thread when the store must be asked."""
    gate: SessionGate = request.app.state.sessions
    token = request.cookies.get(SESSION_COOKIE)
    user = gate.recent_user(token) if token else None
    if user is not None:
        return _page(request, user, token)
    return await run_in_threadpool(page_context, request)


def _page(request: Request, user: AuthenticatedUser | None, token: str | None) -> Page:
    secret: str = request.app.state.secret_key
    nonce = request.cookies.get(NONCE_COOKIE)
    new_nonce = None
    if token is None and not nonce:
        nonce = new_nonce = secrets.token_urlsafe(24)
    seed = token or nonce or ""
    return Page(
        request=request,
        user=user,
        token=token,
        language=negotiate(
            request.cookies.get(LANG_COOKIE), request.headers.get("accept-language")
        ),
        zone_name=_zone(request.cookies.get(TZ_COOKIE)),
        csrf=csrf_token(secret, seed),
        new_nonce=new_nonce,
    )


async def signed_in(page: Annotated[Page, Depends(_signed_in_context)]) -> Page:
    """The page context of a signed-in user; others are sent to the sign-in page.

    Asynchronous, like its context while the session is fresh: a page then takes a worker
    thread only for its own route.
    """
    if page.user is None:
        target = page.request.url.path
        if page.request.url.query:
            target += "?" + page.request.url.query
        raise HTTPException(303, "Sign in first.", headers={"Location": f"/login?next={target}"})
    return page


def check_csrf(
    page: Annotated[Page, Depends(page_context)], csrf: Annotated[str, Form()] = ""
) -> Page:
    """Refuse a form whose CSRF token is not the one issued with the page (403)."""
    secret: str = page.request.app.state.secret_key
    seed = page.token or page.request.cookies.get(NONCE_COOKIE)
    if not csrf_valid(secret, seed, csrf):
        raise HTTPException(
            403, "The form has expired or did not come from this site; reload the page."
        )
    return page


SignedIn = Annotated[Page, Depends(signed_in)]
