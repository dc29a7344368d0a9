"""Parquet segments: atomic writes, DuckDB reads with filters, integrity by SHA-256."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from saisei.domain.enums import SubjectType
from saisei.errors import NotFound, ValidationFailed
from saisei.storage.models import TimeSeriesSegment
from saisei.storage.store import Store
from saisei.storage.timeseries import SegmentBatch


def _trace(hours: int = 24, variables: tuple[str, ...] = ("temperature", "pH")) -> pd.DataFrame:
    t = np.arange(hours, dtype=float)
    return pd.concat(
        [
            pd.DataFrame({"variable": v, "t": t, "value": base + 0.01 * t, "unit": unit})
            for v, base, unit in zip(variables, (37.0, 7.2), ("degC", "1"), strict=False)
        ],
        ignore_index=True,
    )


def _write(
    store: Store,
    frame: pd.DataFrame,
    lot: str = "MSC-0001",
    stage: str = "expansion",
    **kwargs: object,
) -> TimeSeriesSegment:
    with store.unit_of_work(actor="importer", source="import") as uow:
        segment = store.timeseries.write_segment(
            uow.session, frame, subject_ref=lot, stage=stage, **kwargs
        )
    return segment


def test_written_segment_reads_back_with_manifest(store: Store) -> None:
    frame = _trace()
    segment = _write(store, frame)
    path = store.timeseries.root / segment.path
    assert segment.row_count == len(frame) == 48
    assert segment.variables == ["pH", "temperature"]
    assert (segment.t_start_h, segment.t_end_h) == (0.0, 23.0)
    # The manifest hash is the SHA-256 of the file bytes (hashlib, independently of saisei).
    assert segment.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert not list(path.parent.glob(".tmp-*")), "no temporary file may be left behind"
    with store.reader() as session:
        data = store.timeseries.read(session, lot="MSC-0001")
    assert list(data.columns) == [
        "lot",
        "stage",
        "variable",
        "t",
        "value",
        "unit",
        "timestamp",
        "quality",
    ]
    assert len(data) == 48
    temperature = data[data["variable"] == "temperature"].reset_index(drop=True)
    np.testing.assert_allclose(temperature["value"], 37.0 + 0.01 * np.arange(24))


def test_filters_by_variable_time_window_and_stage(store: Store) -> None:
    _write(store, _trace(), stage="expansion")
    _write(store, _trace(hours=5), stage="harvest")
    with store.reader() as session:
        window = store.timeseries.read(
            session, lot="MSC-0001", stage="expansion", variables=["pH"], t_from=2.0, t_to=4.0
        )
        table = store.timeseries.read(session, lot="MSC-0001", as_arrow=True)
    assert window["t"].tolist() == [2.0, 3.0, 4.0]
    assert set(window["variable"]) == {"pH"}
    assert set(window["stage"]) == {"expansion"}
    assert isinstance(table, pa.Table)
    assert table.num_rows == 48 + 10


def test_several_lots_at_once(store: Store) -> None:
    _write(store, _trace(hours=3), lot="A")
    _write(store, _trace(hours=4), lot="B")
    with store.reader() as session:
        data = store.timeseries.read(session, lot=["A", "B"])
    assert data.groupby("lot").size().to_dict() == {"A": 6, "B": 8}


def test_correction_supersedes_without_editing(store: Store) -> None:
    original = _write(store, _trace(hours=3))
    corrected = _trace(hours=3)
    corrected["value"] += 100.0
    _write(store, corrected, supersedes=original)
    with store.reader() as session:
        data = store.timeseries.read(session, lot="MSC-0001")
        everything = store.timeseries.segments(
            session, subject_ref="MSC-0001", include_superseded=True
        )
    assert (data["value"] > 100).all()
    assert len(everything) == 2
    assert (store.timeseries.root / original.path).is_file(), "the original stays as evidence"


def test_shipment_logger_segments_are_kept_apart_from_batches(store: Store) -> None:
    logger = pd.DataFrame(
        {
            "variable": "temperature",
            "t": [0.0, 0.25, 0.5],
            "value": [4.0, 5.5, 9.1],
            "unit": "degC",
            "timestamp": pd.date_range(
                "2026-03-01 08:00", periods=3, freq="15min", tz="Asia/Tokyo"
            ),
        }
    )
    _write(store, logger, lot="SHP-1", stage=None, subject_type=SubjectType.SHIPMENT)
    with store.reader() as session:
        data = store.timeseries.read(session, shipment="SHP-1")
        with pytest.raises(NotFound, match="No time series is stored for lot 'SHP-1'"):
            store.timeseries.read(session, lot="SHP-1")
    # 08:00 in Tokyo (UTC+9) is 23:00 UTC the day before (2026 is not a leap year).
    assert data["timestamp"].iloc[0] == pd.Timestamp("2026-02-28 23:00:00", tz="UTC")


def test_modified_segment_is_detected(store: Store) -> None:
    segment = _write(store, _trace())
    path = store.timeseries.root / segment.path
    table = pq.read_table(path)
    values = table.column("value").to_numpy().copy()
    values[3] += 0.5
    pq.write_table(
        table.set_column(table.schema.get_field_index("value"), "value", pa.array(values)), path
    )
    with store.reader() as session:
        checked, problems = store.timeseries.verify(session)
    assert checked == 1
    assert [p.segment_id for p in problems] == [segment.segment_id]
    assert "sha256 mismatch" in problems[0].problem


def test_missing_segment_is_detected(store: Store) -> None:
    segment = _write(store, _trace())
    (store.timeseries.root / segment.path).unlink()
    with store.reader() as session:
        _, problems = store.timeseries.verify(session)
    assert "missing" in str(problems[0])
    assert segment.path in str(problems[0])


def test_missing_columns_are_named(store: Store) -> None:
    with (
        store.unit_of_work(actor="importer", source="import") as uow,
        pytest.raises(ValidationFailed, match="Missing: t, value") as info,
    ):
        store.timeseries.write_segment(
            uow.session, pd.DataFrame({"variable": ["x"]}), subject_ref="L"
        )
    assert [e.field for e in info.value.errors] == ["t", "value"]


def test_non_numeric_time_names_the_row(store: Store) -> None:
    frame = pd.DataFrame(
        {"variable": ["x", "x", "x"], "t": ["0", "1", "two"], "value": [1.0, 2.0, 3.0]}
    )
    with (
        store.unit_of_work(actor="importer", source="import") as uow,
        pytest.raises(ValidationFailed, match="must be numeric") as info,
    ):
        store.timeseries.write_segment(uow.session, frame, subject_ref="L")
    (error,) = info.value.errors
    assert (error.row, error.field, error.value) == (3, "t", "two")


def test_empty_segment_is_refused(store: Store) -> None:
    with (
        store.unit_of_work(actor="importer", source="import") as uow,
        pytest.raises(ValidationFailed, match="at least one row"),
    ):
        store.timeseries.write_segment(
            uow.session, pd.DataFrame(columns=["variable", "t", "value"]), subject_ref="L"
        )


def test_reading_requires_exactly_one_subject(store: Store) -> None:
    with store.reader() as session, pytest.raises(ValidationFailed, match="exactly one"):
        store.timeseries.read(session)


def test_background_write_failure_is_raised_and_leaves_no_file(tmp_path: Path) -> None:
    root = tmp_path / "ts"
    root.mkdir()
    (root / "blocked").write_text("a file where a folder is needed", encoding="utf-8")
    batch = SegmentBatch(root)
    data = pa.py_buffer(b"segment bytes")
    batch.write(root / "batch" / "L1" / "a.parquet", data)
    batch.write(root / "blocked" / "L2" / "b.parquet", data)  # its folder cannot be made
    with pytest.raises(OSError):
        batch.sync()
    assert (root / "batch" / "L1" / "a.parquet").read_bytes() == b"segment bytes"
    batch.discard()
    left = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert left == ["blocked"], "the written file is removed and no temporary file is left"
