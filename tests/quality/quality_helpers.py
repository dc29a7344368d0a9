"""Helpers of the quality tests (imported by tests/quality modules and its conftest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher

from saisei.quality.esign import Credentials
from saisei.storage.models import User
from saisei.storage.repositories import quality as repo
from saisei.storage.store import Store

PASSWORD = "correct-horse-42"
#: argon2 at its cheapest, so tests run fast; verification reads parameters from the hash.
CHEAP = {"argon2_time_cost": 1, "argon2_memory_kib": 64, "argon2_parallelism": 1}
CHEAP_HASH = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash(PASSWORD)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def add_user(
    store: Store,
    username: str,
    roles: list[str],
    *,
    full_name: str | None = None,
    created_at: datetime | None = None,
) -> None:
    """A user with ``roles`` and the password ``PASSWORD``, written directly (as setup)."""
    created_at = created_at or datetime.now(UTC)
    with store.unit_of_work(actor="setup", source="test", reason="test user") as uow:
        user = User(
            username=username,
            full_name=full_name or username.replace(".", " ").title(),
            password_hash=CHEAP_HASH,
            active=True,
            failed_logins=0,
            password_changed_at=created_at,
            created_at=created_at,
        )
        user.roles = repo.ensure_roles(uow.session, roles)
        uow.session.add(user)


def creds(
    username: str | None = None, password: str = PASSWORD, token: str | None = None
) -> Credentials:
    """Signature credentials."""
    return Credentials(password=password, username=username, session_token=token)


@dataclass(frozen=True)
class Plant:
    """Names of what :func:`plant` stored."""

    lot: str = "MSC-0001"
    process: str = "MSC-BM"
    version: str = "2.1"
    qa: str = "qa.sato"
    analyst: str = "qc.ito"
    admin: str = "admin.kato"
