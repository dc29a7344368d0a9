"""Importing time series: row progress, all-or-nothing segment writes, unchanged content
recognised by its hash, and durability before the manifest commits."""

from __future__ import annotations

import gc
import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from saisei.errors import ValidationFailed
from saisei.services.batches import compact_series
from saisei.services.ingest import import_path
from saisei.storage import timeseries
from saisei.storage.audit import audit_events
from saisei.storage.store import Store

LOTS = "lot,product_type\nL1,MSC\nL2,MSC\n"
#: 2 lots x 2 stages x 2 variables x 3 times = 24 rows in 4 segments (one per lot and stage).
ROWS = [
    (lot, stage, variable, t, 37.0 + t, "degC")
    for lot in ("L1", "L2")
    for stage in ("expansion", "harvest")
    for variable in ("temperature", "ph")
    for t in (0.0, 0.5, 1.0)
]


def _series_csv(rows: Sequence[tuple[object, ...]]) -> str:
    lines = ["lot,stage,variable,t,value,unit"] + [",".join(map(str, row)) for row in rows]
    return "\n".join(lines) + "\n"


@pytest.fixture
def lots(store: Store, tmp_path: Path) -> Store:
    """A store holding lots L1 and L2."""
    path = tmp_path / "lots" / "batches.csv"
    path.parent.mkdir()
    path.write_text(LOTS, encoding="utf-8")
    assert import_path(store, path, actor="importer").ok
    return store


def _write_series(tmp_path: Path, rows: Sequence[tuple[object, ...]], name: str = "in") -> Path:
    path = tmp_path / name / "timeseries.csv"
    path.parent.mkdir(exist_ok=True)
    path.write_text(_series_csv(rows), encoding="utf-8")
    return path


def _segments(store: Store) -> list[tuple[str, str, str, int]]:
    """(segment id, path, sha256, rows) of the current segments of L1 and L2."""
    with store.reader() as session:
        found = store.timeseries.segments(session, subject_ref=["L1", "L2"])
        return [(s.segment_id, s.path, s.sha256, s.row_count) for s in found]


def _files(store: Store) -> list[Path]:
    return sorted(p for p in store.timeseries.root.rglob("*") if p.is_file())


