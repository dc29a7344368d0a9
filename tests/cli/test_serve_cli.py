"""`saisei serve`: refuses an uninitialised home, otherwise starts uvicorn on host and port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from saisei.app import create_app_from_environment
from saisei.cli import app
from saisei.cli.serve import settings_environment
from saisei.config import Settings

runner = CliRunner()


def test_serve_runs_uvicorn_on_the_given_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(app, ["--home", str(tmp_path), "init"]).exit_code == 0
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda application, **kw: calls.append(kw))
    result = runner.invoke(app, ["--home", str(tmp_path), "serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert calls == [{"host": "127.0.0.1", "port": 8123, "log_level": "info"}]
    assert "at http://127.0.0.1:8123/" in result.stderr


def test_serve_refuses_an_uninitialised_home(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--home", str(tmp_path / "empty"), "serve"])
    assert result.exit_code == 1
    assert "must be at schema revision" in result.stderr


@pytest.fixture
def restored_environment() -> Iterator[None]:
    """os.environ as it was before the test (the command fills in SAISEI_* for the workers)."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.mark.usefixtures("restored_environment")
def test_serve_with_workers_hands_uvicorn_the_factory_and_the_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(app, ["--home", str(tmp_path), "init"]).exit_code == 0
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr("uvicorn.run", lambda application, **kw: calls.append((application, kw)))
    os.environ["SAISEI_HOME"] = "elsewhere"  # the command line wins over the environment
    result = runner.invoke(app, ["--home", str(tmp_path), "serve", "--workers", "3"])
    assert result.exit_code == 0, result.output
    assert calls == [
        (
            "saisei.app:create_app_from_environment",
            {
                "factory": True,
                "workers": 3,
                "host": "127.0.0.1",
                "port": 8000,
                "log_level": "info",
            },
        )
    ]
    assert os.environ["SAISEI_HOME"] == str(tmp_path)
    assert "with 3 worker processes" in result.stderr


def test_serve_refuses_zero_workers(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--home", str(tmp_path), "serve", "--workers", "0"])
    assert result.exit_code == 2
    assert "--workers" in result.stderr


def test_the_factory_builds_the_app_of_the_home_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(app, ["--home", str(tmp_path), "init"]).exit_code == 0
    monkeypatch.setenv("SAISEI_HOME", str(tmp_path))
    monkeypatch.setenv("SAISEI_SESSION_TIMEOUT_MIN", "7")
    application = create_app_from_environment()
    with TestClient(application) as client:
        assert client.get("/login").status_code == 200
    assert application.state.settings.home == tmp_path
    assert application.state.policy.session_timeout_min == 7


def test_the_settings_round_trip_through_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(home=tmp_path, sql_echo=True, environment="test", secret_key="k" * 40)
    for name, value in settings_environment(settings).items():
        monkeypatch.setenv(name, value)
    assert Settings() == settings


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_two_worker_processes_answer_a_request(tmp_path: Path) -> None:
    assert runner.invoke(app, ["--home", str(tmp_path), "init"]).exit_code == 0
    port = _free_port()
    cli = [sys.executable, "-c", "from saisei.cli import app; app()"]
    command = [*cli, "--home", str(tmp_path), "serve"]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and status is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as page:
                    status = page.status
            except OSError:
                time.sleep(0.2)
        assert status == 200
    finally:
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=20)
    assert "with 2 worker processes" in stderr
    assert stderr.count("Started server process") == 2, stderr
