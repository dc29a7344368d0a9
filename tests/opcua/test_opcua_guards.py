"""Guards of live acquisition: one acquirer per lot, one deviation per run of alarms, and
bad values scored as missing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from opcua_helpers import ONSET_H, free_port, register_lots, store_series
from sqlalchemy import select

from saisei.errors import Conflict
from saisei.ingestion.opcua import parse_mapping
from saisei.services._lot_lock import LotLock, lock_path
from saisei.services.acquisition import _Recorder, acquire_async
from saisei.services.monitoring import score_lot
from saisei.storage.models import AuditEvent, Batch, Deviation
from saisei.storage.store import Store

_HOLD = """
import sys, time
from pathlib import Path
from saisei.services._lot_lock import LotLock
lock = LotLock(Path(sys.argv[1]), "LOT/7", actor="op.ito", endpoint="opc.tcp://plant:4840")
lock.acquire()
print("locked", flush=True)
time.sleep(60)
"""


def test_a_second_acquirer_of_a_lot_is_refused_naming_the_holder(tmp_path: Path) -> None:
    first = LotLock(tmp_path, "LOT/7", actor="op.sato", endpoint="opc.tcp://a:4840")
    with first:
        assert lock_path(tmp_path, "LOT/7").parent == tmp_path / "_locks"
        with pytest.raises(
            Conflict,
            match=rf"Lot LOT/7 is already being acquired by process {os.getpid()} on .* "
            r"\(user op\.sato, from opc\.tcp://a:4840",
        ):
            LotLock(tmp_path, "LOT/7", actor="op.ito", endpoint="opc.tcp://b:4840").acquire()
        # Another lot is not blocked.
        with LotLock(tmp_path, "LOT/8", actor="op.ito", endpoint="opc.tcp://b:4840"):
            pass
    with LotLock(tmp_path, "LOT/7", actor="op.ito", endpoint="opc.tcp://b:4840") as again:
        assert again.holder()["actor"] == "op.ito"


def test_the_lock_of_a_killed_acquirer_is_taken_over(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        with pytest.raises(Conflict, match=rf"by process {child.pid} on .*user op\.ito"):
            LotLock(tmp_path, "LOT/7", actor="op.sato", endpoint="x").acquire()
    finally:
        child.send_signal(signal.SIGKILL)  # a crash: no clean-up runs
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    with LotLock(tmp_path, "LOT/7", actor="op.sato", endpoint="x") as lock:
        assert lock.holder()["pid"] == os.getpid()


def test_acquire_refuses_a_lot_already_being_acquired(home: Store, lots: list[str]) -> None:
    mapping = parse_mapping(
        {"nodes": [{"node": "ns=2;s=T", "stage": "expansion", "variable": "temperature"}]}
    )
    # Refused at once, before any attempt to reach the (absent) server.
    with (
        LotLock(home.timeseries.root, lots[0], actor="op.ito", endpoint="opc.tcp://p:4840"),
        pytest.raises(Conflict, match=f"Lot {lots[0]} is already being acquired"),
    ):
        asyncio.run(
            acquire_async(
                home,
                endpoint=f"opc.tcp://127.0.0.1:{free_port()}",
                mapping=mapping,
                lot=lots[0],
                actor="op.sato",
                connect_timeout_s=0.5,
            )
        )


def test_open_deviation_opens_one_deviation_linked_to_the_first_alarm(
    home: Store, lots: list[str], series: pd.DataFrame
) -> None:
    lot = "LIVE-DEV1"
    register_lots(home, [lot])
    faulty = series[(series["lot"] == lots[-1]) & (series["stage"] == "expansion")]
    recorder = _Recorder(
        home,
        lot=lot,
        endpoint="opc.tcp://plant:4840",
        actor="op.sato",
        model="msc-live",
        notifier=None,
        open_deviation=True,
    )
    recorder.check()
    rounds = []
    # Three scoring rounds as data arrive: before the drift (simulator onset 120 h), then two
    # after it; each round after the onset raises new alarms.
    for low, high in [(0.0, ONSET_H - 10), (ONSET_H - 10, 250.0), (250.0, 1e9)]:
        part = faulty[(faulty["t"] >= low) & (faulty["t"] < high)]
        store_series(home, lot, part)
        before = len(recorder.alarms)
        recorder.score(pd.Timestamp(part["timestamp"].max()).to_pydatetime())
        rounds.append(len(recorder.alarms) - before)
    assert rounds[0] == 0 and rounds[1] > 0 and rounds[2] > 0, rounds
    first = recorder.alarms[0]
    with home.reader() as session:
        batch_id = session.execute(select(Batch.id).where(Batch.lot_number == lot)).scalar_one()
        deviations = [
            (d.number, d.category, d.recorded_by, d.alarm_ref, d.description)
            for d in session.execute(
                select(Deviation).where(Deviation.batch_id == batch_id)
            ).scalars()
        ]
        tags = list(
            session.execute(
                select(AuditEvent.tag).where(AuditEvent.new_values.contains(deviations[0][0]))
            ).scalars()
        )
    assert len(deviations) == 1, "one deviation per run, not one per scoring round"
    number, category, recorded_by, alarm_ref, description = deviations[0]
    assert category == "alarm" and recorded_by == "op.sato"
    assert alarm_ref == f"msc-live:v{first.version}:t={first.t_h:g}"
    assert f"t = {first.t_h:g} h" in description
    assert {a.deviation for a in recorder.alarms} == {number}
    assert tags.count("opcua:deviation:create") == 1, tags


def _quality_lot(home: Store, lot: str, rows: pd.DataFrame) -> None:
    register_lots(home, [lot])
    with home.unit_of_work(actor="test", source="test") as uow:
        home.timeseries.write_segment(
            uow.session,
            rows[["variable", "t", "value", "unit", "timestamp", "quality"]],
            subject_ref=lot,
            stage="expansion",
            source="test",
        )


def test_bad_values_are_scored_as_missing_uncertain_ones_as_values(
    home: Store, lots: list[str], series: pd.DataFrame
) -> None:
    normal = series[(series["lot"] == lots[0]) & (series["stage"] == "expansion")]
    normal = normal.astype({"variable": str, "unit": str}).assign(quality="good")
    normal = normal[normal["t"] <= 100.0]
    # One extra temperature reading of 80 C at 50.2 h, inside the 50 h bin.
    spike = normal[normal["variable"] == "temperature"].iloc[[0]].copy()
    spike["t"] = 50.2
    spike["value"] = 80.0
    spike["timestamp"] = spike["timestamp"] + pd.Timedelta(hours=50.2 - float(spike["t"].iloc[0]))
    _quality_lot(home, "LIVE-Q0", normal)
    _quality_lot(home, "LIVE-QB", pd.concat([normal, spike.assign(quality="bad:BadSensorFailure")]))
    _quality_lot(
        home,
        "LIVE-QU",
        pd.concat([normal, spike.assign(quality="uncertain:UncertainLastUsableValue")]),
    )
    clean = score_lot(home, "LIVE-Q0", model="msc-live", actor="op.sato").points
    bad = score_lot(home, "LIVE-QB", model="msc-live", actor="op.sato").points
    uncertain = score_lot(home, "LIVE-QU", model="msc-live", actor="op.sato").points
    columns = ["t", "t2", "spe"]
    # A bad value is missing: the lot scores exactly as if the reading were not there.
    pd.testing.assert_frame_equal(
        bad[columns].reset_index(drop=True), clean[columns].reset_index(drop=True)
    )
    # An uncertain value is a value: the 80 C reading (about 43 C above the culture's 37 C)
    # moves the 50 h bin's mean and raises the alarm there.
    at_50 = uncertain[uncertain["t"] == 50.0].iloc[0]
    assert bool(at_50["alarm"]) and "temperature" in at_50["top_variables"]
    assert not bool(clean[clean["t"] == 50.0].iloc[0]["alarm"])
