"""Users, roles, passwords and sign-in: argon2 hashes, lockout, password ageing, sessions.

"Wrong password" (:class:`~saisei.errors.AuthenticationFailed`) is kept apart from
"authentication unavailable" (:class:`~saisei.errors.AuthenticationUnavailable`, the user
store cannot be read): only the first counts towards the lockout. Settings arrive as plain
values in an :class:`AuthPolicy`; nothing here reads the environment.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from saisei.domain.audit import jsonable
from saisei.domain.quality_rules import check_password_policy, require_reason
from saisei.errors import (
    AuthenticationFailed,
    AuthenticationUnavailable,
    Conflict,
    StorageError,
    ValidationFailed,
)
from saisei.quality.access import authorize, role_names, usable_user, utc_now
from saisei.quality.permissions import SYSTEM_ACTOR, Role, parse_roles
from saisei.storage.models import PasswordHistory, User, UserSession
from saisei.storage.repositories import quality as repo
from saisei.storage.store import Store

__all__ = [
    "AuthPolicy",
    "AuthenticatedUser",
    "SessionInfo",
    "UserView",
    "authenticate",
    "bootstrap_admin",
    "change_password",
    "create_user",
    "deactivate_user",
    "end_session",
    "grant_role",
    "list_users",
    "reset_password",
    "revoke_role",
    "session_user",
    "start_session",
    "token_sha256",
    "unlock_user",
]


@dataclass(frozen=True)
class AuthPolicy:
    """Authentication settings, passed in as plain values (built from settings at the edge).

    Attributes
    ----------
    lockout_threshold : int
        Consecutive failed sign-ins after which the account is locked (default 5).
    password_max_age_days : int
        Days after which a password expires; 0 turns ageing off.
    session_timeout_min : int
        Minutes of inactivity that end a continuous session.
    argon2_time_cost, argon2_memory_kib, argon2_parallelism : int
        argon2id parameters for new hashes (RFC 9106 section 4, second recommended option:
        t=3, 64 MiB, p=4, by default); existing hashes are verified with their own parameters.
    password_history : int
        How many of the user's last passwords (the current one included) may not be chosen
        again; 0 turns the check off (default 5).
    """

    lockout_threshold: int = 5
    password_max_age_days: int = 90
    session_timeout_min: int = 15
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    password_history: int = 5

    def __post_init__(self) -> None:
        if self.lockout_threshold < 1:
            raise ValidationFailed(
                f"The lockout threshold must be at least 1. Got {self.lockout_threshold}."
            )
        if self.session_timeout_min < 1:
            raise ValidationFailed(
                f"The session timeout must be at least 1 minute. Got {self.session_timeout_min}."
            )
        if self.password_history < 0:
            raise ValidationFailed(
                "The password history must be 0 (off) or more passwords. "
                f"Got {self.password_history}."
            )
        if self.password_max_age_days < 0:
            raise ValidationFailed(
                "The password maximum age must be 0 (off) or more days. "
                f"Got {self.password_max_age_days}."
            )

    def hasher(self) -> PasswordHasher:
        """An argon2id hasher with these parameters."""
        return PasswordHasher(
            time_cost=self.argon2_time_cost,
            memory_cost=self.argon2_memory_kib,
            parallelism=self.argon2_parallelism,
        )


@dataclass(frozen=True)
class AuthenticatedUser:
    """A user whose user id and password were just verified."""

    user_id: int
    username: str
    full_name: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class SessionInfo:
    """A started session; ``token`` is shown once and stored only as its SHA-256."""

    token: str
    username: str
    started_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {k: jsonable(getattr(self, k)) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class UserView:
    """A user account as shown to administrators (never the hash)."""

    username: str
    full_name: str
    roles: tuple[str, ...]
    active: bool
    locked: bool
    failed_logins: int
    password_changed_at: datetime | None
    party: str | None

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {
            **{k: jsonable(getattr(self, k)) for k in self.__dataclass_fields__},
            "roles": list(self.roles),
        }


def _view(user: User, party_code: str | None = None) -> UserView:
    return UserView(
        username=user.username,
        full_name=user.full_name,
        roles=tuple(role_names(user)),
        active=user.active,
        locked=user.locked_at is not None,
        failed_logins=user.failed_logins,
        password_changed_at=user.password_changed_at,
        party=party_code,
    )


def token_sha256(token: str) -> str:
    """SHA-256 (hex) of a session token: what the store keeps."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@contextmanager
