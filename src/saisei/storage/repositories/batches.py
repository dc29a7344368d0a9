"""Batch queries with explicit eager loading."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased, selectinload

from saisei.domain.enums import BatchStatus, ProductType
from saisei.errors import NotFound
from saisei.storage.models import (
    Batch,
    BatchLink,
    Deviation,
    MaterialLot,
    MaterialUse,
    ParameterValue,
    QCResult,
    StageRun,
    TimeSeriesSegment,
)

__all__ = [
    "batch_children",
    "batch_parents",
    "count_by_status",
    "deviations",
    "get_batch",
    "list_batches",
    "material_uses",
    "parameter_values",
    "qc_results",
    "segment_count",
    "stage_runs",
]


def list_batches(
    session: Session,
    *,
    product: ProductType | None = None,
    status: BatchStatus | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Batch]:
    """Batches, newest first, with their process definition loaded."""
    query = select(Batch).options(selectinload(Batch.process))
    if product is not None:
        query = query.where(Batch.product_type == product)
    if status is not None:
        query = query.where(Batch.status == status)
    query = query.order_by(Batch.created_at.desc(), Batch.id.desc()).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.execute(query).scalars())


def get_batch(session: Session, lot_number: str) -> Batch:
    """The batch with ``lot_number``.

    Raises
    ------
    NotFound
        If no batch has that lot number.
    """
    batch = session.execute(
        select(Batch).options(selectinload(Batch.process)).where(Batch.lot_number == lot_number)
    ).scalar_one_or_none()
    if batch is None:
        raise NotFound(
            f"No batch with lot number {lot_number!r}. List lots with 'saisei batches list'."
        )
    return batch


def batch_parents(session: Session, batch: Batch) -> list[str]:
    """Lot numbers of the batch's parent lots."""
    parent = aliased(Batch)
    query = (
        select(parent.lot_number)
        .join(BatchLink, BatchLink.parent_id == parent.id)
        .where(BatchLink.child_id == batch.id)
        .order_by(parent.lot_number)
    )
    return list(session.execute(query).scalars())


def batch_children(session: Session, batch: Batch) -> list[str]:
    """Lot numbers of lots made from this batch."""
    child = aliased(Batch)
    query = (
        select(child.lot_number)
        .join(BatchLink, BatchLink.child_id == child.id)
        .where(BatchLink.parent_id == batch.id)
        .order_by(child.lot_number)
    )
    return list(session.execute(query).scalars())


def stage_runs(session: Session, batch: Batch) -> Sequence[StageRun]:
    """Stage runs of a batch in start order."""
    return (
        session.execute(
            select(StageRun)
            .where(StageRun.batch_id == batch.id)
            .order_by(StageRun.started_at, StageRun.id)
        )
        .scalars()
        .all()
    )


def parameter_values(session: Session, batch: Batch) -> Sequence[ParameterValue]:
    """Recorded parameter values of a batch."""
    return (
        session.execute(
            select(ParameterValue)
            .where(ParameterValue.batch_id == batch.id)
            .order_by(ParameterValue.stage, ParameterValue.parameter)
        )
        .scalars()
        .all()
    )


def material_uses(session: Session, batch: Batch) -> Sequence[tuple[MaterialUse, MaterialLot]]:
    """Material lots used by a batch."""
    rows = session.execute(
        select(MaterialUse, MaterialLot)
        .join(MaterialLot, MaterialUse.material_lot_id == MaterialLot.id)
        .where(MaterialUse.batch_id == batch.id)
        .order_by(MaterialUse.stage, MaterialUse.id)
    )
    return [(use, lot) for use, lot in rows]


def qc_results(session: Session, batch: Batch) -> Sequence[QCResult]:
    """QC results of a batch."""
    return (
        session.execute(
            select(QCResult)
            .where(QCResult.batch_id == batch.id)
            .order_by(QCResult.attribute, QCResult.id)
        )
        .scalars()
        .all()
    )


def deviations(session: Session, batch: Batch) -> Sequence[Deviation]:
    """Deviations raised against a batch."""
    return (
        session.execute(
            select(Deviation).where(Deviation.batch_id == batch.id).order_by(Deviation.opened_at)
        )
        .scalars()
        .all()
    )


def segment_count(session: Session, batch: Batch) -> int:
    """Number of time-series segments stored for a batch."""
    return session.execute(
        select(func.count())
        .select_from(TimeSeriesSegment)
        .where(TimeSeriesSegment.subject_ref == batch.lot_number)
    ).scalar_one()


def count_by_status(session: Session) -> dict[str, int]:
    """Number of batches per status."""
    rows = session.execute(select(Batch.status, func.count()).group_by(Batch.status))
    return {status.value: count for status, count in rows}
