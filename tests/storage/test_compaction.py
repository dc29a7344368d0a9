"""Compaction: the segments of one lot and stage merged into one, the same rows read after,
the old segments kept as evidence and skipped by reads."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from saisei.errors import IntegrityViolation
from saisei.storage.audit import audit_events
from saisei.storage.models import SegmentReplacement, TimeSeriesSegment
from saisei.storage.store import Store
from saisei.storage.timeseries import SegmentBatch


def _flush(store: Store, start_h: float, stage: str = "expansion", lot: str = "L1") -> None:
    """One flush of live acquisition: 6 readings of two variables after ``start_h``."""
    t = start_h + np.arange(3) / 3.0
    frame = pd.concat(
        [
            pd.DataFrame({"variable": "temperature", "t": t, "value": 37.0 + t, "unit": "degC"}),
            pd.DataFrame({"variable": "pH", "t": t, "value": 7.2 - 0.01 * t, "unit": "1"}),
        ],
        ignore_index=True,
    )
    with store.unit_of_work(actor="acquirer", source="opcua") as uow:
        store.timeseries.write_segment(uow.session, frame, subject_ref=lot, stage=stage)


def _compact(store: Store, stage: str = "expansion", lot: str = "L1") -> dict[str, Any] | None:
    """Compact in a unit of work; the new manifest row's fields (None: nothing merged)."""
    batch = SegmentBatch(store.timeseries.root)
    try:
        with store.unit_of_work(actor="ps.kimura", source="cli", reason="compaction") as uow:
            merged = store.timeseries.compact(
                uow.session, subject_ref=lot, stage=stage, batch=batch
            )
            batch.sync()
            uow.session.flush()
            fields = None if merged is None else _fields(merged)
    except BaseException:
        batch.discard()
        raise
    return fields


def _fields(segment: TimeSeriesSegment) -> dict[str, Any]:
    names = ("id", "segment_id", "path", "sha256", "t_start_h", "t_end_h", "variables")
    return {name: getattr(segment, name) for name in names}


def _read(store: Store) -> pd.DataFrame:
    with store.reader() as session:
        frame = store.timeseries.read(session, lot="L1")
    assert isinstance(frame, pd.DataFrame)
    return frame


def test_segments_of_a_stage_are_merged_and_read_the_same(store: Store) -> None:
    for k in range(5):
        _flush(store, start_h=float(k))
    _flush(store, start_h=0.0, stage="harvest")
    before = _read(store)
    with store.reader() as session:
        old = [
            (s.id, s.path)
            for s in store.timeseries.segments(session, subject_ref="L1", stage="expansion")
        ]
    assert len(old) == 5

    merged = _compact(store)
    assert merged is not None
    after = _read(store)
    pd.testing.assert_frame_equal(after, before)  # every row, the same values
    with store.reader() as session:
        current = [
            (s.stage, s.source, s.row_count)
            for s in store.timeseries.segments(session, subject_ref="L1")
        ]
        every = store.timeseries.segments(session, subject_ref="L1", include_superseded=True)
        replaced = [
            (r.segment_id, r.replaced_id)
            for r in session.execute(select(SegmentReplacement)).scalars()
        ]
        checked, problems = store.timeseries.verify(session)
        events = [
            (e.entity_id, e.actor) for e in audit_events(session, entity_type="time_series_segment")
        ]
    assert current == [
        ("harvest", "import", 6),
        ("expansion", "compaction", 30),
    ]
    assert (merged["t_start_h"], merged["t_end_h"]) == (0.0, 4.0 + 2 / 3)
    assert merged["variables"] == ["pH", "temperature"]
    assert {replaced_id for _, replaced_id in replaced} == {i for i, _ in old}
    assert {segment_id for segment_id, _ in replaced} == {merged["id"]}
    # The old segments stay, files and manifest rows, as evidence; all still verify.
    assert len(every) == 7 and checked == 7 and problems == []
    assert all((store.timeseries.root / path).is_file() for _, path in old)
    path = store.timeseries.root / merged["path"]
    assert merged["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert [actor for entity, actor in events if entity == str(merged["id"])] == ["ps.kimura"]


def test_one_segment_is_left_as_it_is(store: Store) -> None:
    _flush(store, start_h=0.0)
    assert _compact(store) is None
    assert _compact(store, stage="harvest") is None  # nothing stored there


def test_a_changed_file_is_not_copied_into_a_compacted_one(store: Store) -> None:
    for k in range(3):
        _flush(store, start_h=float(k))
    with store.reader() as session:
        old = [(s.segment_id, s.path) for s in store.timeseries.segments(session, subject_ref="L1")]
    damaged = store.timeseries.root / old[1][1]
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"\x00")
    files = sorted(store.timeseries.root.rglob("*.parquet"))
    with pytest.raises(IntegrityViolation, match=old[1][0]):
        _compact(store)
    with store.reader() as session:
        current = store.timeseries.segments(session, subject_ref="L1")
        assert [(s.segment_id, s.path) for s in current] == old
    assert sorted(store.timeseries.root.rglob("*.parquet")) == files, "no new file left"
