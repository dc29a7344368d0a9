"""`saisei demo --serve`: the demo account is created once, its login printed on every run,
and it signs in; the server itself is not started (uvicorn.run is replaced)."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from saisei.app import create_app
from saisei.cli import app
from saisei.config import Settings
from saisei.domain.enums import ProductType
from saisei.storage.models import Batch, ProcessDefinition
from saisei.storage.store import Store

runner = CliRunner()
#: argon2 at its cheapest (RFC 9106 minimums: t >= 1, m >= 8 KiB per lane).
CHEAP = {
    "SAISEI_ARGON2_TIME_COST": "1",
    "SAISEI_ARGON2_MEMORY_KIB": "64",
    "SAISEI_ARGON2_PARALLELISM": "1",
}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An initialised home already holding a lot, so the demo only summarises it."""
    home = tmp_path / "demo"
    assert runner.invoke(app, ["--home", str(home), "init"]).exit_code == 0
    store = Store.open(f"sqlite:///{home / 'saisei.db'}", home / "timeseries")
    with store.unit_of_work(actor="setup", source="test", reason="one lot") as uow:
        process = ProcessDefinition(name="MSC-BM", version="1.0", product_type=ProductType.MSC)
        uow.session.add(process)
        uow.flush()
        uow.session.add(
            Batch(lot_number="MSC-0001", product_type=ProductType.MSC, process_id=process.id)
        )
    store.close()
    return home


def _serve(home: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> tuple[Any, list[Any]]:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda application, **kw: calls.append(kw))
    result = runner.invoke(
        app, ["demo", "--home", str(home), "--serve", "--port", "8765", *extra], env=CHEAP
    )
    assert result.exit_code == 0, result.output
    return result, calls


def test_demo_account_is_created_once_and_signs_in(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, calls = _serve(home, monkeypatch, "--json")
    document = json.loads(first.stdout)
    login = document["serve"]["login"]
    assert document["serve"]["url"] == "http://127.0.0.1:8765/"
    assert (login["username"], login["created"]) == ("demo.qa", True)
    assert calls == [{"host": "127.0.0.1", "port": 8765, "log_level": "info"}]
    password_file = home / "demo-login.txt"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    second, _ = _serve(home, monkeypatch)
    assert "Open http://127.0.0.1:8765/" in second.stdout
    assert f"Sign in as demo.qa with password {login['password']}" in second.stdout
    users = runner.invoke(app, ["--home", str(home), "users", "list", "--json"])
    listed = json.loads(users.stdout)
    assert [(u["username"], u["roles"]) for u in listed] == [("demo.qa", ["admin", "qa"])]
    client = TestClient(create_app(Settings(home=home, **{"argon2_memory_kib": 64})))
    with client:
        signed = client.post(
            "/api/v1/auth/login", json={"username": "demo.qa", "password": login["password"]}
        )
        assert signed.status_code == 200, signed.text
        wrong = client.post(
            "/api/v1/auth/login", json={"username": "demo.qa", "password": "not-it-0000"}
        )
        assert wrong.status_code == 401


def test_plain_demo_creates_no_account(home: Path) -> None:
    result = runner.invoke(app, ["demo", "--home", str(home), "--json"], env=CHEAP)
    assert result.exit_code == 0, result.output
    assert "serve" not in json.loads(result.stdout)
    assert not (home / "demo-login.txt").exists()


def test_a_home_with_its_own_accounts_gets_no_demo_account(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {**CHEAP, "SAISEI_NEW_PASSWORD": "admin-pass-01"}
    bootstrap = runner.invoke(
        app,
        ["--home", str(home), "users", "bootstrap", "admin.kato", "--full-name", "Yui Kato"],
        env=env,
    )
    assert bootstrap.exit_code == 0, bootstrap.output
    result, calls = _serve(home, monkeypatch)
    assert "this home has its own accounts" in result.stdout and len(calls) == 1
    assert not (home / "demo-login.txt").exists()
