"""Donors, chains of identity and collections of source material."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from saisei.domain.enums import DonorType, ProductType
from saisei.storage.base import Base, IdMixin, StrEnumType, UTCDateTime, utcnow
from saisei.storage.models.parties import Party


class Donor(IdMixin, Base):
    """A pseudonymous donor: the autologous patient or an allogeneic donor."""

    __tablename__ = "donors"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    donor_type: Mapped[DonorType] = mapped_column(StrEnumType(DonorType))
    age_years: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(16))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChainOfIdentity(IdMixin, Base):
    """A Chain of Identity identifier linking all donations and products of one therapy."""

    __tablename__ = "chains_of_identity"

    coi: Mapped[str] = mapped_column(String(32), unique=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"))
    product_type: Mapped[ProductType | None] = mapped_column(StrEnumType(ProductType))
    allocated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    donor: Mapped[Donor] = relationship(lazy="raise")


class Collection(IdMixin, Base):
    """A collection of source material (one DIN) at a collection site."""

    __tablename__ = "collections"

    din: Mapped[str] = mapped_column(String(16), unique=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"))
    coi_id: Mapped[int | None] = mapped_column(ForeignKey("chains_of_identity.id"))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    tissue_source: Mapped[str] = mapped_column(String(64))
    method: Mapped[str | None] = mapped_column(String(64))
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    volume_ml: Mapped[float | None] = mapped_column(Float)
    total_nucleated_cells: Mapped[float | None] = mapped_column(Float)
    viability_pct: Mapped[float | None] = mapped_column(Float)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    donor: Mapped[Donor] = relationship(lazy="raise")
    party: Mapped[Party] = relationship(lazy="raise")
