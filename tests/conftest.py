"""Shared fixtures: databases with migrations applied, per-test rolled-back transactions."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from saisei.storage import migrations
from saisei.storage.engine import make_engine
from saisei.storage.store import Store

#: Server the PostgreSQL tests use; each test session creates and drops its own database.
POSTGRES_URL = os.environ.get(
    "SAISEI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A file SQLite database (WAL needs a file) at the newest schema revision."""
    path = tmp_path_factory.mktemp("sqlite") / "saisei.db"
    engine = make_engine(f"sqlite:///{path}")
    migrations.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgresql_engine() -> Iterator[Engine]:
    """A fresh PostgreSQL database for this test session, at the newest revision."""
    server = make_url(POSTGRES_URL)
    name = f"saisei_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the suite must not silently skip the production database
        admin.dispose()
        pytest.fail(
            f"PostgreSQL at {server.render_as_string(hide_password=True)} is needed "
            f"for the storage tests and could not be used: {exc}. Start it with "
            "'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start' "
            "or set SAISEI_TEST_POSTGRES_URL."
        )
    engine = make_engine(server.set(database=name).render_as_string(hide_password=False))
    migrations.upgrade(engine)
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Name of the database backend a storage test runs on."""
    return str(request.param)


@pytest.fixture
def engine(backend: str, request: pytest.FixtureRequest) -> Engine:
    """The session engine of ``backend``."""
    return request.getfixturevalue(f"{backend}_engine")  # type: ignore[no-any-return]


@pytest.fixture
def store(engine: Engine, tmp_path: Path) -> Iterator[Store]:
    """A store whose every change is rolled back after the test.

    The store works on one connection inside an outer transaction; each unit of work commits
    to a savepoint, so the test sees its commits and the database is clean afterwards.
    """
    connection = engine.connect()
    outer = connection.begin()
    store = Store(connection, tmp_path / "timeseries", join_transaction_mode="create_savepoint")
    try:
        yield store
    finally:
        outer.rollback()
        connection.close()
