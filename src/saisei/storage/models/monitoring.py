"""Stored multivariate monitoring models and the alarms they raised."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from saisei.domain.enums import ProductType
from saisei.storage.base import Base, IdMixin, StrEnumType, UTCDateTime, utcnow


class MonitoringModel(IdMixin, Base):
    """A fitted, versioned model of normal operation for one product and stage.

    The fitted estimator is kept as a pickled artefact with its SHA-256, checked before every
    use, so a changed artefact is refused instead of silently scoring batches.
    """

    __tablename__ = "monitoring_models"
    __table_args__ = (UniqueConstraint("name", "version"),)

    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    product_type: Mapped[ProductType] = mapped_column(StrEnumType(ProductType))
    stage: Mapped[str] = mapped_column(String(64))
    variables: Mapped[list[str]] = mapped_column(JSON)
    lots: Mapped[list[str]] = mapped_column(JSON)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    artefact: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MonitoringAlarm(IdMixin, Base):
    """An alarm raised when a batch left the model's limits.

    An operator, QA or a process scientist acknowledges it with a comment; until then the
    acknowledgement columns are empty.
    """

    __tablename__ = "monitoring_alarms"
    __table_args__ = (UniqueConstraint("model_id", "batch_id", "t_h"),)

    model_id: Mapped[int] = mapped_column(ForeignKey("monitoring_models.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    t_h: Mapped[float] = mapped_column(Float)
    statistic: Mapped[str] = mapped_column(String(16))
    value: Mapped[float] = mapped_column(Float)
    limit: Mapped[float] = mapped_column(Float)
    top_variables: Mapped[list[str]] = mapped_column(JSON, default=list)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledgement_comment: Mapped[str | None] = mapped_column(Text)
