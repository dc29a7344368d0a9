"""Read models of the web pages and their JSON twins: batch pages of the list, dashboard,
monitoring alarms, shipments with their logger traces."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import numpy as np
import pandas as pd

from saisei.analytics.downsample import lttb_indices
from saisei.domain.audit import jsonable
from saisei.domain.enums import (
    BatchStatus,
    DeviationStatus,
    ProductType,
    ShipmentStatus,
    SubjectType,
)
from saisei.errors import NotFound, ValidationFailed
from saisei.services.batches import BatchSummary, list_batches
from saisei.storage.repositories import custody as custody_repo
from saisei.storage.repositories import overview as repo
from saisei.storage.store import Store

__all__ = [
    "AlarmView",
    "BatchPage",
    "Dashboard",
    "ShipmentDetail",
    "ShipmentSummary",
    "batch_page",
    "dashboard",
    "list_alarms",
    "list_shipments",
    "shipment_detail",
    "shipment_fingerprint",
]

_IN_PROGRESS = (BatchStatus.PLANNED, BatchStatus.IN_PROCESS, BatchStatus.COMPLETED)
_WATCHED_SHIPMENTS = (ShipmentStatus.IN_TRANSIT, ShipmentStatus.QUARANTINED)


@dataclass(frozen=True)
class BatchPage:
    """One page of the batch list with the total number of matching batches."""

    items: tuple[BatchSummary, ...]
    total: int
    limit: int
    offset: int

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {
            "items": [b.to_dict() for b in self.items],
            "total": self.total,
            "limit": self.limit,
            "offset": self.offset,
        }


@dataclass(frozen=True)
class AlarmView:
    """A stored monitoring alarm and its acknowledgement (None until acknowledged)."""

    id: int
    lot: str
    model: str
    version: int
    stage: str
    t_h: float
    statistic: str
    value: float
    limit: float
    top_variables: tuple[str, ...]
    raised_at: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    acknowledgement_comment: str | None = None

    @property
    def acknowledged(self) -> bool:
        """Whether the alarm has been acknowledged."""
        return self.acknowledged_at is not None

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output (with ``acknowledged``, true or false)."""
        out = {k: jsonable(getattr(self, k)) for k in self.__dataclass_fields__}
        out["acknowledged"] = self.acknowledged
        return out


