"""Live acquisition over OPC UA: sustained values/s stored, and value change -> stored alarm.

Two measurements, each with the OPC UA server in its own process (as equipment would be):

1. **Throughput**: a synthetic plant publishes C channels at R samples/s each (real time);
   ``acquire_async`` stores them (one Parquet segment per flush in an SQLite home) for D s.
   Reported: values/s stored, and whether every published value was stored once.
2. **Alarm latency**: the simulated MSC batch with a temperature drift (seed 7, batch 12,
   onset 120 h) is played at 20 plant hours per wall second against a model built on the 11
   normal lots; the acquirer scores after each flush. For each alarm, latency = wall time the
   alarm was stored - wall time the server published the first sample of the alarm's 1-h bin
   (an upper bound on the time from the value change to the stored alarm).

   Where the time goes is printed too: wall seconds of each store (flush) and scoring round.
3. **Bare asyncua** (``--only raw``): the same plant read by a plain asyncua client that
   stores nothing, for what the OPC UA stack itself delivers on this machine.

    .venv/bin/python bench/opcua_throughput.py [--channels 100] [--rate-hz 100] [--seconds 20]
        [--only throughput|latency|raw]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from asyncua import Client
from asyncua.common.subscription import DataChangeEvent

from saisei.domain.enums import ProductType
from saisei.ingestion.opcua import EquipmentServer, Playback, PlaybackChannel, parse_mapping
from saisei.services.acquisition import _Recorder, acquire_async
from saisei.services.equipment import playback_from_result
from saisei.services.monitoring import build_model
from saisei.simulation import simulate
from saisei.storage.models import Batch, ProcessDefinition, User
from saisei.storage.repositories.quality import ensure_roles
from saisei.storage.store import Store


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _home(root: Path, lots: list[str]) -> Store:
    store = Store.open(f"sqlite:///{root / 'saisei.db'}", root / "timeseries")
    store.upgrade()
    with store.unit_of_work(actor="bench", source="bench") as uow:
        process = ProcessDefinition(name="bench", version="1", product_type=ProductType.MSC)
        uow.session.add(process)
        uow.session.add_all(
            Batch(lot_number=lot, product_type=ProductType.MSC, process=process) for lot in lots
        )
        # The account that builds the model and scores live (both permission-checked).
        now = datetime.now(UTC)
        user = User(
            username="bench",
            full_name="bench",
            password_hash="!",
            active=True,
            failed_logins=0,
            password_changed_at=now,
            created_at=now,
        )
        user.roles = ensure_roles(uow.session, ["process_scientist", "operator"])
        uow.session.add(user)
    return store


def _synthetic(channels: int, rate_hz: float, seconds: float) -> Playback:
    offsets = np.arange(0.0, seconds, 1.0 / rate_hz)
    rng = np.random.default_rng(0)
    return Playback(
        lot="BENCH",
        channels=tuple(
            PlaybackChannel("expansion", f"v{i:03d}", "1", offsets, rng.normal(size=offsets.size))
            for i in range(channels)
        ),
        stage_offsets_s={"expansion": 0.0},
    )


def serve(kind: str, port: int, started_at: str, args: list[str]) -> None:
    """Run a server in this process (the child side of the benchmark)."""
    if kind == "synthetic":
        channels, rate, seconds = int(args[0]), float(args[1]), float(args[2])
        playback, speed = _synthetic(channels, rate, seconds), 1.0
    else:
        result = simulate("msc", 12, 7, faults="temperature_drift@12:120", design_space_points=0)
        playback, speed = playback_from_result(result, 12, stages=["expansion"]), 20 * 3600.0

    async def main() -> None:
        server = EquipmentServer(
            playback, port=port, speed=speed, started_at=datetime.fromisoformat(started_at)
        )
        async with server:
            await server.finished.wait()
            # How late the plant published its last value (it falls behind when starved).
            end = max(float(c.offsets_s[-1]) for c in playback.channels)
            planned = datetime.fromisoformat(started_at) + timedelta(seconds=end / speed)
            lag = (datetime.now(UTC) - planned).total_seconds()
            print(f"server_publish_lag_s {lag:.2f}", flush=True)
            print(f"server_cpu_s {time.process_time():.2f}", flush=True)
            await asyncio.sleep(3)

    asyncio.run(main())


def _spawn(kind: str, port: int, started_at: datetime, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, str(port), started_at.isoformat(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


async def _wait_for(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.2)
    raise RuntimeError(f"no server on port {port}")


def _server_report(child: subprocess.Popen[bytes]) -> dict[str, float]:
    """What the plant process printed: its publishing lag and CPU seconds."""
    out, _ = child.communicate(timeout=120)
    report = {}
    for line in out.decode().splitlines():
        if line.startswith("server_"):
            name, value = line.split()
            report[name] = float(value)
    return report


def throughput(channels: int, rate_hz: float, seconds: float) -> dict[str, Any]:
    port = _port()
    # The server's address space takes several seconds to build: the plant starts after it.
    started_at = datetime.now(UTC) + timedelta(seconds=30)
    child = _spawn("synthetic", port, started_at, str(channels), str(rate_hz), str(seconds))
    published = channels * len(np.arange(0.0, seconds, 1.0 / rate_hz))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = _home(Path(tmp), ["BENCH"])
            playback = _synthetic(channels, rate_hz, seconds)
            mapping = parse_mapping(
                {
                    "sampling_interval_ms": 1000.0 / rate_hz,
                    "publishing_interval_ms": 100,
                    "stages": {"expansion": {"start": started_at.isoformat()}},
                    "nodes": [
                        {
                            "node": f"ns=2;s=BR01.expansion.{c.variable}",
                            "stage": "expansion",
                            "variable": c.variable,
                        }
                        for c in playback.channels
                    ],
                }
            )

            progress: list[tuple[float, int]] = []

            async def main() -> tuple[int, float, int]:
                await _wait_for(port)
                stop, count = asyncio.Event(), [0]

                def flushed(n: int) -> None:
                    count[0] += n
                    progress.append(((datetime.now(UTC) - started_at).total_seconds(), count[0]))
                    if count[0] >= published:
                        stop.set()

                result = await acquire_async(
                    store,
                    endpoint=f"opc.tcp://127.0.0.1:{port}",
                    mapping=mapping,
                    lot="BENCH",
                    actor="bench",
                    flush_seconds=1.0,
                    stop=stop,
                    on_flush=flushed,
                    duration_s=(started_at - datetime.now(UTC)).total_seconds() + seconds + 60,
                )
                done = (datetime.now(UTC) - started_at).total_seconds()
                return result.values, done, result.backfilled

            cpu_began = time.process_time()
            values, done_s, backfilled = asyncio.run(main())
            client_cpu_s = time.process_time() - cpu_began
            with store.reader() as session:
                data = store.timeseries.read(session, lot="BENCH")
            assert isinstance(data, pd.DataFrame)
            duplicates = int(data.duplicated(["variable", "timestamp"]).sum())
            store.close()
    finally:
        server = _server_report(child)
    # Steady state: values stored per second between the flushes nearest to 25 % and 75 %
    # of the playing time (start-up and the last flush left out).
    marks = [(t, n) for t, n in progress if 0.25 * seconds <= t <= 0.75 * seconds + 1.0]
    steady = (marks[-1][1] - marks[0][1]) / (marks[-1][0] - marks[0][0]) if len(marks) > 1 else 0.0
    return {
        "offered_per_s": channels * rate_hz,
        "published": published,
        "stored": values,
        "backfilled": backfilled,
        "duplicates": duplicates,
        "s_from_first_value_to_all_stored": round(done_s, 2),
        "sustained_stored_per_s": round(values / done_s, 1),
        "steady_stored_per_s": round(steady, 1),
        **server,
        "acquirer_cpu_s": round(client_cpu_s, 2),
        "acquirer_cpu_us_per_value": round(1e6 * client_cpu_s / max(values, 1), 1),
        "server_cpu_us_per_value": round(1e6 * server.get("server_cpu_s", 0.0) / published, 1),
        "flushes": len(progress),
        "flush_marks_s": [round(t, 1) for t, _ in progress[:: max(1, len(progress) // 8)]],
        "lag_s_after_last_published": round(done_s - seconds, 2),
    }


def raw_asyncua(channels: int, rate_hz: float, seconds: float) -> dict[str, Any]:
    """The same plant read by a bare asyncua client (its own per-value events, nothing
    stored): what the OPC UA stack itself delivers on this machine."""
    port = _port()
    started_at = datetime.now(UTC) + timedelta(seconds=30)
    child = _spawn("synthetic", port, started_at, str(channels), str(rate_hz), str(seconds))
    published = channels * len(np.arange(0.0, seconds, 1.0 / rate_hz))

    async def main() -> tuple[int, float]:
        await _wait_for(port)
        client = Client(f"opc.tcp://127.0.0.1:{port}", timeout=30)
        await client.connect()
        count, last = 0, 0.0
        try:
            subscription = await client.create_subscription(100, None, queue_maxsize=0)
            await subscription.subscribe_data_change(
                [client.get_node(f"ns=2;s=BR01.expansion.v{i:03d}") for i in range(channels)],
                queuesize=int(10 * rate_hz),
                sampling_interval=1000.0 / rate_hz,
            )
            until = started_at.timestamp() + seconds + 60
            while count < published and time.time() < until:
                event = await subscription.next_event(timeout=5)
                if isinstance(event, DataChangeEvent) and event.value is not None:
                    count, last = count + 1, time.time()
        finally:
            await client.disconnect()
        return count, last - started_at.timestamp()

    try:
        received, done_s = asyncio.run(main())
    finally:
        server = _server_report(child)
    return {
        "offered_per_s": channels * rate_hz,
        "published": published,
        "received": received,
        "s_from_first_value_to_last_received": round(done_s, 2),
        "received_per_s": round(received / done_s, 1),
        **server,
    }


#: Wall seconds of each store (flush) and each scoring round of the latency run.
STAGES: dict[str, list[float]] = {"store_batch": [], "score": []}


def _timed(name: str) -> None:
    """Time every call of ``_Recorder.<name>`` into STAGES (where the latency goes)."""
    original = getattr(_Recorder, name)

    def wrapper(self: _Recorder, *args: object) -> None:
        began = time.perf_counter()
        try:
            original(self, *args)
        finally:
            STAGES[name].append(time.perf_counter() - began)

    setattr(_Recorder, name, wrapper)


def latency() -> list[float]:
    for name in STAGES:
        _timed(name)
    result = simulate("msc", 12, 7, faults="temperature_drift@12:120", design_space_points=0)
    lots = [str(x) for x in result.tables["batches"].sort_values("started_at")["lot"]]
    series = result.tables["timeseries"]
    series = series.assign(lot=series["lot"].astype(str), stage=series["stage"].astype(str))
    port, speed = _port(), 20 * 3600.0
    with tempfile.TemporaryDirectory() as tmp:
        store = _home(Path(tmp), lots)
        with store.unit_of_work(actor="bench", source="bench") as uow:
            for lot in lots[:-1]:
                rows = series[(series["lot"] == lot) & (series["stage"] == "expansion")]
                store.timeseries.write_segment(
                    uow.session,
                    rows[["variable", "t", "value", "unit", "timestamp"]].astype(
                        {"variable": str, "unit": str}
                    ),
                    subject_ref=lot,
                    stage="expansion",
                )
        build_model(
            store,
            name="m",
            product="MSC",
            stage="expansion",
            actor="bench",
            lots=lots[:-1],
            n_components=2,
        )
        # Plant clock at 100 h when the server is up (about 8 s from now).
        started_at = datetime.now(UTC) + timedelta(seconds=8) - timedelta(hours=100) / speed
        child = _spawn("msc", port, started_at)
        try:
            playback = playback_from_result(result, 12, stages=["expansion"])
            server = EquipmentServer(playback, speed=speed, started_at=started_at)

            async def main() -> list[float]:
                await _wait_for(port)
                run = await acquire_async(
                    store,
                    endpoint=f"opc.tcp://127.0.0.1:{port}",
                    mapping=parse_mapping(server.mapping_document()),
                    lot=lots[-1],
                    actor="bench",
                    flush_seconds=0.25,
                    model="m",
                    duration_s=(500 - 100) / 20 + 12,
                )
                stage_start = server.stage_start("expansion")
                out = []
                for alarm in run.alarms:
                    plant = stage_start + timedelta(hours=alarm.t_h)
                    published = started_at + (plant - started_at) / speed
                    if published > run.started_at + timedelta(seconds=3):  # live, not back-filled
                        out.append((alarm.detected_at - published).total_seconds())
                return out

            lags = asyncio.run(main())
        finally:
            child.wait(timeout=120)
        store.close()
    return lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--rate-hz", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--only", choices=["throughput", "latency", "raw"], default=None)
    parser.add_argument("--serve", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.serve[2], args.serve[3:])
        return
    if args.only == "raw":
        print("bare asyncua:", raw_asyncua(args.channels, args.rate_hz, args.seconds))
        return
    if args.only != "latency":
        print("throughput:", throughput(args.channels, args.rate_hz, args.seconds), flush=True)
    if args.only == "throughput":
        return
    lags = latency()
    if lags:
        print(
            f"alarm latency over {len(lags)} live alarms: median {np.median(lags):.2f} s, "
            f"p95 {np.percentile(lags, 95):.2f} s, max {max(lags):.2f} s"
        )
        for name, spent in STAGES.items():
            print(
                f"  {name}: {len(spent)} calls, median {np.median(spent):.3f} s, "
                f"p95 {np.percentile(spent, 95):.3f} s, max {max(spent):.3f} s"
            )
    else:
        print("alarm latency: no live alarm")


if __name__ == "__main__":
    main()
