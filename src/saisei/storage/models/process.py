"""Process definitions: stages, parameters (with NOR and PAR), quality attributes and specs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from saisei.domain.enums import ParameterClass, ProductType
from saisei.storage.base import Base, IdMixin, StrEnumType, UTCDateTime, utcnow


class ProcessDefinition(IdMixin, Base):
    """A versioned manufacturing process for one product type."""

    __tablename__ = "process_definitions"
    __table_args__ = (UniqueConstraint("name", "version"),)

    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(32))
    product_type: Mapped[ProductType] = mapped_column(StrEnumType(ProductType))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    stages: Mapped[list[ProcessStage]] = relationship(
        back_populates="process", lazy="raise", order_by="ProcessStage.position"
    )
    attributes: Mapped[list[QualityAttribute]] = relationship(
        back_populates="process", lazy="raise"
    )


class ProcessStage(IdMixin, Base):
    """A stage of a process (e.g. expansion, harvest, fill, freeze)."""

    __tablename__ = "process_stages"
    __table_args__ = (UniqueConstraint("process_id", "name"),)

    process_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"))
    name: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)

    process: Mapped[ProcessDefinition] = relationship(back_populates="stages", lazy="raise")
    parameters: Mapped[list[ProcessParameter]] = relationship(back_populates="stage", lazy="raise")


class ProcessParameter(IdMixin, Base):
    """A process parameter with its unit, class, target, NOR and PAR."""

    __tablename__ = "process_parameters"
    __table_args__ = (UniqueConstraint("stage_id", "name"),)

    stage_id: Mapped[int] = mapped_column(ForeignKey("process_stages.id"))
    name: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(32))
    parameter_class: Mapped[ParameterClass] = mapped_column(
        StrEnumType(ParameterClass), default=ParameterClass.NON_CRITICAL
    )
    target: Mapped[float | None] = mapped_column(Float)
    nor_low: Mapped[float | None] = mapped_column(Float)
    nor_high: Mapped[float | None] = mapped_column(Float)
    par_low: Mapped[float | None] = mapped_column(Float)
    par_high: Mapped[float | None] = mapped_column(Float)

    stage: Mapped[ProcessStage] = relationship(back_populates="parameters", lazy="raise")


class QualityAttribute(IdMixin, Base):
    """A quality attribute of the product made by a process (CQA or not)."""

    __tablename__ = "quality_attributes"
    __table_args__ = (UniqueConstraint("process_id", "name"),)

    process_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"))
    name: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(32))
    critical: Mapped[bool] = mapped_column(default=True)
    method: Mapped[str | None] = mapped_column(String(100))

    process: Mapped[ProcessDefinition] = relationship(back_populates="attributes", lazy="raise")
    specifications: Mapped[list[Specification]] = relationship(
        back_populates="attribute", lazy="raise"
    )


class Specification(IdMixin, Base):
    """Acceptance limits of a quality attribute for one purpose (release, in-process, ...).

    ``lower``/``upper`` are the acceptance limits (either may be absent: one-sided); the alert
    and action levels are optional tighter levels; ``expected_text`` is the required result of
    a qualitative test. Rules: :mod:`saisei.domain.quality_rules`.
    """

    __tablename__ = "specifications"
    __table_args__ = (UniqueConstraint("attribute_id", "purpose"),)

    attribute_id: Mapped[int] = mapped_column(ForeignKey("quality_attributes.id"))
    purpose: Mapped[str] = mapped_column(String(32), default="release")
    lower: Mapped[float | None] = mapped_column(Float)
    upper: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(String(200))
    alert_low: Mapped[float | None] = mapped_column(Float)
    alert_high: Mapped[float | None] = mapped_column(Float)
    action_low: Mapped[float | None] = mapped_column(Float)
    action_high: Mapped[float | None] = mapped_column(Float)
    expected_text: Mapped[str | None] = mapped_column(String(200))

    attribute: Mapped[QualityAttribute] = relationship(
        back_populates="specifications", lazy="raise"
    )
