"""End to end over loopback: the simulated plant plays a batch, the acquirer stores and
monitors it; data land complete and in order, the injected fault raises the alarm, a server
restart and an acquirer crash lose nothing and duplicate nothing."""

from __future__ import annotations

import asyncio

import numpy as np
import pandas as pd
import pytest
from opcua_helpers import N_BATCHES, ONSET_H, free_port, register_lots, stored, webhook_server
from sqlalchemy import select

from saisei.ingestion.opcua import EquipmentServer, Playback, parse_mapping
from saisei.services.acquisition import AcquisitionResult, acquire_async
from saisei.services.equipment import playback_from_result
from saisei.services.monitoring import score_lot
from saisei.services.notify import WebhookNotifier
from saisei.simulation import SimulationResult
from saisei.storage.models import AuditEvent
from saisei.storage.store import Store

#: Plant hours per wall second: the 500 h culture plays in about 8 s.
SPEED = 60 * 3600.0


def _assert_complete(data: pd.DataFrame, playback: Playback) -> None:
    """Every played sample stored once, in order, with its value and stage time."""
    for channel in playback.channels:
        rows = data[data["variable"] == channel.variable]
        assert len(rows) == len(channel.offsets_s), channel.variable
        stamps = rows["timestamp"].to_numpy()
        assert (np.diff(stamps) > np.timedelta64(0, "us")).all(), "in order, no duplicate"
        start = playback.stage_offsets_s[channel.stage]
        np.testing.assert_allclose(rows["t"], (channel.offsets_s - start) / 3600.0, atol=1e-9)
        np.testing.assert_allclose(rows["value"], channel.values)
        assert set(rows["quality"]) == {"good"}


async def _stop_after_playback(server: EquipmentServer, stop: asyncio.Event) -> None:
    await server.finished.wait()
    await asyncio.sleep(1.0)  # a few publishing intervals for the last values
    stop.set()


async def _acquire(
    store: Store, server: EquipmentServer, lot: str, **options: object
) -> AcquisitionResult:
    stop = asyncio.Event()
    waiter = asyncio.create_task(_stop_after_playback(server, stop))
    try:
        return await asyncio.wait_for(
            acquire_async(
                store,
                endpoint=server.endpoint,
                mapping=parse_mapping(server.mapping_document()),
                lot=lot,
                actor="op.sato",
                flush_seconds=0.25,
                stop=stop,
                **options,  # type: ignore[arg-type]
            ),
            timeout=60,
        )
    finally:
        waiter.cancel()


@pytest.mark.slow
def test_live_batch_is_stored_complete_and_its_fault_raises_the_alarm(
    home: Store, plant: SimulationResult, lots: list[str]
) -> None:
    faulty = lots[-1]
    playback = playback_from_result(plant, N_BATCHES, stages=["expansion"])
    assert playback.lot == faulty

    async def main() -> tuple[AcquisitionResult, list[dict[str, object]]]:
        with webhook_server() as (url, received):
            # The plant is 100 h into the culture when the acquirer connects: those hours
            # come from the server's history, the rest live.
            server = EquipmentServer(playback, port=free_port(), speed=SPEED, skip_h=100)
            async with server:
                result = await _acquire(
                    home, server, faulty, model="msc-live", notifier=WebhookNotifier(url)
                )
            return result, list(received)

    result, received = asyncio.run(main())
    _assert_complete(stored(home, faulty), playback)
    assert result.backfilled > 0 and result.live > 0
    assert result.values == result.live + result.backfilled
    assert result.values == sum(len(c.offsets_s) for c in playback.channels)
    with home.reader() as session:
        sources = [s.source for s in home.timeseries.segments(session, subject_ref=faulty)]
    assert len(sources) == result.segments > 1, "one segment per flush"
    assert set(sources) == {"opcua"}

    # The fault (docs/simulator.md: +0.04 C/h from 120 h) is seen live, not before it starts,
    # with temperature as a top contributor, and no later than the offline analysis of the
    # complete data finds it (1 h bins: one bin of tolerance for a partly filled bin).
    assert result.alarms, "the drift raises an alarm"
    first = min(result.alarms, key=lambda a: a.t_h)
    assert first.t_h >= ONSET_H - 1.0
    assert "temperature" in first.top_variables
    offline = score_lot(home, faulty, model="msc-live", actor="qa")
    assert first.t_h <= float(offline.alarms["t"].min()) + 1.0
    posted = [a for r in received for a in r["body"]["alarms"]]  # type: ignore[index]
    assert [a["t_h"] for a in posted] == [a.t_h for a in result.alarms]
    assert {r["body"]["lot"] for r in received} == {faulty}  # type: ignore[index]
    assert posted[0]["top_variables"] == list(first.top_variables)

    with home.reader() as session:
        tags = list(
            session.execute(
                select(AuditEvent.tag)
                .where(AuditEvent.entity_id == faulty)
                .order_by(AuditEvent.seq)
            ).scalars()
        )
    assert tags[0] == "opcua:acquisition:start" and tags[-1] == "opcua:acquisition:stop"
    assert "opcua:acquisition:backfilled" in tags


