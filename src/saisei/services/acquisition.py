"""Live acquisition: OPC UA readings become audited Parquet segments, scored as they arrive.

One segment per stage per flush, written atomically with its manifest row and SHA-256 in one
audited unit of work (source ``opcua``). On a restart the acquisition resumes after the last
stored value of each mapped variable, so nothing is stored twice, and reads the server's
history from there, so nothing is missed. Start, stop and every change in the connection are
audit events. With a monitoring model the lot is scored after each flush; each new alarm goes
to the notifier and may open a deviation. With a quality model the predicted end-of-batch
quality is updated after each flush.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from saisei.domain.audit import jsonable
from saisei.errors import NotFound, SaiseiError
from saisei.ingestion.opcua import ConnectionEvent, Mapping, OpcUaAcquirer, Reading
from saisei.quality.deviations import record_deviation
from saisei.services._lot_lock import LotLock
from saisei.services.batches import compact_series
from saisei.services.monitoring import score_lot
from saisei.services.notify import AlarmNotice, Notifier
from saisei.services.quality_prediction import QualityPrediction, predict_quality
from saisei.storage.repositories import monitoring as monitoring_repo
from saisei.storage.repositories.acquisition import last_samples
from saisei.storage.repositories.batches import get_batch
from saisei.storage.store import Store

__all__ = ["AcquisitionResult", "ResumePoint", "acquire", "acquire_async", "resume_point"]

_log = logging.getLogger(__name__)
SOURCE = "opcua"


@dataclass(frozen=True)
class ResumePoint:
    """Where a lot's stored series end: per node, and the stage starts they imply."""

    last: dict[str, datetime]
    stage_starts: dict[str, datetime]

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON."""
        return {"last": jsonable(self.last), "stage_starts": jsonable(self.stage_starts)}


@dataclass(frozen=True)
class AcquisitionResult:
    """What one acquisition run stored and raised."""

    lot: str
    endpoint: str
    mapping_sha256: str
    started_at: datetime
    stopped_at: datetime
    values: int
    segments: int
    live: int
    backfilled: int
    duplicates_dropped: int
    connections: int
    losses: int
    flush_failures: int
    per_variable: dict[str, int]
    resumed_from: ResumePoint
    alarms: tuple[AlarmNotice, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    prediction: QualityPrediction | None = None
    #: Segments merged into one per stage when the run ended (``compact``).
    compacted: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        out = {
            k: jsonable(getattr(self, k))
            for k in self.__dataclass_fields__
            if k not in {"alarms", "resumed_from", "prediction"}
        }
        out["resumed_from"] = self.resumed_from.to_dict()
        out["alarms"] = [a.to_dict() for a in self.alarms]
        out["prediction"] = self.prediction.to_dict() if self.prediction else None
        return out


def resume_point(store: Store, lot: str, mapping: Mapping) -> ResumePoint:
    """The last stored timestamp of every mapped node of ``lot``, and the stage starts."""
    last: dict[str, datetime] = {}
    starts: dict[str, datetime] = {}
    with store.reader() as session:
        for stage in mapping.stage_names:
            by_variable, start = last_samples(store.timeseries, session, lot, stage)
            if start is not None:
                starts[stage] = start
            for node in mapping.nodes:
                if node.stage == stage and node.variable in by_variable:
                    last[node.node_id] = by_variable[node.variable]
    return ResumePoint(last, starts)


def _frame(readings: list[Reading]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "variable": [r.variable for r in readings],
            "t": [r.t_h for r in readings],
            "value": [r.value for r in readings],
            "unit": [r.unit for r in readings],
            "timestamp": [r.timestamp for r in readings],
            "quality": [r.quality for r in readings],
        }
    ).sort_values(["variable", "t"], kind="stable")


class _Recorder:
    """Stores batches and scores the lot (runs in a worker thread, one call at a time)."""

    def __init__(
        self,
        store: Store,
        *,
        lot: str,
        endpoint: str,
        actor: str,
        model: str | None,
        notifier: Notifier | None,
        open_deviation: bool,
        quality_model: str | None = None,
    ) -> None:
        self.store = store
        self.quality_model = quality_model
        self.prediction: QualityPrediction | None = None
        self.lot = lot
        self.endpoint = endpoint
        self.actor = actor
        self.model = model
        self.notifier = notifier
        self.open_deviation = open_deviation
        self.segments = 0
        self.alarms: list[AlarmNotice] = []
        self.notes: list[str] = []
        self.known_alarms: set[float] = set()
        self.deviation: str | None = None

    def check(self) -> None:
        """Refuse to start for an unknown lot or model; remember alarms already stored."""
        with self.store.reader() as session:
            batch = get_batch(session, self.lot)
            if self.quality_model is not None and (
                monitoring_repo.find_model(session, self.quality_model) is None
            ):
                raise NotFound(
                    f"No quality model called {self.quality_model!r}. Build one, or leave out "
                    "--quality-model."
                )
            if self.model is None:
                return
            row = monitoring_repo.find_model(session, self.model)
            if row is None:
                raise NotFound(
                    f"No monitoring model called {self.model!r}. Build one with "
                    "'saisei monitor build', or leave out --model."
                )
            self.known_alarms = monitoring_repo.stored_alarms(session, row.id, batch.id)

    def audit(self, action: str, new: dict[str, Any]) -> None:
        """One explicit audit event about this acquisition."""
        with self.store.unit_of_work(
            actor=self.actor, source=SOURCE, reason=f"live acquisition of lot {self.lot}"
        ) as uow:
            uow.record("acquisition", action, entity_id=self.lot, new=new)

    def store_batch(self, readings: list[Reading], events: list[ConnectionEvent]) -> None:
        """Write one segment per stage and the connection events, in one unit of work."""
        by_stage: dict[str, list[Reading]] = defaultdict(list)
        for reading in readings:
            by_stage[reading.stage].append(reading)
        with self.store.unit_of_work(
            actor=self.actor,
            source=SOURCE,
            reason=f"live acquisition of lot {self.lot} from {self.endpoint}",
        ) as uow:
            for stage, rows in sorted(by_stage.items()):
                self.store.timeseries.write_segment(
                    uow.session, _frame(rows), subject_ref=self.lot, stage=stage, source=SOURCE
                )
            for event in events:
                uow.record(
                    "acquisition",
                    event.kind,
                    entity_id=self.lot,
                    new={"at": jsonable(event.at), **jsonable(event.detail)},
                )
        self.segments += len(by_stage)

    def score(self, data_until: datetime) -> None:
        """Score the lot with the data so far; tell people of each new alarm."""
        assert self.model is not None
        try:
            result = score_lot(self.store, self.lot, model=self.model, actor=self.actor)
        except SaiseiError as exc:
            self._note(f"scoring with model {self.model} failed: {exc}")
            return
        now = datetime.now(UTC)
        with self.store.reader() as session:
            row = monitoring_repo.find_model(session, result.model, result.version)
            stage = row.stage if row is not None else ""
        records: list[dict[str, Any]] = result.alarms.to_dict("records")  # type: ignore[assignment]
        new: list[AlarmNotice] = []
        for record in records:
            t_h = float(record["t"])
            if t_h in self.known_alarms:
                continue
            self.known_alarms.add(t_h)
            statistic = "t2" if record["t2"] > record["t2_limit"] else "spe"
            notice = AlarmNotice(
                lot=self.lot,
                model=result.model,
                version=result.version,
                stage=stage,
                t_h=t_h,
                statistic=statistic,
                value=float(record[statistic]),
                limit=float(record[f"{statistic}_limit"]),
                top_variables=tuple(record["top_variables"] or ()),
                data_until=data_until,
                detected_at=now,
                deviation=self._deviation(t_h, statistic, record, result.model, result.version),
            )
            new.append(notice)
        self.alarms.extend(new)
        if new and self.notifier is not None and not self.notifier.notify(new):
            self._note(f"the notifier did not accept {len(new)} alarm(s) up to t = {t_h:g} h")

    def predict(self) -> None:
        """Update the predicted end-of-batch quality from the data so far (audited)."""
        assert self.quality_model is not None
        try:
            self.prediction = predict_quality(
                self.store, self.lot, model=self.quality_model, actor=self.actor
            )
        except SaiseiError as exc:
            self._note(f"predicting quality with model {self.quality_model} failed: {exc}")

    def _deviation(
        self, t_h: float, statistic: str, record: dict[str, Any], model: str, version: int
    ) -> str | None:
        if not self.open_deviation or self.deviation is not None:
            return self.deviation
        top = ", ".join(record["top_variables"] or []) or "none"
        try:
            view = record_deviation(
                self.store,
                self.actor,
                description=(
                    f"Live monitoring alarm on lot {self.lot}: {statistic.upper()} "
                    f"{float(record[statistic]):.3g} above its limit "
                    f"{float(record[f'{statistic}_limit']):.3g} at t = {t_h:g} h "
                    f"(model {model} v{version}); top variables: {top}."
                ),
                category="alarm",
                severity="minor",
                lot=self.lot,
                alarm_ref=f"{model}:v{version}:t={t_h:g}"[:64],
                source=SOURCE,
            )
        except SaiseiError as exc:
            self._note(f"could not open a deviation for the alarm at t = {t_h:g} h: {exc}")
            return None
        self.deviation = view.number
        return self.deviation

    def _note(self, text: str) -> None:
        _log.warning("lot %s: %s", self.lot, text)
        self.notes.append(text)


async def acquire_async(
    store: Store,
    *,
    endpoint: str,
    mapping: Mapping,
    lot: str,
    actor: str,
    flush_seconds: float = 5.0,
    duration_s: float | None = None,
    stop: asyncio.Event | None = None,
    model: str | None = None,
    notifier: Notifier | None = None,
    open_deviation: bool = False,
    password: str | None = None,
    connect_timeout_s: float | None = 30.0,
    reconnect_max_s: float = 30.0,
    on_flush: Callable[[int], None] | None = None,
    quality_model: str | None = None,
    compact: bool = False,
) -> AcquisitionResult:
    """Acquire ``lot`` from ``endpoint`` until ``stop`` is set or ``duration_s`` passes.

    Parameters
    ----------
    mapping : Mapping
        Nodes to acquire (see :func:`saisei.ingestion.opcua.load_mapping`).
    model : str, optional
        Monitoring model to score the lot with after every flush.
    notifier : Notifier, optional
        Told of every new alarm (e.g. :class:`saisei.services.notify.WebhookNotifier`).
    open_deviation : bool
        Open one deviation (category ``alarm``) at the first new alarm; ``actor`` needs the
        permission to record deviations.
    on_flush : callable, optional
        Called with the number of values stored after each flush (progress).
    quality_model : str, optional
        Quality model (:mod:`saisei.services.quality_prediction`) whose prediction of the
        end-of-batch quality is updated (and audited) after every flush.
    compact : bool
        When the run ends without failing, merge the lot's segments into one per stage
        (:func:`saisei.services.batches.compact_series`), still holding the lot's lock.

    Raises
    ------
    NotFound
        If the lot or a model does not exist.
    Conflict
        If another acquisition of the lot is running.
    ConfigurationError
        If the server cannot be reached at the start or a mapped node is unknown to it.
    """
    recorder = _Recorder(
        store,
        lot=lot,
        endpoint=endpoint,
        actor=actor,
        model=model,
        notifier=notifier,
        open_deviation=open_deviation,
        quality_model=quality_model,
    )
    recorder.check()
    # Held to the end: a second acquirer of this lot is refused before it reads anything.
    with LotLock(store.timeseries.root, lot, actor=actor, endpoint=endpoint):
        resumed = resume_point(store, lot, mapping)
        # Scoring runs beside the acquisition (latest wins): storing never waits for it.
        scoring: dict[str, Any] = {"task": None, "until": None}

        async def score_while_new_data() -> None:
            while scoring["until"] is not None:
                until, scoring["until"] = scoring["until"], None
                if model is not None:
                    await asyncio.to_thread(recorder.score, until)
                if quality_model is not None:
                    await asyncio.to_thread(recorder.predict)

        async def on_batch(readings: list[Reading], events: list[ConnectionEvent]) -> None:
            await asyncio.to_thread(recorder.store_batch, readings, events)
            if on_flush is not None:
                on_flush(len(readings))
            if (model is not None or quality_model is not None) and readings:
                scoring["until"] = max(r.timestamp for r in readings)
                if scoring["task"] is None or scoring["task"].done():
                    scoring["task"] = asyncio.create_task(score_while_new_data())

        acquirer = OpcUaAcquirer(
            endpoint,
            mapping,
            on_batch=on_batch,
            resume_from=resumed.last,
            stage_starts=resumed.stage_starts,
            flush_seconds=flush_seconds,
            password=password,
            connect_timeout_s=connect_timeout_s,
            reconnect_max_s=reconnect_max_s,
        )
        started = datetime.now(UTC)
        recorder.audit(
            "start",
            {
                "endpoint": endpoint,
                "mapping_sha256": mapping.sha256,
                "nodes": len(mapping.nodes),
                "stages": mapping.stage_names,
                "security": mapping.security.policy,
                "model": model,
                "quality_model": quality_model,
                "flush_seconds": flush_seconds,
                "resume_from": resumed.to_dict()["last"],
            },
        )

        outcome = "completed"
        compacted = 0
        try:
            stats = await acquirer.run(stop=stop, duration_s=duration_s)
            if scoring["task"] is not None:
                await scoring["task"]
            if compact:
                try:
                    merged = await asyncio.to_thread(
                        compact_series, store, lot, actor=actor, source=SOURCE
                    )
                    compacted = sum(m.replaced for m in merged)
                except SaiseiError as exc:  # the values are stored; say why they stay apart
                    recorder._note(f"compaction failed: {exc}")
        except asyncio.CancelledError:
            outcome = "cancelled (values not yet flushed are read again from history on restart)"
            if scoring["task"] is not None:
                scoring["task"].cancel()
            raise
        except Exception as exc:
            outcome = f"failed: {exc}"
            raise
        finally:
            recorder.audit(
                "stop",
                {
                    "outcome": outcome,
                    "values": acquirer.stats.values,
                    "segments": recorder.segments,
                    "backfilled": acquirer.stats.backfilled,
                    "losses": acquirer.stats.losses,
                    "alarms": len(recorder.alarms),
                    "compacted": compacted,
                },
            )
        return AcquisitionResult(
            lot=lot,
            endpoint=endpoint,
            mapping_sha256=mapping.sha256,
            started_at=started,
            stopped_at=datetime.now(UTC),
            values=stats.values,
            segments=recorder.segments,
            live=stats.live,
            backfilled=stats.backfilled,
            duplicates_dropped=stats.duplicates_dropped,
            connections=stats.connections,
            losses=stats.losses,
            flush_failures=stats.flush_failures,
            per_variable=dict(sorted(stats.per_variable.items())),
            resumed_from=resumed,
            alarms=tuple(recorder.alarms),
            notes=tuple(recorder.notes),
            prediction=recorder.prediction,
            compacted=compacted,
        )


def acquire(store: Store, **options: Any) -> AcquisitionResult:
    """:func:`acquire_async` in its own event loop; SIGINT and SIGTERM stop it cleanly."""

    async def main() -> AcquisitionResult:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            # Not possible outside the main thread or on some platforms: then Ctrl-C cancels.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
        began = time.monotonic()
        try:
            return await acquire_async(store, stop=stop, **options)
        finally:
            _log.info("acquisition ran %.1f s", time.monotonic() - began)

    return asyncio.run(main())
