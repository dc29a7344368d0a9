"""The application factory: one store, the API under /api/v1, one error shape."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from saisei.app import create_app
from saisei.config import Settings
from saisei.storage.store import Store


def test_health_reports_version_and_schema(store: Store, tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(home=tmp_path), store=store))
    body = client.get("/api/v1/health").json()
    assert body["ok"] is True
    assert body["schema_revision"] == store.head_revision()
    assert body["database"] == store.dialect


def test_unknown_route_uses_the_error_shape(store: Store, tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(home=tmp_path), store=store))
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error": "Not Found", "errors": [], "status": 404}


def test_openapi_is_published(store: Store, tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(home=tmp_path), store=store))
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "saisei"
    assert "/api/v1/health" in spec["paths"]
