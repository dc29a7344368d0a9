"""Batches (lots) with genealogy, stage runs, parameters, material use, QC and notes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from saisei.domain.enums import (
    BatchStatus,
    DeviationSeverity,
    DeviationStatus,
    ProductType,
    QCStatus,
)
from saisei.storage.base import Base, IdMixin, StrEnumType, UTCDateTime, utcnow
from saisei.storage.models.process import ProcessDefinition


class Batch(IdMixin, Base):
    """A manufactured lot of one product under one process definition version."""

    __tablename__ = "batches"

    lot_number: Mapped[str] = mapped_column(String(64), unique=True)
    product_type: Mapped[ProductType] = mapped_column(StrEnumType(ProductType))
    process_id: Mapped[int | None] = mapped_column(ForeignKey("process_definitions.id"))
    coi_id: Mapped[int | None] = mapped_column(ForeignKey("chains_of_identity.id"))
    collection_id: Mapped[int | None] = mapped_column(ForeignKey("collections.id"))
    site_party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    status: Mapped[BatchStatus] = mapped_column(
        StrEnumType(BatchStatus), default=BatchStatus.PLANNED
    )
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    process: Mapped[ProcessDefinition | None] = relationship(lazy="raise")


class BatchLink(IdMixin, Base):
    """Genealogy: a child lot made from (part of) a parent lot."""

    __tablename__ = "batch_links"
    __table_args__ = (UniqueConstraint("parent_id", "child_id"),)

    parent_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    child_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    relation: Mapped[str] = mapped_column(String(32), default="derived")


class StageRun(IdMixin, Base):
    """Execution of one process stage for a batch."""

    __tablename__ = "stage_runs"

    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    stage: Mapped[str] = mapped_column(String(64))
    equipment_id: Mapped[int | None] = mapped_column(ForeignKey("equipment.id"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    operator: Mapped[str | None] = mapped_column(String(64))


class ParameterValue(IdMixin, Base):
    """A recorded value of a process parameter (scalar per batch and stage)."""

    __tablename__ = "parameter_values"

    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    stage: Mapped[str] = mapped_column(String(64))
    parameter: Mapped[str] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float)
    value_text: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(32))
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MaterialUse(IdMixin, Base):
    """A material lot consumed by a batch at a stage."""

    __tablename__ = "material_use"

    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    stage: Mapped[str] = mapped_column(String(64))
    material_lot_id: Mapped[int] = mapped_column(ForeignKey("material_lots.id"))
    quantity: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(32))


class QCResult(IdMixin, Base):
    """A QC test result of a batch; invalidation keeps the value and records the reason.

    ``outcome`` is the evaluation against ``spec_id`` made on entry (``pass``, ``alert``,
    ``action``, ``oos`` or ``no_spec``); a retest points at the result it repeats.
    """

    __tablename__ = "qc_results"

    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    attribute: Mapped[str] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float)
    value_text: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(32))
    method: Mapped[str | None] = mapped_column(String(100))
    sample_id: Mapped[str | None] = mapped_column(String(64))
    tested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    analyst: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[QCStatus] = mapped_column(StrEnumType(QCStatus), default=QCStatus.VALID)
    invalidation_reason: Mapped[str | None] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(32), default="release", server_default="release")
    spec_id: Mapped[int | None] = mapped_column(ForeignKey("specifications.id"))
    outcome: Mapped[str | None] = mapped_column(String(32))
    retest_of_id: Mapped[int | None] = mapped_column(ForeignKey("qc_results.id"))
    entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Observation(IdMixin, Base):
    """Free-text operator knowledge tied to a batch, stage and time, with tags."""

    __tablename__ = "observations"

    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    stage: Mapped[str | None] = mapped_column(String(64))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)


class Deviation(IdMixin, Base):
    """A deviation from procedure or specification, with investigation and CAPA.

    Linked to what it is about: a batch, an out-of-specification QC result, a custody event
    (custody break), a shipment (transport excursion) or a monitoring alarm (by reference).
    """

    __tablename__ = "deviations"

    number: Mapped[str] = mapped_column(String(32), unique=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    category: Mapped[str] = mapped_column(String(64))
    severity: Mapped[DeviationSeverity] = mapped_column(StrEnumType(DeviationSeverity))
    description: Mapped[str] = mapped_column(Text)
    root_cause: Mapped[str | None] = mapped_column(Text)
    capa: Mapped[str | None] = mapped_column(Text)
    status: Mapped[DeviationStatus] = mapped_column(
        StrEnumType(DeviationStatus), default=DeviationStatus.OPEN
    )
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    qc_result_id: Mapped[int | None] = mapped_column(ForeignKey("qc_results.id"))
    custody_event_id: Mapped[int | None] = mapped_column(ForeignKey("custody_events.id"))
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"))
    alarm_ref: Mapped[str | None] = mapped_column(String(64))
