"""The `saisei` command line, run through Typer's CliRunner on real homes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner, Result

from saisei import __version__
from saisei.cli import app
from saisei.domain.enums import BatchStatus, ProductType
from saisei.storage.models import Batch, BatchLink, ProcessDefinition, QCResult
from saisei.storage.store import Store

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An initialised home with two lots (a parent and its child) and one trace."""
    home = tmp_path / "home"
    result = runner.invoke(app, ["--home", str(home), "init"])
    assert result.exit_code == 0, result.output
    store = Store.open(f"sqlite:///{home / 'saisei.db'}", home / "timeseries")
    with store.unit_of_work(actor="op.mori", source="cli") as uow:
        process = ProcessDefinition(name="MSC-BM", version="2.1", product_type=ProductType.MSC)
        parent = Batch(
            lot_number="MSC-0001",
            product_type=ProductType.MSC,
            process=process,
            status=BatchStatus.RELEASED,
        )
        child = Batch(lot_number="MSC-0001-F", product_type=ProductType.MSC, process=process)
        uow.session.add_all([process, parent, child])
        uow.flush()
        uow.session.add(BatchLink(parent_id=parent.id, child_id=child.id))
        uow.session.add(QCResult(batch_id=parent.id, attribute="viability", value=92.5, unit="%"))
        store.timeseries.write_segment(
            uow.session,
            pd.DataFrame(
                {"variable": "temperature", "t": [0.0, 1.0], "value": [37.0, 37.1], "unit": "degC"}
            ),
            subject_ref="MSC-0001",
            stage="expansion",
        )
    store.close()
    return home


def _run(home: Path, *args: str) -> Result:
    return runner.invoke(app, ["--home", str(home), *args])


def _json(home: Path, *args: str) -> Any:
    result = _run(home, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"saisei {__version__}"


def test_init_is_idempotent_and_reports_json(tmp_path: Path) -> None:
    first = runner.invoke(app, ["init", "--home", str(tmp_path / "h"), "--json"])
    second = runner.invoke(app, ["init", "--home", str(tmp_path / "h"), "--json"])
    assert first.exit_code == second.exit_code == 0
    one, two = json.loads(first.stdout), json.loads(second.stdout)
    assert (one["created"], two["created"]) == (True, False)
    assert one["counts"]["audit_events"] == two["counts"]["audit_events"] == 1
    assert (tmp_path / "h" / "timeseries").is_dir()


def test_batches_list_and_show(home: Path) -> None:
    listed = _json(home, "batches", "list")
    assert {row["lot_number"] for row in listed} == {"MSC-0001", "MSC-0001-F"}
    released = _json(home, "batches", "list", "--status", "released")
    assert [row["lot_number"] for row in released] == ["MSC-0001"]
    shown = _json(home, "batches", "show", "MSC-0001")
    assert shown["process"] == "MSC-BM 2.1"
    assert shown["children"] == ["MSC-0001-F"]
    assert shown["qc_results"][0]["value"] == 92.5
    assert shown["timeseries_segments"] == 1
    text = _run(home, "batches", "show", "MSC-0001-F")
    assert text.exit_code == 0
    assert "parents: MSC-0001" in text.stdout


def test_unknown_lot_is_an_error_on_stderr(home: Path) -> None:
    result = _run(home, "batches", "show", "NOPE")
    assert result.exit_code == 1
    assert "No batch with lot number 'NOPE'" in result.stderr
    assert result.stdout == ""


def test_bad_filter_names_the_options(home: Path) -> None:
    result = _run(home, "batches", "list", "--product", "MSCs")
    assert result.exit_code == 1
    assert "The 'product' filter must be one of MSC, CAR-T" in result.stderr


def test_commands_refuse_an_uninitialised_home(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--home", str(tmp_path / "empty"), "batches", "list"])
    assert result.exit_code == 1
    assert "Run 'saisei init'" in result.stderr


def test_audit_verify_passes_on_an_intact_home(home: Path) -> None:
    result = _run(home, "audit", "verify", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["segments_checked"] == 1
    assert report["audit_events_checked"] > 5


def test_audit_verify_names_the_first_edited_row(home: Path) -> None:
    with sqlite3.connect(home / "saisei.db") as db:
        db.execute("DROP TRIGGER audit_events_no_update")
        db.execute("UPDATE audit_events SET actor = 'intruder' WHERE seq = 4")
    result = _run(home, "audit", "verify")
    assert result.exit_code == 1
    assert "audit row seq 4" in result.stderr
    assert "modified" in result.stderr


def test_audit_verify_names_a_changed_segment_file(home: Path) -> None:
    (segment,) = (home / "timeseries").rglob("*.parquet")
    segment.write_bytes(segment.read_bytes() + b"\0")
    result = _run(home, "audit", "verify")
    assert result.exit_code == 1
    assert segment.name in result.stderr
    assert "sha256 mismatch" in result.stderr


def test_audit_show_filters_by_entity(home: Path) -> None:
    events = _json(home, "audit", "show", "--entity", "qc_result")
    assert [e["tag"] for e in events] == ["cli:qc_result:create"]
    assert events[0]["actor"] == "op.mori"


def test_db_status_and_upgrade(home: Path) -> None:
    status = _json(home, "db", "status")
    assert status["current"] is True
    upgraded = _json(home, "db", "upgrade")
    assert upgraded["from_revision"] == upgraded["to_revision"] == status["head"]


@pytest.mark.slow
def test_demo_simulates_and_imports_a_plant(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--home", str(tmp_path / "demo"), "--small", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["import"]["ok"] is True
    counts = summary["home"]["counts"]
    # The small programme (docs/simulator.md): 8 MSC + 5 CAR-T + 4 AAV lots.
    assert counts["batches"] == 17
    assert counts["timeseries_segments"] > 0 and counts["shipments"] > 0
    verify = runner.invoke(app, ["--home", str(tmp_path / "demo"), "audit", "verify"])
    assert verify.exit_code == 0, verify.output
    again = runner.invoke(app, ["demo", "--home", str(tmp_path / "demo"), "--json"])
    assert json.loads(again.stdout)["import"] is None, "a second run only summarises"


def _commands(group: typer.Typer, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    command = typer.main.get_command(group)
    found: list[tuple[str, ...]] = []

    def walk(cmd: Any, path: tuple[str, ...]) -> None:
        found.append(path)
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, (*path, name))

    walk(command, prefix)
    return found


@pytest.mark.parametrize("path", _commands(app), ids=lambda p: " ".join(p) or "saisei")
def test_every_command_has_help_and_is_documented(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.stdout
    cli_doc = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text("utf-8")
    assert f"saisei {' '.join(path)}".strip() in cli_doc
