"""Parties of the supply chain, users and roles."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Column, Date, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from saisei.domain.enums import PartyType, QualificationStatus
from saisei.storage.base import Base, IdMixin, StrEnumType, UTCDateTime, utcnow

user_roles = Table(
    "user_roles",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)


class Party(IdMixin, Base):
    """An organisation: collection site, intermediary, manufacturer, courier, clinical site."""

    __tablename__ = "parties"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    party_type: Mapped[PartyType] = mapped_column(StrEnumType(PartyType))
    country: Mapped[str | None] = mapped_column(String(2))
    qualification_status: Mapped[QualificationStatus] = mapped_column(
        StrEnumType(QualificationStatus), default=QualificationStatus.PENDING
    )
    qualified_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Role(IdMixin, Base):
    """A named set of permissions (admin, qa, qc_analyst, operator, ...)."""

    __tablename__ = "roles"

    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str | None] = mapped_column(String(500))


class User(IdMixin, Base):
    """A person who signs in; unique user id, full name, argon2 password hash."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    roles: Mapped[list[Role]] = relationship(secondary=user_roles, lazy="raise")
    party: Mapped[Party | None] = relationship(lazy="raise")


class PasswordHistory(IdMixin, Base):
    """A password a user had before: its argon2 hash and when it was replaced.

    Read to refuse the re-use of recent passwords (EU GMP Annex 11 section 12); never a
    password itself.
    """

    __tablename__ = "password_history"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    password_hash: Mapped[str] = mapped_column(String(200))
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime)
