"""Fixtures of the API tests: one plant built per session in an SQLite file, every test on a
rolled-back transaction over it (test_api_postgres.py runs a flow on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from saisei_plant import Plant, login, make_client, plant_database, rolled_back
from sqlalchemy import Engine

from saisei.storage.store import Store


@pytest.fixture(scope="session")
def plant_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Path]]:
    """Users, lots with series, a model with alarms, a quarantined shipment (committed)."""
    engine, root = plant_database(tmp_path_factory.mktemp("api-plant"))
    yield engine, root
    engine.dispose()


@pytest.fixture
def plant() -> Plant:
    """Names of what the plant holds."""
    return Plant()


@pytest.fixture
def plant_store(plant_engine: tuple[Engine, Path]) -> Iterator[Store]:
    """The plant, with this test's changes rolled back afterwards."""
    with rolled_back(*plant_engine) as store:
        yield store


@pytest.fixture
def client(plant_store: Store, tmp_path: Path) -> TestClient:
    """The application over the plant."""
    return make_client(plant_store, tmp_path)


@pytest.fixture
def auth(client: TestClient) -> Callable[[str], dict[str, str]]:
    """Sign a user in; returns its Authorization header."""
    return lambda username: login(client, username)
