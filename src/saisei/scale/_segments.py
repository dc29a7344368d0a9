"""Large partitions of the time-series store read with PyArrow, and the per-partition work on them.

One partition per lot is right for a few hundred lots, but per-task overheads (scheduling,
DuckDB start-up, pandas conversion of every text column) dominate when a fleet holds
thousands of lots of modest size. :func:`map_segments` groups consecutive (subject, stage)
groups of manifest rows into partitions of about ``partition_rows`` rows (a lot never spans
two partitions), reads each with ``pyarrow.parquet`` (only the columns asked for; ``subject``
and ``variable`` dictionary-encoded) and applies a function to the Arrow table on the worker,
so that only its (usually small) result travels. Two such functions come with it:
:func:`lot_summaries` (count, mean, standard deviation, min, max per lot and variable, by
Arrow's hash group-by) and :func:`wide_rows` (the long rows pivoted to one row per lot and
time, vectorised), which is what the PCA/PLS and batch-model fits consume.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from saisei.errors import StorageError, ValidationFailed

from ._read import _SCHEMA, SegmentRef, _may_match

__all__ = ["group_segments", "lot_summaries", "map_segments", "wide_rows"]

_DICTIONARY = ("subject", "stage", "variable", "unit", "quality")


def group_segments(
    root: Path | str,
    segments: Sequence[SegmentRef],
    *,
    partition_rows: int | None = 1_000_000,
    variables: Sequence[str] | None = None,
    t_from: float | None = None,
    t_to: float | None = None,
) -> list[list[str]]:
    """Absolute segment paths grouped into partitions, in (subject, stage) order.

    Parameters
    ----------
    root : Path or str
        The store root.
    segments : sequence of manifest rows
        With ``path``, ``subject_ref``, ``stage`` and, to size the partitions, ``row_count``
        (without it every (subject, stage) group is its own partition).
    partition_rows : int or None, default=1_000_000
        Target rows per partition; consecutive (subject, stage) groups are added to a
        partition until it holds at least this many rows. ``None``: one partition per
        (subject, stage), as :func:`read_segments`.
    variables, t_from, t_to
        Filters; segments the manifest proves irrelevant are left out.

    Returns
    -------
    list of list of str
        One list of file paths per partition.
    """
    if partition_rows is not None and (
        isinstance(partition_rows, bool)
        or not isinstance(partition_rows, int)
        or partition_rows < 1
    ):
        raise ValidationFailed(
            f"'partition_rows' must be a positive integer or None. Got {partition_rows!r}."
        )
    base = Path(root)
    groups: dict[tuple[str, bool, str], tuple[list[str], int | None]] = {}
    for segment in segments:
        if not _may_match(segment, variables, t_from, t_to):
            continue
        key = (segment.subject_ref, segment.stage is None, segment.stage or "")
        paths, rows = groups.get(key, ([], 0))
        count = getattr(segment, "row_count", None)
        paths.append(str(base / segment.path))
        groups[key] = (paths, None if rows is None or count is None else rows + int(count))
    partitions: list[list[str]] = []
    current: list[str] = []
    filled = 0
    for key in sorted(groups):
        paths, rows = groups[key]
        current.extend(paths)
        if partition_rows is None or rows is None:
            partitions.append(current)  # unknown size: the group is its own partition
            current, filled = [], 0
            continue
        filled += rows
        if filled >= partition_rows:
            partitions.append(current)
            current, filled = [], 0
    if current:
        partitions.append(current)
    return partitions


def read_table(
    paths: Sequence[str],
    columns: Sequence[str] | None = None,
    variables: Sequence[str] | None = None,
    t_from: float | None = None,
    t_to: float | None = None,
) -> pa.Table:
    """The rows of some segment files as one Arrow table (text columns dictionary-encoded)."""
    names = list(columns) if columns is not None else list(_SCHEMA.names)
    unknown = [c for c in names if c not in _SCHEMA.names]
    if unknown:
        raise ValidationFailed(
            f"The store's segments have no column(s) {unknown}. Columns: {_SCHEMA.names}."
        )
    needed = list(dict.fromkeys([*names, *(["variable"] if variables is not None else [])]))
    needed += ["t"] if (t_from is not None or t_to is not None) and "t" not in needed else []
    dictionary = [c for c in needed if c in _DICTIONARY]
    tables = []
    for path in paths:
        try:
            table = pq.read_table(path, columns=needed, read_dictionary=dictionary)
        except (OSError, pa.ArrowException) as exc:
            raise StorageError(f"Cannot read the time-series segment {path}: {exc}") from exc
        mask = None
        if variables is not None:
            text = pc.cast(table.column("variable"), pa.string())
            mask = pc.is_in(text, value_set=pa.array(list(variables), pa.string()))
        if t_from is not None:
            low = pc.greater_equal(table.column("t"), float(t_from))
            mask = low if mask is None else pc.and_(mask, low)
        if t_to is not None:
            high = pc.less_equal(table.column("t"), float(t_to))
            mask = high if mask is None else pc.and_(mask, high)
        tables.append(table if mask is None else table.filter(mask))
    if not tables:
        schema = pa.schema([_dictionary_field(_SCHEMA.field(c)) for c in needed])
        return schema.empty_table().select(names)
    return pa.concat_tables(tables).unify_dictionaries().combine_chunks().select(names)


def _dictionary_field(field: pa.Field) -> pa.Field:
    if field.name in _DICTIONARY:
        return pa.field(field.name, pa.dictionary(pa.int32(), pa.string()), field.nullable)
    return field


def _apply(
    paths: list[str],
    func: Callable[[pa.Table], pd.DataFrame],
    read: Sequence[str] | None,
    variables: Sequence[str] | None,
    t_from: float | None,
    t_to: float | None,
) -> pd.DataFrame:
    # (The segment columns are not called 'columns' here: Dask would take a keyword of that
    # name for the output columns to project.)
    return func(read_table(paths, read, variables, t_from, t_to))


def map_segments(
    func: Callable[[pa.Table], pd.DataFrame],
    root: Path | str,
    segments: Sequence[SegmentRef],
    *,
    columns: Sequence[str] | None = ("subject", "variable", "t", "value"),
    partition_rows: int | None = 1_000_000,
    variables: Sequence[str] | None = None,
    t_from: float | None = None,
    t_to: float | None = None,
) -> dd.DataFrame:
    """``func(arrow_table)`` for every partition of the store's segments, lazily.

    Parameters
    ----------
    func : callable
        Takes a ``pyarrow.Table`` (the selected ``columns`` of one partition's rows, each
        (subject, stage) group whole and in order; ``subject``/``variable`` dictionary-encoded)
        and returns a pandas DataFrame. It is called once on an empty table to learn the
        output's columns. :func:`lot_summaries` and ``functools.partial(wide_rows,
        variables=...)`` are ready-made.
    root : Path or str
        The store root, readable by every worker.
    segments : sequence of manifest rows
        As for :func:`read_segments`; ``row_count`` sizes the partitions.
    columns : sequence of str, default=("subject", "variable", "t", "value")
        Segment columns to read (the store's names: ``subject``, not ``lot``).
    partition_rows : int or None, default=1_000_000
        Rows per partition (see :func:`group_segments`).
    variables, t_from, t_to
        Filters, as in ``TimeSeriesStore.read`` (``t`` bounds inclusive, hours).

    Returns
    -------
    dask.dataframe.DataFrame
        One partition per group of segments.
    """
    groups = group_segments(
        root, segments, partition_rows=partition_rows, variables=variables, t_from=t_from, t_to=t_to
    )
    meta = func(read_table([], columns))
    if not groups:
        return dd.from_pandas(meta, npartitions=1)
    work = partial(_apply, func=func, read=columns, variables=variables, t_from=t_from, t_to=t_to)
    return dd.from_map(work, groups, meta=meta, enforce_metadata=False)


def _codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes in sorted order of the labels, and the sorted labels."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_dictionary(array.type):
        array = pc.dictionary_encode(array)
    if array.null_count:
        raise ValidationFailed(
            "A lot or variable label is missing (null) in a time-series segment; every row "
            "needs both."
        )
    names = np.asarray(array.dictionary.to_pylist(), dtype=object)
    order = np.argsort(names.astype(str), kind="stable")
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    return rank[array.indices.to_numpy(zero_copy_only=False)], names[order]


def _sorted_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pandas.factorize(values, sort=True)``, hashing first and sorting only the uniques."""
    codes, uniques = pd.factorize(values)
    uniques = np.asarray(uniques)
    order = np.argsort(uniques, kind="stable")
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    return rank[codes], uniques[order]


def lot_summaries(table: pa.Table) -> pd.DataFrame:
    """Count, mean, standard deviation (ddof=1), min and max of ``value`` per lot and variable.

    Parameters
    ----------
    table : pyarrow.Table
        Columns ``subject``, ``variable``, ``value`` (as :func:`map_segments` reads them).

    Returns
    -------
    DataFrame
        ``lot, variable, count, mean, std, min, max``, sorted by lot and variable; ``count``
        counts values present, ``std`` is NaN for fewer than 2 values.
    """
    for name in ("subject", "variable", "value"):
        if name not in table.column_names:
            raise ValidationFailed(f"lot_summaries needs the column {name!r} of the segments.")
    lot_code, lots = _codes(table.column("subject"))
    var_code, labels = _codes(table.column("variable"))
    # Hash group-by on one integer key (cheaper than on two text columns), decoded after.
    key = pa.array(lot_code * max(labels.size, 1) + var_code, pa.int64())
    grouped = (
        pa.table({"key": key, "value": table.column("value")})
        .group_by("key")
        .aggregate(
            [
                ("value", "count"),
                ("value", "mean"),
                ("value", "stddev", pc.VarianceOptions(ddof=1)),
                ("value", "min"),
                ("value", "max"),
            ]
        )
        .sort_by("key")
    )
    keys = grouped.column("key").to_numpy()
    frame = pd.DataFrame(
        {
            "lot": lots[keys // max(labels.size, 1)] if keys.size else lots[:0],
            "variable": labels[keys % max(labels.size, 1)] if keys.size else labels[:0],
        }
    )
    for name, column in zip(
        ("count", "mean", "std", "min", "max"), grouped.column_names[1:], strict=True
    ):
        frame[name] = grouped.column(column).to_numpy(zero_copy_only=False)
    return frame.astype(
        {"count": np.int64, "mean": float, "std": float, "min": float, "max": float}
    )


def wide_rows(table: pa.Table, variables: Sequence[str]) -> pd.DataFrame:
    """Long rows pivoted to one row per (lot, t), one column per variable, vectorised.

    Parameters
    ----------
    table : pyarrow.Table
        Columns ``subject``, ``variable``, ``t``, ``value``.
    variables : sequence of str
        The variable columns, in this order (a variable absent from the table is all NaN;
        rows of variables not listed are ignored).

    Returns
    -------
    DataFrame
        ``lot, t, <variables...>`` sorted by lot and t; NaN where a (lot, t) has no value of
        a variable.
    """
    names = [str(v) for v in variables]
    for name in ("subject", "variable", "t", "value"):
        if name not in table.column_names:
            raise ValidationFailed(f"wide_rows needs the column {name!r} of the segments.")
    if table.num_rows == 0:
        frame = pd.DataFrame({"lot": pd.Series(dtype=object), "t": pd.Series(dtype=float)})
        for name in names:
            frame[name] = pd.Series(dtype=float)
        return frame
    lot_code, lots = _codes(table.column("subject"))
    var_code, labels = _codes(table.column("variable"))
    column_of = pd.Index(names).get_indexer(pd.Index(labels.astype(str)))[var_code]
    t = table.column("t").to_numpy()
    value = table.column("value").to_numpy(zero_copy_only=False)
    time_code, times = _sorted_codes(t)
    row_code, keys = _sorted_codes(lot_code * times.size + time_code)
    keep = column_of >= 0
    cell = row_code[keep] * len(names) + column_of[keep]
    counts = np.bincount(cell, minlength=keys.size * len(names))
    if counts.size and counts.max() > 1:
        row, col = divmod(int(np.argmax(counts)), len(names))
        raise ValidationFailed(
            f"The segments repeat a (lot, t, variable) key: lot "
            f"{lots[keys[row] // times.size]!r}, t {times[keys[row] % times.size]}, variable "
            f"{names[col]!r}. Keep one value per key."
        )
    wide = np.full((keys.size, len(names)), np.nan)
    wide[row_code[keep], column_of[keep]] = value[keep]
    frame = pd.DataFrame(wide, columns=names)
    frame.insert(0, "t", np.asarray(times)[keys % times.size])
    frame.insert(0, "lot", lots[keys // times.size])
    return frame
