"""The acting user, permission checks and UTC time, shared by every service that checks a
permission (the quality services and those in ``saisei.services``)."""

from __future__ import annotations

from datetime import UTC, datetime

from saisei.errors import AuthenticationFailed, ValidationFailed
from saisei.quality.permissions import SYSTEM_ACTOR, SYSTEM_OPERATIONS, check_permission
from saisei.storage.models import User
from saisei.storage.repositories import quality as repo

__all__ = ["authorize", "authorize_or_system", "role_names", "usable_user", "utc_now"]


def utc_now(now: datetime | None = None) -> datetime:
    """``now`` (timezone-aware) or the current UTC time; naive times are refused."""
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValidationFailed(f"Times must be timezone-aware (UTC). Got naive {now!r}.")
    return now.astimezone(UTC)


def role_names(user: User) -> list[str]:
    """Names of the user's roles (roles must be loaded)."""
    return sorted(r.name for r in user.roles)


def usable_user(user: User | None, username: str) -> User:
    """The user, if it exists, is active and not locked."""
    if user is None:
        raise AuthenticationFailed(
            f"No user {username!r} is known. Ask an administrator to create the account."
        )
    if not user.active:
        raise AuthenticationFailed(
            f"The account {username!r} is deactivated and cannot act or sign."
        )
    if user.locked_at is not None:
        raise AuthenticationFailed(
            f"The account {username!r} is locked after repeated failed sign-ins; an "
            f"administrator must unlock it ('saisei users unlock {username}')."
        )
    return user


def authorize(session: repo.Session, username: str, operation: str) -> User:
    """The acting user, after checking it may run ``operation`` (inside the transaction).

    Raises
    ------
    AuthenticationFailed
        If the user is unknown, deactivated or locked.
    PermissionDenied
        If none of its roles grants the operation's permission.
    """
    user = usable_user(repo.find_user(session, username), username)
    check_permission(username, role_names(user), operation)
    return user


def authorize_or_system(session: repo.Session, username: str, operation: str) -> User | None:
    """As :func:`authorize`, but the unattended ``system`` actor may run the operations of
    :data:`~saisei.quality.permissions.SYSTEM_OPERATIONS` without an account (returns None).

    Raises
    ------
    AuthenticationFailed, PermissionDenied
        As :func:`authorize`, for every other actor or operation.
    """
    if username == SYSTEM_ACTOR and operation in SYSTEM_OPERATIONS:
        return None
    return authorize(session, username, operation)
