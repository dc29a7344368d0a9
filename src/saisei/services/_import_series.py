"""Importing time series and shipment logger readings as Parquet segments.

The valid rows of a table become one Arrow table, ordered by segment (lot and stage, or
shipment) once; each segment is a slice of it. The manifest rows of every subject of the
table are read in one query, and a segment whose bytes hash to a stored segment's SHA-256 is
unchanged without reading the stored file back. The files of one import are flushed to disk
together before the commit (:class:`~saisei.storage.timeseries.SegmentBatch`).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from saisei.domain.enums import SubjectType
from saisei.errors import FieldError
from saisei.ingestion.validate import ValidatedTable
from saisei.ingestion.validate_series import group_codes, stable_order
from saisei.storage.exchange import Resolver
from saisei.storage.models import TimeSeriesSegment
from saisei.storage.repositories.exchange import shipment_codes
from saisei.storage.store import Store
from saisei.storage.timeseries import (
    EncodedSegment,
    SegmentBatch,
    SegmentLocation,
    encode_segment,
    segment_table,
)
from saisei.storage.types import Session

if TYPE_CHECKING:
    from saisei.services.ingest import TableReport

#: Logger columns stored as variables, with their canonical units.
LOGGER_VARIABLES = {"temperature": "degC", "shock": "g0", "tilt": "deg"}
_COMPARED = ["variable", "t", "value", "unit"]
#: Subjects per manifest query (SQLite allows a limited number of bound parameters).
_SUBJECTS_PER_QUERY = 500

#: ``progress(rows_done, rows_total)`` of one table.
RowProgress = Callable[[int, int], None]


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[_COMPARED].copy()
    for column in ("variable", "unit"):  # Parquet reads back pandas' string dtype
        out[column] = out[column].astype(object).where(out[column].notna(), None)
    out["t"] = out["t"].astype("float64")
    out["value"] = out["value"].astype("float64")
    return out.sort_values(["variable", "t"], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class _Piece:
    """The rows of one segment: subject, stage, Arrow rows, positions in the table."""

    subject: str
    stage: str | None
    rows: pa.Table
    positions: np.ndarray

    def flag(
        self, table: ValidatedTable, column: str, message: str, values: pd.Series | None = None
    ) -> None:
        """Mark every row of ``table`` this segment was made of bad with ``message``."""
        mask = np.zeros(len(table.frame), dtype=bool)
        mask[np.unique(self.positions)] = True
        table.flag(mask, column, message, values)


@dataclass(frozen=True)
class _Long:
    """Valid rows in long form: position in the validated table and segment code of each."""

    frame: pd.DataFrame
    positions: np.ndarray
    codes: np.ndarray
    subject: str
    stage: str | None


class SeriesImporter:
    """Writes one segment per (lot, stage) or shipment; skips identical content.

    New data after the end of what is stored is appended as a further segment; data that
    overlap a stored segment but differ from it are a correction that supersedes it (and
    needs a reason).
    """

    def __init__(self, store: Store, *, reason: str | None) -> None:
        self.store = store
        self.reason = reason
        self.batch = SegmentBatch(store.timeseries.root)
        self.corrections_without_reason: list[FieldError] = []

    def discard_written(self) -> None:
        """Remove segment files written by an import that did not commit."""
        self.batch.discard()

    def sync(self) -> None:
        """Flush the written segment files to disk; run before the manifest rows commit."""
        self.batch.sync()

    def run(
        self,
        session: Session,
        resolver: Resolver,
        table: ValidatedTable,
        report: TableReport,
        progress: RowProgress | None = None,
    ) -> None:
        """Import the valid rows of a ``timeseries`` or ``shipment_logs`` table."""
        if table.table == "timeseries":
            long = self._timeseries_long(table)
            subject_type, ref_kind = SubjectType.BATCH, "batch"
        else:
            long = self._logger_long(table)
            subject_type, ref_kind = SubjectType.SHIPMENT, "shipment"
        known = set(resolver.codes("batch")) if ref_kind == "batch" else shipment_codes(session)
        total = len(long.frame)
        done = 0
        pieces = list(self._pieces(long))
        manifest = self._manifest(session, subject_type, {p.subject for p in pieces} & known)

        def encode(piece: _Piece) -> tuple[EncodedSegment, SegmentLocation | None]:
            """Encode a segment; write it too when nothing is stored for its lot and stage.

            Such a segment is new whatever its content, and writing it in the thread that
            encoded it saves handing its bytes to another (ADR 0003).
            """
            encoded = encode_segment(piece.rows)
            if manifest.get((piece.subject, piece.stage)):
                return encoded, None  # compared with what is stored, then written or not
            location = self.store.timeseries.locate(
                subject_ref=piece.subject, subject_type=subject_type, stage=piece.stage
            )
            self.batch.write_here(self.store.timeseries.root / location.path, encoded.data)
            return encoded, location

        # Encoding (zstd) and writing release the GIL: segments are encoded in parallel.
        pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)
        try:
            encodings = pool.map(encode, [p for p in pieces if p.subject in known])
            for piece in pieces:
                if piece.subject not in known:
                    piece.flag(
                        table,
                        long.subject,
                        f"names unknown {ref_kind} {piece.subject!r}; import it first",
                        table.frame[long.subject],
                    )
                else:
                    encoded, location = next(encodings)
                    if location is not None:
                        self.store.timeseries.record(session, encoded, location, source="import")
                        report.inserted += piece.rows.num_rows
                    else:
                        current = manifest[(piece.subject, piece.stage)]
                        self._segment(session, table, piece, encoded, current, subject_type, report)
                done += piece.rows.num_rows
                if progress is not None:
                    progress(done, total)
        finally:
            # On a failure, segments not yet started are dropped; files written are removed
            # with the batch's (SeriesImporter.discard_written).
            pool.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def _timeseries_long(table: ValidatedTable) -> _Long:
        frame = table.frame
        positions = np.flatnonzero(~table.bad)
        valid = frame if positions.size == len(frame) else frame.iloc[positions]
        columns = ["lot", "stage", "variable", "t", "value", "unit", "timestamp"]
        codes = table.codes(["lot", "stage"])[positions]
        given = [c for c in columns if c in valid and c not in table.absent]
        return _Long(valid[given], positions, codes, "lot", "stage")

    @staticmethod
    def _logger_long(table: ValidatedTable) -> _Long:
        valid = table.valid_frame()
        parts = []
        for shipment, group in valid.groupby("shipment", sort=False):
            start = group["timestamp"].min()
            t = (group["timestamp"] - start).dt.total_seconds() / 3600.0
            for variable, unit in LOGGER_VARIABLES.items():
                values = group[variable]
                if values.notna().any():
                    parts.append(
                        pd.DataFrame(
                            {
                                "shipment": shipment,
                                "variable": variable,
                                "t": t,
                                "value": values.astype("float64"),
                                "unit": unit,
                                "timestamp": group["timestamp"],
                                "_position": group.index,
                            }
                        )
                    )
        columns = ["shipment", "variable", "t", "value", "unit", "timestamp", "_position"]
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
        positions = frame["_position"].to_numpy(dtype=np.int64)
        codes = group_codes(frame, ["shipment"])
        return _Long(frame.drop(columns="_position"), positions, codes, "shipment", None)

    @staticmethod
    def _pieces(long: _Long) -> Iterator[_Piece]:
        """The rows of each segment, in order of first appearance in the file."""
        frame = long.frame
        if frame.empty:
            return
        codes = long.codes
        rows = segment_table(
            frame,
            subject=frame[long.subject].astype(str),
            stage=frame[long.stage] if long.stage else None,
        )
        positions = long.positions
        if not bool(np.all(codes[1:] >= codes[:-1])):  # else each segment is one block
            order = stable_order(codes)
            rows = rows.take(pa.array(order))
            codes, positions = codes[order], positions[order]
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        ends = np.r_[starts[1:], len(codes)]
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            piece = rows.slice(start, end - start)
            yield _Piece(
                str(piece.column("subject")[0].as_py()),
                piece.column("stage")[0].as_py(),
                piece,
                positions[start:end],
            )

    def _manifest(
        self, session: Session, subject_type: SubjectType, subjects: set[str]
    ) -> dict[tuple[str, str | None], list[TimeSeriesSegment]]:
        """Current segments of ``subjects``, by (subject, stage), oldest first."""
        found: dict[tuple[str, str | None], list[TimeSeriesSegment]] = defaultdict(list)
        ordered = sorted(subjects)
        for i in range(0, len(ordered), _SUBJECTS_PER_QUERY):
            chunk = ordered[i : i + _SUBJECTS_PER_QUERY]
            for segment in self.store.timeseries.segments(
                session, subject_ref=chunk, subject_type=subject_type
            ):
                stage = segment.stage if subject_type is SubjectType.BATCH else None
                found[(segment.subject_ref, stage)].append(segment)
        return found

    def _unchanged(self, encoded: EncodedSegment, current: list[TimeSeriesSegment]) -> bool:
        """True if the stored rows say what ``encoded`` says: the same bytes as a current
        segment, or else the same rows as those stored for its variables over its time span
        (also when a compacted segment holds them together with others)."""
        if any(s.sha256 == encoded.sha256 for s in current):
            return True  # same bytes: same rows, without reading the stored file
        start, end = encoded.t_start_h, encoded.t_end_h
        overlapping = [
            s
            for s in current
            if s.t_start_h is not None
            and s.t_end_h is not None
            and s.t_start_h <= end
            and start <= s.t_end_h
        ]
        if not overlapping:
            return False
        incoming = _canonical(encoded.table.to_pandas())
        self.batch.wait()  # a segment may be one this import is still writing
        stored = pd.concat(
            [pd.read_parquet(self.store.timeseries.root / s.path) for s in overlapping],
            ignore_index=True,
        )
        within = stored["variable"].isin(set(incoming["variable"])) & stored["t"].between(
            start, end
        )
        return _canonical(stored[within]).equals(incoming)

    def _segment(
        self,
        session: Session,
        table: ValidatedTable,
        piece: _Piece,
        encoded: EncodedSegment,
        current: list[TimeSeriesSegment],
        subject_type: SubjectType,
        report: TableReport,
    ) -> None:
        n = piece.rows.num_rows
        if current and self._unchanged(encoded, current):
            report.unchanged += n
            return
        overlapping = [
            s for s in current if s.t_end_h is not None and encoded.t_start_h <= s.t_end_h
        ]
        supersedes = None
        if overlapping:
            where = f"{piece.subject}" + (f" stage {piece.stage}" if piece.stage else "")
            if self.reason is None:
                self.corrections_without_reason.append(
                    FieldError(
                        f"data for {where} differ from the stored series they overlap; pass "
                        "--reason to correct them (the stored segment is kept as evidence)",
                        file=table.source,
                        field="t",
                    )
                )
                return
            if len(overlapping) > 1:
                piece.flag(
                    table,
                    "t",
                    f"data for {where} overlap {len(overlapping)} stored "
                    "segments; a correction must replace exactly one segment (import "
                    "the corrected series of that segment only)",
                )
                return
            supersedes = overlapping[0]
            missing = sorted(set(supersedes.variables) - set(encoded.variables))
            partial = (
                supersedes.t_start_h is not None
                and supersedes.t_end_h is not None
                and (
                    encoded.t_start_h > supersedes.t_start_h or encoded.t_end_h < supersedes.t_end_h
                )
            )
            if missing or partial:
                # Superseding the whole segment with part of it would drop the rest from reads.
                piece.flag(
                    table,
                    "t",
                    f"data for {where} correct part of a stored segment (t "
                    f"{supersedes.t_start_h:g}-{supersedes.t_end_h:g} h, variables "
                    f"{', '.join(supersedes.variables)}) but hold only t {encoded.t_start_h:g}-"
                    f"{encoded.t_end_h:g} h, variables {', '.join(encoded.variables)}; a "
                    "correction replaces the whole segment: import the corrected series of the "
                    "whole segment",
                )
                return
            report.corrected += n
        else:
            report.inserted += n
        self.store.timeseries.write_encoded(
            session,
            encoded,
            subject_ref=piece.subject,
            subject_type=subject_type,
            stage=piece.stage,
            source="import",
            supersedes=supersedes,
            batch=self.batch,
        )
