"""Counts of records per area, for home summaries."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saisei.storage.models import (
    AuditEvent,
    Batch,
    Collection,
    Deviation,
    Donor,
    Party,
    ProcessDefinition,
    QCResult,
    Shipment,
    TimeSeriesSegment,
    User,
)

__all__ = ["record_counts"]

_COUNTED = {
    "parties": Party,
    "users": User,
    "donors": Donor,
    "collections": Collection,
    "shipments": Shipment,
    "process_definitions": ProcessDefinition,
    "batches": Batch,
    "qc_results": QCResult,
    "deviations": Deviation,
    "timeseries_segments": TimeSeriesSegment,
    "audit_events": AuditEvent,
}


def record_counts(session: Session) -> dict[str, int]:
    """Number of rows of each main record type."""
    return {
        name: session.execute(select(func.count()).select_from(model)).scalar_one()
        for name, model in _COUNTED.items()
    }
