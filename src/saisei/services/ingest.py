"""Importing an exchange folder (or one file) into the store.

The import is one unit of work: every row lands or none does, unless a quarantine folder is
given, in which case valid rows land and rejected rows are written there with their reasons.
Importing the same content twice changes nothing; a changed value for an existing record is a
correction and needs a reason, which the audit trail keeps with the old and new values.
Imported custody chains are hash-linked and verified in the same transaction
(:func:`saisei.custody.imported.link_imported_chains`).
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from saisei.custody.imported import LinkedChain, link_imported_chains
from saisei.errors import FieldError, ValidationFailed
from saisei.ingestion.reader import RawTable, discover, read_file
from saisei.ingestion.schemas import TABLE_ORDER
from saisei.ingestion.validate import ValidatedTable, validate_table
from saisei.ingestion.wide import WideMapping, read_wide
from saisei.services._import_rows import RowImporter
from saisei.services._import_series import RowProgress, SeriesImporter
from saisei.services._processes import import_process_file
from saisei.storage.store import Store

__all__ = ["ImportProgress", "ImportReport", "TableReport", "import_path"]


@dataclass
class TableReport:
    """What happened to one table of one file."""

    table: str
    source: str
    rows: int = 0
    inserted: int = 0
    unchanged: int = 0
    corrected: int = 0
    rejected: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return dict(vars(self))


@dataclass
class ImportReport:
    """Outcome of :func:`import_path`.

    Attributes
    ----------
    ok : bool
        True when nothing was rejected.
    tables : list of TableReport
        Per file and table.
    errors : list of FieldError
        Every problem found (rejected rows when a quarantine folder was given).
    quarantine : str or None
        Folder the rejected rows were written to.
    seconds : float
        Wall time of the import.
    custody_chains : list of LinkedChain
        Imported custody chains hash-linked by this import, each ``intact``, ``broken`` (with
        its first problem) or ``unlinked`` (with the reason).
    """

    path: str
    ok: bool = True
    tables: list[TableReport] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)
    quarantine: str | None = None
    seconds: float = 0.0
    custody_chains: list[LinkedChain] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {
            "path": self.path,
            "ok": self.ok,
            "seconds": self.seconds,
            "quarantine": self.quarantine,
            "tables": [t.to_dict() for t in self.tables],
            "custody_chains": {
                status: sum(c.status == status for c in self.custody_chains)
                for status in ("intact", "broken", "unlinked")
            },
            "custody_problems": [c.to_dict() for c in self.custody_chains if c.status != "intact"],
            "errors": [
                {
                    "file": e.file,
                    "row": e.row,
                    "field": e.field,
                    "value": None if e.value is None else str(e.value),
                    "message": e.message,
                }
                for e in self.errors
            ],
        }


#: ``progress(table, rows_done, rows_total)``, see :func:`import_path`.
ImportProgress = Callable[[str, int, int], None]


def _rows_of(progress: ImportProgress | None, table: str) -> RowProgress | None:
    if progress is None:
        return None
    return lambda done, total: progress(table, done, total)


def _read_all(path: Path, errors: list[FieldError]) -> tuple[list[RawTable], list[Path]]:
    files, processes = discover(path)
    raws: list[RawTable] = []
    for file in files:
        try:
            raws.extend(read_file(file))
        except ValidationFailed as exc:
            errors.extend(exc.errors or [FieldError(exc.message)])
    order = {name: i for i, name in enumerate(TABLE_ORDER)}
    raws.sort(key=lambda r: order[r.table])
    return raws, processes


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector for the duration (as it was before, afterwards).

    An import allocates arrays, not object cycles; a full collection that falls inside it
    walks every object of the process (about 150 000 in the command-line program, 70 ms)
    for nothing. Reference counting still frees everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _rejected_rows(tables: list[tuple[RawTable, ValidatedTable]]) -> dict[str, pd.DataFrame]:
    """The rejected rows of each table as written, with row number and reason, by file name.

    Taken before the import commits (numbers Arrow typed while reading are read again as
    text, and a file changed since is refused while nothing is stored yet).
    """
    rejected: dict[str, pd.DataFrame] = {}
    for raw, validated in tables:
        if not validated.bad.any():
            continue
        rows = raw.as_text().frame.reset_index(drop=True)[validated.bad].copy()
        rows.insert(0, "_row", validated.rows[validated.bad])
        rows["_reason"] = [validated.reasons.get(int(i), "rejected") for i in rows.index]
        rejected[raw.source.replace("#", "-").rsplit(".", 1)[0]] = rows
    return rejected


def _write_quarantine(folder: Path, rejected: dict[str, pd.DataFrame]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in rejected.items():
        rows.to_csv(folder / f"{name}.rejected.csv", index=False)


@_cyclic_gc_paused()
def import_path(
    store: Store,
    path: Path,
    *,
    actor: str,
    reason: str | None = None,
    timezone: str | None = None,
    quarantine: Path | None = None,
    mapping: Path | None = None,
    progress: ImportProgress | None = None,
) -> ImportReport:
    """Import an exchange folder or file.

    Parameters
    ----------
    store : Store
        Where the data land.
    path : Path
        Exchange folder, or one ``.csv``/``.parquet``/``.xlsx``/``.yaml`` file.
    actor : str
        User id recorded in the audit trail.
    reason : str, optional
        Reason for corrections (changed values of existing records); required if any.
    timezone : str, optional
        IANA zone of timestamps written without an offset.
    quarantine : Path, optional
        Land the valid rows and write rejected rows with their reasons here. Without it, any
        problem rejects the whole import and nothing is stored.
    mapping : Path, optional
        Column mapping (YAML) for a wide time-series export given as ``path``; see
        :mod:`saisei.ingestion.wide`.
    progress : callable, optional
        Called as ``progress(table, rows_done, rows_total)`` while importing: after each
        table, and for time series after each segment, so a long import reports its rows.
        ``rows_total`` is the number of rows of that table (for shipment logger files, of
        readings: one per logger variable and time).

    Raises
    ------
    ValidationFailed
        With every problem (file, row, column, value, rule, fix) when the import is refused.

    Notes
    -----
    Python's cycle collector is paused while the import runs (and restored after).
    """
    started = time.perf_counter()
    report = ImportReport(path=str(path), quarantine=str(quarantine) if quarantine else None)
    if mapping is not None:
        raws = [read_wide(path, WideMapping.from_yaml(mapping))]
        process_files: list[Path] = []
    else:
        raws, process_files = _read_all(path, report.errors)
    validated = [(raw, validate_table(raw, timezone=timezone)) for raw in raws]
    series = SeriesImporter(store, reason=reason)
    try:
        with store.unit_of_work(
            actor=actor, source="import", reason=reason or f"import of {path.name}"
        ) as uow:
            for file in process_files:
                report.errors.extend(import_process_file(uow.session, file))
            rows = RowImporter(uow.session, reason=reason)
            for _raw, table in validated:
                table_report = TableReport(table.table, table.source, rows=len(table.frame))
                if table.table in ("timeseries", "shipment_logs"):
                    series.run(
                        uow.session,
                        rows.resolver,
                        table,
                        table_report,
                        _rows_of(progress, table.table),
                    )
                else:
                    rows.run(table, table_report)
                    if progress is not None:
                        progress(table.table, len(table.frame), len(table.frame))
                report.errors.extend(table.errors)
                table_report.rejected = int(table.bad.sum())
                report.tables.append(table_report)
            report.custody_chains = list(link_imported_chains(uow.session))
            corrections = rows.corrections_without_reason + series.corrections_without_reason
            report.ok = not report.errors
            if not report.ok and quarantine is None:
                raise ValidationFailed(
                    f"Import of {path} refused: {len(report.errors)} problem(s). Nothing was "
                    "stored. Fix the files, or pass --quarantine DIR to land the valid rows.",
                    report.errors,
                )
            if corrections:
                raise ValidationFailed(
                    f"Import of {path} would change stored values; pass --reason to record "
                    "why. Nothing was stored.",
                    corrections,
                )
            rejected = _rejected_rows(validated) if quarantine is not None else {}
            series.sync()  # segment files on disk before their manifest rows commit
    except BaseException:
        series.discard_written()
        raise
    if quarantine is not None:
        _write_quarantine(quarantine, rejected)
    report.seconds = time.perf_counter() - started
    return report
