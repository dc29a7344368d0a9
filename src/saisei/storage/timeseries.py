"""Time-series store: immutable Parquet segments, a manifest row each, read through DuckDB.

Layout under the store root::

    <subject_type>/<subject_ref>/<stage>/<segment_id>.parquet

Every segment holds long-format rows (``subject, stage, variable, t, value, unit, timestamp,
quality``) with ``t`` in hours since the start of the stage. A segment is written to a
temporary file in the same folder and renamed into place, so a reader never sees half a file;
its SHA-256 (of the encoded bytes, hashed in memory before they are written) and row count go
into a :class:`~saisei.storage.models.TimeSeriesSegment` row in the caller's (audited)
transaction. A correction is a new segment that supersedes the old one; nothing is edited in
place.

Durability: a segment written on its own is flushed to disk (file, then its folders) before
:meth:`TimeSeriesStore.write_segment` returns. The segments of one import are written into a
:class:`SegmentBatch` and flushed together by :meth:`SegmentBatch.sync` before the manifest
rows commit (ADR 0003); either way no manifest row commits before its file is on disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import uuid
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import quote

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from saisei.domain.enums import SubjectType
from saisei.errors import FieldError, IntegrityViolation, NotFound, ValidationFailed
from saisei.storage.models import SegmentReplacement, TimeSeriesSegment

__all__ = [
    "SEGMENT_SCHEMA",
    "EncodedSegment",
    "SegmentBatch",
    "SegmentLocation",
    "SegmentProblem",
    "TimeSeriesStore",
    "encode_segment",
    "segment_table",
    "sha256_file",
]

#: Arrow schema of every stored segment.
SEGMENT_SCHEMA = pa.schema(
    [
        pa.field("subject", pa.string(), nullable=False),
        pa.field("stage", pa.string()),
        pa.field("variable", pa.string(), nullable=False),
        pa.field("t", pa.float64(), nullable=False),
        pa.field("value", pa.float64()),
        pa.field("unit", pa.string()),
        pa.field("timestamp", pa.timestamp("us", tz="UTC")),
        pa.field("quality", pa.string()),
    ]
)

_REQUIRED = ("variable", "t", "value")
#: Columns written with a Parquet dictionary page: the text ones, a few distinct values each.
#: Measured values are nearly all distinct, so a dictionary only costs time and bytes there
#: (ADR 0005).
_DICTIONARY_COLUMNS = [f.name for f in SEGMENT_SCHEMA if f.type == pa.string()]
#: Columns with min/max statistics in the file: the time axis, which readers filter on within
#: a segment (the manifest row already holds each segment's variables and time span).
_STATISTICS_COLUMNS = ["t"]


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class SegmentProblem:
    """A segment whose file is missing or whose content changed since it was written."""

    segment_id: str
    path: str
    problem: str

    def __str__(self) -> str:
        return f"time-series segment {self.segment_id} ({self.path}): {self.problem}"


def _safe(part: str) -> str:
    return quote(part, safe="") or "_"


def _text(values: str | pd.Series | None, n: int) -> pa.Array:
    if isinstance(values, pd.Series):
        return pa.array(values, type=pa.string(), from_pandas=True)
    return pa.repeat(pa.scalar(values, pa.string()), n)


def _timestamps(frame: pd.DataFrame) -> pa.Array:
    kind = pa.timestamp("us", tz="UTC")
    if "timestamp" not in frame:
        return pa.nulls(len(frame), kind)
    values = frame["timestamp"]
    if values.dtype == object and values.isna().all():
        return pa.nulls(len(frame), kind)  # the column exists but holds no instant
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        utc = values.dt.tz_convert("UTC")
    else:
        utc = pd.to_datetime(values, utc=True)
    return pa.array(utc.dt.as_unit("us"), type=kind, from_pandas=True)


def _hours(frame: pd.DataFrame) -> np.ndarray:
    column = frame["t"]
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        hours = column.to_numpy(dtype="float64", na_value=np.nan)
    else:
        hours = pd.to_numeric(column, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    bad_t = np.flatnonzero(np.isnan(hours))
    if bad_t.size:
        raise ValidationFailed(
            f"Column 't' (hours since stage start) must be numeric in every row; "
            f"{bad_t.size} row(s) are not.",
            [
                FieldError(
                    "'t' must be a number of hours",
                    row=int(i) + 1,
                    field="t",
                    value=column.iloc[i],
                )
                for i in bad_t[:50]
            ],
        )
    return hours


def segment_table(
    frame: pd.DataFrame, *, subject: str | pd.Series, stage: str | pd.Series | None
) -> pa.Table:
    """Long-format rows as an Arrow table of :data:`SEGMENT_SCHEMA`.

    Parameters
    ----------
    frame : DataFrame
        Columns ``variable``, ``t`` (h since stage start), ``value`` and optionally ``unit``,
        ``timestamp`` (zone-aware, or UTC) and ``quality``.
    subject, stage : str or Series
        One subject (lot number or shipment code) and stage for every row, or a value per
        row (aligned with ``frame``), as when one table holds the rows of several segments.

    Raises
    ------
    ValidationFailed
        When a required column is missing or ``t`` is not a number in some row (named).
    """
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise ValidationFailed(
            f"A time-series segment needs columns {', '.join(_REQUIRED)}. "
            f"Missing: {', '.join(missing)}; got columns {list(frame.columns)}.",
            [FieldError(f"required column '{c}' is missing", field=c) for c in missing],
        )
    n = len(frame)
    value = frame["value"]
    if not pd.api.types.is_float_dtype(value):
        value = pd.to_numeric(value, errors="coerce")
    return pa.Table.from_arrays(
        [
            _text(subject, n),
            _text(stage, n),
            _text(frame["variable"], n),
            pa.array(_hours(frame), type=pa.float64()),
            pa.array(
                value.to_numpy(dtype="float64", na_value=np.nan),
                type=pa.float64(),
                from_pandas=True,
            ),
            _text(frame.get("unit"), n),
            _timestamps(frame),
            _text(frame.get("quality"), n),
        ],
        schema=SEGMENT_SCHEMA,
    )


@dataclass(frozen=True)
class EncodedSegment:
    """A segment table and its Parquet bytes (zstd), hashed once in memory, with what its
    manifest row records of the rows: variables (sorted) and time span in hours."""

    table: pa.Table
    data: pa.Buffer
    sha256: str
    variables: list[str]
    t_start_h: float
    t_end_h: float


def encode_segment(table: pa.Table) -> EncodedSegment:
    """Encode one segment's rows (:data:`SEGMENT_SCHEMA`) as Parquet and hash the bytes.

    The bytes depend only on the rows (and the pyarrow version), so re-encoding the same rows
    gives the same SHA-256: an import compares it with the manifest to skip unchanged data.
    Text columns are dictionary-encoded, numbers and times are not; only ``t`` has
    statistics (ADR 0005).
    """
    sink = pa.BufferOutputStream()
    pq.write_table(
        table,
        sink,
        compression="zstd",
        use_dictionary=_DICTIONARY_COLUMNS,
        write_statistics=_STATISTICS_COLUMNS,
    )
    data = sink.getvalue()
    span = pc.min_max(table.column("t"))
    return EncodedSegment(
        table,
        data,
        hashlib.sha256(memoryview(data)).hexdigest(),
        variables=sorted(pc.unique(table.column("variable")).to_pylist()),
        t_start_h=float(span["min"].as_py()),
        t_end_h=float(span["max"].as_py()),
    )


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_into_place(target: Path, data: pa.Buffer) -> None:
    """Write ``data`` to a temporary file beside ``target``, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".parquet")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(memoryview(data))
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _require_rows(encoded: EncodedSegment, subject_ref: str) -> None:
    if encoded.table.num_rows == 0:
        raise ValidationFailed(
            f"A time-series segment for {subject_ref!r} must have at least one row. "
            "Got an empty table."
        )


