"""Audit-trail review, release readiness, release and rejection of a lot."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from saisei.api.deps import SOURCE, CurrentUser, PolicyDep, StoreDep
from saisei.api.schemas.quality import RejectIn, ReleaseIn, ReviewIn
from saisei.quality import disposition, review

router = APIRouter(prefix="/batches", tags=["review and release"])


@router.get("/{lot}/audit-trail")
def audit_trail(lot: str, store: StoreDep, _actor: CurrentUser) -> dict[str, Any]:
    """Every audit event about the lot, its QC results, deviations, reviews, signatures."""
    return {"items": [e.to_dict() for e in review.batch_audit_trail(store, lot)]}


@router.post("/{lot}/review", status_code=201)
def review_lot(
    lot: str, body: ReviewIn, store: StoreDep, actor: CurrentUser, policy: PolicyDep
) -> dict[str, Any]:
    """Record and sign (meaning ``review``) the audit-trail review of the lot; QA only."""
    return review.review_audit_trail(
        store,
        lot,
        actor.credentials(body.password, body.username),
        policy,
        comment=body.comment,
        source=SOURCE,
    ).to_dict()


@router.get("/{lot}/release")
def readiness(lot: str, store: StoreDep, _actor: CurrentUser) -> dict[str, Any]:
    """Release prerequisites of the lot, each met or not with its problems."""
    return disposition.release_readiness(store, lot).to_dict()


@router.get("/{lot}/disposition")
def show_disposition(lot: str, store: StoreDep, _actor: CurrentUser) -> dict[str, Any]:
    """Status and disposition signatures, each checked against the record now."""
    return disposition.disposition_of(store, lot).to_dict()


@router.post("/{lot}/release")
def release(
    lot: str, body: ReleaseIn, store: StoreDep, actor: CurrentUser, policy: PolicyDep
) -> dict[str, Any]:
    """Release with the QA signature (meaning ``release``); 409 names each unmet
    prerequisite."""
    return disposition.release_batch(
        store,
        lot,
        actor.credentials(body.password, body.username),
        policy,
        reason=body.reason,
        source=SOURCE,
    ).to_dict()


@router.post("/{lot}/reject")
def reject(
    lot: str, body: RejectIn, store: StoreDep, actor: CurrentUser, policy: PolicyDep
) -> dict[str, Any]:
    """Reject with the QA signature (meaning ``approval``) and a reason."""
    return disposition.reject_batch(
        store,
        lot,
        actor.credentials(body.password, body.username),
        policy,
        reason=body.reason,
        source=SOURCE,
    ).to_dict()
