"""Listing batches and showing one batch with everything recorded against it."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from saisei.domain.audit import jsonable
from saisei.domain.enums import BatchStatus, ProductType
from saisei.errors import NotFound, ValidationFailed
from saisei.storage.repositories import batches as repo
from saisei.storage.store import Store
from saisei.storage.timeseries import SegmentBatch

__all__ = ["BatchDetail", "BatchSummary", "list_batches", "show_batch"]


@dataclass(frozen=True)
class BatchSummary:
    """One line of the batch list."""

    lot_number: str
    product_type: str
    process: str | None
    status: str
    started_at: datetime | None
    ended_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output (times as ISO 8601 UTC)."""
        return {k: jsonable(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class BatchDetail:
    """A batch with its genealogy, stages, parameters, materials, QC and deviations."""

    summary: BatchSummary
    parents: tuple[str, ...]
    children: tuple[str, ...]
    stages: tuple[dict[str, Any], ...]
    parameters: tuple[dict[str, Any], ...]
    materials: tuple[dict[str, Any], ...]
    qc_results: tuple[dict[str, Any], ...]
    deviations: tuple[dict[str, Any], ...]
    timeseries_segments: int

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {
            **self.summary.to_dict(),
            "parents": list(self.parents),
            "children": list(self.children),
            "stages": [jsonable(s) for s in self.stages],
            "parameters": [jsonable(p) for p in self.parameters],
            "materials": [jsonable(m) for m in self.materials],
            "qc_results": [jsonable(q) for q in self.qc_results],
            "deviations": [jsonable(d) for d in self.deviations],
            "timeseries_segments": self.timeseries_segments,
        }


def _enum(enum_class: type[ProductType] | type[BatchStatus], name: str, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return enum_class(value)
    except ValueError:
        options = ", ".join(e.value for e in enum_class)
        raise ValidationFailed(
            f"The '{name}' filter must be one of {options}. Got {value!r} instead."
        ) from None


def _summary(batch: Any) -> BatchSummary:
    process = f"{batch.process.name} {batch.process.version}" if batch.process else None
    return BatchSummary(
        lot_number=batch.lot_number,
        product_type=batch.product_type.value,
        process=process,
        status=batch.status.value,
        started_at=batch.started_at,
        ended_at=batch.ended_at,
    )


def list_batches(
    store: Store,
    *,
    product: str | None = None,
    status: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[BatchSummary]:
    """Batches newest first, optionally filtered by product type and status."""
    product_type = _enum(ProductType, "product", product)
    batch_status = _enum(BatchStatus, "status", status)
    with store.reader() as session:
        rows = repo.list_batches(
            session, product=product_type, status=batch_status, limit=limit, offset=offset
        )
        return [_summary(b) for b in rows]


def show_batch(store: Store, lot_number: str) -> BatchDetail:
    """Everything recorded against one lot.

    Raises
    ------
    NotFound
        If the lot number is unknown.
    """
    with store.reader() as session:
        batch = repo.get_batch(session, lot_number)
        return BatchDetail(
            summary=_summary(batch),
            parents=tuple(repo.batch_parents(session, batch)),
            children=tuple(repo.batch_children(session, batch)),
            stages=tuple(
                {
                    "stage": r.stage,
                    "started_at": r.started_at,
                    "ended_at": r.ended_at,
                    "operator": r.operator,
                }
                for r in repo.stage_runs(session, batch)
            ),
            parameters=tuple(
                {
                    "stage": p.stage,
                    "parameter": p.parameter,
                    "value": p.value,
                    "value_text": p.value_text,
                    "unit": p.unit,
                }
                for p in repo.parameter_values(session, batch)
            ),
            materials=tuple(
                {
                    "stage": use.stage,
                    "material_lot": lot.lot_number,
                    "quantity": use.quantity,
                    "unit": use.unit,
                }
                for use, lot in repo.material_uses(session, batch)
            ),
            qc_results=tuple(
                {
                    "attribute": q.attribute,
                    "value": q.value,
                    "value_text": q.value_text,
                    "unit": q.unit,
                    "status": q.status,
                    "tested_at": q.tested_at,
                }
                for q in repo.qc_results(session, batch)
            ),
            deviations=tuple(
                {
                    "number": d.number,
                    "severity": d.severity,
                    "status": d.status,
                    "description": d.description,
                }
                for d in repo.deviations(session, batch)
            ),
            timeseries_segments=repo.segment_count(session, batch),
        )


@dataclass(frozen=True)
class Compaction:
    """One stage of a lot whose stored segments were merged into one."""

    lot: str
    stage: str | None
    replaced: int
    rows: int
    segment_id: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


def compact_series(
    store: Store, lot: str, *, actor: str, stage: str | None = None, source: str = "app"
) -> list[Compaction]:
    """Merge the stored time-series segments of each stage of ``lot`` (or of ``stage``) into
    one segment per stage, in one audited unit of work.

    Live acquisition writes a segment per flush; after a long run, reading the lot opens
    thousands of files. The merged segment holds exactly their rows and replaces them (they
    stay as evidence; see :meth:`saisei.storage.timeseries.TimeSeriesStore.compact`). A
    stage with a single segment is left as it is.

    Returns
    -------
    list of Compaction
        One per stage compacted (empty if there was nothing to merge).

    Raises
    ------
    NotFound
        If the lot is unknown, or has no time series (at ``stage``).
    IntegrityViolation
        If a segment's file is missing or changed (nothing is compacted).
    """
    batch = SegmentBatch(store.timeseries.root)
    done: list[Compaction] = []
    try:
        with store.unit_of_work(
            actor=actor, source=source, reason=f"compaction of the time series of lot {lot}"
        ) as uow:
            session = uow.session
            repo.get_batch(session, lot)  # NotFound for an unknown lot
            current = store.timeseries.segments(session, subject_ref=lot, stage=stage)
            if not current:
                where = f" at stage {stage!r}" if stage else ""
                raise NotFound(f"No time series is stored for lot {lot!r}{where}.")
            counts = Counter(segment.stage for segment in current)
            for name in sorted(counts, key=lambda s: (s is None, s or "")):
                merged = store.timeseries.compact(session, subject_ref=lot, stage=name, batch=batch)
                if merged is not None:
                    done.append(
                        Compaction(lot, name, counts[name], merged.row_count, merged.segment_id)
                    )
            batch.sync()  # the merged files on disk before their manifest rows commit
    except BaseException:
        batch.discard()
        raise
    return done
