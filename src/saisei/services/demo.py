"""The demonstration programme: simulate a plant, import it through the normal importer, and
the demo account that signs in to it when it is served."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from saisei.quality import users
from saisei.quality.users import AuthPolicy
from saisei.services.home import HomeSummary, initialise_home, summarise_home
from saisei.services.ingest import ImportReport, import_path
from saisei.services.simulation import simulate_programme_to_folder
from saisei.storage.store import Store

__all__ = [
    "DEMO_LOGIN_FILE",
    "DEMO_USER",
    "DemoLogin",
    "DemoSummary",
    "ensure_demo_login",
    "run_demo",
]

#: The demo account (administrator and QA, so that one person can try every page).
DEMO_USER = "demo.qa"
#: File in the home that keeps the demo account's generated password (owner-readable only).
DEMO_LOGIN_FILE = "demo-login.txt"


@dataclass(frozen=True)
class DemoSummary:
    """What the demo did: the simulated folder, the import report and the home summary."""

    exchange_folder: str
    imported: ImportReport | None
    home: HomeSummary

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {
            "exchange_folder": self.exchange_folder,
            "import": None if self.imported is None else self.imported.to_dict(),
            "home": self.home.to_dict(),
        }


def run_demo(
    store: Store,
    home: Path,
    *,
    seed: int = 20261128,
    size: str = "full",
    progress: Callable[[str, float], None] | None = None,
) -> DemoSummary:
    """Initialise ``home``, simulate the default programme and import it.

    The programme (3 hospitals, 1 intermediary, 1 manufacturer; MSC batches with a medium
    change, CAR-T and AAV lots, a few faults and excursions) is written as an exchange folder
    in ``home/demo-exchange`` and imported exactly as a user's files would be. A home that
    already holds batches is only summarised, so the demo can be run again safely.

    Parameters
    ----------
    store : Store
        The store of ``home``.
    home : Path
        The demo home.
    seed : int
        Seed of the simulated programme.
    size : {"full", "small"}
        The programme's size (:func:`saisei.simulation.default_programme`): ``small`` has the
        same shape in a few lots, for tests.
    progress : callable, optional
        Called as ``progress(phase, fraction_done)`` while simulating.
    """
    summary = initialise_home(store, home, actor="demo")
    folder = home / "demo-exchange"
    if summary.counts.get("batches", 0) > 0:
        return DemoSummary(str(folder), None, summary)
    simulate_programme_to_folder(seed, folder, size=size, progress=progress)
    report = import_path(
        store, folder, actor="demo", reason="demonstration programme (simulated data)"
    )
    return DemoSummary(str(folder), report, summarise_home(store, home, created=summary.created))


@dataclass(frozen=True)
class DemoLogin:
    """The account to sign in to a served demo home with.

    ``username`` and ``password`` are None when the home has accounts of its own and no demo
    account; ``password`` is None when the demo account exists but its password file is gone.
    """

    username: str | None
    password: str | None
    created: bool
    note: str

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` readable by the owner only (temp file + rename)."""
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def ensure_demo_login(store: Store, home: Path, policy: AuthPolicy) -> DemoLogin:
    """The demo account of ``home``, created on first use (idempotent).

    A home without users gets :data:`DEMO_USER` as its first administrator (through
    :func:`saisei.quality.users.bootstrap_admin`, audited) with the QA role added, and a
    generated password kept in ``home/demo-login.txt`` (mode 600) so that later runs print it
    again. A home whose users were created otherwise gets no demo account.
    """
    path = home / DEMO_LOGIN_FILE
    existing = {u.username for u in users.list_users(store)}
    if DEMO_USER in existing:
        password = path.read_text("utf-8").strip() if path.exists() else None
        note = (
            "demo account of this home"
            if password
            else f"the password file {path} is gone; an administrator can reset the password"
        )
        return DemoLogin(DEMO_USER, password, False, note)
    if existing:
        return DemoLogin(
            None, None, False, "this home has its own accounts; sign in with one of them"
        )
    # letters, a symbol and 12 random URL-safe characters: passes the password policy
    password = f"demo-{secrets.token_urlsafe(9)}"
    users.bootstrap_admin(store, DEMO_USER, "Demo QA", password, policy, source="demo")
    users.grant_role(
        store,
        DEMO_USER,
        DEMO_USER,
        "qa",
        reason="demonstration home: one account to try review, release and administration",
        source="demo",
    )
    _write_private(path, password + "\n")
    return DemoLogin(DEMO_USER, password, True, "demo account created (administrator and QA)")
