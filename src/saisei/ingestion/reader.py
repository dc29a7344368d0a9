"""Reading exchange files: CSV, Parquet and XLSX sheets, named by table.

Readers keep values as they are in the file (strings for CSV and XLSX) so that validation can
report the exact value and row of every problem; nothing is coerced silently. CSV files are
parsed by Arrow (every column as text), with pandas as the reference for files Arrow reads
differently. The number columns of a series table's CSV file are typed by Arrow as it parses
(:attr:`RawTable.typed`); their text is read when it is needed (:meth:`RawTable.as_text`).
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from saisei.errors import FieldError, ValidationFailed
from saisei.ingestion.schemas import SCHEMAS

__all__ = ["RawTable", "discover", "read_file", "split_header_unit"]

_HEADER_UNIT = re.compile(r"^\s*(?P<name>[^\[\]]+?)\s*\[(?P<unit>[^\]]*)\]\s*$")
SUFFIXES = (".csv", ".parquet", ".xlsx")
#: Spellings of "no value" in number and time columns (spreadsheet and database exports).
NO_VALUE = frozenset({"nan", "NaN", "NAN", "NA", "N/A", "null", "NULL", "None"})


@dataclass
class RawTable:
    """One table as read from one file (or sheet), before validation.

    Attributes
    ----------
    table : str
        Exchange table name.
    source : str
        File name (and ``#sheet`` for workbooks) used in error messages.
    frame : DataFrame
        The rows; data row ``i`` of the file is ``frame.iloc[i - 1]``.
    header_units : dict of str to str
        Units given in the header as ``name [unit]``.
    rows : ndarray of int, optional
        Row of the file each frame row came from (when one file row became several rows).
    dictionaries : dict of str to ChunkedArray
        Text columns of a Parquet file as the file stores them, dictionary-encoded (the
        same values as in :attr:`frame`); validation numbers their values from these.
    typed : tuple of str
        Columns of a CSV file that Arrow parsed as numbers (float64 in :attr:`frame`, a
        spelling of no value as NaN) where the file holds text; :meth:`as_text` gives the
        text, for naming a value exactly as written.
    """

    table: str
    source: str
    frame: pd.DataFrame
    header_units: dict[str, str]
    rows: np.ndarray | None = None
    dictionaries: dict[str, pa.ChunkedArray] = field(default_factory=dict, repr=False)
    typed: tuple[str, ...] = ()
    #: Reads every cell of the file as text, from the file kept open since the first read
    #: (a file changed in place since is refused).
    text_frame: Callable[[], pd.DataFrame] | None = field(default=None, repr=False)

    def as_text(self) -> RawTable:
        """This table with every cell as the text in the file (itself if it is already so).

        Returns
        -------
        RawTable
            The same rows and header units, no :attr:`typed` columns.
        """
        if not self.typed or self.text_frame is None:
            return self
        return _headers(RawTable(self.table, self.source, self.text_frame(), {}, rows=self.rows))


def split_header_unit(header: str) -> tuple[str, str | None]:
    """``'volume [L]'`` -> ``('volume', 'L')``; ``'volume'`` -> ``('volume', None)``."""
    match = _HEADER_UNIT.match(str(header))
    if match:
        return match.group("name").strip(), match.group("unit").strip()
    return str(header).strip(), None


def _headers(raw: RawTable) -> RawTable:
    renamed: dict[str, str] = {}
    for column in raw.frame.columns:
        name, unit = split_header_unit(column)
        renamed[column] = name
        if unit:
            raw.header_units[name] = unit
    raw.frame = raw.frame.rename(columns=renamed)
    raw.dictionaries = {renamed.get(k, k): v for k, v in raw.dictionaries.items()}
    return raw


def _read_csv(path: Path, table: str, *, typed: bool = True) -> RawTable:
    """A CSV file, every cell as text; a series table's number columns typed (``typed``).

    The float columns of a series table (``TableSchema.ordered_by``: time series, logger
    readings) are most of a large file's cells; Arrow parses them as numbers directly, with
    the spellings of no value that validation accepts as missing. Where that parse fails, or
    gives a value validation would read otherwise (NaN written as ``-nan``), every cell is
    read as text, as for any other table. The file stays open while the table lives, so that
    its text can be read again (:meth:`RawTable.as_text`) as it was, even if it is removed or
    replaced meanwhile.
    """
    schema = SCHEMAS[table]
    floats = {c.name for c in schema.columns if c.kind == "float"} if schema.ordered_by else set()
    if typed and floats:
        opened = _OpenFile(path)
        frame, numbers = _arrow_csv(path, floats)
        if frame is not None and numbers and opened.is_at(path):
            raw = _headers(RawTable(table, path.name, frame, {}))
            raw.typed = tuple(split_header_unit(h)[0] for h in numbers)
            raw.text_frame = lambda: _text_frame(path, opened.read())
            return raw
        opened.close()
        if frame is not None and not numbers:
            return _headers(RawTable(table, path.name, frame, {}))
    return _headers(RawTable(table, path.name, _text_frame(path), {}))


class _OpenFile:
    """A file kept open to read it again as it was when opened (closed with its owner)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = path.open("rb")
        self._closer = weakref.finalize(self, self._handle.close)
        self._status = os.fstat(self._handle.fileno())

    def is_at(self, path: Path) -> bool:
        """True if ``path`` still names this file, unchanged (checked after a read by path)."""
        try:
            status = path.stat()
        except OSError:
            return False
        return _same_file(status, self._status)

    def read(self) -> bytes:
        """The whole file; refused if it was changed in place since it was opened."""
        if not _same_file(os.fstat(self._handle.fileno()), self._status):
            raise ValidationFailed(
                f"{self.path.name} changed while it was being imported.",
                [
                    FieldError(
                        "the file was modified during the import; nothing was stored from it. "
                        "Import it again once it is complete",
                        file=self.path.name,
                    )
                ],
            )
        self._handle.seek(0)
        return self._handle.read()

    def close(self) -> None:
        self._closer()


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino, a.st_size, a.st_mtime_ns) == (
        b.st_dev,
        b.st_ino,
        b.st_size,
        b.st_mtime_ns,
    )


