"""Dependencies shared by the API routers: the store, the acting user, sign-in rules.

Machine clients send ``Authorization: Bearer <token>`` with the token from
``POST /api/v1/auth/login``. A browser signed in to the pages may read the JSON twins with its
session cookie; unsafe methods with the cookie also need the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from saisei.quality.esign import Credentials
from saisei.quality.users import AuthPolicy
from saisei.services.caching import ResultCache
from saisei.services.sessions import CSRF_HEADER, SESSION_COOKIE, SessionGate, csrf_valid
from saisei.storage.store import Store

__all__ = [
    "SOURCE",
    "Actor",
    "CacheDep",
    "CurrentUser",
    "PathId",
    "PolicyDep",
    "StoreDep",
    "current_user",
    "get_cache",
    "get_policy",
    "get_sessions",
    "get_store",
]

#: Audit source of every change made through the API.
SOURCE = "api"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
_bearer = HTTPBearer(
    auto_error=False,
    description="Session token from POST /api/v1/auth/login (expires after inactivity).",
)


@dataclass(frozen=True)
class Actor:
    """The signed-in user acting through a request, and the session it acts in."""

    username: str
    full_name: str
    roles: tuple[str, ...]
    token: str

    def credentials(self, password: str, username: str | None = None) -> Credentials:
        """Signature components: the password, in this session, with an optional user id."""
        return Credentials(password=password, username=username, session_token=self.token)


def get_store(request: Request) -> Store:
    """The store the application was built with."""
    store: Store = request.app.state.store
    return store


def get_policy(request: Request) -> AuthPolicy:
    """Sign-in rules of the application."""
    policy: AuthPolicy = request.app.state.policy
    return policy


def get_sessions(request: Request) -> SessionGate:
    """The session gate of the application."""
    gate: SessionGate = request.app.state.sessions
    return gate


def get_cache(request: Request) -> ResultCache:
    """Cache of derived views (downsampled series, monitoring envelopes)."""
    cache: ResultCache = request.app.state.cache
    return cache


def current_user(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Actor:
    """The user behind the bearer token (or the session cookie), refused with 401 otherwise."""
    token = bearer.credentials if bearer is not None else None
    if token is None:
        token = request.cookies.get(SESSION_COOKIE)
        if token and request.method not in _SAFE:
            secret: str = request.app.state.secret_key
            if not csrf_valid(secret, token, request.headers.get(CSRF_HEADER)):
                raise HTTPException(
                    403,
                    f"A request signed in with the session cookie must send the {CSRF_HEADER} "
                    "header of the page; machine clients use a bearer token instead.",
                )
    if not token:
        raise HTTPException(
            401,
            "Sign in first: send 'Authorization: Bearer <token>' with a token from "
            "POST /api/v1/auth/login.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    user = get_sessions(request).user(token, source=SOURCE)
    return Actor(user.username, user.full_name, user.roles, token)


#: A row id or number in a path (32-bit signed integer, from 1, as the databases store it).
PathId = Annotated[int, Path(ge=1, le=2_147_483_647)]
StoreDep = Annotated[Store, Depends(get_store)]
PolicyDep = Annotated[AuthPolicy, Depends(get_policy)]
CacheDep = Annotated[ResultCache, Depends(get_cache)]
CurrentUser = Annotated[Actor, Depends(current_user)]
