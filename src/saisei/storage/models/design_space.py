"""Stored design spaces: a versioned, approvable object linked to a process definition.

A design space row keeps everything needed to rebuild and check it: the parameters and
covariates modelled, the attributes with the specifications used, the response-surface terms,
the reliability, the data it was fitted on (lots and values, so a refit reproduces it
exactly), the result (design-space box, proven acceptable ranges) and the SHA-256 of that
content, checked before every use.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from saisei.domain.enums import ProductType
from saisei.storage.base import Base, IdMixin, StrEnumType, UTCDateTime, utcnow

__all__ = ["DesignSpace", "DesignSpaceStatus"]


class DesignSpaceStatus(StrEnum):
    """Life cycle of a stored design space."""

    #: Fitted and stored; not yet approved for use in batch records.
    DRAFT = "draft"
    #: Approved with an e-signature bound to its content hash.
    APPROVED = "approved"


class DesignSpace(IdMixin, Base):
    """A fitted Bayesian design space (Peterson 2008), one version of a named object."""

    __tablename__ = "design_spaces"
    __table_args__ = (UniqueConstraint("name", "version"),)

    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    process_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"))
    product_type: Mapped[ProductType] = mapped_column(StrEnumType(ProductType))
    status: Mapped[DesignSpaceStatus] = mapped_column(
        StrEnumType(DesignSpaceStatus), default=DesignSpaceStatus.DRAFT
    )
    terms: Mapped[str] = mapped_column(String(16))
    reliability: Mapped[float] = mapped_column(Float)
    parameters: Mapped[list[str]] = mapped_column(JSON)
    covariates: Mapped[list[str]] = mapped_column(JSON, default=list)
    attributes: Mapped[list[str]] = mapped_column(JSON)
    specs: Mapped[dict[str, Any]] = mapped_column(JSON)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id"))
