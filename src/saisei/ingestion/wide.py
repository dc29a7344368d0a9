"""Wide exports (one column per variable, as bioreactor and controlled-rate-freezer software
write them) turned into long-format time series through a column mapping.

A mapping is a small YAML file::

    lot: MSC-0001                  # or  lot_column: Batch ID
    stage: expansion               # or  stage_column: Phase
    time: {column: Process Time, unit: min}      # elapsed time since stage start
    # time: {column: Timestamp, timestamp: true} # wall-clock; t counts from the first row
    variables:
      Temp PV: {variable: temperature, unit: degC}
      pH PV: {variable: pH, unit: "1"}
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from saisei.errors import FieldError, ValidationFailed
from saisei.ingestion.reader import RawTable

__all__ = ["WideMapping", "read_wide"]


@dataclass(frozen=True)
class WideMapping:
    """How the columns of a wide export map onto long-format time series."""

    variables: dict[str, tuple[str, str]]
    time_column: str
    time_unit: str | None = "h"
    time_is_timestamp: bool = False
    lot: str | None = None
    lot_column: str | None = None
    stage: str | None = None
    stage_column: str | None = None

    @classmethod
    def from_dict(cls, doc: Any, source: str = "mapping") -> WideMapping:
        """Build from the parsed YAML document, naming every problem."""
        errors: list[FieldError] = []
        if not isinstance(doc, dict):
            raise ValidationFailed(f"{source}: a column mapping must be a YAML mapping.")
        if ("lot" in doc) == ("lot_column" in doc):
            errors.append(
                FieldError("give exactly one of 'lot' or 'lot_column'", file=source, field="lot")
            )
        if ("stage" in doc) == ("stage_column" in doc):
            errors.append(
                FieldError(
                    "give exactly one of 'stage' or 'stage_column'", file=source, field="stage"
                )
            )
        time = doc.get("time")
        if not isinstance(time, dict) or "column" not in time:
            errors.append(
                FieldError("'time' must be a mapping with a 'column'", file=source, field="time")
            )
            time = {}
        variables = doc.get("variables")
        if not isinstance(variables, dict) or not variables:
            errors.append(
                FieldError(
                    "'variables' must map at least one column to {variable, unit}",
                    file=source,
                    field="variables",
                )
            )
            variables = {}
        parsed: dict[str, tuple[str, str]] = {}
        for column, target in variables.items():
            if not isinstance(target, dict) or "variable" not in target:
                errors.append(
                    FieldError(
                        "needs {variable: NAME, unit: UNIT}",
                        file=source,
                        field=f"variables.{column}",
                    )
                )
                continue
            parsed[str(column)] = (str(target["variable"]), str(target.get("unit", "1")))
        if errors:
            raise ValidationFailed(f"{source}: the column mapping is incomplete.", errors)
        return cls(
            variables=parsed,
            time_column=str(time["column"]),
            time_unit=None if time.get("timestamp") else str(time.get("unit", "h")),
            time_is_timestamp=bool(time.get("timestamp", False)),
            lot=doc.get("lot"),
            lot_column=doc.get("lot_column"),
            stage=doc.get("stage"),
            stage_column=doc.get("stage_column"),
        )

    @classmethod
    def from_yaml(cls, path: Path) -> WideMapping:
        """Read a mapping file."""
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ValidationFailed(f"{path.name} is not valid UTF-8 YAML: {exc}") from None
        return cls.from_dict(doc, path.name)


def _read_any(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if suffix == ".xlsx":
        return pd.read_excel(path, dtype=str, keep_default_na=False)
    if suffix == ".parquet":
        return pd.read_parquet(path)
    raise ValidationFailed(f"{path.name}: wide exports must be .csv, .xlsx or .parquet.")


def read_wide(path: Path, mapping: WideMapping) -> RawTable:
    """Read a wide export and return it as a long ``timeseries`` table.

    Each long row remembers the row of the file it came from, so errors name file rows.
    The time column becomes ``t`` in its unit (converted to hours on validation via the
    header unit) or, for timestamps, hours since the first reading of each lot and stage.
    """
    frame = _read_any(path)
    needed = [mapping.time_column, *mapping.variables]
    needed += [c for c in (mapping.lot_column, mapping.stage_column) if c]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValidationFailed(
            f"{path.name} lacks columns the mapping names.",
            [
                FieldError(
                    f"column {c!r} named in the mapping is not in the file; columns are "
                    f"{', '.join(map(str, frame.columns))}",
                    file=path.name,
                    field=c,
                )
                for c in missing
            ],
        )
    lot = (
        frame[mapping.lot_column]
        if mapping.lot_column
        else pd.Series(mapping.lot, index=frame.index)
    )
    stage = (
        frame[mapping.stage_column]
        if mapping.stage_column
        else pd.Series(mapping.stage, index=frame.index)
    )
    timestamp: pd.Series | None = None
    if mapping.time_is_timestamp:
        timestamp = frame[mapping.time_column]
        parsed = pd.to_datetime(timestamp, utc=True, format="ISO8601", errors="coerce")
        start = parsed.groupby([lot, stage]).transform("min")
        t = (parsed - start).dt.total_seconds() / 3600.0
    else:
        t = frame[mapping.time_column]
    parts = []
    rows = np.arange(1, len(frame) + 1)
    for column, (variable, unit) in mapping.variables.items():
        part = pd.DataFrame(
            {
                "lot": lot,
                "stage": stage,
                "variable": variable,
                "t": t,
                "value": frame[column],
                "unit": unit,
                "_row": rows,
            }
        )
        if timestamp is not None:
            part["timestamp"] = timestamp
        parts.append(part)
    long = pd.concat(parts, ignore_index=True)
    source_rows = long.pop("_row").to_numpy()
    header_units = {} if mapping.time_is_timestamp else {"t": mapping.time_unit or "h"}
    return RawTable("timeseries", path.name, long, header_units, rows=source_rows)