def _text_frame(path: Path, data: bytes | None = None) -> pd.DataFrame:
    """Every cell of the file (or of ``data``, its bytes) as text: parsed by Arrow, or by
    pandas where it must decide."""
    frame, _ = _arrow_csv(path if data is None else pa.py_buffer(data))
    if frame is not None:
        return frame
    return _pandas_csv(path, path.read_bytes() if data is None else data)


def _first_line(data: pa.Buffer) -> bytes:
    """The bytes of ``data`` up to and including its first line end (all if it has none)."""
    size = 1 << 16
    while True:
        head = data.slice(0, min(size, data.size)).to_pybytes()
        end = head.find(b"\n")
        if end >= 0:
            return head[: end + 1]
        if size >= data.size:
            return head
        size *= 16


def _pandas_csv(path: Path, data: bytes) -> pd.DataFrame:
    """The file decoded as UTF-8 (the bad byte and its line named) and parsed by pandas."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValidationFailed(
            f"{path.name} is not UTF-8 text.",
            [
                FieldError(
                    f"byte 0x{data[exc.start]:02X} at line {line} is not valid UTF-8; "
                    "save the file as UTF-8 (CSV UTF-8 in Excel)",
                    file=path.name,
                    row=max(line - 1, 0),
                )
            ],
        ) from None
    try:
        return pd.read_csv(
            StringIO(text), dtype=str, keep_default_na=False, na_values=[], skip_blank_lines=True
        )
    except pd.errors.EmptyDataError:
        raise ValidationFailed(
            f"{path.name} has no header row.",
            [
                FieldError(
                    "the file is empty: it needs a header row naming its columns, even when it "
                    "has no data rows",
                    file=path.name,
                )
            ],
        ) from None


def _arrow_csv(
    source: Path | pa.Buffer, floats: set[str] | None = None
) -> tuple[pd.DataFrame | None, list[str]]:
    """Every cell as the text in the file, parsed by Arrow; None where pandas must decide.

    Arrow parses many times faster than pandas, and checks that every cell is UTF-8 as it
    goes, so the file is not decoded a second time. It reads a file (``source`` a path) in
    blocks while parsing (not memory-mapped: a file truncated during the import fails
    cleanly instead of bringing the process down), or parses bytes already read, and skips
    a UTF-8 byte-order mark. Files it reads differently (a repeated
    or missing header name, rows with too many fields, an empty file) and files that are
    not UTF-8 go to pandas (after the decoding that names the bad byte), whose handling of
    them is the reference.

    The columns whose header names (without a unit) are in ``floats`` are parsed as float64
    instead, a spelling of no value (:data:`NO_VALUE`) as missing; their headers are
    returned. If one of them does not parse, or holds a NaN that is not such a spelling,
    the frame is None: the caller reads the file as text.
    """
    if isinstance(source, Path):
        with source.open("rb") as handle:
            first = handle.readline()
    else:
        first = _first_line(source)
    first = first.removeprefix(codecs.BOM_UTF8)
    try:
        header = next(csv.reader(StringIO(first.decode("utf-8"))))
    except (UnicodeDecodeError, StopIteration, csv.Error):
        return None, []
    if not header or len(set(header)) != len(header) or any(not h for h in header):
        return None, []
    numbers = [h for h in header if floats and split_header_unit(h)[0] in floats]
    # large_string is the storage of pandas' str dtype: no copy to pandas.
    types = {h: pa.float64() if h in numbers else pa.large_string() for h in header}
    try:
        table = pacsv.read_csv(
            source if isinstance(source, Path) else pa.BufferReader(source),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                # Only typed (number) columns have nulls: the spellings of no value.
                null_values=sorted(NO_VALUE | {""}),
                strings_can_be_null=False,
                quoted_strings_can_be_null=True,
                check_utf8=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None, []
    if table.column_names != header or any(f.type != types[f.name] for f in table.schema):
        return None, []
    for name in numbers:  # NaN spelled otherwise ("-nan") is a value, not missing
        if pc.any(pc.is_nan(table.column(name))).as_py():
            return None, []
    return table.to_pandas(), numbers


def _decoded(encoded: pa.ChunkedArray, kind: pa.DataType) -> pa.ChunkedArray:
    """The text of a dictionary-encoded column (``take`` is faster here than ``cast``)."""
    return pa.chunked_array(
        [chunk.dictionary.cast(kind).take(chunk.indices) for chunk in encoded.chunks], kind
    )


def _read_parquet(path: Path, table: str) -> RawTable:
    """The rows as ``pandas.read_parquet`` gives them, text columns also as stored.

    Parquet stores text columns dictionary-encoded; they are read that way (cheaper than
    reading the text), kept for validation, and decoded to the column's own type for the
    frame, which is then ``pandas.read_parquet``'s (``Table.to_pandas`` of the same table).
    """
    schema = pq.read_schema(path)
    text = [
        f.name
        for f in schema
        if f.type in (pa.string(), pa.large_string()) and schema.get_field_index(f.name) >= 0
    ]
    arrow = pq.read_table(path, read_dictionary=text or None)
    dictionaries = {
        name: arrow.column(name)
        for name in text
        if arrow.schema.get_field_index(name) >= 0
        and pa.types.is_dictionary(arrow.schema.field(name).type)
    }
    # Arrow's kernels release the GIL: the columns are decoded side by side.
    with ThreadPoolExecutor(max_workers=max(1, min(4, len(dictionaries)))) as pool:
        decoded = pool.map(
            lambda name: _decoded(dictionaries[name], schema.field(name).type), dictionaries
        )
        for name, values in zip(dictionaries, decoded, strict=True):
            index = arrow.schema.get_field_index(name)
            arrow = arrow.set_column(
                index, arrow.schema.field(index).with_type(values.type), values
            )
    return _headers(RawTable(table, path.name, arrow.to_pandas(), {}, dictionaries=dictionaries))


def _read_xlsx(path: Path) -> Iterator[RawTable]:
    sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False)
    unknown = [name for name in sheets if name not in SCHEMAS]
    if unknown:
        raise ValidationFailed(
            f"{path.name} has sheets that are not exchange tables.",
            [
                FieldError(
                    f"sheet {name!r} is not an exchange table; rename it to one of "
                    f"{', '.join(SCHEMAS)}",
                    file=path.name,
                    field=name,
                )
                for name in unknown
            ],
        )
    for name, frame in sheets.items():
        yield _headers(RawTable(name, f"{path.name}#{name}", frame, {}))


def read_file(path: Path, table: str | None = None) -> list[RawTable]:
    """Read one exchange file; the table is named by the file stem (or ``table``).

    A file with the header row and no data rows of a table that may be empty
    (``TableSchema.may_be_empty``, e.g. deviations) reads as no table: nothing to import.

    Raises
    ------
    ValidationFailed
        For an unknown table name, an unsupported suffix, text that is not UTF-8, a CSV file
        with no header row, or an empty table whose header has unknown or missing columns.
    """
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return list(_read_xlsx(path))
    name = table or path.stem
    if suffix not in SUFFIXES:
        raise ValidationFailed(
            f"{path.name}: exchange files must be .csv, .parquet or .xlsx. Got {suffix!r}."
        )
    if name not in SCHEMAS:
        raise ValidationFailed(
            f"{path.name}: {name!r} is not an exchange table. Name the file after one of "
            f"{', '.join(SCHEMAS)}, or pass the table explicitly."
        )
    raw = _read_csv(path, name) if suffix == ".csv" else _read_parquet(path, name)
    return [] if _valid_empty_table(raw) else [raw]


def _valid_empty_table(raw: RawTable) -> bool:
    """True for a header-only file of a table that may be empty (nothing to import); refuses
    one whose header names unknown columns or lacks required ones."""
    schema = SCHEMAS[raw.table]
    if len(raw.frame) or not schema.may_be_empty:
        return False
    known = {c.name for c in schema.columns}
    columns = [str(c) for c in raw.frame.columns]
    problems = [
        FieldError(
            f"unknown column {name!r}; allowed: {', '.join(sorted(known))}",
            file=raw.source,
            field=name,
        )
        for name in columns
        if name not in known
    ] + [
        FieldError(f"required column {name!r} is missing", file=raw.source, field=name)
        for name in schema.required
        if name not in columns
    ]
    if problems:
        raise ValidationFailed(f"{raw.source} has no data rows and a wrong header.", problems)
    return True


def discover(path: Path) -> tuple[list[Path], list[Path]]:
    """Table files and process definitions under ``path`` (a folder or one file).

    Returns
    -------
    tables : list of Path
        ``*.csv``, ``*.parquet`` and ``*.xlsx`` directly in the folder.
    processes : list of Path
        ``process/*.yaml`` (and ``*.yml``).
    """
    if not path.exists():
        raise ValidationFailed(f"Nothing to import: {path} does not exist.")
    if path.is_file():
        if path.suffix.lower() in {".yaml", ".yml"}:
            return [], [path]
        return [path], []
    tables = sorted(
        p
        for p in path.iterdir()
        if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(".")
    )
    process_dir = path / "process"
    processes = (
        sorted([*process_dir.glob("*.yaml"), *process_dir.glob("*.yml")])
        if process_dir.is_dir()
        else []
    )
    return tables, processes
