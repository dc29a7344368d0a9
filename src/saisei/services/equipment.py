"""A simulated plant on the network: simulator batches played by an OPC UA server.

The simulator (pure) makes the series; :class:`saisei.ingestion.opcua.EquipmentServer` plays
them. Used for demos, operator training and the tests of live acquisition.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from saisei.domain.audit import jsonable
from saisei.errors import ValidationFailed
from saisei.ingestion.opcua import EquipmentServer, Playback
from saisei.simulation import SimulationResult, parse_faults, simulate

__all__ = [
    "PlantRun",
    "playback_from_result",
    "serve_equipment",
    "serve_equipment_async",
    "simulated_playback",
]


@dataclass(frozen=True)
class PlantRun:
    """What a simulated plant played."""

    lot: str
    endpoint: str
    speed: float
    started_at: datetime
    published: int
    finished: bool
    channels: int
    mapping: str | None

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {k: jsonable(v) for k, v in vars(self).items()}


def playback_from_result(
    result: SimulationResult, batch: int, *, stages: list[str] | None = None
) -> Playback:
    """The series of the ``batch``-th batch (1-based, in order of start) of a simulation."""
    batches = result.tables["batches"].sort_values("started_at", kind="stable")
    if not 1 <= batch <= len(batches):
        raise ValidationFailed(
            f"The batch to play must be in 1..{len(batches)} (batches simulated). Got {batch}."
        )
    lot = str(batches["lot"].iloc[batch - 1])
    series = result.tables["timeseries"]
    series = series[series["lot"].astype(str) == lot]
    if stages:
        known = sorted(series["stage"].astype(str).unique())
        unknown = sorted(set(stages) - set(known))
        if unknown:
            raise ValidationFailed(
                f"Lot {lot} has no series at stage(s) {', '.join(unknown)}; it has "
                f"{', '.join(known)}."
            )
        series = series[series["stage"].astype(str).isin(stages)]
    return Playback.from_frame(series, lot=lot)


def simulated_playback(
    product: str,
    seed: int,
    *,
    faults: str | None = None,
    batch: int | None = None,
    stages: list[str] | None = None,
) -> Playback:
    """Simulate up to the batch to play and return its series.

    The batch played is ``batch`` or, by default, the last batch a fault names (else 1);
    the batches before it are simulated too, so a plant with the same seed and faults
    imported with ``saisei simulate``/``saisei import`` has the same lots.
    """
    named = [f.batch for f in parse_faults(faults, 10**9)]
    chosen = batch if batch is not None else max(named, default=1)
    result = simulate(product, max([chosen, *named]), seed, faults=faults, design_space_points=0)
    return playback_from_result(result, chosen, stages=stages)


async def serve_equipment_async(
    playback: Playback,
    *,
    host: str = "127.0.0.1",
    port: int = 4840,
    speed: float = 1.0,
    started_at: datetime | None = None,
    duration_s: float | None = None,
    stop: asyncio.Event | None = None,
    mapping_out: Path | None = None,
    certificate: Path | None = None,
    private_key: Path | None = None,
    users: dict[str, str] | None = None,
    on_ready: Callable[[EquipmentServer], None] | None = None,
) -> PlantRun:
    """Serve ``playback`` until it has been played (and ``duration_s``, if given, passed)
    or ``stop`` is set; write a matching node mapping to ``mapping_out``."""
    stop = stop or asyncio.Event()
    server = EquipmentServer(
        playback,
        host=host,
        port=port,
        speed=speed,
        started_at=started_at,
        certificate=certificate,
        private_key=private_key,
        users=users,
    )
    await server.start()
    try:
        if mapping_out is not None:
            mapping_out.write_text(
                yaml.safe_dump(server.mapping_document(), sort_keys=False), encoding="utf-8"
            )
        if on_ready is not None:
            on_ready(server)
        waiters: list[asyncio.Task[Any]] = [asyncio.create_task(stop.wait())]
        if duration_s is not None:
            waiters.append(asyncio.create_task(asyncio.sleep(duration_s)))
        else:
            waiters.append(asyncio.create_task(server.finished.wait()))
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for task in waiters:
            task.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
    finally:
        await server.stop()
    assert server.started_at is not None
    return PlantRun(
        lot=playback.lot,
        endpoint=server.endpoint,
        speed=speed,
        started_at=server.started_at,
        published=server.published,
        finished=server.finished.is_set(),
        channels=len(server.channels),
        mapping=str(mapping_out) if mapping_out is not None else None,
    )


def serve_equipment(playback: Playback, **options: Any) -> PlantRun:
    """:func:`serve_equipment_async` in its own event loop; SIGINT/SIGTERM stop it."""

    async def main() -> PlantRun:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
        return await serve_equipment_async(playback, stop=stop, **options)

    return asyncio.run(main())