@pytest.mark.slow
def test_server_restart_mid_run_leaves_no_gap_and_no_duplicate(
    home: Store, plant: SimulationResult
) -> None:
    lot = "LIVE-RESTART"
    register_lots(home, [lot])
    playback = playback_from_result(plant, 1, stages=["expansion"])
    port = free_port()

    async def main() -> AcquisitionResult:
        first = EquipmentServer(playback, port=port, speed=SPEED, skip_h=350)
        await first.start()
        stop = asyncio.Event()
        run = asyncio.create_task(
            acquire_async(
                home,
                endpoint=first.endpoint,
                mapping=parse_mapping(first.mapping_document()),
                lot=lot,
                actor="op.sato",
                flush_seconds=0.25,
                stop=stop,
                reconnect_max_s=1.0,
            )
        )
        await asyncio.sleep(0.7)
        await first.stop()  # the link goes down; the plant goes on meanwhile
        await asyncio.sleep(0.5)
        second = EquipmentServer(playback, port=port, speed=SPEED, started_at=first.started_at)
        async with second:
            await second.finished.wait()
            await asyncio.sleep(1.0)
            stop.set()
            return await asyncio.wait_for(run, timeout=60)

    result = asyncio.run(main())
    assert result.losses >= 1 and result.connections >= 2
    _assert_complete(stored(home, lot), playback)


@pytest.mark.slow
def test_killed_acquirer_resumes_from_stored_data_without_loss(
    home: Store, plant: SimulationResult
) -> None:
    lot = "LIVE-KILLED"
    register_lots(home, [lot])
    playback = playback_from_result(plant, 2, stages=["expansion"])

    async def main() -> AcquisitionResult:
        server = EquipmentServer(playback, port=free_port(), speed=SPEED, skip_h=200)
        async with server:
            mapping = parse_mapping(server.mapping_document())
            flushed = asyncio.Event()
            crashed = asyncio.create_task(
                acquire_async(
                    home,
                    endpoint=server.endpoint,
                    mapping=mapping,
                    lot=lot,
                    actor="op.sato",
                    flush_seconds=0.25,
                    on_flush=lambda n: flushed.set(),
                )
            )
            await asyncio.wait_for(flushed.wait(), timeout=20)
            await asyncio.sleep(0.4)
            crashed.cancel()  # as a kill: what was buffered is gone
            await asyncio.gather(crashed, return_exceptions=True)
            partial = stored(home, lot)
            assert len(partial) > 0
            await asyncio.sleep(0.5)  # the plant goes on while nobody listens
            return await _acquire(home, server, lot)

    result = asyncio.run(main())
    assert result.resumed_from.last, "the restart resumes from what is stored"
    assert result.backfilled > 0
    _assert_complete(stored(home, lot), playback)
