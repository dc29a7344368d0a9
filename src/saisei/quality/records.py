"""The signed content of each kind of record, in one place.

An e-signature is bound to a SHA-256 over the content returned here (plus the signature's own
meaning, signer and time, see :func:`saisei.quality.esign.binding_hash`). Each function reads
the record as it is now, so recomputing the hash after an edit shows the signature invalid.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from saisei.domain.audit import jsonable
from saisei.errors import NotFound
from saisei.storage.models import AuditReview, Batch, Deviation, QCResult
from saisei.storage.repositories import batches as batch_repo
from saisei.storage.repositories import quality as repo

__all__ = [
    "RECORD_TYPES",
    "batch_content",
    "deviation_content",
    "qc_result_content",
    "record_content",
    "review_content",
]


def qc_result_content(result: QCResult, lot: str) -> dict[str, Any]:
    """Every field of a QC result that a signature covers."""
    return {
        "id": result.id,
        "lot": lot,
        "attribute": result.attribute,
        "value": result.value,
        "value_text": result.value_text,
        "unit": result.unit,
        "method": result.method,
        "sample_id": result.sample_id,
        "tested_at": jsonable(result.tested_at),
        "analyst": result.analyst,
        "status": jsonable(result.status),
        "invalidation_reason": result.invalidation_reason,
        "purpose": result.purpose,
        "spec_id": result.spec_id,
        "outcome": result.outcome,
        "retest_of_id": result.retest_of_id,
    }


def deviation_content(deviation: Deviation) -> dict[str, Any]:
    """Every field of a deviation that a signature covers."""
    return {
        "number": deviation.number,
        "batch_id": deviation.batch_id,
        "category": deviation.category,
        "severity": jsonable(deviation.severity),
        "description": deviation.description,
        "root_cause": deviation.root_cause,
        "capa": deviation.capa,
        "status": jsonable(deviation.status),
        "opened_at": jsonable(deviation.opened_at),
        "closed_at": jsonable(deviation.closed_at),
        "qc_result_id": deviation.qc_result_id,
        "custody_event_id": deviation.custody_event_id,
        "shipment_id": deviation.shipment_id,
        "alarm_ref": deviation.alarm_ref,
        "details": jsonable(deviation.details),
    }


def batch_content(session: repo.Session, batch: Batch) -> dict[str, Any]:
    """The batch record reviewed and dispositioned: the lot, its QC results and deviations.

    The batch status is left out: the disposition itself changes it.
    """
    results = repo.qc_results_of_batch(session, batch.id)
    return {
        "lot": batch.lot_number,
        "product_type": jsonable(batch.product_type),
        "process_id": batch.process_id,
        "coi_id": batch.coi_id,
        "collection_id": batch.collection_id,
        "started_at": jsonable(batch.started_at),
        "ended_at": jsonable(batch.ended_at),
        "qc_results": [qc_result_content(r, batch.lot_number) for r in results],
        "deviations": [deviation_content(d) for d in repo.deviations(session, batch_id=batch.id)],
    }


def review_content(review: AuditReview, lot: str) -> dict[str, Any]:
    return {
        "id": review.id,
        "lot": lot,
        "reviewer_id": review.reviewer_id,
        "reviewed_at": jsonable(review.reviewed_at),
        "last_audit_seq": review.last_audit_seq,
        "events_reviewed": review.events_reviewed,
        "batch_content_hash": review.batch_content_hash,
        "comment": review.comment,
    }


def _qc(session: repo.Session, record_id: str) -> dict[str, Any] | None:
    result = session.get(QCResult, int(record_id))
    if result is None:
        return None
    return qc_result_content(result, repo.batch_by_id(session, result.batch_id).lot_number)


def _deviation(session: repo.Session, record_id: str) -> dict[str, Any] | None:
    try:
        return deviation_content(repo.get_deviation(session, record_id))
    except NotFound:
        return None


def _batch(session: repo.Session, record_id: str) -> dict[str, Any] | None:
    return batch_content(session, batch_repo.get_batch(session, record_id))


def _review(session: repo.Session, record_id: str) -> dict[str, Any] | None:
    review = session.get(AuditReview, int(record_id))
    if review is None:
        return None
    return review_content(review, repo.batch_by_id(session, review.batch_id).lot_number)


#: Record type -> reader of its current content (record id as stored on the signature).
RECORD_TYPES: dict[str, Callable[[repo.Session, str], dict[str, Any] | None]] = {
    "qc_result": _qc,
    "deviation": _deviation,
    "batch_release": _batch,
    "batch_rejection": _batch,
    "audit_review": _review,
}


def record_content(
    session: repo.Session, record_type: str, record_id: str
) -> dict[str, Any] | None:
    """Current content of a record, or None when the record no longer exists."""
    reader = RECORD_TYPES.get(record_type)
    if reader is None:
        return None
    return reader(session, record_id)
