"""Empty tables: a header-only file of a table that may be empty imports as nothing; a file
with no header at all is refused, naming the file; the writer always writes the header."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from saisei.errors import ValidationFailed
from saisei.ingestion.reader import read_file
from saisei.ingestion.schemas import SCHEMAS
from saisei.ingestion.validate import validate_table
from saisei.ingestion.writer import write_exchange_folder
from saisei.services.ingest import import_path
from saisei.storage.store import Store

from .conftest import BASE, write_folder

#: The deviations header as docs/exchange-format.md lists the table's columns.
DEVIATIONS_HEADER = "number,lot,category,severity,description,root_cause,capa,status,opened_at\n"


def test_a_header_only_deviations_file_imports_as_nothing(store: Store, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "x", {**BASE, "deviations.csv": DEVIATIONS_HEADER})
    report = import_path(store, folder, actor="importer")
    assert report.ok, report.errors
    assert "deviations" not in {t.table for t in report.tables}
    assert {"batches", "qc_results"} <= {t.table for t in report.tables}


@pytest.mark.parametrize("content", ["", "\n", "\ufeff"])
def test_a_file_with_no_header_is_refused_naming_the_file(tmp_path: Path, content: str) -> None:
    write_folder(tmp_path, {"deviations.csv": content})
    with pytest.raises(ValidationFailed, match="deviations.csv has no header row") as caught:
        read_file(tmp_path / "deviations.csv")
    assert [str(e) for e in caught.value.errors] == [
        "deviations.csv: the file is empty: it needs a header row naming its columns, even "
        "when it has no data rows"
    ]


def test_the_folder_import_reports_a_file_with_no_header(store: Store, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "x", {**BASE, "deviations.csv": ""})
    with pytest.raises(ValidationFailed, match="deviations.csv: the file is empty"):
        import_path(store, folder, actor="importer")


def test_an_empty_table_with_a_wrong_header_names_the_field(tmp_path: Path) -> None:
    write_folder(tmp_path, {"deviations.csv": "number,lot,colour\n"})
    with pytest.raises(ValidationFailed) as caught:
        read_file(tmp_path / "deviations.csv")
    shown = [str(e) for e in caught.value.errors]
    assert shown[0].startswith("deviations.csv, field 'colour': unknown column 'colour'")
    assert "deviations.csv, field 'category': required column 'category' is missing" in shown


def test_tables_that_must_have_rows_still_refuse_a_header_only_file(tmp_path: Path) -> None:
    # a logger file with no readings means the logger did not record (docs/exchange-format.md)
    write_folder(tmp_path, {"shipment_logs.csv": "shipment,timestamp,temperature\n"})
    (raw,) = read_file(tmp_path / "shipment_logs.csv")
    (error,) = validate_table(raw).errors
    assert str(error).startswith("shipment_logs.csv: the file has no data rows")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_the_writer_writes_the_header_of_a_table_with_no_columns(tmp_path: Path, fmt: str) -> None:
    (path,) = write_exchange_folder(tmp_path, {"deviations": pd.DataFrame()}, fmt=fmt)  # type: ignore[arg-type]
    if fmt == "csv":
        assert path.read_text(encoding="utf-8") == DEVIATIONS_HEADER
    else:
        assert list(pd.read_parquet(path).columns) == [
            c.name for c in SCHEMAS["deviations"].columns
        ]
    assert read_file(path) == []


def test_a_simulated_plant_without_deviations_imports(store: Store, tmp_path: Path) -> None:
    from saisei.services.simulation import write_result
    from saisei.simulation import simulate

    # one AAV plant, no faults: nothing goes wrong, so no deviation is recorded
    result = simulate("aav", 2, 0, design_space_points=0)
    assert len(result.tables["deviations"]) == 0
    write_result(result, tmp_path / "plant")
    assert (tmp_path / "plant" / "deviations.csv").read_text(encoding="utf-8") == DEVIATIONS_HEADER
    report = import_path(store, tmp_path / "plant", actor="importer")
    assert report.ok, report.errors
    assert {t.table: t.inserted for t in report.tables}["batches"] == 2
