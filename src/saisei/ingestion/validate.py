"""Validation of one exchange table: types, required values, units, ranges, choices, time
zones, duplicate keys and time order (the last two in :mod:`.validate_series`). Vectorised
over rows; every problem names file, row, column, value, the rule broken and the fix."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from saisei.domain.identity_din import din_problems
from saisei.errors import FieldError, ValidationFailed
from saisei.ingestion.reader import NO_VALUE, RawTable
from saisei.ingestion.schemas import SCHEMAS, Column, TableSchema
from saisei.ingestion.units import canonical_unit, convert
from saisei.ingestion.validate_series import (
    SeriesOrder,
    check_duplicates,
    check_time_order,
    extend_codes,
    group_codes,
    stable_order,
)

__all__ = ["ValidatedTable", "group_codes", "stable_order", "validate_table"]

_MAX_ERRORS_PER_RULE = 200
_ZONE = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_COMMA_DECIMAL = re.compile(r"^[+-]?\d+,\d+$")
#: Spellings of "no value" in numeric and time columns (spreadsheet and database exports).
_NAN_WORDS = set(NO_VALUE)
#: In text columns only pandas' own spelling counts: "NA" or "NULL" may be real codes.
_TEXT_NAN_WORDS = {"nan", "NaN"}
_NUMERIC_OR_TIME = {"float", "int", "datetime", "date"}
#: Rows from which the text columns of a table are dictionary-encoded side by side in threads.
_PARALLEL_ROWS = 1 << 16
#: Long tables whose per-row ``unit`` column applies to this numeric column.
_ROW_UNIT_VALUE = {
    "parameters": "value",
    "qc_results": "value",
    "timeseries": "value",
    "material_use": "quantity",
}


@dataclass
class ValidatedTable:
    """A table after validation.

    Attributes
    ----------
    frame : DataFrame
        Typed values in canonical units (datetimes UTC, dates, lists, floats).
    rows : ndarray of int
        Data-row number in the source file of each frame row (1-based).
    bad : ndarray of bool
        Rows with at least one problem.
    reasons : dict of int to str
        First problem of each bad row, by frame position.
    errors : list of FieldError
        Every problem (at most a few hundred per rule, then a count).
    """

    table: str
    source: str
    frame: pd.DataFrame
    rows: np.ndarray
    bad: np.ndarray
    reasons: dict[int, str] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)
    #: Integer code of each row's value and number of distinct values, per text column
    #: (computed while validating, reused to group rows into series and segments).
    factors: dict[str, tuple[np.ndarray, int]] = field(default_factory=dict, repr=False)
    #: Columns of the schema the file does not have (all values missing in :attr:`frame`).
    absent: set[str] = field(default_factory=set)

    #: Series numbering by key columns, each refining the one of the columns before it.
    groups: dict[tuple[str, ...], tuple[np.ndarray, int]] = field(default_factory=dict, repr=False)

    def codes(self, columns: list[str]) -> np.ndarray:
        """:func:`group_codes` of ``columns`` of :attr:`frame`, one integer per row.

        Numbered once per table: the codes of ``[lot, stage]`` (segments) are the start of
        those of ``[lot, stage, variable]`` (series) and are kept for the import.
        """
        return self._codes(tuple(columns))[0]

    def _codes(self, columns: tuple[str, ...]) -> tuple[np.ndarray, int]:
        if columns not in self.groups:
            start = self._codes(columns[:-1]) if len(columns) > 1 else None
            self.groups[columns] = extend_codes(self.frame, list(columns[-1:]), self.factors, start)
        return self.groups[columns]

    @property
    def schema(self) -> TableSchema:
        """The table's schema."""
        return SCHEMAS[self.table]

    def flag(
        self, mask: np.ndarray, column: str | None, message: str, values: pd.Series | None = None
    ) -> None:
        """Mark the rows in ``mask`` bad with ``message`` (value shown from ``values``)."""
        positions = np.flatnonzero(mask)
        if positions.size == 0:
            return
        self.bad[positions] = True
        for position in positions[:_MAX_ERRORS_PER_RULE]:
            value = None if values is None else values.iloc[position]
            self.errors.append(
                FieldError(
                    message,
                    file=self.source,
                    row=int(self.rows[position]),
                    field=column,
                    value=value,
                )
            )
        for position in positions:
            self.reasons.setdefault(int(position), f"{column}: {message}" if column else message)
        if positions.size > _MAX_ERRORS_PER_RULE:
            self.errors.append(
                FieldError(
                    f"... and {positions.size - _MAX_ERRORS_PER_RULE} more rows: {message}",
                    file=self.source,
                    field=column,
                )
            )

    def valid_frame(self) -> pd.DataFrame:
        """The rows without problems."""
        return self.frame[~self.bad]


