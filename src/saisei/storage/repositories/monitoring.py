"""Monitoring models, the lots they are built from, and their alarms."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saisei.domain.enums import ProductType, QCStatus, SubjectType
from saisei.storage.models import (
    Batch,
    MonitoringAlarm,
    MonitoringModel,
    QCResult,
    TimeSeriesSegment,
)

__all__ = [
    "find_model",
    "get_alarm",
    "get_alarms",
    "lots_with_series",
    "models",
    "next_version",
    "open_alarms_of_lot",
    "quality_results",
    "stored_alarms",
]


def lots_with_series(session: Session, product: ProductType, stage: str) -> list[str]:
    """Lot numbers of ``product`` with time series at ``stage``, in start order."""
    query = (
        select(Batch.lot_number)
        .where(Batch.product_type == product)
        .where(
            select(TimeSeriesSegment.id)
            .where(
                TimeSeriesSegment.subject_type == SubjectType.BATCH,
                TimeSeriesSegment.subject_ref == Batch.lot_number,
                TimeSeriesSegment.stage == stage,
            )
            .exists()
        )
        .order_by(Batch.started_at, Batch.id)
    )
    return list(session.execute(query).scalars())


def next_version(session: Session, name: str) -> int:
    """The version number the next model called ``name`` gets."""
    current = session.execute(
        select(func.max(MonitoringModel.version)).where(MonitoringModel.name == name)
    ).scalar_one()
    return 1 if current is None else int(current) + 1


def find_model(session: Session, name: str, version: int | None = None) -> MonitoringModel | None:
    """Model ``name`` at ``version`` (the newest when None)."""
    query = select(MonitoringModel).where(MonitoringModel.name == name)
    if version is not None:
        query = query.where(MonitoringModel.version == version)
    return session.execute(
        query.order_by(MonitoringModel.version.desc()).limit(1)
    ).scalar_one_or_none()


def models(session: Session) -> list[MonitoringModel]:
    """Every stored model, by name and version."""
    return list(
        session.execute(
            select(MonitoringModel).order_by(MonitoringModel.name, MonitoringModel.version)
        ).scalars()
    )


def stored_alarms(session: Session, model_id: int, batch_id: int) -> set[float]:
    """Times (h) at which alarms of this model are already stored for this batch."""
    return set(
        session.execute(
            select(MonitoringAlarm.t_h).where(
                MonitoringAlarm.model_id == model_id, MonitoringAlarm.batch_id == batch_id
            )
        ).scalars()
    )


def get_alarm(session: Session, alarm_id: int) -> MonitoringAlarm | None:
    """The stored alarm with id ``alarm_id``, if any."""
    return session.get(MonitoringAlarm, alarm_id)


def get_alarms(session: Session, alarm_ids: Sequence[int]) -> list[MonitoringAlarm]:
    """The stored alarms among ``alarm_ids`` (ids that name none are left out)."""
    if not alarm_ids:
        return []
    query = select(MonitoringAlarm).where(MonitoringAlarm.id.in_(list(alarm_ids)))
    return list(session.execute(query).scalars())


def open_alarms_of_lot(session: Session, lot: str) -> list[MonitoringAlarm]:
    """Alarms of lot ``lot`` not yet acknowledged, by time in the batch."""
    query = (
        select(MonitoringAlarm)
        .join(Batch, Batch.id == MonitoringAlarm.batch_id)
        .where(Batch.lot_number == lot, MonitoringAlarm.acknowledged_at.is_(None))
        .order_by(MonitoringAlarm.t_h, MonitoringAlarm.id)
    )
    return list(session.execute(query).scalars())


def quality_results(session: Session, lots: list[str], attribute: str) -> list[tuple[str, float]]:
    """(lot, value) of every valid numeric QC result of ``attribute`` of ``lots``."""
    rows = session.execute(
        select(Batch.lot_number, QCResult.value)
        .join(Batch, Batch.id == QCResult.batch_id)
        .where(
            Batch.lot_number.in_(lots),
            QCResult.attribute == attribute,
            QCResult.value.is_not(None),
            QCResult.status == QCStatus.VALID,
        )
    ).all()
    return [(str(lot), float(value)) for lot, value in rows if value is not None]