@dataclass(frozen=True)
class SegmentLocation:
    """Where a new segment goes: its identifier, subject, stage and file (relative, POSIX)."""

    segment_id: str
    subject_ref: str
    subject_type: SubjectType
    stage: str | None
    path: str


@dataclass
class SegmentBatch:
    """Segment files of one import: written concurrently, flushed to disk together.

    :meth:`TimeSeriesStore.write_encoded` hands each file to :meth:`write`, which writes it
    in a background thread and renames it into place once written (a reader never sees half
    a file); :meth:`wait` returns when every file is in place (raising the first failure),
    and :meth:`sync` waits, then flushes every file and the folders that name them, and must
    run before the manifest rows commit. :meth:`discard` removes the files of an import that
    did not commit.
    """

    root: Path
    paths: list[Path] = field(default_factory=list)
    _pending: list[Future[None]] = field(default_factory=list, repr=False)
    _pool: ThreadPoolExecutor | None = field(default=None, repr=False)

    def write(self, target: Path, data: pa.Buffer) -> None:
        """Start writing ``data`` to ``target`` (temporary file, then rename)."""
        if self._pool is None:
            # File system calls release the GIL; a few writers overlap their waits.
            self._pool = ThreadPoolExecutor(max_workers=4)
        self._pending.append(self._pool.submit(self.write_here, target, data))

    def write_here(self, target: Path, data: pa.Buffer) -> None:
        """Write ``data`` to ``target`` in the calling thread (temporary file, then rename).

        For a thread that has just encoded the segment: handing the bytes to a writer
        thread costs more than writing them (a 1 M-row import of 100 segments took a third
        longer to encode and write that way). Safe to call from several threads at once.
        """
        _write_into_place(target, data)
        self.paths.append(target)  # once in place (a failed write leaves no file)

    def wait(self) -> None:
        """Return once every file started is in place; raise the first write that failed."""
        pending, self._pending = self._pending, []
        try:
            for future in pending:
                future.result()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def sync(self) -> None:
        """Flush every file written so far, then each folder on the way to the root."""
        self.wait()
        if not self.paths:
            return
        folders: set[Path] = {self.root}
        for path in self.paths:
            folder = path.parent
            while folder != self.root and self.root in folder.parents:
                folders.add(folder)
                folder = folder.parent
        # Concurrent fsyncs share the file system's journal commits (several times faster
        # than one after the other for a hundred small files and their folders). Every one
        # has returned before this does, so the order among them does not matter.
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(_fsync, self.paths))
            list(pool.map(_fsync, sorted(folders, key=lambda f: len(f.parts), reverse=True)))

    def discard(self) -> None:
        """Remove the files written so far (the import did not commit)."""
        with contextlib.suppress(Exception):  # the failure that ends the import is raised
            self.wait()
        for path in self.paths:
            path.unlink(missing_ok=True)
        self.paths.clear()


