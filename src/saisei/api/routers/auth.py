"""Sign in and out; who am I."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from saisei.api.deps import SOURCE, CurrentUser, PolicyDep, get_sessions
from saisei.api.schemas.auth import LoginIn, TokenOut
from saisei.services.sessions import SessionGate

router = APIRouter(prefix="/auth", tags=["auth"])
Gate = Annotated[SessionGate, Depends(get_sessions)]


@router.post("/login", response_model=TokenOut)
def login(body: LoginIn, gate: Gate, policy: PolicyDep) -> TokenOut:
    """Verify user id and password and open a session; the token is shown once.

    Wrong passwords count towards the account lockout (401); a store that cannot be read
    answers 503 and counts nothing.
    """
    session = gate.sign_in(body.username, body.password, source=SOURCE)
    user = gate.user(session.token, source=SOURCE)
    return TokenOut(
        token=session.token,
        username=session.username,
        roles=list(user.roles),
        started_at=session.started_at.isoformat(),
        session_timeout_min=policy.session_timeout_min,
    )


@router.post("/logout", status_code=204)
def logout(actor: CurrentUser, gate: Gate) -> Response:
    """End the session of the token."""
    gate.sign_out(actor.token, source=SOURCE)
    return Response(status_code=204)


@router.get("/me")
def me(actor: CurrentUser) -> dict[str, Any]:
    """The signed-in user and its roles."""
    return {"username": actor.username, "full_name": actor.full_name, "roles": list(actor.roles)}