def _auth_store() -> Iterator[None]:
    try:
        with repo.db_errors():
            yield
    except StorageError as exc:
        raise AuthenticationUnavailable(
            "Authentication is unavailable: the user store cannot be read "
            f"({exc}). The password was not checked and no attempt was counted; try again "
            "later or call the system administrator."
        ) from exc


def _validate_username(username: str) -> str:
    cleaned = username.strip()
    if not cleaned or len(cleaned) > 64 or any(c.isspace() for c in cleaned):
        raise ValidationFailed(
            f"A user id must be 1-64 characters without spaces. Got {username!r}."
        )
    if cleaned == SYSTEM_ACTOR:
        raise ValidationFailed(
            f"The user id {SYSTEM_ACTOR!r} is reserved for unattended changes; choose another."
        )
    return cleaned


# sign-in ------------------------------------------------------------------------------------


def _password_expired(user: User, policy: AuthPolicy, now: datetime) -> bool:
    if policy.password_max_age_days == 0:
        return False
    changed = user.password_changed_at or user.created_at
    return now - changed > timedelta(days=policy.password_max_age_days)


def _record_failure(
    store: Store, username: str, policy: AuthPolicy, now: datetime, source: str
) -> int | None:
    """Count a failed sign-in; lock at the threshold with an alert event. Returns the count."""
    with store.unit_of_work(actor=username, source=source, reason="failed sign-in") as uow:
        user = repo.find_user(uow.session, username)
        if user is None:
            uow.record("user", "login_failed", new={"username": username, "known": False})
            return None
        user.failed_logins += 1
        if user.failed_logins >= policy.lockout_threshold and user.locked_at is None:
            user.locked_at = now
            uow.record(
                "security_alert",
                "account_locked",
                entity_id=username,
                new={"failed_logins": user.failed_logins, "threshold": policy.lockout_threshold},
                reason=f"account locked after {user.failed_logins} consecutive failed sign-ins",
            )
        return user.failed_logins


def verify_password(
    store: Store,
    username: str,
    password: str,
    policy: AuthPolicy,
    *,
    source: str,
    now: datetime,
    allow_expired: bool = False,
) -> AuthenticatedUser:
    """Check user id and password; count failures and lock; see :func:`authenticate`."""
    with _auth_store():
        with store.reader() as session:
            user = repo.find_user(session, username)
            if user is not None:
                usable_user(user, username)
                stored_hash = user.password_hash
                expired = _password_expired(user, policy, now)
                failed_before = user.failed_logins
                verified = AuthenticatedUser(
                    user.id, user.username, user.full_name, tuple(role_names(user))
                )
        if user is None or stored_hash is None:
            _record_failure(store, username, policy, now, source)
            raise AuthenticationFailed("The user id or password is wrong.")
        _check_hash(store, username, stored_hash, password, policy, now, source)
        if expired and not allow_expired:
            raise AuthenticationFailed(
                f"The password of {username!r} is older than {policy.password_max_age_days} "
                f"days and has expired; change it with 'saisei users passwd {username}'."
            )
        if failed_before:
            with store.unit_of_work(actor=username, source=source, reason="sign-in") as uow:
                repo.get_user(uow.session, username).failed_logins = 0
    return verified


