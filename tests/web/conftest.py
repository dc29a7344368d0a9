"""Fixtures of the page tests: the API tests' plant (tests/api/saisei_plant.py), one per
session in an SQLite file, each test on a rolled-back transaction."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).parents[1] / "api"))

from saisei_plant import PASSWORD, Plant, make_client, plant_database, rolled_back
from web_helpers import csrf_of

from saisei.storage.store import Store


@pytest.fixture(scope="session")
def web_plant_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Path]]:
    """The plant, committed once."""
    engine, root = plant_database(tmp_path_factory.mktemp("web-plant"))
    yield engine, root
    engine.dispose()


@pytest.fixture
def plant() -> Plant:
    """Names of what the plant holds."""
    return Plant()


@pytest.fixture
def web_store(web_plant_engine: tuple[Engine, Path]) -> Iterator[Store]:
    """The plant, with this test's changes rolled back afterwards."""
    with rolled_back(*web_plant_engine) as store:
        yield store


@pytest.fixture
def client(web_store: Store, tmp_path: Path) -> TestClient:
    """A browser-like client (keeps cookies, does not follow redirects)."""
    client = make_client(web_store, tmp_path)
    client.follow_redirects = False
    return client


@pytest.fixture
def sign_in(client: TestClient) -> Callable[[str], TestClient]:
    """Sign a user in through the login form; the client then carries the session cookie."""

    def _sign_in(username: str) -> TestClient:
        form = client.get("/login")
        response = client.post(
            "/login",
            data={
                "username": username,
                "password": PASSWORD,
                "csrf": csrf_of(form.text),
                "next": "/",
            },
        )
        assert response.status_code == 303, response.text
        return client

    return _sign_in