@dataclass(frozen=True)
class ShipmentSummary:
    """One line of the shipment list."""

    code: str
    subject_type: str
    subject_ref: str
    from_party: str | None
    to_party: str | None
    condition_class: str | None
    status: str
    shipped_at: datetime | None
    received_at: datetime | None
    excursions: int
    unacknowledged: int

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {k: jsonable(getattr(self, k)) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class ShipmentDetail:
    """A shipment, its stored evaluation and its logger traces (downsampled)."""

    summary: ShipmentSummary
    container_id: str | None
    evaluation: dict[str, Any]
    series: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {
            **self.summary.to_dict(),
            "container_id": self.container_id,
            "evaluation": self.evaluation,
            "series": list(self.series),
        }


@dataclass(frozen=True)
class Dashboard:
    """What needs attention now."""

    counts: dict[str, int]
    in_progress: tuple[BatchSummary, ...]
    awaiting_release: tuple[BatchSummary, ...]
    deviations_open: tuple[dict[str, Any], ...]
    alarms: tuple[AlarmView, ...]
    shipments: tuple[ShipmentSummary, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {
            "counts": dict(self.counts),
            "in_progress": [b.to_dict() for b in self.in_progress],
            "awaiting_release": [b.to_dict() for b in self.awaiting_release],
            "deviations_open": [jsonable(d) for d in self.deviations_open],
            "alarms": [a.to_dict() for a in self.alarms],
            "shipments": [s.to_dict() for s in self.shipments],
        }


def _check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= 500:
        raise ValidationFailed(f"The page size 'limit' must be 1-500. Got {limit}.")
    if offset < 0:
        raise ValidationFailed(f"The 'offset' must be 0 or more. Got {offset}.")


def batch_page(
    store: Store,
    *,
    product: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> BatchPage:
    """Batches newest first, filtered, one page at a time, with the total count."""
    _check_page(limit, offset)
    items = list_batches(store, product=product, status=status, limit=limit, offset=offset)
    with store.reader() as session:
        total = repo.batch_count(
            session,
            product=ProductType(product) if product else None,
            status=BatchStatus(status) if status else None,
        )
    return BatchPage(tuple(items), total, limit, offset)


def _alarm(row: tuple[Any, Any, str]) -> AlarmView:
    alarm, model, lot = row
    return AlarmView(
        id=alarm.id,
        lot=lot,
        model=model.name,
        version=model.version,
        stage=model.stage,
        t_h=alarm.t_h,
        statistic=alarm.statistic,
        value=alarm.value,
        limit=alarm.limit,
        top_variables=tuple(alarm.top_variables or ()),
        raised_at=alarm.raised_at,
        acknowledged_by=alarm.acknowledged_by,
        acknowledged_at=alarm.acknowledged_at,
        acknowledgement_comment=alarm.acknowledgement_comment,
    )


def list_alarms(
    store: Store,
    *,
    lot: str | None = None,
    limit: int | None = 200,
    alarm_ids: Sequence[int] | None = None,
) -> list[AlarmView]:
    """Stored monitoring alarms, newest first, optionally of one lot or the alarms
    ``alarm_ids`` (``limit`` None: all)."""
    with store.reader() as session:
        rows = repo.alarm_rows(session, lot=lot, limit=limit, alarm_ids=alarm_ids)
        return [_alarm(r) for r in rows]


def _shipment(shipment: Any, sender: str | None, receiver: str | None) -> ShipmentSummary:
    excursions = (shipment.evaluation or {}).get("excursions", [])
    return ShipmentSummary(
        code=shipment.code,
        subject_type=shipment.subject_type.value,
        subject_ref=shipment.subject_ref,
        from_party=sender,
        to_party=receiver,
        condition_class=shipment.condition_class,
        status=shipment.status.value,
        shipped_at=shipment.shipped_at,
        received_at=shipment.received_at,
        excursions=len(excursions),
        unacknowledged=sum(1 for e in excursions if not e.get("acknowledged")),
    )


def list_shipments(
    store: Store, *, status: str | None = None, limit: int = 50, offset: int = 0
) -> list[ShipmentSummary]:
    """Shipments, newest dispatch first, optionally in one status."""
    _check_page(limit, offset)
    statuses = None
    if status is not None:
        try:
            statuses = [ShipmentStatus(status)]
        except ValueError:
            options = ", ".join(s.value for s in ShipmentStatus)
            raise ValidationFailed(
                f"The 'status' filter must be one of {options}. Got {status!r} instead."
            ) from None
    with store.reader() as session:
        rows = repo.shipment_rows(session, statuses=statuses, limit=limit, offset=offset)
        return [_shipment(*r) for r in rows]


def _logger_series(frame: pd.DataFrame, max_points: int) -> tuple[dict[str, Any], ...]:
    out = []
    for variable, part in frame.groupby("variable", sort=True):
        part = part[np.isfinite(part["value"].to_numpy(dtype=float))]
        t = part["t"].to_numpy(dtype=float)
        index = lttb_indices(t, part["value"].to_numpy(dtype=float), max_points)
        picked = part.iloc[index]
        stamps = pd.to_datetime(picked["timestamp"], utc=True)
        out.append(
            {
                "variable": str(variable),
                "unit": str(picked["unit"].iloc[0]) if len(picked) else None,
                "n_points": len(part),
                "t": picked["t"].astype(float).tolist(),
                "timestamp": [None if pd.isna(s) else s.isoformat() for s in stamps],
                "value": picked["value"].astype(float).tolist(),
            }
        )
    return tuple(out)


def shipment_detail(store: Store, code: str, *, max_points: int = 2000) -> ShipmentDetail:
    """A shipment with its evaluation and its logger traces, LTTB-downsampled.

    Raises
    ------
    NotFound
        Unknown shipment.
    """
    with store.reader() as session:
        shipment = custody_repo.get_shipment(session, code)
        parties = custody_repo.parties_by_id(
            session, [shipment.from_party_id, shipment.to_party_id]
        )
        sender = parties.get(shipment.from_party_id)
        receiver = parties.get(shipment.to_party_id)
        summary = _shipment(
            shipment, sender.code if sender else None, receiver.code if receiver else None
        )
        try:
            frame = cast(pd.DataFrame, store.timeseries.read(session, shipment=code))
        except NotFound:
            frame = pd.DataFrame(columns=["variable", "t", "value", "unit", "timestamp"])
        return ShipmentDetail(
            summary=summary,
            container_id=shipment.container_id,
            evaluation=dict(shipment.evaluation or {}),
            series=_logger_series(frame, max_points),
        )


def dashboard(store: Store, *, limit: int = 10) -> Dashboard:
    """Batches in progress and awaiting release, open deviations, recent alarms, shipments in
    transit or quarantined."""
    with store.reader() as session:
        counts = repo.count_batches_by_status(session)
        deviations = [
            {
                "number": d.number,
                "lot": lot,
                "severity": d.severity.value,
                "status": d.status.value,
                "description": d.description,
            }
            for d, lot in repo.deviations_by_status(
                session,
                [DeviationStatus.OPEN, DeviationStatus.INVESTIGATION, DeviationStatus.CAPA],
                limit=limit,
            )
        ]
        shipments = [
            _shipment(*r)
            for r in repo.shipment_rows(session, statuses=_WATCHED_SHIPMENTS, limit=limit)
        ]
        alarms = [_alarm(r) for r in repo.alarm_rows(session, limit=limit)]
    in_progress: list[BatchSummary] = []
    for status in _IN_PROGRESS:
        in_progress += list_batches(store, status=status.value, limit=limit)
    awaiting = list_batches(store, status=BatchStatus.QUARANTINE.value, limit=limit)
    return Dashboard(
        counts=counts,
        in_progress=tuple(in_progress[:limit]),
        awaiting_release=tuple(awaiting),
        deviations_open=tuple(deviations),
        alarms=tuple(alarms),
        shipments=tuple(shipments),
    )


def shipment_fingerprint(store: Store, code: str) -> tuple[str, ...]:
    """Segment ids of a shipment's logger data (changes when data are added or corrected)."""
    with store.reader() as session:
        return repo.segment_ids(session, code, SubjectType.SHIPMENT)
