"""`saisei serve`: refuses an uninitialised home, otherwise starts uvicorn on host and port."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from saisei.cli import app

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
