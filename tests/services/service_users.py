"""User accounts for service tests whose operations check permissions (written as setup)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from saisei.storage.models import User
from saisei.storage.repositories import quality as repo
from saisei.storage.store import Store


def add_users(store: Store, users: Mapping[str, list[str]]) -> None:
    """Active accounts ``username -> roles`` (no usable password: they only act)."""
    now = datetime.now(UTC)
    with store.unit_of_work(actor="setup", source="test", reason="test users") as uow:
        for username, roles in users.items():
            user = User(
                username=username,
                full_name=username.replace(".", " ").title(),
                password_hash="!",
                active=True,
                failed_logins=0,
                password_changed_at=now,
                created_at=now,
            )
            user.roles = repo.ensure_roles(uow.session, roles)
            uow.session.add(user)
