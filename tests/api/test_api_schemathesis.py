"""Schemathesis against the OpenAPI description: no request makes the server fail (5xx).

Every operation is called with generated parameters and bodies, signed in as a QA user, on
the plant of this session (changes rolled back per example's test).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from saisei_plant import PASSWORD, make_client, rolled_back
from sqlalchemy import Engine

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fuzz_app(
    plant_engine: tuple[Engine, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FastAPI, dict[str, str]]]:
    """The application over the plant, and the Authorization header of a QA session."""
    with rolled_back(*plant_engine) as store:
        client = make_client(store, tmp_path_factory.mktemp("fuzz"))
        token = client.post(
            "/api/v1/auth/login", json={"username": "qa.sato", "password": PASSWORD}
        ).json()["token"]
        # fuzzing for minutes must not end the session by inactivity
        client.app.state.sessions.recheck_s = 10_000.0  # type: ignore[attr-defined]
        yield client.app, {"Authorization": f"Bearer {token}"}  # type: ignore[misc]


def test_no_server_error(fuzz_app: tuple[FastAPI, dict[str, str]]) -> None:
    app, headers = fuzz_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/api/v1/auth/logout":
            continue  # ending the fuzzing session would turn every later call into a 401
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=6,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            try:
                response = case.call(headers=headers)
            except Exception as exc:  # the test client re-raises server errors
                failures.append(f"{case.method} {case.formatted_path}: {exc!r}"[:400])
                return
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.text[:300]}")

        call()
    assert operations >= 45
    assert failures == []