def _check_hash(
    store: Store,
    username: str,
    stored_hash: str,
    password: str,
    policy: AuthPolicy,
    now: datetime,
    source: str,
) -> None:
    try:
        policy.hasher().verify(stored_hash, password)
    except VerifyMismatchError:
        count = _record_failure(store, username, policy, now, source) or 0
        if count >= policy.lockout_threshold:
            raise AuthenticationFailed(
                f"The user id or password is wrong. The account {username!r} is now locked "
                f"after {count} failed attempts; an administrator must unlock it."
            ) from None
        left = policy.lockout_threshold - count
        raise AuthenticationFailed(
            f"The user id or password is wrong ({left} attempt(s) left before the account "
            "is locked)."
        ) from None
    except (InvalidHashError, VerificationError) as exc:
        raise AuthenticationUnavailable(
            f"Authentication is unavailable: the stored credential of {username!r} cannot "
            f"be read ({exc}). Call the system administrator."
        ) from exc


def authenticate(
    store: Store,
    username: str,
    password: str,
    policy: AuthPolicy,
    *,
    source: str = "app",
    now: datetime | None = None,
) -> AuthenticatedUser:
    """Verify user id and password.

    A wrong password (or unknown user id) counts one failed attempt; at
    ``policy.lockout_threshold`` consecutive failures the account is locked and a
    ``security_alert:account_locked`` audit event is written. A correct password resets the
    count. An expired password (older than ``password_max_age_days``) is refused.

    Raises
    ------
    AuthenticationFailed
        Wrong user id or password, locked or deactivated account, expired password.
    AuthenticationUnavailable
        The user store cannot be read (database down, unreadable hash): nothing was counted.
    """
    return verify_password(store, username, password, policy, source=source, now=utc_now(now))


def start_session(
    store: Store,
    username: str,
    password: str,
    policy: AuthPolicy,
    *,
    source: str = "app",
    now: datetime | None = None,
) -> SessionInfo:
    """Sign in: verify the password and open a continuous session; returns its token."""
    moment = utc_now(now)
    user = verify_password(store, username, password, policy, source=source, now=moment)
    token = secrets.token_urlsafe(32)
    with _auth_store(), store.unit_of_work(actor=username, source=source, reason="sign-in") as uow:
        uow.session.add(
            UserSession(
                token_sha256=token_sha256(token),
                user_id=user.user_id,
                started_at=moment,
                last_activity_at=moment,
                signings=0,
            )
        )
    return SessionInfo(token=token, username=username, started_at=moment)


def _live_session(
    session: repo.Session, token: str, policy: AuthPolicy, now: datetime
) -> tuple[UserSession, bool]:
    """The session of ``token`` and whether it is still within the inactivity timeout."""
    found = repo.find_session(session, token_sha256(token))
    if found is None or found.ended_at is not None:
        raise AuthenticationFailed("The session has ended or is unknown; sign in again.")
    alive = now - found.last_activity_at <= timedelta(minutes=policy.session_timeout_min)
    return found, alive


def session_user(
    store: Store,
    token: str,
    policy: AuthPolicy,
    *,
    source: str = "app",
    now: datetime | None = None,
) -> AuthenticatedUser:
    """The user of a live session, whose inactivity clock restarts now.

    Raises
    ------
    AuthenticationFailed
        When the session is unknown, ended or timed out (then it is ended).
    """
    moment = utc_now(now)
    with _auth_store(), store.unit_of_work(actor="system", source=source) as uow:
        found, alive = _live_session(uow.session, token, policy, moment)
        user = usable_user(uow.session.get(User, found.user_id), "session user")
        if not alive:
            found.ended_at = moment
        else:
            found.last_activity_at = moment
            result = AuthenticatedUser(user.id, user.username, user.full_name, ())
    if not alive:
        raise AuthenticationFailed(
            f"The session timed out after {policy.session_timeout_min} minutes of inactivity; "
            "sign in again with user id and password."
        )
    with store.reader() as session:
        roles = tuple(role_names(repo.get_user(session, result.username)))
    return AuthenticatedUser(result.user_id, result.username, result.full_name, roles)


def end_session(store: Store, token: str, *, source: str = "app") -> None:
    """Sign out: end the session of ``token`` (no error if it already ended)."""
    with store.unit_of_work(actor="system", source=source, reason="sign-out") as uow:
        found = repo.find_session(uow.session, token_sha256(token))
        if found is not None and found.ended_at is None:
            found.ended_at = utc_now()


