"""Wide bioreactor and freezer exports through a column mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from saisei.errors import ValidationFailed
from saisei.services.ingest import import_path
from saisei.storage.store import Store

from .conftest import BASE, write_folder

MAPPING = """lot: MSC-1
stage: expansion
time: {column: Process Time, unit: min}
variables:
  Temp PV: {variable: temperature, unit: degC}
  DO PV: {variable: dissolved_oxygen, unit: percent}
"""

FREEZER = """lot: MSC-1
stage: freeze
time: {column: Time, timestamp: true}
variables:
  Chamber: {variable: chamber_temperature, unit: degC}
  Sample: {variable: sample_temperature, unit: degC}
"""


@pytest.fixture
def lots(store: Store, tmp_path: Path) -> Store:
    folder = write_folder(
        tmp_path / "base",
        {
            k: BASE[k]
            for k in (
                "parties.csv",
                "donors.csv",
                "collections.csv",
                "batches.csv",
                "process/MSC-BM-2.1.yaml",
            )
        },
    )
    import_path(store, folder, actor="importer")
    return store


def test_wide_bioreactor_export_becomes_long_series(lots: Store, tmp_path: Path) -> None:
    files = write_folder(
        tmp_path / "wide",
        {
            "run.csv": "Process Time,Temp PV,DO PV\n0,37.0,40\n30,37.1,38\n60,36.9,35\n",
            "map.yaml": MAPPING,
        },
    )
    import_path(lots, files / "run.csv", actor="importer", mapping=files / "map.yaml")
    with lots.reader() as session:
        data = lots.timeseries.read(session, lot="MSC-1", stage="expansion")
    temperature = data[data["variable"] == "temperature"]
    assert temperature["t"].tolist() == pytest.approx([0.0, 0.5, 1.0])  # 0, 30, 60 min in h
    assert temperature["value"].tolist() == pytest.approx([37.0, 37.1, 36.9])
    assert set(data["variable"]) == {"temperature", "dissolved_oxygen"}


def test_freezer_curve_with_timestamps(lots: Store, tmp_path: Path) -> None:
    files = write_folder(
        tmp_path / "crf",
        {
            "crf.csv": "Time,Chamber,Sample\n2026-01-20T10:00:00Z,4,4\n"
            "2026-01-20T10:06:00Z,-2,-1\n2026-01-20T10:12:00Z,-8,-6\n",
            "map.yaml": FREEZER,
        },
    )
    import_path(lots, files / "crf.csv", actor="importer", mapping=files / "map.yaml")
    with lots.reader() as session:
        data = lots.timeseries.read(
            session, lot="MSC-1", stage="freeze", variables=["sample_temperature"]
        )
    assert data["t"].tolist() == pytest.approx([0.0, 0.1, 0.2])  # 6-min steps in hours
    # Cooling rate over the curve: (-6 - 4) degC / 12 min = -0.833 degC/min.
    rate = (data["value"].iloc[-1] - data["value"].iloc[0]) / (data["t"].iloc[-1] * 60)
    assert rate == pytest.approx(-10 / 12)


def test_errors_name_the_row_of_the_wide_file(lots: Store, tmp_path: Path) -> None:
    files = write_folder(
        tmp_path / "wide",
        {"run.csv": "Process Time,Temp PV,DO PV\n0,37.0,40\n30,hot,38\n", "map.yaml": MAPPING},
    )
    with pytest.raises(ValidationFailed) as info:
        import_path(lots, files / "run.csv", actor="importer", mapping=files / "map.yaml")
    assert any(
        "run.csv, row 2, field 'value': must be a number" in str(e) for e in info.value.errors
    )


def test_mapping_naming_missing_columns_is_refused(lots: Store, tmp_path: Path) -> None:
    files = write_folder(tmp_path / "wide", {"run.csv": "Time,T\n0,37\n", "map.yaml": MAPPING})
    with pytest.raises(ValidationFailed, match="lacks columns the mapping names") as info:
        import_path(lots, files / "run.csv", actor="importer", mapping=files / "map.yaml")
    assert "column 'Process Time' named in the mapping is not in the file" in str(
        info.value.errors[0]
    )
