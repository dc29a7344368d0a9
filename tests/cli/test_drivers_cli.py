"""`saisei drivers`, `design-space`, `doe` and `recommend` over a simulated plant."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from saisei.cli import app

runner = CliRunner()
COMMANDS = ["drivers", "design-space", "doe", "recommend"]


def _plant_module() -> ModuleType:
    # The shared plant helper lives beside the service tests (one build per session).
    path = Path(__file__).parents[1] / "services" / "drivers_plant.py"
    spec = importlib.util.spec_from_file_location("drivers_plant", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    home, exchange = _plant_module().plant(tmp_path_factory, "drivers-cli")
    return home, exchange


def _json(home: Path, *args: str) -> Any:
    result = runner.invoke(app, ["--home", str(home), *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("command", COMMANDS)
def test_commands_document_themselves(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "--json" in result.stdout
    doc = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text("utf-8")
    assert f"## saisei {command}" in doc


@pytest.mark.slow
def test_drivers_design_space_and_recommend_print_json(plant: tuple[Path, Path]) -> None:
    home, exchange = plant
    drivers = _json(home, "drivers", "post_thaw_viability", "--product", "MSC")
    assert drivers["attribute"] == "post_thaw_viability" and drivers["n_batches"] == 40
    assert "dmso_exposure_time" in drivers["ranking"][:3]
    space = _json(
        home,
        "design-space",
        "--attributes",
        "post_thaw_viability,viable_cell_dose",
        "--parameters",
        "agitation",
        "--parameters",
        "cooling_rate",
        "--covariates",
        "donor_age_years",
        "--reliability",
        "0.9",
        "--product",
        "MSC",
        "--name",
        "cli-ds",
    )
    assert (space["name"], space["version"]) == ("cli-ds", 1)
    assert set(space["box"]) == {"agitation", "cooling_rate"}
    din = str(pd.read_csv(exchange / "collections.csv")["din"].iloc[5])
    rec = _json(home, "recommend", "--collection", din)
    assert rec["din"] == din and rec["design_space"] == "cli-ds"
    assert set(rec["setpoints"]) == {"agitation", "cooling_rate"}
    assert 0 <= rec["ci_low"] <= rec["ci_high"] <= 1
    people = runner.invoke(app, ["--home", str(home), "recommend", "--collection", din])
    assert people.exit_code == 0 and "P(all in spec)" in people.stdout


def test_doe_prints_and_writes_the_run_sheet(tmp_path: Path) -> None:
    factors = tmp_path / "factors.yaml"
    factors.write_text("- {name: a, low: 0, high: 1}\n- {name: b, low: 10, high: 20}\n", "utf-8")
    out = tmp_path / "runs.csv"
    result = runner.invoke(
        app,
        [
            "doe",
            "--design",
            "full-factorial",
            "--factors",
            str(factors),
            "--out",
            str(out),
            "--seed",
            "1",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    # 2^2 full factorial: four runs at every combination of the levels (NIST 5.3.3.3).
    assert len(document["runs"]) == 4
    assert {(r["a"], r["b"]) for r in document["runs"]} == {(0, 10), (0, 20), (1, 10), (1, 20)}
    assert len(pd.read_csv(out)) == 4
    bad = runner.invoke(app, ["doe", "--design", "latin", "--factors", str(factors)])
    assert bad.exit_code == 1 and "The design must be one of" in bad.stderr


def test_errors_go_to_stderr(plant: tuple[Path, Path]) -> None:
    home, _ = plant
    result = runner.invoke(app, ["--home", str(home), "recommend", "--collection", "X0000"])
    assert result.exit_code == 1
    assert "No collection with DIN 'X0000'" in result.stderr
