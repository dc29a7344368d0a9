"""`saisei acquire` and `saisei serve-equipment` from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from opcua_helpers import free_port, register_lots
from typer.testing import CliRunner

from saisei.cli import app
from saisei.storage.store import Store

runner = CliRunner()
MAPPING = {"nodes": [{"node": "ns=2;s=BR01.expansion.pH", "stage": "expansion", "variable": "pH"}]}


@pytest.fixture
def mapping_file(tmp_path: Path) -> Path:
    path = tmp_path / "map.yaml"
    path.write_text(yaml.safe_dump(MAPPING), encoding="utf-8")
    return path


def test_acquire_explains_what_is_wrong(home_dir: Path, mapping_file: Path, tmp_path: Path) -> None:
    base = ["--home", str(home_dir), "acquire", "--mapping", str(mapping_file), "--lot"]
    result = runner.invoke(app, [*base, "NOPE", "--endpoint", "opc.tcp://127.0.0.1:1"])
    assert result.exit_code == 1
    assert "No batch with lot number 'NOPE'" in result.stderr
    result = runner.invoke(
        app, [*base, "X", "--endpoint", "opc.tcp://127.0.0.1:1", "--webhook", "http://127.0.0.1:9"]
    )
    assert result.exit_code == 1
    assert "--webhook and --open-deviation act on monitoring alarms" in result.stderr
    secured = tmp_path / "secured.yaml"
    secured.write_text(
        yaml.safe_dump(
            {**MAPPING, "security": {"username": "u", "password_env": "SAISEI_TEST_NO_SUCH_VAR"}}
        ),
        encoding="utf-8",
    )
    result = runner.invoke(
        app,
        [
            "--home",
            str(home_dir),
            "acquire",
            "--mapping",
            str(secured),
            "--lot",
            "X",
            "--endpoint",
            "opc.tcp://127.0.0.1:1",
        ],
    )
    assert result.exit_code == 1
    assert "SAISEI_TEST_NO_SUCH_VAR" in result.stderr


def test_acquire_gives_up_on_an_unreachable_server(
    home: Store, home_dir: Path, mapping_file: Path
) -> None:
    register_lots(home, ["CLI-UNREACHABLE"])
    result = runner.invoke(
        app,
        [
            "--home",
            str(home_dir),
            "acquire",
            "--endpoint",
            f"opc.tcp://127.0.0.1:{free_port()}",
            "--mapping",
            str(mapping_file),
            "--lot",
            "CLI-UNREACHABLE",
            "--connect-timeout-s",
            "0.5",
        ],
    )
    assert result.exit_code == 1
    assert "Cannot reach the OPC UA server" in result.stderr


@pytest.mark.slow
def test_serve_equipment_and_acquire_from_the_command_line(
    home: Store, home_dir: Path, tmp_path: Path
) -> None:
    register_lots(home, ["CLI-LIVE"])
    port, mapping, log = free_port(), tmp_path / "plant.yaml", tmp_path / "plant.log"
    log_file = log.open("wb")
    plant = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("saisei")),
            "serve-equipment",
            "--seed",
            "3",
            "--stage",
            "expansion",
            "--speed",
            "36000",
            "--port",
            str(port),
            "--write-mapping",
            str(mapping),
            "--duration-s",
            "60",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log_file,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    try:
        deadline = time.monotonic() + 30
        while not mapping.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert mapping.exists(), (
            plant.stderr.read().decode() if plant.poll() is not None else "no mapping"
        )
        result = runner.invoke(
            app,
            [
                "--home",
                str(home_dir),
                "acquire",
                "--endpoint",
                f"opc.tcp://127.0.0.1:{port}",
                "--mapping",
                str(mapping),
                "--lot",
                "CLI-LIVE",
                "--flush-seconds",
                "0.5",
                "--duration-s",
                "3",
                "--compact",
                "--json",
            ],
        )
    finally:
        plant.terminate()
        plant.wait(timeout=20)
        log_file.close()
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["lot"] == "CLI-LIVE"
    assert report["values"] > 0 and report["per_variable"]["expansion/pH"] > 0
    assert report["segments"] >= 1
    # --compact: the run's segments merged into one for the stage when it ended.
    assert report["compacted"] == (report["segments"] if report["segments"] > 1 else 0)
    with home.reader() as session:
        current = home.timeseries.segments(session, subject_ref="CLI-LIVE")
        assert [(s.stage, s.row_count) for s in current] == [("expansion", report["values"])]
