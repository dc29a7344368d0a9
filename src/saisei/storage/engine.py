"""Engine and session factory for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from saisei.errors import ConfigurationError

__all__ = ["READ_ONLY", "make_engine", "make_session_factory"]


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers work while one writer commits; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
    # The sqlite3 module's own transaction handling skips BEGIN before DDL and breaks
    # SAVEPOINT; hand transaction control to SQLAlchemy instead (SQLAlchemy's pysqlite
    # "serializable isolation / savepoints / transactional DDL" recipe).
    dbapi_connection.isolation_level = None


#: Execution option that marks a connection as read-only (its transactions take no lock).
READ_ONLY = "saisei_read_only"


def _sqlite_begin(connection: Connection) -> None:
    # Writers: BEGIN IMMEDIATE takes the write lock at the start, so two writers queue on the
    # busy timeout instead of failing mid-transaction when both try to upgrade a read lock.
    # Readers: a deferred BEGIN, so reads never wait for the write lock (WAL snapshots).
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine for ``url``.

    SQLite connections get WAL journaling, foreign keys and a busy timeout; a ``postgresql://``
    URL without a driver uses psycopg 3.

    Raises
    ------
    ConfigurationError
        If the URL cannot be parsed or names an unsupported database.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(
            f"The database URL must be an SQLAlchemy URL such as 'sqlite:///path/saisei.db' or "
            f"'postgresql+psycopg://user@host/db'. Got {url!r} instead."
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend not in {"sqlite", "postgresql"}:
        raise ConfigurationError(
            f"The database URL must name SQLite or PostgreSQL. Got backend {backend!r} in "
            f"{parsed.render_as_string(hide_password=True)!r}."
        )
    engine = create_engine(parsed, echo=echo, future=True)
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def make_session_factory(bind: Engine | Connection, **options: Any) -> sessionmaker[Session]:
    """An audited session factory bound to an engine (or, in tests, to one connection).

    Every session it makes refuses to commit changes that did not go through
    :class:`saisei.storage.unit_of_work.UnitOfWork`. Objects stay usable after commit.
    """
    from saisei.storage.unit_of_work import install_audit_hooks

    options.setdefault("expire_on_commit", False)
    return install_audit_hooks(sessionmaker(bind=bind, **options))
