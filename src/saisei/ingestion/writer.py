"""Writing an exchange folder: one file per table plus ``process/*.yaml``."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml

from saisei.errors import ValidationFailed
from saisei.ingestion.schemas import SCHEMAS

__all__ = ["write_exchange_folder"]


def _atomic_write(path: Path, write: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _serialise(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    schema = SCHEMAS[table]
    if frame.columns.empty:
        # a table with nothing in it is still written with its header, which the reader
        # needs to tell an empty table from an empty (broken) file
        frame = pd.DataFrame(columns=[c.name for c in schema.columns], index=frame.index)
    out = frame.copy()
    for column in schema.columns:
        if column.name not in out:
            continue
        if column.kind == "datetime":
            values = pd.to_datetime(out[column.name], utc=True)
            # Vectorised ISO 8601 in UTC; microseconds only where a value has them.
            text = values.dt.strftime("%Y-%m-%dT%H:%M:%S")
            micros = values.dt.microsecond
            text = text.where(
                micros == 0, text + "." + micros.astype("Int64").astype(str).str.zfill(6)
            )
            out[column.name] = (text + "+00:00").where(values.notna(), None)
        elif column.kind == "list":
            out[column.name] = out[column.name].map(
                lambda v: ";".join(map(str, v)) if isinstance(v, list | tuple) else v
            )
    ordered = [c.name for c in schema.columns if c.name in out]
    return out[ordered + [c for c in out.columns if c not in ordered]]


def write_exchange_folder(
    folder: Path,
    tables: Mapping[str, pd.DataFrame],
    processes: Iterable[Mapping[str, Any]] = (),
    *,
    fmt: Literal["csv", "parquet"] = "csv",
) -> list[Path]:
    """Write ``tables`` (name -> frame) and process definitions as an exchange folder.

    Datetimes are written as ISO 8601 in UTC; list columns as ``;``-separated strings.
    Each file is written atomically. Time series go to Parquet when ``fmt`` is ``csv`` too,
    if they are large (over 100 000 rows), since CSV is slow to read back.

    Returns
    -------
    list of Path
        The files written.
    """
    unknown = sorted(set(tables) - set(SCHEMAS))
    if unknown:
        raise ValidationFailed(
            f"Exchange tables must be among {', '.join(SCHEMAS)}. Got {', '.join(unknown)}."
        )
    written: list[Path] = []
    for name, frame in tables.items():
        data = _serialise(frame, name)
        as_parquet = fmt == "parquet" or (name == "timeseries" and len(data) > 100_000)
        path = folder / f"{name}.{'parquet' if as_parquet else 'csv'}"
        if as_parquet:
            _atomic_write(path, lambda p, d=data: d.to_parquet(p, index=False))
        else:
            _atomic_write(path, lambda p, d=data: d.to_csv(p, index=False))
        written.append(path)
    for process in processes:
        path = folder / "process" / f"{process['name']}-{process['version']}.yaml"
        text = yaml.safe_dump(dict(process), sort_keys=False, allow_unicode=True)
        _atomic_write(path, lambda p, t=text: p.write_text(t, encoding="utf-8"))
        written.append(path)
    return written
