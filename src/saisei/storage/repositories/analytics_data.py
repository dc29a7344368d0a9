"""Queries that feed the analytics: stored values of one attribute or parameter across lots.

Rows come back as plain named tuples, never ORM objects, so the one converter in
:mod:`saisei.services._data` can turn them into DataFrames without touching a session.
Ordering is by batch start time, falling back to the batch's creation time when it has none
(then batch id, then result id), so lots appear in manufacturing order.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple, cast

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from saisei.domain.enums import ProductType, QCStatus
from saisei.storage.models import (
    Batch,
    ParameterValue,
    QCResult,
    QualityAttribute,
    Specification,
)

__all__ = [
    "AttributeRow",
    "ParameterRow",
    "attribute_rows",
    "parameter_rows",
]


class AttributeRow(NamedTuple):
    """One valid numeric QC result with its lot and the lot's release specification."""

    batch_id: int
    lot_number: str
    product_type: str
    started_at: datetime | None
    created_at: datetime
    result_id: int
    value: float
    unit: str | None
    tested_at: datetime | None
    spec_lower: float | None
    spec_upper: float | None


class ParameterRow(NamedTuple):
    """One numeric recorded value of a process parameter with its lot and stage."""

    batch_id: int
    lot_number: str
    product_type: str
    started_at: datetime | None
    created_at: datetime
    value_id: int
    stage: str
    value: float
    unit: str | None


def attribute_rows(
    session: Session,
    name: str,
    *,
    product: ProductType | None = None,
    purpose: str = "release",
) -> list[AttributeRow]:
    """Valid numeric QC results of attribute ``name`` in lot order.

    Invalidated results and results without a numeric value are left out. ``spec_lower`` and
    ``spec_upper`` are the limits of the :class:`Specification` with ``purpose`` of the
    attribute of the same name in the lot's process definition (None when there is none).
    """
    order_time = func.coalesce(Batch.started_at, Batch.created_at)
    query = (
        select(
            Batch.id,
            Batch.lot_number,
            Batch.product_type,
            Batch.started_at,
            Batch.created_at,
            QCResult.id,
            QCResult.value,
            QCResult.unit,
            QCResult.tested_at,
            Specification.lower,
            Specification.upper,
        )
        .join(Batch, Batch.id == QCResult.batch_id)
        .outerjoin(
            QualityAttribute,
            and_(
                QualityAttribute.process_id == Batch.process_id,
                QualityAttribute.name == QCResult.attribute,
            ),
        )
        .outerjoin(
            Specification,
            and_(
                Specification.attribute_id == QualityAttribute.id,
                Specification.purpose == purpose,
            ),
        )
        .where(
            QCResult.attribute == name,
            QCResult.status == QCStatus.VALID,
            QCResult.value.is_not(None),
        )
        .order_by(order_time, Batch.id, QCResult.id)
    )
    if product is not None:
        query = query.where(Batch.product_type == product)
    return [
        AttributeRow(
            batch_id=row[0],
            lot_number=row[1],
            product_type=row[2].value,
            started_at=row[3],
            created_at=row[4],
            result_id=row[5],
            value=cast(float, row[6]),
            unit=row[7],
            tested_at=row[8],
            spec_lower=row[9],
            spec_upper=row[10],
        )
        for row in session.execute(query)
    ]


def parameter_rows(
    session: Session,
    name: str,
    *,
    product: ProductType | None = None,
    stage: str | None = None,
) -> list[ParameterRow]:
    """Numeric recorded values of process parameter ``name`` in lot order."""
    order_time = func.coalesce(Batch.started_at, Batch.created_at)
    query = (
        select(
            Batch.id,
            Batch.lot_number,
            Batch.product_type,
            Batch.started_at,
            Batch.created_at,
            ParameterValue.id,
            ParameterValue.stage,
            ParameterValue.value,
            ParameterValue.unit,
        )
        .join(Batch, Batch.id == ParameterValue.batch_id)
        .where(ParameterValue.parameter == name, ParameterValue.value.is_not(None))
        .order_by(order_time, Batch.id, ParameterValue.id)
    )
    if product is not None:
        query = query.where(Batch.product_type == product)
    if stage is not None:
        query = query.where(ParameterValue.stage == stage)
    return [
        ParameterRow(
            batch_id=row[0],
            lot_number=row[1],
            product_type=row[2].value,
            started_at=row[3],
            created_at=row[4],
            value_id=row[5],
            stage=row[6],
            value=cast(float, row[7]),
            unit=row[8],
        )
        for row in session.execute(query)
    ]
