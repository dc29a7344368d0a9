"""A simulated plant: an OPC UA server that plays recorded (or simulated) batch series.

The plant has its own clock: it starts at ``started_at`` (wall time) and runs ``speed`` times
faster than the wall clock. A sample recorded ``offset`` seconds after the start of the batch
is published when the plant clock reaches ``started_at + offset``, with that time as source
and server timestamp. Every published value also goes to the server's history (HistoryRead
is offered on every node). A server started again with the same ``started_at`` puts what the
plant recorded while it was down into its history at once, as a controller's own historian
would, so a client can back-fill the gap.

The series come in as plain tables (:class:`Playback`); where they come from (the simulator,
a recorded batch) is the caller's business.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from asyncua import Node, Server, ua
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.history import HistoryStorageInterface

from saisei.errors import ValidationFailed

__all__ = ["EquipmentServer", "Playback", "PlaybackChannel"]

_log = logging.getLogger(__name__)
NAMESPACE = "urn:saisei:simulated-plant"
_EPOCH = ua.get_win_epoch()
_MAX_RESPONSE = 10_000


@dataclass(frozen=True)
class PlaybackChannel:
    """One variable of one stage: values at offsets (s) from the start of the batch."""

    stage: str
    variable: str
    unit: str | None
    offsets_s: np.ndarray
    values: np.ndarray


@dataclass(frozen=True)
class Playback:
    """The series of one batch to play, and where each stage starts."""

    lot: str
    channels: tuple[PlaybackChannel, ...]
    stage_offsets_s: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, lot: str) -> Playback:
        """Build a playback from long rows ``stage, variable, unit, t, timestamp``.

        ``t`` is hours since the start of the stage and ``timestamp`` the UTC time of the
        sample; the batch starts at the earliest stage start.
        """
        missing = {"stage", "variable", "t", "value", "timestamp"} - set(frame.columns)
        if missing:
            raise ValidationFailed(
                f"A playback table needs columns stage, variable, t, value, timestamp. "
                f"Missing: {', '.join(sorted(missing))}."
            )
        if frame.empty:
            raise ValidationFailed(f"There is no series to play for lot {lot!r}.")
        data = frame.assign(
            timestamp=pd.to_datetime(frame["timestamp"], utc=True),
            stage=frame["stage"].astype(str),
            variable=frame["variable"].astype(str),
        )
        starts = (
            (data["timestamp"] - pd.to_timedelta(data["t"], unit="h")).groupby(data["stage"]).min()
        )
        origin = starts.min()
        channels = []
        for (stage, variable), rows in data.groupby(["stage", "variable"], sort=True):
            rows = rows.sort_values("timestamp").drop_duplicates("timestamp")
            unit = rows["unit"].iloc[0] if "unit" in rows else None
            channels.append(
                PlaybackChannel(
                    stage=str(stage),
                    variable=str(variable),
                    unit=None if pd.isna(unit) else str(unit),
                    offsets_s=(rows["timestamp"] - origin).dt.total_seconds().to_numpy(),
                    values=rows["value"].to_numpy(dtype="float64"),
                )
            )
        offsets = {str(s): float((v - origin).total_seconds()) for s, v in starts.items()}
        return cls(lot=lot, channels=tuple(channels), stage_offsets_s=offsets)


class _PlantValue(ua.DataValue):
    """A published sample. The server clones every value written to a monitored node
    (``copy.deepcopy``, about 0.35 ms a value, the largest cost of a busy plant); the plant
    never changes a value once written, so the clone can be the value itself."""

    __slots__ = ()

    def __deepcopy__(self, memo: dict[int, Any]) -> _PlantValue:
        return self


_GOOD = ua.StatusCode(ua.UInt32(ua.StatusCodes.Good))
_SENSOR_FAILURE = ua.StatusCode(ua.UInt32(ua.StatusCodes.BadSensorFailure))
_NULL = ua.Variant(None, ua.VariantType.Null)


class _History(HistoryStorageInterface):
    """In-memory history, ordered by source timestamp, read with binary search."""

    def __init__(self) -> None:
        self._values: dict[ua.NodeId, list[ua.DataValue]] = {}
        self._times: dict[ua.NodeId, list[datetime]] = {}

    async def init(self) -> None:
        return None

    async def new_historized_node(
        self, node_id: ua.NodeId, period: timedelta | None, count: int = 0
    ) -> None:
        self._values.setdefault(node_id, [])
        self._times.setdefault(node_id, [])

    def add(self, node_id: ua.NodeId, value: ua.DataValue) -> None:
        assert value.SourceTimestamp is not None
        self._values[node_id].append(value)
        self._times[node_id].append(value.SourceTimestamp)

    async def save_node_value(self, node_id: ua.NodeId, datavalue: ua.DataValue) -> None:
        self.add(node_id, datavalue)

    async def read_node_history(
        self, node_id: ua.NodeId, start: datetime | None, end: datetime | None, nb_values: int
    ) -> tuple[list[ua.DataValue], datetime | None]:
        values = self._values.get(node_id, [])
        times = self._times.get(node_id, [])
        start = start or _EPOCH
        end = end or _EPOCH
        if start == _EPOCH and end != _EPOCH:  # backwards from end
            hits = values[: bisect.bisect_right(times, end)][::-1]
        elif end == _EPOCH or start <= end:
            stop = len(times) if end == _EPOCH else bisect.bisect_right(times, end)
            hits = values[bisect.bisect_left(times, start) : stop]
        else:
            hits = values[bisect.bisect_left(times, end) : bisect.bisect_right(times, start)][::-1]
        if nb_values:
            hits = hits[:nb_values]
        if len(hits) > _MAX_RESPONSE:
            return hits[:_MAX_RESPONSE], hits[_MAX_RESPONSE].SourceTimestamp
        return hits, None

    async def new_historized_event(
        self,
        source_id: ua.NodeId,
        evtypes: list[Node],
        period: timedelta | None,
        count: int = 0,
    ) -> None:
        return None

    async def save_event(self, event: Any) -> None:
        return None

    async def read_event_history(
        self,
        source_id: ua.NodeId,
        start: datetime | None,
        end: datetime | None,
        nb_values: int,
        evfilter: Any,
    ) -> tuple[list[Any], None]:
        return [], None

    async def stop(self) -> None:
        return None


class _Users:
    """Username and password check for a secured simulated plant."""

    def __init__(self, users: dict[str, str], allow_anonymous: bool) -> None:
        self._users = users
        self._anonymous = allow_anonymous

    def get_user(
        self,
        iserver: Any,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        if username is None:
            return User(role=UserRole.User) if self._anonymous else None
        if self._users.get(username) == password:
            return User(role=UserRole.User, name=username)
        return None


class EquipmentServer:
    """An OPC UA server playing one batch in real or accelerated time, with history.

    Parameters
    ----------
    playback : Playback
        What to play.
    host, port : str, int
        Where to listen (port 0 is not supported by the OPC UA stack: pick a free port).
    speed : float
        Plant seconds per wall second (1 = real time; 3600 = one hour per second).
    started_at : datetime, optional
        Wall time (UTC) the batch started; default: when :meth:`start` runs. Give the same
        value to a restarted server so it continues the same batch.
    skip_h : float
        Without ``started_at``: start the plant clock this many hours into the batch (what
        came before is in the history at once).
    equipment : str
        Prefix of the node ids (``ns=2;s=<equipment>.<stage>.<variable>``).
    extra_channels : list of (stage, variable, unit)
        Nodes with nothing to play, for values written with :meth:`write`.
    certificate, private_key : Path, optional
        Server certificate and key; when given, only signed and encrypted
        (Basic256Sha256) endpoints are offered.
    users : dict, optional
        Username -> password; when given, those credentials are checked.
    """

    def __init__(
        self,
        playback: Playback,
        *,
        host: str = "127.0.0.1",
        port: int = 4840,
        speed: float = 1.0,
        started_at: datetime | None = None,
        skip_h: float = 0.0,
        equipment: str = "BR01",
        extra_channels: list[tuple[str, str, str | None]] | None = None,
        certificate: Path | None = None,
        private_key: Path | None = None,
        users: dict[str, str] | None = None,
        allow_anonymous: bool = True,
        tick_s: float = 0.02,
    ) -> None:
        if speed <= 0:
            raise ValidationFailed(f"The playback speed must be positive. Got {speed}.")
        self.playback = playback
        self.host = host
        self.port = port
        self.speed = float(speed)
        self.started_at = started_at
        self.skip_h = skip_h
        self.equipment = equipment
        self.tick_s = tick_s
        self._extra = [
            PlaybackChannel(s, v, u, np.empty(0), np.empty(0)) for s, v, u in extra_channels or []
        ]
        self._certificate = certificate
        self._private_key = private_key
        self._users = users
        self._allow_anonymous = allow_anonymous
        self._server: Server | None = None
        self._history = _History()
        self._node_ids: dict[tuple[str, str], ua.NodeId] = {}
        self._next: dict[tuple[str, str], int] = {}
        self._last: dict[tuple[str, str], datetime] = {}
        self._task: asyncio.Task[None] | None = None
        self.finished = asyncio.Event()
        self.published = 0

    # -- clock ---------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """The URL clients connect to."""
        return f"opc.tcp://{self.host}:{self.port}"

    def plant_time(self, wall: datetime | None = None) -> datetime:
        """The plant clock at wall time ``wall`` (now)."""
        if self.started_at is None:
            raise ValidationFailed("The plant clock starts when the server starts.")
        wall = wall or datetime.now(UTC)
        return self.started_at + (wall - self.started_at) * self.speed

    def stage_start(self, stage: str) -> datetime:
        """Plant time at which ``stage`` started (``t = 0``)."""
        if self.started_at is None:
            raise ValidationFailed("The plant clock starts when the server starts.")
        return self.started_at + timedelta(seconds=self.playback.stage_offsets_s.get(stage, 0.0))

    def node_id(self, stage: str, variable: str) -> str:
        """The node id string of one channel."""
        return self._node_ids[stage, variable].to_string()

    @property
    def channels(self) -> list[PlaybackChannel]:
        """Played and extra channels."""
        return [*self.playback.channels, *self._extra]

    def mapping_document(self, *, sampling_interval_ms: float | None = None) -> dict[str, Any]:
        """A node mapping (YAML-ready) for this plant, for ``saisei acquire --mapping``."""
        if sampling_interval_ms is None:
            steps = [
                float(np.median(np.diff(c.offsets_s)))
                for c in self.playback.channels
                if len(c.offsets_s) > 1
            ]
            sampling_interval_ms = max(1.0, 1000.0 * min(steps or [1.0]) / self.speed)
        stages = sorted({c.stage for c in self.channels})
        return {
            "sampling_interval_ms": round(sampling_interval_ms, 3),
            "publishing_interval_ms": 100,
            "stages": {s: {"start_node": f"ns=2;s={self.equipment}.{s}.StartTime"} for s in stages},
            "nodes": [
                {
                    "node": f"ns=2;s={self.equipment}.{c.stage}.{c.variable}",
                    "stage": c.stage,
                    "variable": c.variable,
                    **({"unit": c.unit} if c.unit else {}),
                }
                for c in self.channels
            ],
        }

    # -- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Build the address space, fill history up to now, listen, start playing."""
        server = Server()
        if self._users is not None:
            server.iserver.user_manager = _Users(self._users, self._allow_anonymous)  # type: ignore[assignment]
        await server.init()
        server.set_endpoint(f"opc.tcp://{self.host}:{self.port}")
        server.set_server_name("saisei simulated plant")
        if self._certificate is not None and self._private_key is not None:
            await server.load_certificate(str(self._certificate))
            await server.load_private_key(str(self._private_key))
            server.set_security_policy([ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])
        else:
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        server.iserver.history_manager.set_storage(self._history)
        if self.started_at is None:  # after init(), which takes a while
            self.started_at = datetime.now(UTC) - timedelta(hours=self.skip_h) / self.speed
        index = await server.register_namespace(NAMESPACE)
        plant = await server.nodes.objects.add_object(
            ua.NodeId(ua.String(self.equipment), ua.Int16(index)),
            ua.QualifiedName(self.equipment, index),
        )
        await plant.add_variable(
            ua.NodeId(ua.String(f"{self.equipment}.Lot"), ua.Int16(index)),
            ua.QualifiedName("Lot", index),
            self.playback.lot,
            varianttype=ua.VariantType.String,
        )
        for stage in sorted({c.stage for c in self.channels}):
            await plant.add_variable(
                ua.NodeId(ua.String(f"{self.equipment}.{stage}.StartTime"), ua.Int16(index)),
                ua.QualifiedName(f"{stage}.StartTime", index),
                self.stage_start(stage),
                varianttype=ua.VariantType.DateTime,
            )
        for channel in self.channels:
            node_id = ua.NodeId(
                ua.String(f"{self.equipment}.{channel.stage}.{channel.variable}"), ua.Int16(index)
            )
            node = await plant.add_variable(
                node_id,
                ua.QualifiedName(f"{channel.stage}.{channel.variable}", index),
                0.0,
                varianttype=ua.VariantType.Double,
            )
            await node.write_value(
                ua.DataValue(
                    ua.Variant(None, ua.VariantType.Null),
                    StatusCode=ua.StatusCode(ua.UInt32(ua.StatusCodes.BadWaitingForInitialData)),
                )
            )
            await node.write_attribute(ua.AttributeIds.Historizing, ua.DataValue(ua.Variant(True)))
            await node.set_attr_bit(ua.AttributeIds.AccessLevel, ua.AccessLevel.HistoryRead)
            await node.set_attr_bit(ua.AttributeIds.UserAccessLevel, ua.AccessLevel.HistoryRead)
            await self._history.new_historized_node(node_id, None)
            key = (channel.stage, channel.variable)
            self._node_ids[key] = node_id
            self._next[key] = 0
        self._server = server
        await self._catch_up()
        await server.start()
        self._task = asyncio.create_task(self._play())

    async def stop(self) -> None:
        """Stop playing and close every connection."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._server is not None:
            await self._server.stop()
            self._server = None

    async def __aenter__(self) -> EquipmentServer:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    # -- publishing ----------------------------------------------------------------------

    def _timestamp(self, offset_s: float) -> datetime:
        assert self.started_at is not None
        return self.started_at + timedelta(seconds=float(offset_s))

    def _due(self, channel: PlaybackChannel, now: datetime) -> int:
        assert self.started_at is not None
        elapsed = (now - self.started_at).total_seconds()
        return int(np.searchsorted(channel.offsets_s, elapsed, side="right"))

    @staticmethod
    def _data_value(
        value: float, timestamp: datetime, status: ua.StatusCode | None
    ) -> ua.DataValue:
        code = status or (_GOOD if math.isfinite(value) else _SENSOR_FAILURE)
        variant = (
            _NULL if code.is_bad() else ua.Variant(float(value), ua.VariantType.Double, None, False)
        )
        return _PlantValue(
            variant,
            StatusCode=code,
            SourceTimestamp=cast(ua.DateTime, timestamp),
            ServerTimestamp=cast(ua.DateTime, timestamp),
        )

    async def _catch_up(self) -> None:
        """History for what the plant recorded before this server started."""
        now = self.plant_time()
        for channel in self.playback.channels:
            key = (channel.stage, channel.variable)
            due = self._due(channel, now)
            for k in range(max(0, due - 1)):
                value = self._data_value(
                    channel.values[k], self._timestamp(channel.offsets_s[k]), None
                )
                self._history.add(self._node_ids[key], value)
            self._next[key] = max(0, due - 1)

    async def _emit(self, key: tuple[str, str], value: ua.DataValue) -> None:
        assert self._server is not None and value.SourceTimestamp is not None
        node_id = self._node_ids[key]
        self._history.add(node_id, value)
        self._last[key] = value.SourceTimestamp
        await self._server.write_attribute_value(node_id, value)
        self.published += 1

    async def _tick(self) -> bool:
        now = self.plant_time()
        pending = False
        for channel in self.playback.channels:
            key = (channel.stage, channel.variable)
            due = self._due(channel, now)
            for k in range(self._next[key], due):
                await self._emit(
                    key,
                    self._data_value(
                        channel.values[k], self._timestamp(channel.offsets_s[k]), None
                    ),
                )
            self._next[key] = due
            pending = pending or due < len(channel.offsets_s)
        return pending

    async def _play(self) -> None:
        while await self._tick():
            await asyncio.sleep(self.tick_s)
        self.finished.set()

    async def write(
        self,
        stage: str,
        variable: str,
        value: float,
        *,
        status: ua.StatusCode | None = None,
        timestamp: datetime | None = None,
    ) -> datetime:
        """Publish one value on a channel, at ``timestamp`` or now (plant time, after the
        channel's last value); returns its source timestamp."""
        key = (stage, variable)
        if key not in self._node_ids:
            raise ValidationFailed(f"The plant has no channel {stage}/{variable}.")
        when = timestamp
        if when is None:  # now, but after the channel's last value
            when = self.plant_time()
            last = self._last.get(key)
            if last is not None and when <= last:
                when = last + timedelta(microseconds=1)
        await self._emit(key, self._data_value(value, when, status))
        return when
