"""Shipments and custody events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from saisei.domain.enums import ShipmentStatus, SubjectType
from saisei.storage.base import Base, IdMixin, StrEnumType, UTCDateTime


class Shipment(IdMixin, Base):
    """A shipment of a collection, a lot or product units between two parties."""

    __tablename__ = "shipments"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    subject_type: Mapped[SubjectType] = mapped_column(StrEnumType(SubjectType))
    subject_ref: Mapped[str] = mapped_column(String(64))
    from_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    to_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    container_id: Mapped[str | None] = mapped_column(String(64))
    condition_class: Mapped[str | None] = mapped_column(String(64))
    packed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[ShipmentStatus] = mapped_column(
        StrEnumType(ShipmentStatus), default=ShipmentStatus.PLANNED
    )
    evaluation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CustodyEvent(IdMixin, Base):
    """One step in the chain of custody, hash-linked to the previous event of its chain.

    ``seq`` (1-based position in the chain), ``prev_hash`` and ``hash`` are set when the event
    is recorded through :mod:`saisei.custody`; the columns from ``din`` to ``details`` hold the
    rest of what the hash covers (:func:`saisei.domain.custody.custody_event_fields`).
    Imported rows leave them NULL: such a row is not hash-linked.
    """

    __tablename__ = "custody_events"
    __table_args__ = (UniqueConstraint("coi_id", "seq"),)

    coi_id: Mapped[int | None] = mapped_column(ForeignKey("chains_of_identity.id"))
    subject_type: Mapped[SubjectType] = mapped_column(StrEnumType(SubjectType))
    subject_ref: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(32))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    actor: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    scanned_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    seq: Mapped[int | None] = mapped_column(Integer)
    din: Mapped[str | None] = mapped_column(String(16))
    patient_coi: Mapped[str | None] = mapped_column(String(32))
    qc_disposition: Mapped[str | None] = mapped_column(String(16))
    deviation_ref: Mapped[str | None] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scans: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
