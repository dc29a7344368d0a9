"""User accounts (administrators manage; everyone may list)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from saisei.api.deps import SOURCE, CurrentUser, PolicyDep, StoreDep
from saisei.api.schemas.operations import PasswordResetIn, ReasonIn, RoleIn, UserIn
from saisei.quality import users

router = APIRouter(prefix="/users", tags=["users"])


@router.get("")
def list_users(store: StoreDep, _actor: CurrentUser) -> dict[str, Any]:
    """Every account with its roles and lock state (never a password hash)."""
    return {"items": [u.to_dict() for u in users.list_users(store)]}


@router.post("", status_code=201)
def create_user(
    body: UserIn, store: StoreDep, actor: CurrentUser, policy: PolicyDep
) -> dict[str, Any]:
    """Create an account (needs users.manage)."""
    return users.create_user(
        store,
        actor.username,
        body.username,
        body.full_name,
        body.password,
        body.roles,
        policy,
        party_code=body.party_code,
        reason=body.reason,
        source=SOURCE,
    ).to_dict()


@router.post("/{username}/roles")
def grant_role(username: str, body: RoleIn, store: StoreDep, actor: CurrentUser) -> dict[str, Any]:
    """Grant a role (needs users.manage and a reason)."""
    return users.grant_role(
        store, actor.username, username, body.role, reason=body.reason, source=SOURCE
    ).to_dict()


@router.post("/{username}/roles/{role}/revoke")
def revoke_role(
    username: str, role: str, body: ReasonIn, store: StoreDep, actor: CurrentUser
) -> dict[str, Any]:
    """Revoke a role (needs users.manage and a reason)."""
    return users.revoke_role(
        store, actor.username, username, role, reason=body.reason, source=SOURCE
    ).to_dict()


@router.post("/{username}/deactivate")
def deactivate(
    username: str, body: ReasonIn, store: StoreDep, actor: CurrentUser
) -> dict[str, Any]:
    """Deactivate an account; the user id stays reserved."""
    return users.deactivate_user(
        store, actor.username, username, reason=body.reason, source=SOURCE
    ).to_dict()


@router.post("/{username}/unlock")
def unlock(username: str, body: ReasonIn, store: StoreDep, actor: CurrentUser) -> dict[str, Any]:
    """Unlock an account locked after failed sign-ins."""
    return users.unlock_user(
        store, actor.username, username, reason=body.reason, source=SOURCE
    ).to_dict()


@router.post("/{username}/password")
def reset_password(
    username: str, body: PasswordResetIn, store: StoreDep, actor: CurrentUser, policy: PolicyDep
) -> dict[str, Any]:
    """Set a new password for the account (needs users.manage and a reason)."""
    return users.reset_password(
        store,
        actor.username,
        username,
        body.new_password,
        policy,
        reason=body.reason,
        source=SOURCE,
    ).to_dict()
