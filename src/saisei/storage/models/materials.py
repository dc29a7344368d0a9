"""Materials with their lots, and equipment."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from saisei.domain.enums import MaterialCategory
from saisei.storage.base import Base, IdMixin, StrEnumType


class Material(IdMixin, Base):
    """A kind of material: medium, supplement, reagent, plasmid, vector, vessel."""

    __tablename__ = "materials"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[MaterialCategory] = mapped_column(StrEnumType(MaterialCategory))
    supplier: Mapped[str | None] = mapped_column(String(200))


class MaterialLot(IdMixin, Base):
    """A supplier lot of a material, with its certificate-of-analysis values."""

    __tablename__ = "material_lots"
    __table_args__ = (UniqueConstraint("material_id", "lot_number"),)

    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"))
    lot_number: Mapped[str] = mapped_column(String(64))
    expiry: Mapped[date | None] = mapped_column(Date)
    coa: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(32), default="released")

    material: Mapped[Material] = relationship(lazy="raise")


class Equipment(IdMixin, Base):
    """A piece of equipment: bioreactor, incubator, controlled-rate freezer, ..."""

    __tablename__ = "equipment"

    asset_id: Mapped[str] = mapped_column(String(64), unique=True)
    equipment_type: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    calibration_due: Mapped[date | None] = mapped_column(Date)
