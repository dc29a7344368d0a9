"""Quality-system records: sign-in sessions and audit-trail reviews of batches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from saisei.storage.base import Base, IdMixin, UTCDateTime, utcnow


class UserSession(IdMixin, Base):
    """A continuous period of controlled system access by one user (21 CFR 11.200(a)(1)).

    Only the SHA-256 of the session token is stored. ``signings`` counts the e-signatures of
    the current continuous period: the first needs user id and password, later ones the
    password; after ``last_activity_at`` + the timeout the period ends and both are needed.
    """

    __tablename__ = "user_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signings: Mapped[int] = mapped_column(Integer, default=0)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditReview(IdMixin, Base):
    """A signed review of the audit trail of one batch, a prerequisite of its disposition.

    ``batch_content_hash`` is the SHA-256 of the batch record when it was reviewed; a later
    change of the record makes the review stale, and release then asks for a new review.
    """

    __tablename__ = "audit_reviews"

    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_audit_seq: Mapped[int] = mapped_column(Integer)
    events_reviewed: Mapped[int] = mapped_column(Integer)
    batch_content_hash: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id"))