# accounts -----------------------------------------------------------------------------------


def _new_user(
    session: repo.Session,
    username: str,
    full_name: str,
    password: str,
    roles: Sequence[Role],
    policy: AuthPolicy,
    now: datetime,
    party_code: str | None,
) -> User:
    username = _validate_username(username)
    if not full_name.strip():
        raise ValidationFailed("A user needs a full name (printed on its e-signatures). Got none.")
    check_password_policy(password, username=username)
    if repo.find_user(session, username) is not None:
        raise Conflict(f"A user {username!r} already exists; user ids are never reused.")
    party_id = repo.get_party(session, party_code).id if party_code is not None else None
    user = User(
        username=username,
        full_name=full_name.strip(),
        password_hash=policy.hasher().hash(password),
        party_id=party_id,
        active=True,
        failed_logins=0,
        password_changed_at=now,
        created_at=now,
    )
    user.roles = repo.ensure_roles(session, [r.value for r in roles])
    session.add(user)
    return user


def bootstrap_admin(
    store: Store,
    username: str,
    full_name: str,
    password: str,
    policy: AuthPolicy,
    *,
    source: str = "app",
    now: datetime | None = None,
) -> UserView:
    """Create the first administrator of an empty home (refused once any user exists)."""
    moment = utc_now(now)
    with store.unit_of_work(
        actor="system", source=source, reason="first administrator created"
    ) as uow:
        if repo.count_users(uow.session) > 0:
            raise Conflict(
                "Users already exist; only the first administrator is created this way. "
                "Ask an administrator to run 'saisei users create'."
            )
        user = _new_user(
            uow.session, username, full_name, password, [Role.ADMIN], policy, moment, None
        )
        uow.flush()
        return _view(user)


def create_user(
    store: Store,
    actor: str,
    username: str,
    full_name: str,
    password: str,
    roles: Sequence[str],
    policy: AuthPolicy,
    *,
    party_code: str | None = None,
    reason: str | None = None,
    source: str = "app",
    now: datetime | None = None,
) -> UserView:
    """Create an account with ``roles`` (needs ``users.manage``).

    ``party_code`` ties collection-site and intermediary users to their organisation.
    """
    parsed = parse_roles(roles)
    with store.unit_of_work(actor=actor, source=source, reason=reason or "user created") as uow:
        authorize(uow.session, actor, "users.create_user")
        user = _new_user(
            uow.session, username, full_name, password, parsed, policy, utc_now(now), party_code
        )
        uow.flush()
        return _view(user, party_code)


def grant_role(
    store: Store, actor: str, username: str, role: str, *, reason: str | None, source: str = "app"
) -> UserView:
    """Give ``username`` the role ``role`` (needs ``users.manage`` and a reason)."""
    (parsed,) = parse_roles([role])
    why = require_reason(reason, f"grant the role {role!r}")
    with store.unit_of_work(actor=actor, source=source, reason=why) as uow:
        authorize(uow.session, actor, "users.grant_role")
        user = repo.get_user(uow.session, username)
        if parsed.value not in role_names(user):
            user.roles = [*user.roles, *repo.ensure_roles(uow.session, [parsed.value])]
        return _view(user)


def revoke_role(
    store: Store, actor: str, username: str, role: str, *, reason: str | None, source: str = "app"
) -> UserView:
    """Take the role ``role`` from ``username`` (needs ``users.manage`` and a reason)."""
    (parsed,) = parse_roles([role])
    why = require_reason(reason, f"revoke the role {role!r}")
    with store.unit_of_work(actor=actor, source=source, reason=why) as uow:
        authorize(uow.session, actor, "users.revoke_role")
        user = repo.get_user(uow.session, username)
        if parsed == Role.ADMIN and username == actor:
            raise Conflict("Administrators cannot revoke their own admin role.")
        user.roles = [r for r in user.roles if r.name != parsed.value]
        return _view(user)