def _text(values: pd.Series) -> pd.Series:
    """Values as a pandas string Series; a string column is used as it is (no copy)."""
    if pd.api.types.is_string_dtype(values) and values.dtype != object:
        return values
    return values.astype("str").where(values.notna(), None)


def _missing(values: pd.Series, words: set[str] = _NAN_WORDS) -> np.ndarray:
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        text = _text(values)
        return np.asarray(text.isna() | (text.str.strip() == "") | text.isin(words), dtype=bool)
    return np.asarray(values.isna(), dtype=bool)


def _text_factors(
    result: ValidatedTable,
    column: Column,
    values: pd.Series,
    words: set[str],
    stored: pa.ChunkedArray | None = None,
) -> pd.Series | None:
    """A text column checked once per distinct value, or None to check it row by row.

    Lot, stage, variable and unit columns of a long table hold a few distinct values in a
    million rows. When no value is missing or needs stripping, the column is returned as it
    is, its codes are kept in ``result.factors`` and an enum column's choices are checked;
    otherwise (blanks, padding, missing values) None is returned and the caller works row
    by row, naming every row.
    """
    chunked = _arrow_text(values)
    if chunked is None or chunked.null_count:
        return None
    # As the Parquet file stores it or encoded beforehand (``stored``, :func:`_encodings`),
    # or encoded by Arrow here (several times faster than pandas' factorize).
    encoded = _stored_encoding(stored)
    if encoded is None:
        encoded = pc.dictionary_encode(chunked).unify_dictionaries()
    if encoded.num_chunks == 0:
        return None
    distinct = pd.Series(encoded.chunk(0).dictionary.to_pylist(), dtype=values.dtype)
    stripped = distinct.str.strip()
    blank = np.asarray((stripped == "") | distinct.isin(words), dtype=bool)
    if blank.any() or not stripped.equals(distinct):
        return None
    codes = np.concatenate([c.indices.to_numpy() for c in encoded.chunks])
    result.factors[column.name] = (codes, len(distinct))
    if column.kind == "enum":
        unknown = ~np.asarray(distinct.isin(column.choices), dtype=bool)
        result.flag(
            unknown[codes], column.name, f"must be one of {', '.join(column.choices)}", values
        )
    return values


def _arrow_text(values: pd.Series) -> pa.ChunkedArray | None:
    """The Arrow array behind a text column (pandas' ``str`` dtype), if it has one."""
    if not isinstance(values.dtype, pd.StringDtype) or values.dtype.storage != "pyarrow":
        return None
    return values.array.__arrow_array__()


def _factored(column: Column) -> bool:
    """A text column checked once per distinct value (:func:`_text_factors`)."""
    return column.kind in ("str", "enum") and column.name != "din"


def _encodings(raw: RawTable, schema: TableSchema) -> dict[str, pa.ChunkedArray]:
    """Dictionary encodings of the text columns :func:`_text_factors` numbers.

    As a Parquet file stores them (:attr:`RawTable.dictionaries`), else encoded here: a
    large table's columns side by side in threads (Arrow's kernels release the GIL; a
    million-row table has four such columns in a time series).
    """
    encodings = dict(raw.dictionaries)
    pending: dict[str, pa.ChunkedArray] = {}
    for column in schema.columns:
        if not _factored(column) or column.name in encodings or column.name not in raw.frame:
            continue
        chunked = _arrow_text(raw.frame[column.name])
        if chunked is not None and not chunked.null_count and chunked.num_chunks:
            pending[column.name] = chunked

    def encode(chunked: pa.ChunkedArray) -> pa.ChunkedArray:
        return pc.dictionary_encode(chunked).unify_dictionaries()

    if len(pending) > 1 and len(raw.frame) >= _PARALLEL_ROWS:
        with ThreadPoolExecutor(max_workers=min(4, len(pending))) as pool:
            encodings.update(zip(pending, pool.map(encode, pending.values()), strict=True))
    else:
        encodings.update((name, encode(chunked)) for name, chunked in pending.items())
    return encodings


def _stored_encoding(stored: pa.ChunkedArray | None) -> pa.ChunkedArray | None:
    """``stored`` with one dictionary of distinct values, or None if it cannot be used."""
    if stored is None or stored.num_chunks == 0 or stored.null_count:
        return None
    unified = stored.unify_dictionaries()
    dictionary = unified.chunk(0).dictionary
    if any(
        c.dictionary is not dictionary and not c.dictionary.equals(dictionary)
        for c in unified.chunks
    ):
        return None
    if pc.count_distinct(dictionary).as_py() != len(dictionary):
        return None  # a writer repeated a value in its dictionary: encode the text again
    return unified


