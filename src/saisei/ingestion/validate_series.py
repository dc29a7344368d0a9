"""Checks of series tables (time series, logger readings): one numbering of the series, one
order, then duplicate keys and time order within each series.

Rows are numbered by series once (:func:`group_codes`, integer codes of each key column
combined) and sorted by series once (:func:`stable_order`, no sort when the file holds each
series as one block); the duplicate and time-order checks compare neighbours in that order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from saisei.ingestion.validate import ValidatedTable

__all__ = [
    "SeriesOrder",
    "check_duplicates",
    "check_time_order",
    "extend_codes",
    "group_codes",
    "stable_order",
]


def extend_codes(
    frame: pd.DataFrame,
    columns: list[str],
    factors: dict[str, tuple[np.ndarray, int]] | None = None,
    start: tuple[np.ndarray, int] | None = None,
) -> tuple[np.ndarray, int]:
    """Codes of ``columns`` within the groups ``start`` (codes, count), and their count.

    The groups of the columns before, numbered by this function (as ``start``), are refined
    by ``columns``: the result numbers each distinct combination in order of appearance, as
    :func:`group_codes` of all the columns would, without numbering the first ones again.
    """
    factors = factors or {}
    codes: np.ndarray | None
    codes, size = (None, 1) if start is None else start
    for column in columns:
        if column in factors:
            own, count = factors[column]
        else:
            own, uniques = pd.factorize(frame[column], use_na_sentinel=False)
            count = len(uniques)
        count = max(count, 1)
        if codes is None:
            codes = np.asarray(own)
        else:
            if size * count >= 2**62:  # renumber before the combined codes could overflow
                codes, distinct = pd.factorize(codes)
                size = len(distinct)
            # A new array (``start`` is kept as it is), 64-bit whatever the codes' width.
            codes = np.multiply(codes, count, dtype=np.int64)
            codes += own
        size *= count
    if codes is None:
        codes = np.zeros(len(frame), dtype=np.int32)
    if not codes.size:
        return codes, 0
    if bool(np.all(codes[1:] >= codes[:-1])):
        # Rows grouped and in order (the usual file): number the runs, no hashing needed.
        starts = np.flatnonzero(codes[1:] != codes[:-1]) + 1
        lengths = np.diff(np.concatenate([[0], starts, [codes.size]]))
        width = np.int32 if lengths.size < 2**31 else np.int64  # half the memory to fill
        return np.repeat(np.arange(lengths.size, dtype=width), lengths), int(lengths.size)
    renumbered, seen = pd.factorize(codes)
    return np.asarray(renumbered), len(seen)


def group_codes(
    frame: pd.DataFrame,
    columns: list[str],
    factors: dict[str, tuple[np.ndarray, int]] | None = None,
) -> np.ndarray:
    """One integer per distinct combination of ``columns``, numbered in order of appearance.

    The same numbering as ``frame.groupby(columns, sort=False, dropna=False).ngroup()``, but
    each column is factorised on its own (a hash of its values, fast on Arrow strings; or
    taken from ``factors``, column -> (codes, number of distinct values)) and the integer
    codes are combined, instead of grouping on tuples of strings.
    """
    return extend_codes(frame, columns, factors)[0]


def stable_order(codes: np.ndarray) -> np.ndarray:
    """``np.argsort(codes, kind="stable")``, without sorting when already in order.

    Files usually hold each series as one block, so their codes (numbered in order of
    appearance) never decrease and the order is the file's.
    """
    if _in_order(codes):
        return np.arange(codes.size)
    return np.argsort(codes, kind="stable")


def _in_order(codes: np.ndarray) -> bool:
    return codes.size < 2 or bool(np.all(codes[1:] >= codes[:-1]))


@dataclass(frozen=True)
class SeriesOrder:
    """Rows of a series table sorted by series, file order kept within each series."""

    order: np.ndarray | None  # None: the file's own order (each series one block)
    values: np.ndarray  # time of each row, in that order
    same: np.ndarray  # row i + 1 is of the same series as row i (in that order)

    @classmethod
    def of(cls, frame: pd.DataFrame, codes: np.ndarray, time: str) -> SeriesOrder:
        """The order of ``frame``'s rows by series ``codes``, with the ``time`` of each."""
        values = frame[time].to_numpy()
        if _in_order(codes):  # the usual file: nothing to reorder
            return cls(None, values, codes[1:] == codes[:-1])
        order = np.argsort(codes, kind="stable")
        sorted_codes = codes[order]
        return cls(order, values[order], sorted_codes[1:] == sorted_codes[:-1])

    def rows(self, mask: np.ndarray) -> np.ndarray:
        """Positions in the file of the sorted rows (from the second) in ``mask``."""
        following = np.flatnonzero(mask) + 1
        return following if self.order is None else self.order[following]

    def backwards(self) -> np.ndarray:
        """Mask over the sorted rows (from the second): earlier time than the row before."""
        with np.errstate(invalid="ignore"):
            return self.same & (self.values[1:] < self.values[:-1])

    def repeated(self, n: int) -> np.ndarray | None:
        """Rows whose (series, time) an earlier row has; None unless time never goes back.

        With times non-decreasing within each series, equal times are neighbours in this
        order, so one comparison with the previous row finds every repeat (the later rows,
        as ``duplicated(keep="first")``; missing times count as equal, as in pandas).
        """
        if self.values.dtype.kind not in "fiuM" or self.backwards().any():
            return None
        before, after = self.values[:-1], self.values[1:]
        equal = (after == before) | (pd.isna(after) & pd.isna(before))
        repeated = np.zeros(n, dtype=bool)
        repeated[self.rows(self.same & equal)] = True
        return repeated


def check_duplicates(
    result: ValidatedTable,
    frame: pd.DataFrame,
    codes: np.ndarray | None,
    series: SeriesOrder | None,
) -> None:
    """Flag every row whose key an earlier row of the file has (the first one is kept)."""
    key = [k for k in result.schema.key if k in frame]
    if not key:
        return
    duplicated = series.repeated(len(frame)) if series is not None else None
    if duplicated is None and codes is not None:
        # Series tables: the key is (series, time), so compare two numeric columns.
        time = result.schema.ordered_by[-1]
        probe = pd.DataFrame({"series": codes, "time": frame[time].to_numpy()})
        duplicated = np.asarray(probe.duplicated(keep="first"), dtype=bool)
    elif duplicated is None:
        duplicated = np.asarray(frame[key].duplicated(keep="first"), dtype=bool)
    if duplicated.any():
        shown = pd.Series(None, index=frame.index, dtype=object)
        # str of each value: a missing one (a time left blank) shows as nan, not as a gap.
        shown[duplicated] = frame.loc[duplicated, key].map(str).agg(", ".join, axis=1)
        result.flag(
            duplicated,
            ", ".join(key),
            "duplicated key: another row of this file has the same "
            f"{', '.join(key)}; keep one row per key",
            shown,
        )


def check_time_order(result: ValidatedTable, frame: pd.DataFrame, series: SeriesOrder) -> None:
    """Flag every row earlier in time than the row before it of the same series."""
    *groups, time = result.schema.ordered_by
    # Stable sort by series keeps file order within each series; compare each row with the
    # previous row of the same series.
    backwards = np.zeros(len(frame), dtype=bool)
    backwards[series.rows(series.backwards())] = True
    result.flag(
        backwards,
        time,
        f"time goes backwards within {', '.join(groups)}: rows of "
        "one series must be in increasing time order",
        frame[time],
    )
