"""Comparability studies: the pre-registered plan, its signed amendments and its runs.

A study's plan is written and locked (approval e-signature over the plan's SHA-256) before any
result is computed; each later change is an amendment row with its reason, the hash before and
after and a new signature; each run stores the plan hash it was computed against together with
the lots and values it used, so a report can be rebuilt exactly as it was.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from saisei.domain.enums import ProductType
from saisei.storage.base import Base, IdMixin, StrEnumType, UTCDateTime, utcnow

__all__ = [
    "ComparabilityAmendment",
    "ComparabilityRun",
    "ComparabilityStudy",
    "StudyStatus",
]


class StudyStatus(StrEnum):
    """Life cycle of a comparability study: draft -> locked (-> amended, still locked) -> run."""

    #: The plan may still be edited; nothing can be computed.
    DRAFT = "draft"
    #: The plan is approved (signed); changes only by a signed amendment; results may be run.
    LOCKED = "locked"
    #: Results were computed against the current plan version.
    RUN = "run"


class ComparabilityStudy(IdMixin, Base):
    """A comparability study: its current plan, plan version, hash and approval signature.

    ``plan`` is :meth:`saisei.analytics.comparability.ComparabilityPlan.to_dict` output;
    ``plan_sha256`` is the SHA-256 of the canonical JSON of ``{"product", "plan"}``.
    ``plan_version`` starts at 1 and grows by one per amendment.
    """

    __tablename__ = "comparability_studies"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    product_type: Mapped[ProductType | None] = mapped_column(StrEnumType(ProductType))
    status: Mapped[StudyStatus] = mapped_column(StrEnumType(StudyStatus), default=StudyStatus.DRAFT)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    plan_sha256: Mapped[str] = mapped_column(String(64))
    plan_version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(64))
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id"))


class ComparabilityAmendment(IdMixin, Base):
    """A signed change of a locked plan: the plan before, the reason, the new hash."""

    __tablename__ = "comparability_amendments"
    __table_args__ = (UniqueConstraint("study_id", "plan_version"),)

    study_id: Mapped[int] = mapped_column(ForeignKey("comparability_studies.id"))
    plan_version: Mapped[int] = mapped_column(Integer)
    previous_sha256: Mapped[str] = mapped_column(String(64))
    plan_sha256: Mapped[str] = mapped_column(String(64))
    previous_plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    after_results: Mapped[bool] = mapped_column(Boolean, default=False)
    amended_by: Mapped[str] = mapped_column(String(64))
    amended_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id"))


class ComparabilityRun(IdMixin, Base):
    """One computation of a locked study: the plan hash, the lots, the values, the result."""

    __tablename__ = "comparability_runs"
    __table_args__ = (UniqueConstraint("study_id", "run_number"),)

    study_id: Mapped[int] = mapped_column(ForeignKey("comparability_studies.id"))
    run_number: Mapped[int] = mapped_column(Integer)
    plan_version: Mapped[int] = mapped_column(Integer)
    plan_sha256: Mapped[str] = mapped_column(String(64))
    passed: Mapped[bool] = mapped_column(Boolean)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    ran_by: Mapped[str] = mapped_column(String(64))
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
