"""Audit-trail review of a batch: a recorded, signed step before its disposition.

The reviewer (QA) reads every audit event about the batch, its QC results, deviations,
reviews and signatures, and signs the review (meaning ``review``). The review stores the
SHA-256 of the batch record it covered; if the record changes afterwards the review is stale
and release asks for a new one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from saisei.domain.audit import canonical_json, jsonable
from saisei.domain.enums import SignatureMeaning
from saisei.errors import ValidationFailed
from saisei.quality.access import authorize, utc_now
from saisei.quality.esign import (
    Credentials,
    SignatureView,
    apply_signature,
    signature_views,
    verify_signer,
)
from saisei.quality.permissions import check_permission
from saisei.quality.records import batch_content, review_content
from saisei.quality.users import AuthPolicy
from saisei.storage.models import AuditEvent, AuditReview, Batch, User
from saisei.storage.repositories import batches as batch_repo
from saisei.storage.repositories import quality as repo
from saisei.storage.store import Store

__all__ = [
    "AuditReviewView",
    "ReviewEvent",
    "batch_audit_trail",
    "batch_content_hash",
    "review_audit_trail",
    "review_problem",
]


@dataclass(frozen=True)
class ReviewEvent:
    """One audit event as the reviewer reads it."""

    seq: int
    occurred_at: datetime
    actor: str
    tag: str
    entity: str
    old_values: str
    new_values: str
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {k: jsonable(getattr(self, k)) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class AuditReviewView:
    """A recorded audit-trail review with its signature."""

    id: int
    lot: str
    reviewer: str
    reviewed_at: datetime
    last_audit_seq: int
    events_reviewed: int
    comment: str | None
    current: bool
    signatures: tuple[SignatureView, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        out = {k: jsonable(getattr(self, k)) for k in self.__dataclass_fields__}
        out["signatures"] = [s.to_dict() for s in self.signatures]
        return out


def batch_content_hash(session: repo.Session, batch: Batch) -> str:
    """SHA-256 of the batch record as it is now (see :func:`records.batch_content`)."""
    payload = canonical_json(batch_content(session, batch))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _entities(session: repo.Session, batch: Batch) -> dict[str, list[str]]:
    results = [str(r.id) for r in repo.qc_results_of_batch(session, batch.id)]
    deviations = repo.deviations(session, batch_id=batch.id)
    reviews = [str(r.id) for r in repo.audit_reviews(session, batch.id)]
    signed: list[tuple[str, str]] = [
        *(("qc_result", i) for i in results),
        *(("deviation", d.number) for d in deviations),
        *(("audit_review", i) for i in reviews),
        ("batch_release", batch.lot_number),
        ("batch_rejection", batch.lot_number),
    ]
    signatures = [
        str(s.id) for kind, ref in signed for s in repo.signatures_for(session, kind, ref)
    ]
    return {
        "batch": [str(batch.id)],
        "qc_result": results,
        "deviation": [str(d.id) for d in deviations],
        "audit_review": reviews,
        "signature": signatures,
    }


def _events(session: repo.Session, batch: Batch) -> list[AuditEvent]:
    return repo.audit_events_of_entities(session, _entities(session, batch))


def _review_event(event: AuditEvent) -> ReviewEvent:
    return ReviewEvent(
        seq=event.seq,
        occurred_at=event.occurred_at,
        actor=event.actor,
        tag=event.tag,
        entity=f"{event.entity_type or ''} {event.entity_id or ''}".strip(),
        old_values=event.old_values,
        new_values=event.new_values,
        reason=event.reason,
    )


def batch_audit_trail(store: Store, lot: str) -> list[ReviewEvent]:
    """Every audit event about the lot and its QC results, deviations, reviews, signatures."""
    with store.reader() as session:
        batch = batch_repo.get_batch(session, lot)
        return [_review_event(e) for e in _events(session, batch)]


def _review_view(session: repo.Session, review: AuditReview, lot: str) -> AuditReviewView:
    batch = repo.batch_by_id(session, review.batch_id)
    reviewer = session.get(User, review.reviewer_id)
    return AuditReviewView(
        id=review.id,
        lot=lot,
        reviewer=reviewer.username if reviewer is not None else "?",
        reviewed_at=review.reviewed_at,
        last_audit_seq=review.last_audit_seq,
        events_reviewed=review.events_reviewed,
        comment=review.comment,
        current=review.batch_content_hash == batch_content_hash(session, batch),
        signatures=tuple(signature_views(session, "audit_review", str(review.id))),
    )


def review_problem(session: repo.Session, batch: Batch) -> str | None:
    """Why the batch lacks a current, validly signed audit-trail review; None if it has one."""
    reviews = repo.audit_reviews(session, batch.id)
    if not reviews:
        return (
            f"no audit-trail review is recorded for lot {batch.lot_number} "
            f"(run 'saisei review {batch.lot_number}')"
        )
    latest = reviews[-1]
    if latest.batch_content_hash != batch_content_hash(session, batch):
        return (
            f"the batch record changed after the audit-trail review of "
            f"{latest.reviewed_at:%Y-%m-%d %H:%M} UTC; review the audit trail again"
        )
    signatures = signature_views(session, "audit_review", str(latest.id))
    if not any(s.valid and s.meaning == SignatureMeaning.REVIEW.value for s in signatures):
        return f"the audit-trail review {latest.id} has no valid review signature"
    return None


def review_audit_trail(
    store: Store,
    lot: str,
    credentials: Credentials,
    policy: AuthPolicy,
    *,
    comment: str | None = None,
    source: str = "app",
    now: datetime | None = None,
) -> AuditReviewView:
    """Record and sign (meaning ``review``) the audit-trail review of a lot; QA only.

    Raises
    ------
    ValidationFailed
        When the lot has no audit events to review.
    """
    moment = utc_now(now)
    signer = verify_signer(store, credentials, policy, source=source, now=moment)
    check_permission(signer.username, signer.roles, "review.review_audit_trail")
    with store.unit_of_work(
        actor=signer.username, source=source, reason=comment or "audit-trail review"
    ) as uow:
        user = authorize(uow.session, signer.username, "review.review_audit_trail")
        batch = batch_repo.get_batch(uow.session, lot)
        events = _events(uow.session, batch)
        if not events:
            raise ValidationFailed(f"Lot {lot!r} has no audit events to review.")
        review = AuditReview(
            batch_id=batch.id,
            reviewer_id=user.id,
            reviewed_at=moment,
            last_audit_seq=events[-1].seq,
            events_reviewed=len(events),
            batch_content_hash=batch_content_hash(uow.session, batch),
            comment=comment,
        )
        uow.session.add(review)
        uow.flush()
        signature = apply_signature(
            uow,
            signer,
            record_type="audit_review",
            record_id=str(review.id),
            meaning=SignatureMeaning.REVIEW,
            content=review_content(review, lot),
            now=moment,
        )
        review.signature_id = signature.id
        uow.flush()
        return _review_view(uow.session, review, lot)