class TimeSeriesStore:
    """Parquet segment store rooted at one folder.

    Parameters
    ----------
    root : Path
        Folder that holds the segments (``Settings.timeseries_uri``).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def write_segment(
        self,
        session: Session,
        frame: pd.DataFrame,
        *,
        subject_ref: str,
        subject_type: SubjectType = SubjectType.BATCH,
        stage: str | None = None,
        source: str = "import",
        supersedes: TimeSeriesSegment | None = None,
    ) -> TimeSeriesSegment:
        """Write one segment atomically and durably, and add its manifest row to ``session``.

        Parameters
        ----------
        frame : DataFrame
            Long-format rows with columns ``variable``, ``t`` (h since stage start), ``value``
            and optionally ``unit``, ``timestamp`` (UTC) and ``quality``.
        subject_ref : str
            Lot number (or shipment code) the data belong to.
        supersedes : TimeSeriesSegment, optional
            A segment this one corrects; readers then skip the old one.

        Returns
        -------
        TimeSeriesSegment
            The manifest row (pending in ``session``; committed with the unit of work).
        """
        if frame.empty:
            raise ValidationFailed(
                f"A time-series segment for {subject_ref!r} must have at least one row. "
                "Got an empty table."
            )
        encoded = encode_segment(segment_table(frame, subject=subject_ref, stage=stage))
        batch = SegmentBatch(self.root)
        segment = self.write_encoded(
            session,
            encoded,
            subject_ref=subject_ref,
            subject_type=subject_type,
            stage=stage,
            source=source,
            supersedes=supersedes,
            batch=batch,
        )
        batch.sync()
        return segment

    def write_encoded(
        self,
        session: Session,
        encoded: EncodedSegment,
        *,
        subject_ref: str,
        subject_type: SubjectType,
        stage: str | None,
        source: str,
        batch: SegmentBatch,
        supersedes: TimeSeriesSegment | None = None,
    ) -> TimeSeriesSegment:
        """Write an encoded segment into place and add its manifest row to ``session``.

        The file is written in the background by ``batch`` and renamed into place once
        written; ``batch.sync()``, which the caller runs before committing ``session``, waits
        for it and flushes it to disk.

        Parameters
        ----------
        encoded : EncodedSegment
            From :func:`encode_segment`; its rows name ``subject_ref`` and ``stage``.
        batch : SegmentBatch
            Collects the file for the flush before the commit (and removal on failure).

        Returns
        -------
        TimeSeriesSegment
            The manifest row (pending in ``session``).
        """
        _require_rows(encoded, subject_ref)
        location = self.locate(subject_ref=subject_ref, subject_type=subject_type, stage=stage)
        batch.write(self.root / location.path, encoded.data)
        return self.record(session, encoded, location, source=source, supersedes=supersedes)

    def locate(
        self, *, subject_ref: str, subject_type: SubjectType, stage: str | None
    ) -> SegmentLocation:
        """A new segment's identifier and file (relative to the store root)."""
        segment_id = str(uuid.uuid4())
        relative = PurePosixPath(
            subject_type.value, _safe(subject_ref), _safe(stage or "_"), f"{segment_id}.parquet"
        )
        return SegmentLocation(segment_id, subject_ref, subject_type, stage, str(relative))

    def record(
        self,
        session: Session,
        encoded: EncodedSegment,
        location: SegmentLocation,
        *,
        source: str,
        supersedes: TimeSeriesSegment | None = None,
    ) -> TimeSeriesSegment:
        """Add the manifest row of a segment written at ``location`` to ``session``.

        The file must be in a :class:`SegmentBatch` whose :meth:`~SegmentBatch.sync` runs
        before ``session`` commits (:meth:`write_encoded` does both; an import that encodes
        and writes a segment in one thread calls :meth:`locate`,
        :meth:`SegmentBatch.write_here` and this).

        Returns
        -------
        TimeSeriesSegment
            The manifest row (pending in ``session``).
        """
        _require_rows(encoded, location.subject_ref)
        segment = TimeSeriesSegment(
            segment_id=location.segment_id,
            subject_type=location.subject_type,
            subject_ref=location.subject_ref,
            stage=location.stage,
            source=source,
            variables=encoded.variables,
            row_count=encoded.table.num_rows,
            t_start_h=encoded.t_start_h,
            t_end_h=encoded.t_end_h,
            sha256=encoded.sha256,
            path=location.path,
            supersedes_id=supersedes.id if supersedes is not None else None,
        )
        session.add(segment)
        return segment

    def segments(
        self,
        session: Session,
        *,
        subject_ref: str | Sequence[str] | None = None,
        subject_type: SubjectType = SubjectType.BATCH,
        stage: str | None = None,
        include_superseded: bool = False,
    ) -> list[TimeSeriesSegment]:
        """Manifest rows matching the filters, oldest first."""
        query = select(TimeSeriesSegment).where(TimeSeriesSegment.subject_type == subject_type)
        if isinstance(subject_ref, str):
            query = query.where(TimeSeriesSegment.subject_ref == subject_ref)
        elif subject_ref is not None:
            query = query.where(TimeSeriesSegment.subject_ref.in_(list(subject_ref)))
        if stage is not None:
            query = query.where(TimeSeriesSegment.stage == stage)
        if not include_superseded:
            newer = aliased(TimeSeriesSegment)
            query = query.where(
                ~select(newer.id).where(newer.supersedes_id == TimeSeriesSegment.id).exists(),
                ~select(SegmentReplacement.id)
                .where(SegmentReplacement.replaced_id == TimeSeriesSegment.id)
                .exists(),
            )
        return list(session.execute(query.order_by(TimeSeriesSegment.id)).scalars())

    def compact(
        self,
        session: Session,
        *,
        subject_ref: str,
        subject_type: SubjectType = SubjectType.BATCH,
        stage: str | None = None,
        batch: SegmentBatch,
    ) -> TimeSeriesSegment | None:
        """Merge the current segments of one subject and stage into one segment.

        Live acquisition writes a segment per flush (hundreds of thousands in a long run);
        reading them is then dominated by opening files. The new segment holds exactly the
        rows of the current ones (reads return the same rows), sorted by variable and time;
        it replaces each of them (:class:`~saisei.storage.models.SegmentReplacement`), and
        they stay, files and manifest rows, as evidence. The new file is written by ``batch``,
        whose :meth:`~SegmentBatch.sync` the caller runs before ``session`` commits (and
        :meth:`~SegmentBatch.discard` if it does not).

        Returns
        -------
        TimeSeriesSegment or None
            The new segment's manifest row; None when there were fewer than two segments.

        Raises
        ------
        IntegrityViolation
            If a segment's file is missing or no longer matches its SHA-256 (nothing is
            compacted: a damaged file must not be copied into a trusted one).
        """
        current = self.segments(
            session, subject_ref=subject_ref, subject_type=subject_type, stage=stage
        )
        current = [s for s in current if s.stage == stage]
        if len(current) < 2:
            return None
        tables = []
        for segment in current:
            path = self.root / segment.path
            data = path.read_bytes() if path.is_file() else None
            if data is None or hashlib.sha256(data).hexdigest() != segment.sha256:
                problem = "is missing" if data is None else "no longer matches its SHA-256"
                raise IntegrityViolation(
                    f"Segment {segment.segment_id} ({segment.path}) {problem}; the series of "
                    f"{subject_ref} was not compacted. Run 'saisei audit verify'."
                )
            tables.append(pq.read_table(pa.BufferReader(data)).cast(SEGMENT_SCHEMA))
        merged = pa.concat_tables(tables)
        order = pc.sort_indices(merged, sort_keys=[("variable", "ascending"), ("t", "ascending")])
        compacted = self.write_encoded(
            session,
            encode_segment(merged.take(order)),
            subject_ref=subject_ref,
            subject_type=subject_type,
            stage=stage,
            source="compaction",
            batch=batch,
        )
        session.flush()  # the new segment's id
        session.add_all(
            SegmentReplacement(segment_id=compacted.id, replaced_id=segment.id)
            for segment in current
        )
        return compacted

    def read(
        self,
        session: Session,
        *,
        lot: str | Sequence[str] | None = None,
        shipment: str | None = None,
        stage: str | None = None,
        variables: Sequence[str] | None = None,
        t_from: float | None = None,
        t_to: float | None = None,
        as_arrow: bool = False,
    ) -> pd.DataFrame | pa.Table:
        """Read current (not superseded) segments through DuckDB.

        Parameters
        ----------
        lot, shipment : str, optional
            Whose data: lot number(s) of batches, or a shipment code. Give one of them.
        stage : str, optional
            Only this stage.
        variables : sequence of str, optional
            Only these variables.
        t_from, t_to : float, optional
            Inclusive bounds on ``t`` in hours since stage start.
        as_arrow : bool
            Return a ``pyarrow.Table`` instead of a DataFrame.

        Returns
        -------
        DataFrame or pyarrow.Table
            Columns ``lot`` (or ``shipment``), ``stage``, ``variable``, ``t``, ``value``,
            ``unit``, ``timestamp``, ``quality``, sorted by subject, stage, variable, t.
        """
        if (lot is None) == (shipment is None):
            raise ValidationFailed("Give exactly one of 'lot' or 'shipment' to read time series.")
        subject_type = SubjectType.BATCH if lot is not None else SubjectType.SHIPMENT
        label = "lot" if lot is not None else "shipment"
        manifest = self.segments(
            session,
            subject_ref=lot if lot is not None else shipment,
            subject_type=subject_type,
            stage=stage,
        )
        if not manifest:
            if isinstance(lot, str) or shipment is not None:
                raise NotFound(
                    f"No time series is stored for {label} "
                    f"{lot if lot is not None else shipment!r}"
                    f"{f' at stage {stage!r}' if stage else ''}."
                )
            empty = SEGMENT_SCHEMA.empty_table().rename_columns([label, *SEGMENT_SCHEMA.names[1:]])
            return empty if as_arrow else empty.to_pandas()
        paths = [str(self.root / seg.path) for seg in manifest]
        clauses, params = self._where(variables, t_from, t_to)
        sql = (
            f"SELECT subject AS {label}, stage, variable, t, value, unit, timestamp, quality "
            f"FROM read_parquet(?) {clauses} ORDER BY {label}, stage, variable, t"
        )
        with duckdb.connect() as con:
            table = con.sql(sql, params=[paths, *params]).to_arrow_table()
        return table if as_arrow else table.to_pandas()

    @staticmethod
    def _where(
        variables: Sequence[str] | None, t_from: float | None, t_to: float | None
    ) -> tuple[str, list[object]]:
        conditions: list[str] = []
        params: list[object] = []
        if variables is not None:
            conditions.append("list_contains(?, variable)")
            params.append(list(variables))
        if t_from is not None:
            conditions.append("t >= ?")
            params.append(float(t_from))
        if t_to is not None:
            conditions.append("t <= ?")
            params.append(float(t_to))
        return ("WHERE " + " AND ".join(conditions) if conditions else ""), params

    def verify(self, session: Session) -> tuple[int, list[SegmentProblem]]:
        """Check every manifest row's file: present, and content matching its SHA-256.

        Returns
        -------
        checked : int
            Number of segments checked (superseded ones included: they stay evidence).
        problems : list of SegmentProblem
            One per missing or changed file, in manifest order.
        """
        problems: list[SegmentProblem] = []
        checked = 0
        rows = session.execute(select(TimeSeriesSegment).order_by(TimeSeriesSegment.id))
        for segment in rows.scalars():
            checked += 1
            path = self.root / segment.path
            if not path.is_file():
                problems.append(SegmentProblem(segment.segment_id, segment.path, "file is missing"))
            elif sha256_file(path) != segment.sha256:
                problems.append(
                    SegmentProblem(
                        segment.segment_id,
                        segment.path,
                        "content changed since it was written (sha256 mismatch)",
                    )
                )
        return checked, problems

    def segment(self, session: Session, segment_id: str) -> TimeSeriesSegment:
        """The manifest row of one segment."""
        found = session.execute(
            select(TimeSeriesSegment).where(TimeSeriesSegment.segment_id == segment_id)
        ).scalar_one_or_none()
        if found is None:
            raise NotFound(f"No time-series segment with id {segment_id!r}.")
        return found