def _arrow_numbers(values: pd.Series, words: set[str]) -> tuple[pd.Series, np.ndarray] | None:
    """Numbers and missing mask of a text column, in Arrow; None if some value fails to parse.

    The same rules as :func:`_missing` and :func:`_numbers` (blank after stripping, or a
    spelling of no value, is missing); a column with any other problem returns None, and
    the row-by-row path then names every bad value.
    """
    if not isinstance(values.dtype, pd.StringDtype) or values.dtype.storage != "pyarrow":
        return None
    chunked = values.array.__arrow_array__()
    direct = _direct_numbers(chunked, words)
    if direct is not None:
        return pd.Series(direct[0], index=values.index), direct[1]
    stripped = pc.utf8_trim_whitespace(chunked)
    blank = pc.or_(pc.equal(stripped, ""), pc.is_in(chunked, value_set=pa.array(sorted(words))))
    missing_arrow = pc.fill_null(blank, True)
    try:
        parsed = pc.cast(
            pc.if_else(missing_arrow, pa.scalar(None, pa.string()), stripped), pa.float64()
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    missing = np.asarray(missing_arrow.to_numpy(zero_copy_only=False), dtype=bool)
    numbers = np.asarray(parsed.to_numpy(zero_copy_only=False), dtype="float64")
    return pd.Series(numbers, index=values.index), missing


def _direct_numbers(
    chunked: pa.ChunkedArray, words: set[str]
) -> tuple[np.ndarray, np.ndarray] | None:
    """Numbers and missing mask when every value parses as it is (no padding, no blanks).

    Arrow reads ``nan`` (any case, signed) as NaN; only the rows that came out NaN or null
    are looked at again, and those holding a spelling of no value (or null) are missing,
    exactly as in the general path. None when some value does not parse as it stands.
    """
    try:
        parsed = pc.cast(chunked, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    numbers = np.asarray(parsed.to_numpy(), dtype="float64")
    missing = np.isnan(numbers)
    if missing.any():
        positions = np.flatnonzero(missing)
        texts = pc.take(chunked, pa.array(positions)).to_pylist()
        missing[positions] = [text is None or text in words for text in texts]
    return numbers, missing


def _cast_numbers(text: pd.Series, missing: np.ndarray) -> pd.Series | None:
    """Numbers parsed by Arrow, or None if some value does not parse (then pandas reports)."""
    array = pa.array(text, type=pa.string(), from_pandas=True)
    if missing.any():
        array = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), array)
    try:
        parsed = pc.cast(array, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return pd.Series(parsed.to_numpy(zero_copy_only=False), index=text.index, dtype="float64")


def _numbers(
    result: ValidatedTable, column: Column, values: pd.Series, missing: np.ndarray
) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.astype("float64")
    else:
        text = _text(values).str.strip()
        cast = _cast_numbers(text, missing)
        numbers = (
            cast
            if cast is not None
            else pd.to_numeric(text.where(~missing), errors="coerce").astype("float64")
        )
        unparsed = ~missing & np.asarray(numbers.isna(), dtype=bool)
        if unparsed.any():
            comma = unparsed & np.asarray(text.str.match(_COMMA_DECIMAL).fillna(False), dtype=bool)
            result.flag(
                comma,
                column.name,
                "uses a comma as decimal separator; write the "
                "number with a point (e.g. 12.5), or export the file with '.' decimals",
                values,
            )
            result.flag(unparsed & ~comma, column.name, f"must be a number ({column.kind})", values)
    if column.kind == "int":
        fractional = ~missing & np.asarray(numbers.notna() & (numbers % 1 != 0), dtype=bool)
        result.flag(fractional, column.name, "must be a whole number", values)
    return numbers


def _header_unit(
    result: ValidatedTable, column: Column, unit: str | None, numbers: pd.Series
) -> pd.Series:
    if unit is None or column.unit is None:
        return numbers
    try:
        return pd.Series(convert(numbers.to_numpy(), unit, column.unit), index=numbers.index)
    except ValidationFailed as exc:
        result.flag(
            np.ones(len(numbers), dtype=bool),
            column.name,
            f"header unit [{unit}] is not usable for this column: {exc.message} "
            f"Give values in {column.unit} or another unit of the same quantity",
        )
        return numbers


def _ranges(result: ValidatedTable, column: Column, numbers: pd.Series, values: pd.Series) -> None:
    if column.low is None and column.high is None:
        return
    array = numbers.to_numpy()
    with np.errstate(invalid="ignore"):
        low = array < column.low if column.low is not None else np.zeros(len(array), bool)
        high = array > column.high if column.high is not None else np.zeros(len(array), bool)
    unit = f" {column.unit}" if column.unit else ""
    bounds = (
        f"between {column.low:g} and {column.high:g}"
        if column.low is not None and column.high is not None
        else f"at least {column.low:g}"
        if column.low is not None
        else f"at most {column.high:g}"
    )
    result.flag(
        low | high, column.name, f"must be {bounds}{unit} (physically plausible range)", values
    )


def _datetimes(
    result: ValidatedTable,
    column: Column,
    values: pd.Series,
    missing: np.ndarray,
    timezone: str | None,
) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        if getattr(values.dt, "tz", None) is not None:
            return values.dt.tz_convert("UTC")
        if timezone is None:
            result.flag(
                ~missing,
                column.name,
                "timestamp has no time zone; store timestamps "
                "with a zone offset or declare the zone of the file (--timezone)",
                values,
            )
            return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
        return values.dt.tz_localize(timezone).dt.tz_convert("UTC")
    text = _text(values).str.strip()
    zoned = np.asarray(text.str.contains(_ZONE).fillna(False), dtype=bool) & ~missing
    naive = ~zoned & ~missing
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    if zoned.any():
        parsed[zoned] = pd.to_datetime(text[zoned], utc=True, format="ISO8601", errors="coerce")
    if naive.any():
        if timezone is None:
            result.flag(
                naive,
                column.name,
                "timestamp has no time zone; add the offset "
                "(e.g. 2026-03-01T08:00:00+09:00) or declare the zone of the file "
                "(--timezone Asia/Tokyo)",
                values,
            )
        else:
            local = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
            parsed[naive] = local.dt.tz_localize(timezone).dt.tz_convert("UTC")
    unparsed = ~missing & np.asarray(parsed.isna(), dtype=bool) & (zoned | (timezone is not None))
    result.flag(unparsed, column.name, "is not an ISO 8601 timestamp", values)
    return parsed


def _column(
    result: ValidatedTable,
    raw: RawTable,
    column: Column,
    timezone: str | None,
    encodings: dict[str, pa.ChunkedArray],
) -> pd.Series:
    values = raw.frame[column.name]
    words = _NAN_WORDS if column.kind in _NUMERIC_OR_TIME else _TEXT_NAN_WORDS
    if _factored(column):
        factored = _text_factors(result, column, values, words, encodings.get(column.name))
        if factored is not None:
            return factored
    fast = _arrow_numbers(values, words) if column.kind in ("float", "int") else None
    missing = fast[1] if fast is not None else _missing(values, words)
    if column.required:
        result.flag(missing, column.name, "required value is missing", values)
    if column.kind in ("float", "int"):
        numbers = _numbers(result, column, values, missing) if fast is None else fast[0]
        if column.kind == "int" and fast is not None:
            fractional = ~missing & np.asarray(numbers.notna() & (numbers % 1 != 0), dtype=bool)
            result.flag(fractional, column.name, "must be a whole number", values)
        numbers = _header_unit(result, column, raw.header_units.get(column.name), numbers)
        _ranges(result, column, numbers, values)
        return numbers
    if column.kind == "datetime":
        return _datetimes(result, column, values, missing, timezone)
    if column.kind == "date":
        dates = pd.to_datetime(values.where(~missing), format="ISO8601", errors="coerce")
        result.flag(
            ~missing & np.asarray(dates.isna(), dtype=bool),
            column.name,
            "is not an ISO 8601 date (YYYY-MM-DD)",
            values,
        )
        return dates.dt.date.where(dates.notna(), None)
    text = _text(values).str.strip().where(~missing, None)
    if column.kind == "enum":
        unknown = ~missing & ~np.asarray(text.isin(column.choices), dtype=bool)
        result.flag(unknown, column.name, f"must be one of {', '.join(column.choices)}", values)
    if column.name == "din":
        _dins(result, column, text, missing, values)
    if column.kind == "list":
        items = [
            [p.strip() for p in v.split(";") if p.strip()] if isinstance(v, str) else []
            for v in text
        ]
        return pd.Series(items, index=text.index, dtype=object)
    return text.where(~missing, None)


def _dins(
    result: ValidatedTable, column: Column, text: pd.Series, missing: np.ndarray, values: pd.Series
) -> None:
    """ISBT 128 structure of every DIN (``saisei.domain.identity``), one check per value."""
    verdict = {v: din_problems(v) for v in pd.unique(text[~missing])}
    for din, problems in verdict.items():
        if problems:
            mask = np.asarray(text == din, dtype=bool) & ~missing
            result.flag(mask, column.name, f"is not an ISBT 128 DIN: {problems[0].message}", values)


def _row_units(result: ValidatedTable, frame: pd.DataFrame) -> None:
    value_column = _ROW_UNIT_VALUE.get(result.table)
    if value_column is None or "unit" not in frame or value_column not in frame:
        return
    units = frame["unit"]
    for unit in units.dropna().unique():
        try:
            target = canonical_unit(str(unit))
            if target == unit:
                continue
            # One vectorised conversion per distinct unit.
            mask = np.asarray(units == unit, dtype=bool)
            frame.loc[mask, value_column] = convert(
                frame.loc[mask, value_column].to_numpy(), str(unit), target
            )
            frame.loc[mask, "unit"] = target
            result.factors.pop("unit", None)  # the codes of the old spellings no longer hold
        except ValidationFailed:
            result.flag(
                np.asarray(units == unit, dtype=bool),
                "unit",
                f"unknown unit {unit!r}; use a unit such as degC, h, mL, "
                "cell/mL, rpm, percent, mmol/L",
                units,
            )


def validate_table(raw: RawTable, *, timezone: str | None = None) -> ValidatedTable:
    """Validate and convert one raw table.

    Parameters
    ----------
    raw : RawTable
        As read by :func:`saisei.ingestion.reader.read_file`.
    timezone : str, optional
        IANA zone of timestamps written without an offset (e.g. ``Asia/Tokyo``).

    Returns
    -------
    ValidatedTable
        Typed frame plus every problem found; rows with problems are flagged, not dropped.

    Notes
    -----
    Number columns Arrow typed while reading (:attr:`RawTable.typed`) are validated as
    they are; if any of them has a problem, the table is validated again from the text of
    the file, so that every problem names the value as written.
    """
    result = _validate(raw, timezone)
    if raw.typed and any(e.field in raw.typed for e in result.errors):
        return _validate(raw.as_text(), timezone)
    return result


def _validate(raw: RawTable, timezone: str | None) -> ValidatedTable:
    schema = SCHEMAS[raw.table]
    n = len(raw.frame)
    result = ValidatedTable(
        raw.table,
        raw.source,
        pd.DataFrame(index=raw.frame.index),
        np.arange(1, n + 1) if raw.rows is None else np.asarray(raw.rows),
        np.zeros(n, dtype=bool),
    )
    if n == 0:
        result.errors.append(
            FieldError(
                f"the file has no data rows; an empty {raw.table} file is rejected "
                "(a logger file with no readings means the logger did not record)",
                file=raw.source,
            )
        )
        return result
    known = {c.name for c in schema.columns}
    for name in raw.frame.columns:
        if name not in known and not (
            schema.extra_prefix and str(name).startswith(schema.extra_prefix)
        ):
            result.errors.append(
                FieldError(
                    f"unknown column {name!r}; allowed: {', '.join(sorted(known))}"
                    + (f", or {schema.extra_prefix}<name>" if schema.extra_prefix else ""),
                    file=raw.source,
                    field=str(name),
                )
            )
            result.bad[:] = True
    missing_columns = [c for c in schema.required if c not in raw.frame.columns]
    for name in missing_columns:
        result.errors.append(
            FieldError(f"required column {name!r} is missing", file=raw.source, field=name)
        )
    if missing_columns:
        result.bad[:] = True
        return result
    encodings = _encodings(raw, schema)
    columns: dict[str, Any] = {}
    for column in schema.columns:
        if column.name in raw.frame.columns:
            columns[column.name] = _column(result, raw, column, timezone, encodings)
        else:
            columns[column.name] = None
            result.absent.add(column.name)
    if schema.extra_prefix:
        for name in raw.frame.columns:
            if str(name).startswith(schema.extra_prefix):
                columns[name] = raw.frame[name].where(
                    ~pd.Series(_missing(raw.frame[name]), index=raw.frame.index), None
                )
    # Built once from its columns (adding them one by one reorganises the frame each time).
    frame = pd.DataFrame(columns, index=raw.frame.index, copy=False)
    _row_units(result, frame)
    result.frame = frame = frame.reset_index(drop=True)
    order = schema.ordered_by
    codes = result.codes(list(order[:-1])) if order and all(c in frame for c in order) else None
    series = SeriesOrder.of(frame, codes, order[-1]) if codes is not None else None
    check_duplicates(result, frame, codes, series)
    if series is not None:
        check_time_order(result, frame, series)
    return result
