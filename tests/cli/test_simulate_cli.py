"""`saisei simulate` through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from saisei.cli import app

runner = CliRunner()


def test_simulate_writes_a_folder_and_reports_json(tmp_path: Path) -> None:
    out = tmp_path / "plant"
    result = runner.invoke(
        app,
        [
            "simulate",
            "--product",
            "aav",
            "--batches",
            "3",
            "--seed",
            "4",
            "--out",
            str(out),
            "--process-change-at",
            "2",
            "--faults",
            "ph_drift@1",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["batches"] == 3 and summary["faults"] == 1
    assert "truth.json" in summary["files"]
    assert (out / "process" / "AAV9-TT-2.0.yaml").is_file()
    assert json.loads((out / "truth.json").read_text("utf-8"))["seed"] == 4


def test_simulate_prints_a_summary_for_people(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["simulate", "--product", "aav", "--batches", "2", "--out", str(tmp_path / "p")]
    )
    assert result.exit_code == 0, result.output
    assert "Simulated 2 aav batches" in result.stdout


def test_simulate_refuses_an_unknown_product(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["simulate", "--product", "ipsc", "--batches", "2", "--out", str(tmp_path / "x")]
    )
    assert result.exit_code == 1
    assert "The product must be one of msc, cart, aav" in result.stderr
    assert result.stdout == ""


def test_simulate_refuses_a_bad_fault(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "simulate",
            "--product",
            "msc",
            "--batches",
            "2",
            "--out",
            str(tmp_path / "x"),
            "--faults",
            "meltdown@1",
        ],
    )
    assert result.exit_code == 1
    assert "The fault kind must be one of" in result.stderr
