"""The time-series store read as a Dask DataFrame: one partition per (subject, stage).

The store's layout is ``<root>/<subject_type>/<subject>/<stage>/<segment_id>.parquet`` and the
relational manifest says which segments are current (not superseded). This reader takes the
same manifest and the same filters as :meth:`saisei.storage.TimeSeriesStore.read`, and reads
each (lot, stage) group of segments lazily, with the same DuckDB query, on whichever worker
runs the partition. Concatenating the partitions gives exactly the single-machine result
(rows in the same order, same columns and types); only the index restarts in every partition.

Partitions whose manifest rows show that no row can pass the filters (no requested variable,
time span outside ``t_from..t_to``) are not read at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import dask.dataframe as dd
import duckdb
import pandas as pd
import pyarrow as pa

from saisei.domain.enums import SubjectType
from saisei.errors import NotFound, ValidationFailed

__all__ = ["SegmentRef", "read_segments", "read_timeseries"]

# The Parquet schema of a stored segment (saisei.storage.timeseries.SEGMENT_SCHEMA; a test
# keeps the two equal). Repeated here so that reading needs no database code.
_SCHEMA = pa.schema(
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


class SegmentRef(Protocol):
    """What the reader needs of a manifest row (``saisei.storage.models.TimeSeriesSegment``)."""

    @property
    def path(self) -> str: ...  # relative to the store root

    @property
    def subject_ref(self) -> str: ...

    @property
    def stage(self) -> str | None: ...


class _Manifest(Protocol):
    root: Path

    def segments(
        self,
        session: Any,
        *,
        subject_ref: str | Sequence[str] | None = ...,
        subject_type: SubjectType = ...,
        stage: str | None = ...,
    ) -> Sequence[Any]: ...


@dataclass(frozen=True)
class _Query:
    label: str
    where: str
    params: tuple[Any, ...]

    def sql(self, source: str) -> str:
        return (
            f"SELECT subject AS {self.label}, stage, variable, t, value, unit, timestamp, quality "
            f"FROM {source} {self.where} ORDER BY {self.label}, stage, variable, t"
        )


def _query(
    label: str,
    variables: Sequence[str] | None,
    t_from: float | None,
    t_to: float | None,
) -> _Query:
    conditions: list[str] = []
    params: list[Any] = []
    if variables is not None:
        conditions.append("list_contains(?, variable)")
        params.append(list(variables))
    if t_from is not None:
        conditions.append("t >= ?")
        params.append(float(t_from))
    if t_to is not None:
        conditions.append("t <= ?")
        params.append(float(t_to))
    where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
    return _Query(label, where, tuple(params))


def _read_group(paths: list[str], query: _Query) -> pd.DataFrame:
    """One partition: the rows of one (subject, stage) group of segment files."""
    with duckdb.connect() as con:
        table = con.sql(query.sql("read_parquet(?)"), params=[paths, *query.params])
        return table.to_arrow_table().to_pandas()


def _meta(query: _Query) -> pd.DataFrame:
    """The empty frame with the partitions' columns and types, from the same query."""
    empty = _SCHEMA.empty_table()  # noqa: F841 - read by DuckDB's replacement scan
    with duckdb.connect() as con:
        return con.sql(query.sql("empty"), params=list(query.params)).to_arrow_table().to_pandas()


def _may_match(
    segment: Any, variables: Sequence[str] | None, t_from: float | None, t_to: float | None
) -> bool:
    """False when the manifest row proves that no row of the segment passes the filters."""
    seg_vars = getattr(segment, "variables", None)
    if variables is not None and seg_vars is not None and not set(variables) & set(seg_vars):
        return False
    start, end = getattr(segment, "t_start_h", None), getattr(segment, "t_end_h", None)
    if t_from is not None and end is not None and end < t_from:
        return False
    return not (t_to is not None and start is not None and start > t_to)


def read_segments(
    root: Path | str,
    segments: Sequence[SegmentRef],
    *,
    label: str = "lot",
    variables: Sequence[str] | None = None,
    t_from: float | None = None,
    t_to: float | None = None,
) -> dd.DataFrame:
    """Read manifest rows as a Dask DataFrame, one partition per (subject, stage).

    Parameters
    ----------
    root : Path or str
        The store root (``Settings.timeseries_uri``); a folder every worker can read.
    segments : sequence of manifest rows
        Objects with ``path`` (relative to ``root``), ``subject_ref`` and ``stage``, e.g. from
        ``TimeSeriesStore.segments(session, ...)``. Optional ``variables``, ``t_start_h`` and
        ``t_end_h`` let the reader skip segments the filters exclude.
    label : {"lot", "shipment"}
        Name of the subject column.
    variables, t_from, t_to
        Filters, as in ``TimeSeriesStore.read`` (``t`` bounds inclusive, hours).

    Returns
    -------
    dask.dataframe.DataFrame
        Columns ``<label>, stage, variable, t, value, unit, timestamp, quality``; partitions
        in (subject, stage) order, rows sorted by variable and t inside each.
    """
    if label not in ("lot", "shipment"):
        raise ValidationFailed(f"The subject label must be 'lot' or 'shipment'. Got {label!r}.")
    query = _query(label, variables, t_from, t_to)
    base = Path(root)
    groups: dict[tuple[str, bool, str], list[str]] = {}
    for segment in segments:
        if not _may_match(segment, variables, t_from, t_to):
            continue
        # DuckDB orders strings byte-wise and NULL stages last, as this key does.
        key = (segment.subject_ref, segment.stage is None, segment.stage or "")
        groups.setdefault(key, []).append(str(base / segment.path))
    meta = _meta(query)
    if not groups:
        return dd.from_pandas(meta, npartitions=1)
    ordered = [groups[key] for key in sorted(groups)]
    return dd.from_map(_read_group, ordered, query=query, meta=meta, enforce_metadata=False)


def read_timeseries(
    timeseries: _Manifest,
    session: Any,
    *,
    lot: str | Sequence[str] | None = None,
    shipment: str | None = None,
    stage: str | None = None,
    variables: Sequence[str] | None = None,
    t_from: float | None = None,
    t_to: float | None = None,
) -> dd.DataFrame:
    """The Dask twin of ``TimeSeriesStore.read``: same arguments, same rows, lazily.

    Parameters
    ----------
    timeseries : saisei.storage.TimeSeriesStore
        The store (its ``root`` must be readable by every worker: a shared file system or an
        object-store mount).
    session : sqlalchemy.orm.Session
        Where the manifest is read; only the client touches the database.
    lot, shipment, stage, variables, t_from, t_to
        As in ``TimeSeriesStore.read``.

    Returns
    -------
    dask.dataframe.DataFrame
        One partition per (subject, stage); ``.compute()`` equals ``TimeSeriesStore.read``
        with a fresh index.
    """
    if (lot is None) == (shipment is None):
        raise ValidationFailed("Give exactly one of 'lot' or 'shipment' to read time series.")
    subject_type = SubjectType.BATCH if lot is not None else SubjectType.SHIPMENT
    label = "lot" if lot is not None else "shipment"
    manifest = timeseries.segments(
        session,
        subject_ref=lot if lot is not None else shipment,
        subject_type=subject_type,
        stage=stage,
    )
    if not manifest and (isinstance(lot, str) or shipment is not None):
        raise NotFound(
            f"No time series is stored for {label} {lot if lot is not None else shipment!r}"
            f"{f' at stage {stage!r}' if stage else ''}."
        )
    return read_segments(
        timeseries.root,
        manifest,
        label=label,
        variables=variables,
        t_from=t_from,
        t_to=t_to,
    )
