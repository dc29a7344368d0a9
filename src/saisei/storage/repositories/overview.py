"""Read-only queries behind the dashboard, the alarm list and the shipment list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saisei.domain.enums import BatchStatus, DeviationStatus, ShipmentStatus
from saisei.storage.models import (
    AuditChainHead,
    Batch,
    ChainOfIdentity,
    Deviation,
    MonitoringAlarm,
    MonitoringModel,
    Party,
    Shipment,
    TimeSeriesSegment,
)

__all__ = [
    "alarm_rows",
    "audit_head_seq",
    "batch_count",
    "chain_code_of_batch",
    "count_batches_by_status",
    "deviations_by_status",
    "segment_ids",
    "shipment_rows",
]


def batch_count(
    session: Session,
    *,
    product: Any = None,
    status: BatchStatus | None = None,
) -> int:
    """Number of batches matching the list filters."""
    query = select(func.count()).select_from(Batch)
    if product is not None:
        query = query.where(Batch.product_type == product)
    if status is not None:
        query = query.where(Batch.status == status)
    return int(session.execute(query).scalar_one())


def count_batches_by_status(session: Session) -> dict[str, int]:
    """Batches per status value."""
    rows = session.execute(select(Batch.status, func.count()).group_by(Batch.status)).all()
    return {status.value: int(n) for status, n in rows}


def alarm_rows(
    session: Session,
    *,
    lot: str | None = None,
    limit: int | None = None,
    alarm_ids: Sequence[int] | None = None,
) -> list[tuple[MonitoringAlarm, MonitoringModel, str]]:
    """Stored monitoring alarms (newest first) with their model and lot number, optionally
    of one lot or the alarms ``alarm_ids``."""
    query = (
        select(MonitoringAlarm, MonitoringModel, Batch.lot_number)
        .join(MonitoringModel, MonitoringModel.id == MonitoringAlarm.model_id)
        .join(Batch, Batch.id == MonitoringAlarm.batch_id)
    )
    if lot is not None:
        query = query.where(Batch.lot_number == lot)
    if alarm_ids is not None:
        query = query.where(MonitoringAlarm.id.in_(list(alarm_ids)))
    query = query.order_by(MonitoringAlarm.raised_at.desc(), MonitoringAlarm.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [(a, m, str(n)) for a, m, n in session.execute(query).all()]


def shipment_rows(
    session: Session,
    *,
    statuses: Sequence[ShipmentStatus] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[tuple[Shipment, str | None, str | None]]:
    """Shipments (newest dispatch first) with the codes of sender and receiver."""
    sender = select(Party.code).where(Party.id == Shipment.from_party_id).scalar_subquery()
    receiver = select(Party.code).where(Party.id == Shipment.to_party_id).scalar_subquery()
    query = select(Shipment, sender, receiver)
    if statuses:
        query = query.where(Shipment.status.in_(list(statuses)))
    query = query.order_by(Shipment.shipped_at.desc(), Shipment.id.desc()).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [(s, f, t) for s, f, t in session.execute(query).all()]


def deviations_by_status(
    session: Session, statuses: Sequence[DeviationStatus], *, limit: int | None = None
) -> list[tuple[Deviation, str | None]]:
    """Deviations in ``statuses`` (oldest first) with their lot number."""
    lot = select(Batch.lot_number).where(Batch.id == Deviation.batch_id).scalar_subquery()
    query = (
        select(Deviation, lot)
        .where(Deviation.status.in_(list(statuses)))
        .order_by(Deviation.opened_at, Deviation.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [(d, n) for d, n in session.execute(query).all()]


def chain_code_of_batch(session: Session, batch: Batch) -> str | None:
    """The COI of the chain the batch was made from, if any."""
    if batch.coi_id is None:
        return None
    return session.execute(
        select(ChainOfIdentity.coi).where(ChainOfIdentity.id == batch.coi_id)
    ).scalar_one_or_none()


def segment_ids(session: Session, subject_ref: str, subject_type: Any) -> tuple[str, ...]:
    """Ids of every stored segment of a subject (a fingerprint of its time series)."""
    rows = session.execute(
        select(TimeSeriesSegment.segment_id)
        .where(
            TimeSeriesSegment.subject_ref == subject_ref,
            TimeSeriesSegment.subject_type == subject_type,
        )
        .order_by(TimeSeriesSegment.id)
    ).scalars()
    return tuple(rows)


def audit_head_seq(session: Session) -> int:
    """Sequence number of the newest audit event: it grows with every committed change, so a
    read model keyed by it is never stale."""
    seq = session.execute(select(func.max(AuditChainHead.seq))).scalar_one_or_none()
    return int(seq or 0)
