"""Readings become audited segments; a restart resumes after what is stored (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from opcua_helpers import register_lots, stored
from sqlalchemy import select

from saisei.errors import NotFound
from saisei.ingestion.opcua import ConnectionEvent, Reading, parse_mapping
from saisei.services.acquisition import _Recorder, resume_point
from saisei.services.batches import compact_series
from saisei.storage.models import AuditEvent
from saisei.storage.store import Store

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
MAPPING = parse_mapping(
    {
        "nodes": [
            {"node": "ns=2;s=T", "stage": "expansion", "variable": "temperature", "unit": "degC"},
            {"node": "ns=2;s=P", "stage": "expansion", "variable": "pH"},
            {"node": "ns=2;s=F", "stage": "freeze", "variable": "chamber_temperature"},
        ]
    }
)


def _reading(
    node: str,
    variable: str,
    minutes: float,
    value: float | None,
    quality: str = "good",
    stage: str = "expansion",
) -> Reading:
    when = START + timedelta(minutes=minutes)
    return Reading(node, stage, variable, "degC", when, minutes / 60.0 - 2.0, value, quality)


def test_each_flush_is_one_audited_segment_per_stage_and_restart_resumes(store: Store) -> None:
    register_lots(store, ["LIVE-S1"])
    recorder = _Recorder(
        store,
        lot="LIVE-S1",
        endpoint="opc.tcp://x:4840",
        actor="op.sato",
        model=None,
        notifier=None,
        open_deviation=False,
    )
    recorder.check()
    assert resume_point(store, "LIVE-S1", MAPPING).last == {}
    recorder.store_batch(
        [
            _reading("ns=2;s=T", "temperature", 120, 37.0),
            _reading("ns=2;s=P", "pH", 120, None, "bad:BadSensorFailure"),
            _reading("ns=2;s=T", "temperature", 121, 37.1),
            _reading("ns=2;s=F", "chamber_temperature", 600, -20.0, stage="freeze"),
        ],
        [ConnectionEvent("connected", START, {"endpoint": "opc.tcp://x:4840"})],
    )
    recorder.store_batch(
        [_reading("ns=2;s=T", "temperature", 122, 37.2, "uncertain:UncertainLastUsableValue")], []
    )
    assert recorder.segments == 3
    data = stored(store, "LIVE-S1")
    assert data["quality"].tolist() == [
        "bad:BadSensorFailure",
        "good",
        "good",
        "uncertain:UncertainLastUsableValue",
    ]
    assert data["value"].isna().tolist() == [True, False, False, False]

    resumed = resume_point(store, "LIVE-S1", MAPPING)
    assert resumed.last == {
        "ns=2;s=T": START + timedelta(minutes=122),
        "ns=2;s=P": START + timedelta(minutes=120),
        "ns=2;s=F": START + timedelta(minutes=600),
    }
    # t = minutes/60 - 2 h is 0 at minute 120: the stage started 2 h after START.
    assert resumed.stage_starts["expansion"] == START + timedelta(hours=2)

    with store.reader() as session:
        tags = list(
            session.execute(select(AuditEvent.tag).where(AuditEvent.actor == "op.sato")).scalars()
        )
    assert tags.count("opcua:time_series_segment:create") == 3
    assert "opcua:acquisition:connected" in tags

    # Compacted (one segment per stage): the same rows, qualities and timestamps are read,
    # and a restart resumes from the same point.
    merged = compact_series(store, "LIVE-S1", actor="op.sato")
    assert [(m.stage, m.replaced) for m in merged] == [("expansion", 2)]  # freeze: one only
    assert stored(store, "LIVE-S1").equals(data)
    assert resume_point(store, "LIVE-S1", MAPPING) == resumed


def test_an_unknown_lot_or_model_is_refused(store: Store) -> None:
    with pytest.raises(NotFound, match="No batch with lot number 'NOPE'"):
        _Recorder(
            store,
            lot="NOPE",
            endpoint="e",
            actor="a",
            model=None,
            notifier=None,
            open_deviation=False,
        ).check()
    register_lots(store, ["LIVE-S2"])
    with pytest.raises(NotFound, match="No monitoring model called 'none-such'"):
        _Recorder(
            store,
            lot="LIVE-S2",
            endpoint="e",
            actor="a",
            model="none-such",
            notifier=None,
            open_deviation=False,
        ).check()
