"""The store: relational database plus time-series folder, as one object services use."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from saisei.errors import StorageError
from saisei.storage import migrations
from saisei.storage.engine import READ_ONLY, make_engine, make_session_factory
from saisei.storage.timeseries import TimeSeriesStore
from saisei.storage.unit_of_work import UnitOfWork

__all__ = ["Store"]


class Store:
    """Relational store and time-series store of one saisei home.

    Parameters
    ----------
    bind : Engine or Connection
        Where the relational data live. Tests pass one connection inside an outer
        transaction; the application passes an engine (see :meth:`open`).
    timeseries_root : Path
        Folder of the Parquet segments.
    session_options : dict, optional
        Extra options for the session factory.
    """

    #: Seconds a successful schema-revision check is trusted before readers ask again. Each
    #: check opens a connection and reads Alembic's version table; a busy page server opens
    #: many readers a second, and an upgrade of a live database is refused within this delay.
    revision_recheck_s: float = 2.0

    def __init__(
        self, bind: Engine | Connection, timeseries_root: Path, **session_options: Any
    ) -> None:
        self.bind = bind
        self._current_at = float("-inf")  # monotonic time of the last successful check
        self._current_lock = threading.Lock()
        self.session_factory = make_session_factory(bind, **session_options)
        # Readers on an engine take no write lock (SQLite); on one connection (tests) the
        # outer transaction is shared, so the same factory serves both.
        self._read_factory = (
            make_session_factory(bind.execution_options(**{READ_ONLY: True}), **session_options)
            if isinstance(bind, Engine)
            else self.session_factory
        )
        self.timeseries = TimeSeriesStore(timeseries_root)

    @classmethod
    def open(cls, database_url: str, timeseries_root: Path, *, echo: bool = False) -> Store:
        """Open the store at ``database_url`` (SQLite or PostgreSQL)."""
        return cls(make_engine(database_url, echo=echo), timeseries_root)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.bind.dialect.name

    @property
    def url(self) -> str:
        """Database URL with any password hidden."""
        engine = self.bind if isinstance(self.bind, Engine) else self.bind.engine
        return engine.url.render_as_string(hide_password=True)

    def unit_of_work(self, *, actor: str, source: str, reason: str | None = None) -> UnitOfWork:
        """An audited transaction; use it in a ``with`` block."""
        return UnitOfWork(self.session_factory, actor=actor, source=source, reason=reason)

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A session for reading; anything it changed is rolled back."""
        self.require_current()
        session = self._read_factory()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def upgrade(self) -> str:
        """Apply all migrations; returns the revision the database is now at."""
        try:
            migrations.upgrade(self.bind)
        except OperationalError as exc:
            raise StorageError(f"Cannot reach the database at {self.url}: {exc.orig}") from exc
        return migrations.head_revision()

    def _missing_sqlite_file(self) -> bool:
        # Connecting would create an empty SQLite file; a reader must not leave one behind.
        url = self.bind.engine.url
        database = url.database
        return (
            url.get_backend_name() == "sqlite"
            and bool(database)
            and database != ":memory:"
            and not Path(str(database)).exists()
        )

    def revision(self) -> str | None:
        """The schema revision of the database, or None if it was never initialised."""
        if self._missing_sqlite_file():
            return None
        try:
            return migrations.current_revision(self.bind)
        except (OperationalError, ProgrammingError) as exc:
            raise StorageError(f"Cannot reach the database at {self.url}: {exc.orig}") from exc

    @staticmethod
    def head_revision() -> str:
        """The newest schema revision this version of saisei defines."""
        return migrations.head_revision()

    def require_current(self) -> None:
        """Refuse to work on a database that is not at the newest schema revision.

        A successful check is trusted for :attr:`revision_recheck_s` seconds; a failed one is
        never remembered.
        """
        now = time.monotonic()
        with self._current_lock:
            if now - self._current_at < self.revision_recheck_s:
                return
        current, head = self.revision(), migrations.head_revision()
        if current != head:
            with self._current_lock:
                self._current_at = float("-inf")
            found = "an uninitialised database" if current is None else f"revision {current}"
            raise StorageError(
                f"The database at {self.url} must be at schema revision {head}; found {found}. "
                "Run 'saisei init' for a new home or 'saisei db upgrade' for an existing one."
            )
        with self._current_lock:
            self._current_at = now

    def close(self) -> None:
        """Release database connections (engines only)."""
        if isinstance(self.bind, Engine):
            self.bind.dispose()