def deactivate_user(
    store: Store, actor: str, username: str, *, reason: str | None, source: str = "app"
) -> UserView:
    """Deactivate an account; the user id stays reserved (needs ``users.manage``)."""
    why = require_reason(reason, f"deactivate the user {username!r}")
    with store.unit_of_work(actor=actor, source=source, reason=why) as uow:
        authorize(uow.session, actor, "users.deactivate_user")
        if username == actor:
            raise Conflict("Administrators cannot deactivate their own account.")
        user = repo.get_user(uow.session, username)
        user.active = False
        return _view(user)


def unlock_user(
    store: Store, actor: str, username: str, *, reason: str | None, source: str = "app"
) -> UserView:
    """Unlock an account locked after failed sign-ins (needs ``users.manage``)."""
    why = require_reason(reason, f"unlock the user {username!r}")
    with store.unit_of_work(actor=actor, source=source, reason=why) as uow:
        authorize(uow.session, actor, "users.unlock_user")
        user = repo.get_user(uow.session, username)
        user.locked_at = None
        user.failed_logins = 0
        return _view(user)


def _matches(policy: AuthPolicy, stored_hash: str, password: str) -> bool:
    """True when ``password`` is the one ``stored_hash`` was made from."""
    try:
        return policy.hasher().verify(stored_hash, password)
    except (VerifyMismatchError, InvalidHashError, VerificationError):
        return False


def _replace_password(
    session: repo.Session, user: User, new_password: str, policy: AuthPolicy, now: datetime
) -> None:
    """Set a new password, refusing one of the last ``policy.password_history`` passwords.

    The current hash moves to the password history. Refusing recent passwords is common policy
    (NIST SP 800-53 Rev. 4 IA-5(1)(e)); docs/quality.md relates it to Annex 11 and Part 11.
    """
    if policy.password_history > 0:
        recent = [
            *([user.password_hash] if user.password_hash else []),
            *repo.previous_password_hashes(session, user.id, policy.password_history - 1),
        ]
        for stored in recent[: policy.password_history]:
            if _matches(policy, stored, new_password):
                raise ValidationFailed(
                    f"The new password of {user.username!r} was one of its last "
                    f"{policy.password_history} passwords; choose a password not used before "
                    "(setting SAISEI_PASSWORD_HISTORY)."
                )
    if user.password_hash:
        session.add(
            PasswordHistory(user_id=user.id, password_hash=user.password_hash, replaced_at=now)
        )
    user.password_hash = policy.hasher().hash(new_password)
    user.password_changed_at = now


def reset_password(
    store: Store,
    actor: str,
    username: str,
    new_password: str,
    policy: AuthPolicy,
    *,
    reason: str | None,
    source: str = "app",
    now: datetime | None = None,
) -> UserView:
    """Set a new password for ``username`` (needs ``users.manage`` and a reason)."""
    why = require_reason(reason, f"reset the password of {username!r}")
    check_password_policy(new_password, username=username)
    with store.unit_of_work(actor=actor, source=source, reason=why) as uow:
        authorize(uow.session, actor, "users.reset_password")
        user = repo.get_user(uow.session, username)
        _replace_password(uow.session, user, new_password, policy, utc_now(now))
        return _view(user)


def change_password(
    store: Store,
    username: str,
    old_password: str,
    new_password: str,
    policy: AuthPolicy,
    *,
    source: str = "app",
    now: datetime | None = None,
) -> UserView:
    """A user changes its own password (allowed with an expired one)."""
    moment = utc_now(now)
    verify_password(
        store, username, old_password, policy, source=source, now=moment, allow_expired=True
    )
    check_password_policy(new_password, username=username)
    if new_password == old_password:
        raise ValidationFailed("The new password must differ from the old one.")
    with store.unit_of_work(actor=username, source=source, reason="password changed") as uow:
        user = repo.get_user(uow.session, username)
        _replace_password(uow.session, user, new_password, policy, moment)
        return _view(user)


def list_users(store: Store) -> list[UserView]:
    """Every account with its roles and lock state."""
    with store.reader() as session:
        parties = repo.party_codes(session)
        return [
            _view(u, parties.get(u.party_id) if u.party_id is not None else None)
            for u in repo.list_users(session)
        ]
