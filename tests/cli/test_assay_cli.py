"""`saisei assay fit` and `saisei assay potency` on files and a real home."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from saisei.cli import app
from saisei.domain.enums import ProductType
from saisei.storage.models import Batch
from saisei.storage.store import Store

runner = CliRunner()
RYEGRASS = Path(__file__).parents[1] / "reference" / "dose_response" / "ryegrass.csv"
DOSES = 2.0 ** np.arange(-4, 6)


def four_pl(x: float, a: float, b: float, c: float, d: float) -> float:
    # USP <1032> form (docs/domain.md), written out independently of saisei.
    return d + (a - d) / (1.0 + (x / c) ** b)


def write_plate(folder: Path, *, ratio: float, test_slope: float = 1.3) -> tuple[Path, Path]:
    """Noise-free reference (rows A-C) and lot sample MSC-0001 (rows D-F), long readings."""
    rows = []
    for letters, sample, c, slope in (
        ("ABC", "reference", 2.0, 1.3),
        ("DEF", "MSC-0001", 2.0 / ratio, test_slope),
    ):
        for row in letters:
            for col, dose in enumerate(DOSES, start=1):
                rows.append((f"{row}{col}", sample, dose, four_pl(dose, 1.0, slope, c, 10.0)))
    frame = pd.DataFrame(rows, columns=["well", "sample", "dose", "response"])
    plate, plate_map = folder / "plate.csv", folder / "map.csv"
    frame[["well", "response"]].to_csv(plate, index=False)
    frame[["well", "sample", "dose"]].to_csv(plate_map, index=False)
    return plate, plate_map


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    assert runner.invoke(app, ["--home", str(home), "init"]).exit_code == 0
    store = Store.open(f"sqlite:///{home / 'saisei.db'}", home / "timeseries")
    with store.unit_of_work(actor="qc.ito", source="test") as uow:
        uow.session.add(Batch(lot_number="MSC-0001", product_type=ProductType.MSC))
    store.close()
    return home


def _potency(home: Path, plate: Path, plate_map: Path, *extra: str) -> Result:
    return runner.invoke(
        app,
        [
            "--home",
            str(home),
            "assay",
            "potency",
            "--plate",
            str(plate),
            "--map",
            str(plate_map),
            "--lot",
            "MSC-0001",
            "--actor",
            "qc.ito",
            *extra,
        ],
    )


def test_fit_reproduces_drc_ryegrass() -> None:
    result = runner.invoke(
        app,
        [
            "assay",
            "fit",
            str(RYEGRASS),
            "--dose-column",
            "conc",
            "--response-column",
            "rootl",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    # R drc: drm(rootl ~ conc, data = ryegrass, fct = LL.4()) (drc manual, 'ryegrass');
    # ED(ryegrass.m1, 50, interval = "delta"): 3.05795 (2.67053, 3.44538).
    assert report["params"]["C"] == pytest.approx(3.05795, abs=2e-5)
    assert report["params"]["B"] == pytest.approx(2.98222, abs=2e-5)
    assert report["ec50_ci_low"] == pytest.approx(2.67053, abs=2e-5)
    assert report["ec50_ci_high"] == pytest.approx(3.44538, abs=2e-5)
    text = runner.invoke(
        app, ["assay", "fit", str(RYEGRASS), "--dose-column", "conc", "--response-column", "rootl"]
    )
    assert text.exit_code == 0
    # Printed to 6 significant digits: drc's 3.05795 is 3.057955... unrounded.
    assert re.search(r"EC50 3\.0579[56] \(95% CI 2\.67053 to 3\.44538, delta\)", text.stdout)


def test_fit_that_cannot_converge_exits_1(tmp_path: Path) -> None:
    flat = tmp_path / "flat.csv"
    pd.DataFrame({"dose": np.repeat(DOSES, 2), "response": 5.0}).to_csv(flat, index=False)
    result = runner.invoke(app, ["assay", "fit", str(flat), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["converged"] is False
    assert "Error: the fit did not converge" in result.stderr


def test_fit_error_names_the_column(tmp_path: Path) -> None:
    result = runner.invoke(app, ["assay", "fit", str(RYEGRASS)])
    assert result.exit_code == 1
    assert "must have a 'dose' column" in result.stderr


def test_potency_is_stored_and_visible_on_the_lot(home: Path, tmp_path: Path) -> None:
    plate, plate_map = write_plate(tmp_path, ratio=1.6)
    result = _potency(home, plate, plate_map, "--reason", "release test", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    # Closed form: test C = reference C / 1.6 -> RP = 1.6 -> 160 % of the reference.
    assert report["value_percent"] == pytest.approx(160.0, abs=1e-4)
    assert report["stored"] is True
    lot = json.loads(
        runner.invoke(app, ["--home", str(home), "batches", "show", "MSC-0001", "--json"]).stdout
    )
    (qc,) = lot["qc_results"]
    assert (qc["attribute"], qc["unit"]) == ("relative_potency", "%")
    assert qc["value"] == pytest.approx(160.0, abs=1e-4)
    events = json.loads(
        runner.invoke(
            app, ["--home", str(home), "audit", "show", "--entity", "assay", "--json"]
        ).stdout
    )
    (event,) = events
    assert event["tag"] == "cli:assay:relative_potency" and event["reason"] == "release test"
    assert json.loads(event["new_values"])["parallel"] is True
    verify = runner.invoke(app, ["--home", str(home), "audit", "verify"])
    assert verify.exit_code == 0


def test_non_reportable_potency_stores_nothing_and_exits_1(home: Path, tmp_path: Path) -> None:
    plate, plate_map = write_plate(tmp_path, ratio=1.0, test_slope=2.6)
    result = _potency(home, plate, plate_map)
    assert result.exit_code == 1
    assert "NOT reportable" in result.stdout
    assert "is not reportable and was not stored" in result.stderr
    assert "parallelism: slope_ratio" in result.stderr
    lot = json.loads(
        runner.invoke(app, ["--home", str(home), "batches", "show", "MSC-0001", "--json"]).stdout
    )
    assert lot["qc_results"] == []
    # Wider equivalence limits make the same plate parallel (and the result reportable).
    wide = _potency(home, plate, plate_map, "--slope-ratio-limits", "0.3", "3.0", "--dry-run")
    assert wide.exit_code == 0, wide.output
    assert "Dry run: nothing stored." in wide.stdout
