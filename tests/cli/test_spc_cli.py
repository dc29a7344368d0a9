"""`saisei spc chart` and `saisei spc capability` on a real home."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from saisei.cli import app
from saisei.domain.enums import ProductType
from saisei.storage.models import (
    Batch,
    ParameterValue,
    ProcessDefinition,
    QCResult,
    QualityAttribute,
    Specification,
)
from saisei.storage.store import Store

runner = CliRunner()

# NIST/SEMATECH e-Handbook 6.3.2.2 (individuals control chart example): flow rate of 10 batches.
NIST_FLOW = [49.6, 47.6, 49.9, 51.3, 47.8, 51.2, 52.6, 52.4, 53.6, 52.1]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home with ten MSC lots: QC flow rate (release spec 45-56) and a culture parameter."""
    home = tmp_path / "home"
    assert runner.invoke(app, ["--home", str(home), "init"]).exit_code == 0
    store = Store.open(f"sqlite:///{home / 'saisei.db'}", home / "timeseries")
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with store.unit_of_work(actor="qc.ito", source="test") as uow:
        process = ProcessDefinition(name="MSC-BM", version="1", product_type=ProductType.MSC)
        uow.session.add(process)
        uow.flush()
        attribute = QualityAttribute(process_id=process.id, name="flow_rate", unit="L/min")
        uow.session.add(attribute)
        uow.flush()
        uow.session.add(Specification(attribute_id=attribute.id, lower=45.0, upper=56.0))
        for i, value in enumerate(NIST_FLOW):
            batch = Batch(
                lot_number=f"MSC-{i + 1:04d}",
                product_type=ProductType.MSC,
                process_id=process.id,
                started_at=start + timedelta(days=i),
            )
            uow.session.add(batch)
            uow.flush()
            uow.session.add_all(
                [
                    QCResult(batch_id=batch.id, attribute="flow_rate", value=value, unit="L/min"),
                    ParameterValue(
                        batch_id=batch.id,
                        stage="expansion",
                        parameter="seeding_density",
                        value=5000.0 + (10_000.0 if i == 9 else 10.0 * (i % 3)),
                        unit="cells/cm2",
                    ),
                ]
            )
    store.close()
    return home


def _run(home: Path, *args: str) -> Result:
    return runner.invoke(app, ["--home", str(home), *args])


def _json(home: Path, *args: str) -> Any:
    result = _run(home, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_chart_json_reproduces_the_nist_limits(home: Path) -> None:
    report = _json(home, "spc", "chart", "flow_rate")
    individuals = report["limits"][0]
    # NIST 6.3.2.2: mean 50.81, UCL 55.80, LCL 45.82.
    assert individuals["center"] == pytest.approx(50.81, abs=5e-3)
    assert individuals["ucl"] == pytest.approx(55.80, abs=5e-3)
    assert individuals["lcl"] == pytest.approx(45.82, abs=5e-3)
    assert report["in_control"] is True and report["violations"] == []
    assert report["kind"] == "attribute" and report["rules"] == "nelson"


def test_chart_text_names_the_lot_and_rule_of_each_violation(home: Path) -> None:
    result = _run(home, "spc", "chart", "seeding_density", "--stage", "expansion")
    assert result.exit_code == 0, result.output
    assert "imr chart of parameter 'seeding_density' (cells/cm2) at stage expansion" in (
        result.stdout
    )
    lines = [line for line in result.stdout.splitlines() if "MSC-0010" in line]
    assert any("beyond_limits" in line for line in lines)
    assert any("1 beyond_3_sigma" in line for line in lines)
    document = _json(home, "spc", "chart", "seeding_density", "--rules", "we")
    assert {"lots": ["MSC-0010"], "rule": 1} in [
        {"lots": v["lots"], "rule": v["rule"]} for v in document["violations"]
    ]


def test_capability_defaults_to_the_release_specification(home: Path) -> None:
    report = _json(home, "spc", "capability", "flow_rate")
    assert (report["lsl"], report["usl"], report["limits_source"]) == (45.0, 56.0, "specification")
    # Closed form (Montgomery ch. 8): Ppk = min(USL - mean, mean - LSL) / (3 s), s the sample
    # standard deviation of the ten NIST values, computed here by hand.
    mean = sum(NIST_FLOW) / 10
    s = (sum((x - mean) ** 2 for x in NIST_FLOW) / 9) ** 0.5
    assert report["indices"]["ppk"]["estimate"] == pytest.approx((56.0 - mean) / (3 * s))
    text = _run(home, "spc", "capability", "flow_rate", "--lsl", "40", "--usl", "60")
    assert text.exit_code == 0
    assert "LSL 40, USL 60 (from options)" in text.stdout


def test_errors_go_to_stderr_with_exit_code_1(home: Path) -> None:
    result = _run(home, "spc", "chart", "nothing")
    assert result.exit_code == 1 and result.stdout == ""
    assert "No valid numeric QC result or parameter value named 'nothing'" in result.stderr
    result = _run(home, "spc", "chart", "flow_rate", "--chart", "np")
    assert result.exit_code == 1
    assert "The 'chart' option must be one of imr, xbar-r" in result.stderr
    result = _run(home, "spc", "capability", "seeding_density")
    assert result.exit_code == 1
    assert "No release specification is stored for 'seeding_density'" in result.stderr