def test_progress_reports_rows_segment_by_segment(lots: Store, tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    import_path(
        lots,
        _write_series(tmp_path, ROWS),
        actor="importer",
        progress=lambda table, done, total: calls.append((table, done, total)),
    )
    # One call per segment (4 = 2 lots x 2 stages), 6 rows each, out of 24.
    assert calls == [("timeseries", 6 * k, 24) for k in (1, 2, 3, 4)]


def test_progress_of_a_relational_table_is_one_call(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "batches.csv"
    path.write_text(LOTS, encoding="utf-8")
    calls: list[tuple[str, int, int]] = []
    import_path(
        store,
        path,
        actor="importer",
        progress=lambda *call: calls.append(call),  # type: ignore[arg-type]
    )
    assert calls == [("batches", 2, 2)]


def test_segment_write_failure_mid_import_leaves_nothing(
    lots: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write = timeseries._write_into_place
    calls: list[Path] = []
    lock = threading.Lock()

    def failing(target: Path, data: object, **kwargs: object) -> None:
        with lock:  # segments are written from several threads
            calls.append(target)
            third = len(calls) == 3
        if third:
            raise OSError("No space left on device")
        write(target, data, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(timeseries, "_write_into_place", failing)
    with pytest.raises(OSError, match="No space left"):
        import_path(lots, _write_series(tmp_path, ROWS), actor="importer")
    assert len(calls) >= 3, "other segments were written before the failure"
    assert _files(lots) == [], "no segment file and no temporary file is left"
    assert _segments(lots) == []
    with lots.reader() as session:
        assert audit_events(session, entity_type="time_series_segment") == []


def test_files_are_flushed_before_the_manifest_commits(
    lots: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fsync_fails(path: Path) -> None:
        raise OSError("I/O error")

    monkeypatch.setattr(timeseries, "_fsync", fsync_fails)
    with pytest.raises(OSError, match="I/O error"):
        import_path(lots, _write_series(tmp_path, ROWS), actor="importer")
    assert _segments(lots) == [], "no manifest row commits when a file could not be flushed"
    assert _files(lots) == []


def test_every_file_and_folder_is_flushed(
    lots: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushed: list[Path] = []
    fsync = timeseries._fsync

    def record(path: Path) -> None:
        flushed.append(path)
        fsync(path)

    monkeypatch.setattr(timeseries, "_fsync", record)
    import_path(lots, _write_series(tmp_path, ROWS), actor="importer")
    root = lots.timeseries.root
    files = _files(lots)
    assert len(files) == 4
    # Each file, its stage and lot folders, the subject-type folder and the root.
    folders = {f.parent for f in files} | {f.parent.parent for f in files} | {root / "batch"}
    assert set(flushed) == set(files) | folders | {root}
    assert len(flushed) == len(set(flushed)), "each path is flushed once"


def test_unchanged_series_is_recognised_by_its_hash(
    lots: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write_series(tmp_path, ROWS)
    import_path(lots, path, actor="importer")
    stored = _segments(lots)
    for _, relative, sha256, _ in stored:  # hashlib's SHA-256 of the file's bytes
        data = (lots.timeseries.root / relative).read_bytes()
        assert sha256 == hashlib.sha256(data).hexdigest()

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("a stored segment was read back")

    monkeypatch.setattr(pd, "read_parquet", no_reading)
    report = import_path(lots, path, actor="importer")
    assert [(t.inserted, t.unchanged) for t in report.tables] == [(0, 24)]
    assert _segments(lots) == stored


def test_same_rows_in_another_order_are_unchanged(lots: Store, tmp_path: Path) -> None:
    import_path(lots, _write_series(tmp_path, ROWS), actor="importer")
    # Variables of each segment swapped: other bytes, same content.
    swapped = sorted(ROWS, key=lambda r: (r[0], r[1], r[2] != "ph", r[3]))
    assert swapped != ROWS
    report = import_path(lots, _write_series(tmp_path, swapped, "again"), actor="importer")
    assert [(t.inserted, t.unchanged, t.corrected) for t in report.tables] == [(0, 24, 0)]
    assert len(_segments(lots)) == 4


def test_rows_of_a_segment_need_not_be_contiguous(lots: Store, tmp_path: Path) -> None:
    # Lots interleaved row by row: each segment still gets exactly its own rows.
    interleaved = [row for pair in zip(ROWS[:12], ROWS[12:], strict=True) for row in pair]
    import_path(lots, _write_series(tmp_path, interleaved), actor="importer")
    with lots.reader() as session:
        data = lots.timeseries.read(session, lot=["L1", "L2"])
    expected = pd.DataFrame(ROWS, columns=["lot", "stage", "variable", "t", "value", "unit"])
    expected = expected.sort_values(["lot", "stage", "variable", "t"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        data[expected.columns].reset_index(drop=True), expected, check_dtype=False
    )
    assert [rows for *_, rows in _segments(lots)] == [6, 6, 6, 6]


def test_unknown_lot_is_named_and_nothing_is_written(lots: Store, tmp_path: Path) -> None:
    rows = [*ROWS, ("L9", "expansion", "temperature", 0.0, 37.0, "degC")]
    with pytest.raises(ValidationFailed, match="Nothing was stored") as info:
        import_path(lots, _write_series(tmp_path, rows), actor="importer")
    assert any(
        "timeseries.csv, row 25, field 'lot': names unknown batch 'L9'" in str(e)
        for e in info.value.errors
    )
    assert _files(lots) == []


def test_rejected_rows_are_quarantined_as_written(lots: Store, tmp_path: Path) -> None:
    # The numbers are typed while reading; the rejected rows keep the file's own text.
    rows = [
        ("L1", "expansion", "ph", "0", "7.20", "1"),
        ("L9", "expansion", "ph", "1e0", "NA", "1"),
    ]
    report = import_path(
        lots, _write_series(tmp_path, rows), actor="importer", quarantine=tmp_path / "rejected"
    )
    assert not report.ok
    rejected = pd.read_csv(
        tmp_path / "rejected" / "timeseries.rejected.csv", dtype=str, keep_default_na=False
    )
    assert rejected[["_row", "lot", "t", "value"]].values.tolist() == [["2", "L9", "1e0", "NA"]]
    assert "names unknown batch 'L9'" in rejected["_reason"].iloc[0]


@pytest.mark.parametrize("enabled_before", [True, False])
def test_cycle_collector_is_paused_during_an_import_and_restored(
    lots: Store, tmp_path: Path, enabled_before: bool
) -> None:
    during: list[bool] = []
    (gc.enable if enabled_before else gc.disable)()
    try:
        import_path(
            lots,
            _write_series(tmp_path, ROWS),
            actor="importer",
            progress=lambda *_: during.append(gc.isenabled()),
        )
        assert during and not any(during)
        assert gc.isenabled() is enabled_before
    finally:
        gc.enable()


def test_segment_files_have_dictionaries_for_text_and_statistics_for_t_only(
    lots: Store, tmp_path: Path
) -> None:
    import_path(lots, _write_series(tmp_path, ROWS), actor="importer")
    for _, relative, _, _ in _segments(lots):
        metadata = pq.ParquetFile(lots.timeseries.root / relative).metadata
        chunks = metadata.row_group(0)
        columns = {chunks.column(i).path_in_schema: chunks.column(i) for i in range(8)}
        assert list(columns) == timeseries.SEGMENT_SCHEMA.names
        # ADR 0005: text columns dictionary-encoded, numbers plain; min/max of t only.
        assert {name for name, c in columns.items() if c.has_dictionary_page} == {
            "subject",
            "stage",
            "variable",
            "unit",
            "quality",
        }
        assert {name for name, c in columns.items() if c.is_stats_set} == {"t"}
        assert (columns["t"].statistics.min, columns["t"].statistics.max) == (0.0, 1.0)


def test_compacted_series_read_the_same_and_reimports_are_unchanged(
    lots: Store, tmp_path: Path
) -> None:
    early = [r for r in ROWS if r[3] < 1.0]
    late = [r for r in ROWS if r[3] == 1.0]
    first = _write_series(tmp_path, early, name="first")
    second = _write_series(tmp_path, late, name="second")
    import_path(lots, first, actor="importer")
    assert [t.inserted for t in import_path(lots, second, actor="importer").tables] == [8]
    with lots.reader() as session:
        before = lots.timeseries.read(session, lot=["L1", "L2"])
    assert len(_segments(lots)) == 8, "each lot and stage: the first file, then the appended"

    done = compact_series(lots, "L1", actor="ps.kimura", source="cli")
    assert [(c.stage, c.replaced, c.rows) for c in done] == [("expansion", 2, 6), ("harvest", 2, 6)]
    assert compact_series(lots, "L1", actor="ps.kimura") == [], "nothing left to merge"
    with lots.reader() as session:
        after = lots.timeseries.read(session, lot=["L1", "L2"])
    pd.testing.assert_frame_equal(after, before)
    assert len(_segments(lots)) == 6

    # Each file again: its rows are inside a compacted segment, so nothing changes.
    for path in (first, second):
        report = import_path(lots, path, actor="importer")
        assert [(t.inserted, t.corrected, t.unchanged) for t in report.tables] == [
            (0, 0, len(early) if path == first else len(late))
        ]
    assert len(_segments(lots)) == 6

    # A correction replaces a whole segment: the late rows alone would drop the early ones
    # of the compacted segment from reads, so they are refused, naming the segment's span.
    changed = [(*r[:4], r[4] + 1.0, r[5]) if r[0] == "L1" else r for r in late]
    part = _write_series(tmp_path, changed, name="part")
    with pytest.raises(ValidationFailed) as refused:
        import_path(lots, part, actor="importer", reason="probe offset")
    assert [e.row for e in refused.value.errors if e.field == "t"] == [1, 2, 3, 4]
    assert "correct part of a stored segment (t 0-1 h" in refused.value.errors[0].message
    whole = _write_series(tmp_path, [r for r in early if r[0] == "L1"] + changed, name="whole")
    report = import_path(lots, whole, actor="importer", reason="probe offset")
    assert [(t.corrected, t.unchanged) for t in report.tables] == [(12, 4)]  # L2: as stored
    with lots.reader() as session:
        corrected = lots.timeseries.read(session, lot="L1")
    assert len(corrected) == 12, "the early rows are still read"
    expected = before[before["lot"] == "L1"].reset_index(drop=True)
    expected.loc[expected["t"] == 1.0, "value"] += 1.0
    pd.testing.assert_frame_equal(corrected, expected)
