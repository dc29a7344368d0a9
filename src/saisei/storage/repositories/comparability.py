"""Queries of comparability studies: studies, amendments, runs, candidate lots and QC values.

Lots and values come back as plain named tuples, so :mod:`saisei.services._data` turns them
into DataFrames without a session.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saisei.domain.enums import ProductType, QCStatus
from saisei.errors import NotFound
from saisei.storage.models import (
    Batch,
    ChainOfIdentity,
    Collection,
    ComparabilityAmendment,
    ComparabilityRun,
    ComparabilityStudy,
    ProcessDefinition,
    QCResult,
)

__all__ = [
    "LotRow",
    "QCValueRow",
    "amendments_of",
    "candidate_lots",
    "find_study",
    "get_study",
    "list_studies",
    "next_run_number",
    "qc_value_rows",
    "run_of",
    "runs_of",
]


class LotRow(NamedTuple):
    """A lot that a study's lot selection may pick, with what the selection looks at."""

    batch_id: int
    lot_number: str
    product_type: str
    process_name: str | None
    process_version: str | None
    started_at: datetime | None
    din: str | None
    coi: str | None


class QCValueRow(NamedTuple):
    """One valid numeric QC result of a lot."""

    batch_id: int
    attribute: str
    value: float
    unit: str | None


def find_study(session: Session, code: str) -> ComparabilityStudy | None:
    """The study with ``code``, or None."""
    return session.execute(
        select(ComparabilityStudy).where(ComparabilityStudy.code == code)
    ).scalar_one_or_none()


def get_study(session: Session, code: str) -> ComparabilityStudy:
    """The study with ``code``; NotFound names how to list studies."""
    study = find_study(session, code)
    if study is None:
        raise NotFound(
            f"No comparability study {code!r}. List studies with 'saisei comparability list'."
        )
    return study


def list_studies(session: Session) -> list[ComparabilityStudy]:
    """Every study, by code."""
    return list(
        session.execute(select(ComparabilityStudy).order_by(ComparabilityStudy.code)).scalars()
    )


def amendments_of(session: Session, study_id: int) -> list[ComparabilityAmendment]:
    """Amendments of a study, oldest first."""
    return list(
        session.execute(
            select(ComparabilityAmendment)
            .where(ComparabilityAmendment.study_id == study_id)
            .order_by(ComparabilityAmendment.plan_version)
        ).scalars()
    )


def runs_of(session: Session, study_id: int) -> list[ComparabilityRun]:
    """Runs of a study, oldest first."""
    return list(
        session.execute(
            select(ComparabilityRun)
            .where(ComparabilityRun.study_id == study_id)
            .order_by(ComparabilityRun.run_number)
        ).scalars()
    )


def run_of(session: Session, study_id: int, run_number: int | None) -> ComparabilityRun | None:
    """Run ``run_number`` of a study (the latest when None), or None."""
    query = select(ComparabilityRun).where(ComparabilityRun.study_id == study_id)
    if run_number is None:
        query = query.order_by(ComparabilityRun.run_number.desc()).limit(1)
    else:
        query = query.where(ComparabilityRun.run_number == run_number)
    return session.execute(query).scalar_one_or_none()


def next_run_number(session: Session, study_id: int) -> int:
    """1 + the highest run number of the study (1 for the first run)."""
    highest = session.execute(
        select(func.max(ComparabilityRun.run_number)).where(ComparabilityRun.study_id == study_id)
    ).scalar_one_or_none()
    return 1 + (highest or 0)


def candidate_lots(session: Session, *, product: ProductType | None = None) -> list[LotRow]:
    """Every lot (of ``product``) with its process version, start time, DIN and COI."""
    query = (
        select(
            Batch.id,
            Batch.lot_number,
            Batch.product_type,
            ProcessDefinition.name,
            ProcessDefinition.version,
            Batch.started_at,
            Collection.din,
            ChainOfIdentity.coi,
        )
        .outerjoin(ProcessDefinition, ProcessDefinition.id == Batch.process_id)
        .outerjoin(Collection, Collection.id == Batch.collection_id)
        .outerjoin(ChainOfIdentity, ChainOfIdentity.id == Batch.coi_id)
        .order_by(func.coalesce(Batch.started_at, Batch.created_at), Batch.id)
    )
    if product is not None:
        query = query.where(Batch.product_type == product)
    return [
        LotRow(
            batch_id=row[0],
            lot_number=row[1],
            product_type=row[2].value,
            process_name=row[3],
            process_version=row[4],
            started_at=row[5],
            din=row[6],
            coi=row[7],
        )
        for row in session.execute(query)
    ]


def qc_value_rows(
    session: Session, batch_ids: Sequence[int], attributes: Sequence[str]
) -> list[QCValueRow]:
    """Valid numeric QC results of ``attributes`` for the lots ``batch_ids``."""
    if not batch_ids or not attributes:
        return []
    query = (
        select(QCResult.batch_id, QCResult.attribute, QCResult.value, QCResult.unit)
        .where(
            QCResult.batch_id.in_(list(batch_ids)),
            QCResult.attribute.in_(list(attributes)),
            QCResult.status == QCStatus.VALID,
            QCResult.value.is_not(None),
        )
        .order_by(QCResult.batch_id, QCResult.attribute, QCResult.id)
    )
    return [
        QCValueRow(batch_id=row[0], attribute=row[1], value=cast(float, row[2]), unit=row[3])
        for row in session.execute(query)
    ]
