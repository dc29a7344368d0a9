"""The acquirer: subscribe to mapped nodes, buffer, back-fill gaps, reconnect, hand on batches.

Guarantees (per node, by source timestamp):

- **no duplicate**: a value is accepted only if its source timestamp is later than the last
  one accepted (or stored, on a restart: ``resume_from``), so replays, the initial value of
  a new subscription and overlapping history are dropped;
- **no gap** where the server keeps history: after every (re)connection the acquirer first
  subscribes (the server queues changes from then on), then reads history from the last
  accepted timestamp, then accepts the queued live values. A value flagged by the server as
  following a queue overflow triggers the same back-fill for its node.

Pure-ish async code: no storage; every ``flush_seconds`` the buffered readings and connection
events go to an ``on_batch`` coroutine. If it fails, they stay buffered and are offered again
(store and forward). Cancelling :meth:`OpcUaAcquirer.run` drops the buffer (as a crash
would); set the ``stop`` event for a clean stop with a last flush.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from asyncua import Client, Node, ua
from asyncua.client.ua_session import UaSession
from asyncua.common.subscription import Subscription
from asyncua.crypto import security_policies

from saisei.errors import ConfigurationError
from saisei.ingestion.opcua._mapping import Mapping, NodeMapping
from saisei.ingestion.opcua._readings import OVERFLOW_BIT, ConnectionEvent, Reading, quality_of

__all__ = ["AcquisitionStats", "BatchSink", "OpcUaAcquirer"]

_log = logging.getLogger(__name__)

BatchSink = Callable[[list[Reading], list[ConnectionEvent]], Awaitable[None]]

#: End of an open history read: a fixed far-future time (an unspecified end time with no
#: value count is refused by some servers).
_OPEN_END = datetime(2200, 1, 1, tzinfo=UTC)
_POLICIES: dict[str, type[security_policies.SecurityPolicy]] = {
    "Basic256Sha256": security_policies.SecurityPolicyBasic256Sha256,
    "Aes128Sha256RsaOaep": security_policies.SecurityPolicyAes128Sha256RsaOaep,
    "Aes256Sha256RsaPss": security_policies.SecurityPolicyAes256Sha256RsaPss,
}
_QUEUE_MS = 10_000.0
_REFUSALS = {
    "BadUserAccessDenied",
    "BadIdentityTokenInvalid",
    "BadIdentityTokenRejected",
    "BadCertificateUntrusted",
    "BadCertificateInvalid",
    "BadSecurityChecksFailed",
    "BadSecurityPolicyRejected",
}
_NO_DATA = {ua.StatusCodes.BadWaitingForInitialData, ua.StatusCodes.BadNoData}
_LINK_ERRORS = (OSError, TimeoutError, ConnectionError, ua.UaError)


class _Lost(Exception):
    """The connection to the server was lost."""


_Notification = list[ua.MonitoredItemNotification] | ua.StatusChangeNotification


class _BulkSubscription(Subscription):
    """A subscription that hands on the data changes of each publish response whole.

    asyncua wraps every monitored-item notification in events of its own and queues them
    one by one; at thousands of values a second that costs more than decoding them. Here
    each publish response puts one list (or one status change) on :attr:`notifications`.
    """

    def __init__(self, session: UaSession, params: ua.CreateSubscriptionParameters) -> None:
        super().__init__(session, params, None, queue_maxsize=0)
        self.notifications: asyncio.Queue[_Notification] = asyncio.Queue()

    async def publish_callback(self, publish_result: ua.PublishResult) -> None:
        """Queue the notifications of one publish response (called by the session)."""
        self.last_publish_at = time.monotonic()
        message = publish_result.NotificationMessage
        if message.NotificationData is None:
            return
        self.last_sequence_number = int(message.SequenceNumber)
        for notification in message.NotificationData:
            if isinstance(notification, ua.DataChangeNotification):
                if notification.MonitoredItems:
                    self.notifications.put_nowait(notification.MonitoredItems)
            elif isinstance(notification, ua.StatusChangeNotification):
                self.notifications.put_nowait(notification)


@dataclass
class AcquisitionStats:
    """Counts of one run of the acquirer."""

    values: int = 0
    live: int = 0
    backfilled: int = 0
    duplicates_dropped: int = 0
    flushes: int = 0
    flush_failures: int = 0
    connections: int = 0
    losses: int = 0
    per_variable: dict[str, int] = field(default_factory=dict)


def _now() -> datetime:
    return datetime.now(UTC)


def _number(value: Any) -> float | None:
    if isinstance(value, bool | int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def _refused(exc: BaseException) -> bool:
    """A refusal of our credentials or certificate: retrying will not help."""
    return type(exc).__name__ in _REFUSALS


def _no_data(data: ua.DataValue) -> bool:
    """A placeholder the server sends before the first sample: not a measurement."""
    status = data.StatusCode
    return status is not None and (int(status.value) & 0xFFFF0000) in _NO_DATA


class OpcUaAcquirer:
    """Acquire the mapped nodes of one OPC UA server.

    Parameters
    ----------
    endpoint : str
        ``opc.tcp://host:port[/path]``.
    mapping : Mapping
        Nodes, stages, sampling and security.
    on_batch : coroutine function
        Called with ``(readings, events)`` every ``flush_seconds`` (and at a clean stop).
    resume_from : dict, optional
        Node id -> source timestamp of the last value already stored; only later values are
        accepted, and history is read from there.
    stage_starts : dict, optional
        Stage -> start time (``t = 0``) already known (from stored data). Other stages take
        theirs from the mapping, then from the first value seen.
    password : str, optional
        Password of ``mapping.security.username``.
    """

    def __init__(
        self,
        endpoint: str,
        mapping: Mapping,
        *,
        on_batch: BatchSink,
        resume_from: dict[str, datetime] | None = None,
        stage_starts: dict[str, datetime] | None = None,
        flush_seconds: float = 5.0,
        password: str | None = None,
        reconnect_initial_s: float = 0.5,
        reconnect_max_s: float = 30.0,
        connect_timeout_s: float | None = 30.0,
        request_timeout_s: float = 4.0,
        watchdog_s: float = 5.0,
    ) -> None:
        if not endpoint.startswith("opc.tcp://"):
            raise ConfigurationError(
                f"The OPC UA endpoint must be an opc.tcp:// URL such as "
                f"opc.tcp://bioreactor-01:4840. Got {endpoint!r}."
            )
        if flush_seconds <= 0:
            raise ConfigurationError(
                f"The flush interval must be a positive number of seconds. Got {flush_seconds}."
            )
        self.endpoint = endpoint
        self.mapping = mapping
        self.flush_seconds = flush_seconds
        self.reconnect_initial_s = reconnect_initial_s
        self.reconnect_max_s = reconnect_max_s
        self.connect_timeout_s = connect_timeout_s
        self.request_timeout_s = request_timeout_s
        self.watchdog_s = watchdog_s
        self.stats = AcquisitionStats()
        self.stage_starts: dict[str, datetime] = dict(stage_starts or {})
        self._on_batch = on_batch
        self._password = password
        self._last: dict[str, datetime] = dict(resume_from or {})
        self._by_handle: dict[int, NodeMapping] = {}
        self._qualities: dict[int, str] = {}
        self._history: dict[str, bool] | None = None
        self._buffer: list[Reading] = []
        self._events: list[ConnectionEvent] = []
        self._next_flush = 0.0
        self._flush_lock = asyncio.Lock()

    # -- public -------------------------------------------------------------------------

    @property
    def watermarks(self) -> dict[str, datetime]:
        """Node id -> source timestamp of the last value accepted."""
        return dict(self._last)

    async def run(
        self, *, stop: asyncio.Event | None = None, duration_s: float | None = None
    ) -> AcquisitionStats:
        """Acquire until ``stop`` is set or ``duration_s`` has passed, then flush.

        Raises
        ------
        ConfigurationError
            If the server cannot be reached within ``connect_timeout_s`` of the start, or a
            mapped node does not exist on it.
        """
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        began = loop.time()
        deadline = None if duration_s is None else began + duration_s
        self._next_flush = began + self.flush_seconds
        delay = self.reconnect_initial_s
        while not self._done(stop, deadline):
            client: Client | None = None
            try:
                client = await self._connect()
                delay = self.reconnect_initial_s
                await self._session(client, stop, deadline)
            except (*_LINK_ERRORS, _Lost) as exc:
                if self.stats.connections == 0 and _refused(exc):
                    raise ConfigurationError(
                        f"The OPC UA server at {self.endpoint} refused the connection: "
                        f"{type(exc).__name__}. Check the username and password (password_env) "
                        "and that the server trusts the client certificate of the mapping."
                    ) from exc
                if self.stats.connections == 0 and self._gave_up(began):
                    raise ConfigurationError(
                        f"Cannot reach the OPC UA server at {self.endpoint} "
                        f"({type(exc).__name__}: {exc}). Check the endpoint, the network and "
                        "that the server is running."
                    ) from exc
                if client is not None and self.stats.connections:
                    self.stats.losses += 1
                    self._events.append(
                        ConnectionEvent("lost", _now(), {"error": f"{type(exc).__name__}: {exc}"})
                    )
                _log.warning("OPC UA link to %s: %s; retrying in %.1f s", self.endpoint, exc, delay)
            finally:
                if client is not None:
                    await self._close(client)
            if self._done(stop, deadline):
                break
            await self._flush()
            await self._sleep(delay, stop, deadline)
            delay = min(delay * 2, self.reconnect_max_s)
        await self._flush()
        return self.stats

    # -- connection ---------------------------------------------------------------------

    def _done(self, stop: asyncio.Event, deadline: float | None) -> bool:
        return stop.is_set() or (
            deadline is not None and asyncio.get_running_loop().time() >= deadline
        )

    def _gave_up(self, began: float) -> bool:
        return (
            self.connect_timeout_s is not None
            and asyncio.get_running_loop().time() - began >= self.connect_timeout_s
        )

    async def _sleep(self, seconds: float, stop: asyncio.Event, deadline: float | None) -> None:
        if deadline is not None:
            seconds = min(seconds, max(0.0, deadline - asyncio.get_running_loop().time()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)

    async def _connect(self) -> Client:
        client = Client(
            self.endpoint, timeout=self.request_timeout_s, watchdog_intervall=self.watchdog_s
        )
        client.application_uri = "urn:saisei:acquisition"
        client.name = client.description = "saisei acquisition"
        security = self.mapping.security
        if security.secured:
            try:
                await client.set_security(
                    _POLICIES[security.policy],
                    certificate=str(security.certificate),
                    private_key=str(security.private_key),
                    server_certificate=str(security.server_certificate)
                    if security.server_certificate
                    else None,
                    mode=getattr(ua.MessageSecurityMode, security.mode),
                )
            except (FileNotFoundError, ValueError) as exc:
                raise ConfigurationError(
                    f"Cannot load the certificates named in the mapping's security section: {exc}."
                ) from exc
        if security.username is not None:
            client.set_user(security.username)
            client.set_password(self._password or "")
        await asyncio.wait_for(client.connect(), timeout=self.request_timeout_s * 2)
        return client

    async def _close(self, client: Client) -> None:
        try:
            await asyncio.wait_for(client.disconnect(), timeout=self.request_timeout_s)
        except (*_LINK_ERRORS, RuntimeError) as exc:
            _log.debug("closing the OPC UA connection: %s", exc)
            client.disconnect_socket()

    async def _session(self, client: Client, stop: asyncio.Event, deadline: float | None) -> None:
        lost = asyncio.Event()

        async def on_lost(_exc: Exception) -> None:
            lost.set()

        client.connection_lost_callback = on_lost
        await self._resolve_stage_starts(client)
        if self._history is None:
            self._history = await self._history_offered(client)
        subscription = await self._subscribe(client)
        self.stats.connections += 1
        self._events.append(
            ConnectionEvent(
                "connected",
                _now(),
                {"endpoint": self.endpoint, "security": self.mapping.security.policy},
            )
        )
        await self._backfill(client, self.mapping.nodes)
        consumer = asyncio.create_task(self._consume(client, subscription, lost))
        waiters = {asyncio.create_task(lost.wait()), asyncio.create_task(stop.wait())}
        try:
            while True:
                loop = asyncio.get_running_loop()
                until = self._next_flush - loop.time()
                if deadline is not None:
                    until = min(until, deadline - loop.time())
                await asyncio.wait(
                    {consumer, *waiters}, timeout=max(until, 0.0), return_when="FIRST_COMPLETED"
                )
                if consumer.done():
                    consumer.result()
                    raise _Lost("the subscription ended")
                if lost.is_set():
                    raise _Lost("connection lost")
                if self._done(stop, deadline):
                    return
                if loop.time() >= self._next_flush:
                    await self._flush()
        finally:
            for task in (consumer, *waiters):
                task.cancel()
            await asyncio.gather(consumer, *waiters, return_exceptions=True)

    async def _resolve_stage_starts(self, client: Client) -> None:
        for stage in self.mapping.stage_names:
            if stage in self.stage_starts:
                continue
            clock = self.mapping.stages.get(stage)
            if clock is None:
                continue
            if clock.start is not None:
                self.stage_starts[stage] = clock.start
            elif clock.start_node is not None:
                value = await client.get_node(clock.start_node).read_value()
                if not isinstance(value, datetime):
                    raise ConfigurationError(
                        f"The start node {clock.start_node} of stage {stage!r} must hold a "
                        f"DateTime. Got {value!r}."
                    )
                self.stage_starts[stage] = (
                    value if value.tzinfo else value.replace(tzinfo=UTC)
                ).astimezone(UTC)

    async def _history_offered(self, client: Client) -> dict[str, bool]:
        nodes = [client.get_node(m.node_id) for m in self.mapping.nodes]
        values = await client.read_attributes(nodes, ua.AttributeIds.UserAccessLevel)
        offered: dict[str, bool] = {}
        for mapped, value in zip(self.mapping.nodes, values, strict=True):
            if value.StatusCode is not None and not value.StatusCode.is_good():
                raise ConfigurationError(
                    f"Mapped node {mapped.node_id} ({mapped.stage}/{mapped.variable}) cannot "
                    f"be read on {self.endpoint}: {value.StatusCode.name}. Check the node id "
                    "in the mapping against the server's address space."
                )
            level = int(value.Value.Value) if value.Value is not None else 0
            offered[mapped.node_id] = bool(level & ua.AccessLevel.HistoryRead.mask)
        return offered

    async def _subscribe(self, client: Client) -> _BulkSubscription:
        fastest = min(m.sampling_interval_ms for m in self.mapping.nodes)
        publishing = max(self.mapping.publishing_interval_ms, 1.0)
        settings = ua.CreateSubscriptionParameters(
            RequestedPublishingInterval=publishing,
            RequestedLifetimeCount=10_000,
            RequestedMaxKeepAliveCount=client.get_keepalive_count(publishing),
            MaxNotificationsPerPublish=0,  # no limit: a backlog comes in few responses
            PublishingEnabled=True,
            Priority=0,
        )
        # An unbounded client queue: nothing is dropped on the way to the buffer.
        subscription = _BulkSubscription(client.uaclient.session, settings)
        revised = client.get_subscription_revised_params(settings, await subscription.init())
        if revised is not None:
            await subscription.update(revised)
        requests = []
        self._by_handle = {}
        for handle, mapped in enumerate(self.mapping.nodes, start=1):
            self._by_handle[handle] = mapped
            params = ua.MonitoringParameters()
            params.ClientHandle = handle
            params.SamplingInterval = mapped.sampling_interval_ms
            # Room for every sample of _QUEUE_MS (a client busy that long loses nothing);
            # beyond that a server that follows Part 4 flags an overflow and the node is
            # back-filled from history. Servers revise the size down to what they support.
            params.QueueSize = max(
                10, math.ceil(max(4 * publishing, _QUEUE_MS) / max(fastest, 1.0))
            )
            params.DiscardOldest = True
            # StatusValueTimestamp: a repeated value with a new source timestamp is a sample.
            params.Filter = ua.DataChangeFilter(Trigger=ua.DataChangeTrigger.StatusValueTimestamp)
            request = ua.MonitoredItemCreateRequest()
            request.ItemToMonitor = ua.ReadValueId(
                NodeId=ua.NodeId.from_string(mapped.node_id), AttributeId=ua.AttributeIds.Value
            )
            request.MonitoringMode = ua.MonitoringMode.Reporting
            request.RequestedParameters = params
            requests.append(request)
        results = await subscription.create_monitored_items(requests)
        for mapped, result in zip(self.mapping.nodes, results, strict=True):
            if isinstance(result, ua.StatusCode):
                raise ConfigurationError(
                    f"Cannot subscribe to node {mapped.node_id} ({mapped.stage}/"
                    f"{mapped.variable}) on {self.endpoint}: {result.name}."
                )
        return subscription

    # -- values -------------------------------------------------------------------------

    async def _consume(
        self, client: Client, subscription: _BulkSubscription, lost: asyncio.Event
    ) -> None:
        by_handle = self._by_handle
        while True:
            notifications = await subscription.notifications.get()
            if isinstance(notifications, ua.StatusChangeNotification):
                status = notifications.Status
                if status is not None and not status.is_good():
                    lost.set()
                    return
                continue
            live = 0
            try:
                for item in notifications:
                    mapped = by_handle.get(item.ClientHandle)
                    data = item.Value
                    if mapped is None or data is None or _no_data(data):
                        continue
                    status = data.StatusCode
                    if status is not None and int(status.value) & OVERFLOW_BIT:
                        until = data.SourceTimestamp or data.ServerTimestamp
                        await self._backfill(client, [mapped], until=until)
                    live += self._accept(mapped, data)
            finally:
                self.stats.live += live

    def _quality(self, status: ua.StatusCode | None) -> str:
        code = 0 if status is None else int(status.value)
        quality = self._qualities.get(code)
        if quality is None:
            quality = self._qualities[code] = quality_of(status)
        return quality

    def _accept(self, mapped: NodeMapping, data: ua.DataValue) -> bool:
        timestamp = data.SourceTimestamp or data.ServerTimestamp or _now()
        if timestamp.tzinfo is None:
            timestamp = timestamp.replace(tzinfo=UTC)
        last = self._last.get(mapped.node_id)
        if last is not None and timestamp <= last:
            self.stats.duplicates_dropped += 1
            return False
        self._last[mapped.node_id] = timestamp
        start = self.stage_starts.get(mapped.stage)
        if start is None:
            start = self.stage_starts[mapped.stage] = timestamp
        raw = data.Value.Value if data.Value is not None else None
        value = _number(raw)
        quality = self._quality(data.StatusCode)
        if value is None and raw is not None and quality == "good":
            quality = "bad:BadTypeMismatch"
        if quality.startswith("bad"):  # Part 4, 7.7.1: a Bad value is not a measurement
            value = None
        self._buffer.append(
            Reading(
                node_id=mapped.node_id,
                stage=mapped.stage,
                variable=mapped.variable,
                unit=mapped.unit,
                timestamp=timestamp,
                t_h=(timestamp - start).total_seconds() / 3600.0,
                value=value,
                quality=quality,
            )
        )
        return True

    async def _backfill(
        self, client: Client, nodes: Iterable[NodeMapping], *, until: datetime | None = None
    ) -> None:
        counts: dict[str, int] = {}
        for mapped in nodes:
            if not (self._history or {}).get(mapped.node_id):
                continue
            start = self._last.get(mapped.node_id) or self.stage_starts.get(mapped.stage)
            if start is None:
                continue
            node: Node = client.get_node(mapped.node_id)
            history = await node.read_raw_history(
                starttime=start, endtime=until or _OPEN_END, return_bounds=False
            )
            history.sort(key=lambda dv: dv.SourceTimestamp or dv.ServerTimestamp or start)
            accepted = sum(self._accept(mapped, dv) for dv in history)
            if accepted:
                counts[f"{mapped.stage}/{mapped.variable}"] = accepted
                self.stats.backfilled += accepted
        if counts:
            self._events.append(ConnectionEvent("backfilled", _now(), {"values": counts}))

    async def _flush(self) -> None:
        async with self._flush_lock:
            self._next_flush = asyncio.get_running_loop().time() + self.flush_seconds
            if not self._buffer and not self._events:
                return
            readings, events = self._buffer, self._events
            self._buffer, self._events = [], []
            try:
                await self._on_batch(readings, events)
            except Exception:  # store and forward: keep everything and offer it again
                _log.exception("storing %d readings failed; they stay buffered", len(readings))
                self._buffer[:0] = readings
                self._events[:0] = events
                self.stats.flush_failures += 1
                return
            self.stats.flushes += 1
            self.stats.values += len(readings)
            for reading in readings:
                key = f"{reading.stage}/{reading.variable}"
                self.stats.per_variable[key] = self.stats.per_variable.get(key, 0) + 1
