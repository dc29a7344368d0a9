"""Records about records: time-series manifest, e-signatures, the audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from saisei.domain.enums import SignatureMeaning, SubjectType
from saisei.storage.base import Base, IdMixin, StrEnumType, UTCDateTime, utcnow


class TimeSeriesSegment(IdMixin, Base):
    """Manifest row of one immutable Parquet segment of the time-series store."""

    __tablename__ = "timeseries_segments"

    segment_id: Mapped[str] = mapped_column(String(36), unique=True)
    subject_type: Mapped[SubjectType] = mapped_column(StrEnumType(SubjectType))
    subject_ref: Mapped[str] = mapped_column(String(64), index=True)
    stage: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    variables: Mapped[list[str]] = mapped_column(JSON)
    row_count: Mapped[int] = mapped_column(Integer)
    t_start_h: Mapped[float | None] = mapped_column(Float)
    t_end_h: Mapped[float | None] = mapped_column(Float)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(500))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("timeseries_segments.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SegmentReplacement(IdMixin, Base):
    """A segment made by compacting others replaces each of them (one row per replaced one).

    A correction supersedes exactly one segment (``TimeSeriesSegment.supersedes_id``); a
    compacted segment holds the rows of many, so it names them here. Replaced segments stay
    as they are (files and manifest rows), as evidence; reads skip them.
    """

    __tablename__ = "timeseries_segment_replacements"

    segment_id: Mapped[int] = mapped_column(ForeignKey("timeseries_segments.id"), index=True)
    replaced_id: Mapped[int] = mapped_column(ForeignKey("timeseries_segments.id"), unique=True)


class Signature(IdMixin, Base):
    """An electronic signature bound to a hash of the signed content (21 CFR 11.50/11.70)."""

    __tablename__ = "signatures"

    record_type: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    signer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signer_name: Mapped[str] = mapped_column(String(200))
    meaning: Mapped[SignatureMeaning] = mapped_column(StrEnumType(SignatureMeaning))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEvent(Base):
    """One append-only, hash-chained audit-trail entry.

    No code path updates or deletes these rows; :mod:`saisei.storage.audit` only inserts.
    """

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tag: Mapped[str] = mapped_column(String(200), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    entity_type: Mapped[str | None] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    old_values: Mapped[str] = mapped_column(Text)
    new_values: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditChainHead(Base):
    """The single row holding the last sequence number and hash of the audit chain.

    Writers lock this row (``SELECT ... FOR UPDATE``) so concurrent transactions append to the
    chain one after another, and a truncated tail shows as a head that no event matches.
    """

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
