"""The batch page and its JSON twin: everything about one lot in one read model.

Genealogy, stages, parameters and materials (:func:`saisei.services.batches.show_batch`), QC
results against specifications, deviations, release readiness and disposition signatures
(:mod:`saisei.quality`), the custody chain with its shipments (:mod:`saisei.custody`), the
downsampled trajectories and the lot against its monitoring model with its stored alarms.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from saisei.custody.chains import ChainView, show_chain
from saisei.domain.enums import SubjectType
from saisei.errors import NotFound
from saisei.quality.deviations import DeviationView, list_deviations
from saisei.quality.disposition import (
    DispositionView,
    Readiness,
    disposition_of,
    release_readiness,
)
from saisei.quality.specs import QCResultView, list_qc_results
from saisei.services.batches import BatchDetail, show_batch
from saisei.services.caching import ResultCache
from saisei.services.overview import AlarmView, list_alarms
from saisei.services.trajectories import (
    LotMonitoring,
    LotTrajectories,
    lot_monitoring,
    lot_trajectories,
)
from saisei.storage.repositories import overview as repo
from saisei.storage.repositories.batches import get_batch
from saisei.storage.store import Store

__all__ = ["BatchOverview", "batch_overview"]


@dataclass(frozen=True)
class BatchOverview:
    """One lot with everything the batch page shows."""

    detail: BatchDetail
    qc_results: tuple[QCResultView, ...]
    deviations: tuple[DeviationView, ...]
    readiness: Readiness
    disposition: DispositionView
    chain: ChainView | None
    trajectories: LotTrajectories | None
    monitoring: LotMonitoring
    alarms: tuple[AlarmView, ...]
    series_fingerprint: tuple[str, ...] = ()
    #: Audit chain head the view was read at (None when read without a cache): equal values
    #: mean equal views, so callers may key what they derive from the view by it.
    as_of_seq: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {
            "batch": self.detail.to_dict(),
            "qc_results": [r.to_dict() for r in self.qc_results],
            "deviations": [d.to_dict() for d in self.deviations],
            "readiness": self.readiness.to_dict(),
            "disposition": self.disposition.to_dict(),
            "chain": self.chain.to_dict() if self.chain is not None else None,
            "trajectories": self.trajectories.to_dict() if self.trajectories else None,
            "monitoring": self.monitoring.to_dict(),
            "alarms": [a.to_dict() for a in self.alarms],
            "series_fingerprint": list(self.series_fingerprint),
        }


def batch_overview(
    store: Store,
    lot: str,
    *,
    max_points: int = 600,
    at_h: float | None = None,
    cache: ResultCache | None = None,
) -> BatchOverview:
    """Everything the batch page shows about ``lot``.

    With a ``cache``, the whole view is reused until the next committed change anywhere in
    the store (the audit chain head moves with every change), so a busy page costs one query;
    the view then carries that head in ``as_of_seq``.

    Raises
    ------
    NotFound
        Unknown lot.
    """
    if cache is None:
        return _overview(store, lot, max_points=max_points, at_h=at_h, cache=None)
    with store.reader() as session:
        head = repo.audit_head_seq(session)
    return cache.get(
        ("batch-overview", lot, head, max_points, at_h),
        lambda: replace(
            _overview(store, lot, max_points=max_points, at_h=at_h, cache=cache), as_of_seq=head
        ),
    )


def _overview(
    store: Store,
    lot: str,
    *,
    max_points: int,
    at_h: float | None,
    cache: ResultCache | None,
) -> BatchOverview:
    detail = show_batch(store, lot)
    with store.reader() as session:
        coi = repo.chain_code_of_batch(session, get_batch(session, lot))
        fingerprint = repo.segment_ids(session, lot, SubjectType.BATCH)
    try:
        trajectories: LotTrajectories | None = lot_trajectories(
            store, lot, max_points=max_points, cache=cache
        )
    except NotFound:
        trajectories = None
    return BatchOverview(
        detail=detail,
        qc_results=tuple(list_qc_results(store, lot)),
        deviations=tuple(list_deviations(store, lot=lot)),
        readiness=release_readiness(store, lot),
        disposition=disposition_of(store, lot),
        chain=show_chain(store, coi) if coi is not None else None,
        trajectories=trajectories,
        monitoring=lot_monitoring(store, lot, at_h=at_h, cache=cache),
        alarms=tuple(list_alarms(store, lot=lot)),
        series_fingerprint=fingerprint,
    )
