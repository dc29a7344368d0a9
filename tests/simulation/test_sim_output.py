"""Output contract: exchange-format tables that pass the importer's validation, physical
ranges, and identical files for the same seed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from saisei.ingestion.reader import discover, read_file
from saisei.ingestion.schemas import SCHEMAS
from saisei.ingestion.validate import validate_table
from saisei.services.simulation import simulate_to_folder
from saisei.simulation import SimulationResult


def test_columns_required_values_choices_and_ranges_follow_the_schemas(
    any_result: SimulationResult,
) -> None:
    for name, df in any_result.tables.items():
        schema = SCHEMAS[name]
        assert list(df.columns) == [c.name for c in schema.columns], name
        assert len(df) > 0 or name == "deviations", name
        for column in schema.columns:
            values = df[column.name]
            if column.required:
                assert values.notna().all(), f"{name}.{column.name} has missing values"
            present = values.dropna()
            if column.choices:
                assert set(present.astype(str)) <= set(column.choices), f"{name}.{column.name}"
            if column.low is not None and len(present):
                assert present.astype(float).min() >= column.low, f"{name}.{column.name}"
            if column.high is not None and len(present):
                assert present.astype(float).max() <= column.high, f"{name}.{column.name}"
            if column.kind == "datetime" and len(present):
                assert str(pd.to_datetime(present).dt.tz) == "UTC", f"{name}.{column.name}"
        key = [k for k in schema.key if k in df]
        assert not df.duplicated(subset=key).any(), f"duplicate keys in {name}"


def test_no_negative_concentrations_and_viability_within_0_100(
    any_result: SimulationResult,
) -> None:
    ts = any_result.tables["timeseries"]
    for variable in ("glucose", "lactate", "ammonia", "viable_cell_density", "DO"):
        values = ts.loc[ts["variable"] == variable, "value"]
        if len(values):
            assert values.min() >= 0, variable
    viability = ts.loc[ts["variable"] == "viability", "value"]
    assert viability.between(0, 100).all()
    qc = any_result.tables["qc_results"]
    fractions = qc["attribute"].isin(
        ["post_thaw_viability", "viability", "cd73", "cd3", "car_positive", "full_capsids"]
    )
    assert len(qc[fractions]) > 0
    assert qc.loc[fractions, "value"].between(0, 100).all()
    assert (qc["value"].dropna() >= 0).all()


def test_process_definitions_have_the_exchange_shape(any_result: SimulationResult) -> None:
    for process in any_result.processes:
        assert {"name", "version", "product_type", "stages", "attributes"} <= set(process)
        for stage in process["stages"]:
            for p in stage["parameters"]:
                assert p["nor"][0] <= p["target"] <= p["nor"][1]
                assert p["par"][0] <= p["nor"][0] and p["nor"][1] <= p["par"][1]
                assert p["class"] in ("CPP", "KPP", "non-critical")


def test_a_written_folder_passes_the_importer_validation(tmp_path: Path) -> None:
    simulate_to_folder("cart", 3, 5, tmp_path, 2, "freezer_failure@3")
    tables, processes = discover(tmp_path)
    assert len(processes) == 2
    assert {p.stem for p in tables} >= {"batches", "timeseries", "qc_results"}
    for path in tables:
        for raw in read_file(path):
            checked = validate_table(raw)
            assert not checked.errors, [str(e) for e in checked.errors[:5]]
    truth = json.loads((tmp_path / "truth.json").read_text("utf-8"))
    assert truth["faults"][0]["kind"] == "freezer_failure"


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_same_seed_writes_identical_files(tmp_path: Path) -> None:
    args = ("aav", 3, 21)
    simulate_to_folder(*args, tmp_path / "a", 2, "ph_drift@1")
    simulate_to_folder(*args, tmp_path / "b", 2, "ph_drift@1")
    simulate_to_folder("aav", 3, 22, tmp_path / "c", 2, "ph_drift@1")
    a, b, c = (_files(tmp_path / x) for x in "abc")
    assert a == b
    assert a.keys() == c.keys() and a != c


def test_faults_leave_their_marks(msc_result: SimulationResult) -> None:
    batches = msc_result.tables["batches"].set_index("lot")
    lots = list(batches.index)
    assert batches.loc[lots[1], "status"] == "rejected"  # contamination
    qc = msc_result.tables["qc_results"]
    sterility = qc[(qc["lot"] == lots[1]) & (qc["attribute"] == "sterility")]
    assert sterility["value_text"].tolist() == ["positive"]
    params = msc_result.tables["parameters"]
    rate = params[(params["parameter"] == "cooling_rate_measured")].set_index("lot")["value"]
    assert rate[lots[2]] < 0.5 * np.median(rate)  # freezer failure
    deviations = msc_result.tables["deviations"]
    assert {"transport", "process", "equipment", "qc"} <= set(deviations["category"])
    assert set(batches["process_version"]) == {"1.0", "2.0"}
