"""Initialising a saisei home and summarising what it holds."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from saisei import __version__
from saisei.storage.audit import has_genesis
from saisei.storage.repositories.summary import record_counts
from saisei.storage.store import Store

__all__ = ["HomeSummary", "initialise_home", "summarise_home"]


@dataclass(frozen=True)
class HomeSummary:
    """What a saisei home holds.

    Attributes
    ----------
    home : str
        The data folder.
    database : str
        Database URL (password hidden).
    schema_revision : str or None
        Alembic revision of the database.
    timeseries_root : str
        Folder of the Parquet segments.
    counts : dict of str to int
        Rows per record type.
    created : bool
        Whether this call created the home (first initialisation).
    """

    home: str
    database: str
    schema_revision: str | None
    timeseries_root: str
    counts: dict[str, int] = field(default_factory=dict)
    created: bool = False
    version: str = __version__

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return asdict(self)


def initialise_home(store: Store, home: Path, *, actor: str = "system") -> HomeSummary:
    """Create the home folders, migrate the database and write the audit genesis event.

    Idempotent: on an existing home it applies pending migrations and changes nothing else.
    The genesis event (``system:home:initialise``) makes sure a store never has an empty
    audit trail, so a wiped trail is detectable.
    """
    home.mkdir(parents=True, exist_ok=True)
    store.timeseries.root.mkdir(parents=True, exist_ok=True)
    revision = store.upgrade()
    created = False
    with store.unit_of_work(actor=actor, source="system") as uow:
        if not has_genesis(uow.session):
            uow.record(
                "home",
                "initialise",
                entity_id=str(home),
                new={"schema_revision": revision, "saisei_version": __version__},
                reason="saisei home initialised",
            )
            created = True
    return summarise_home(store, home, created=created)


def summarise_home(store: Store, home: Path, *, created: bool = False) -> HomeSummary:
    """Counts of what the home holds, and where."""
    with store.reader() as session:
        counts = record_counts(session)
    return HomeSummary(
        home=str(home),
        database=store.url,
        schema_revision=store.revision(),
        timeseries_root=str(store.timeseries.root),
        counts=counts,
        created=created,
    )
