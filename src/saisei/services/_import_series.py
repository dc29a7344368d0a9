"""Importing time series and shipment logger readings as Parquet segments."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from saisei.domain.enums import SubjectType
from saisei.errors import FieldError
from saisei.ingestion.validate import ValidatedTable
from saisei.storage.exchange import Resolver
from saisei.storage.models import TimeSeriesSegment
from saisei.storage.repositories.exchange import shipment_codes
from saisei.storage.store import Store
from saisei.storage.types import Session

if TYPE_CHECKING:
    from saisei.services.ingest import TableReport

#: Logger columns stored as variables, with their canonical units.
LOGGER_VARIABLES = {"temperature": "degC", "shock": "g0", "tilt": "deg"}
_COMPARED = ["variable", "t", "value", "unit"]


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[_COMPARED].copy()
    for column in ("variable", "unit"):  # Parquet reads back pandas' string dtype
        out[column] = out[column].astype(object).where(out[column].notna(), None)
    out["t"] = out["t"].astype("float64")
    out["value"] = out["value"].astype("float64")
    return out.sort_values(["variable", "t"], kind="stable").reset_index(drop=True)


class SeriesImporter:
    """Writes one segment per (lot, stage) or shipment; skips identical content.

    New data after the end of what is stored is appended as a further segment; data that
    overlap a stored segment but differ from it are a correction that supersedes it (and
    needs a reason).
    """

    def __init__(self, store: Store, *, reason: str | None) -> None:
        self.store = store
        self.reason = reason
        self.written: list[Path] = []
        self.corrections_without_reason: list[FieldError] = []

    def discard_written(self) -> None:
        """Remove segment files written by an import that did not commit."""
        for path in self.written:
            path.unlink(missing_ok=True)
        self.written.clear()

    def run(
        self, session: Session, resolver: Resolver, table: ValidatedTable, report: TableReport
    ) -> None:
        """Import the valid rows of a ``timeseries`` or ``shipment_logs`` table."""
        frame = table.frame
        valid = frame[~table.bad]
        if table.table == "timeseries":
            groups = valid.groupby(["lot", "stage"], sort=False)
            subject_type, ref_kind, ref_column = SubjectType.BATCH, "batch", "lot"
        else:
            valid = self._logger_long(valid)
            groups = valid.groupby(["shipment"], sort=False)
            subject_type, ref_kind, ref_column = SubjectType.SHIPMENT, "shipment", "shipment"
        known = set(resolver.codes("batch")) if ref_kind == "batch" else shipment_codes(session)
        for key, group in groups:
            subject = str(key[0])
            stage = str(key[1]) if table.table == "timeseries" else None
            if subject not in known:
                mask = np.zeros(len(frame), dtype=bool)
                mask[_positions(group)] = True
                table.flag(
                    mask,
                    ref_column,
                    f"names unknown {ref_kind} {subject!r}; import it first",
                    frame[ref_column],
                )
                continue
            self._segment(session, table, group, subject, stage, subject_type, report)

    @staticmethod
    def _logger_long(valid: pd.DataFrame) -> pd.DataFrame:
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
        if not parts:
            return pd.DataFrame(
                columns=["shipment", "variable", "t", "value", "unit", "timestamp", "_position"]
            )
        return pd.concat(parts, ignore_index=True)

    def _segment(
        self,
        session: Session,
        table: ValidatedTable,
        group: pd.DataFrame,
        subject: str,
        stage: str | None,
        subject_type: SubjectType,
        report: TableReport,
    ) -> None:
        store = self.store.timeseries
        data = group[
            [c for c in ("variable", "t", "value", "unit", "timestamp") if c in group]
        ].reset_index(drop=True)
        current = store.segments(
            session, subject_ref=subject, subject_type=subject_type, stage=stage
        )
        incoming = _canonical(data) if current else None
        overlapping: list[TimeSeriesSegment] = []
        for segment in current:
            stored = pd.read_parquet(store.root / segment.path)
            if (
                incoming is not None
                and len(stored) == len(incoming)
                and _canonical(stored).equals(incoming)
            ):
                report.unchanged += len(data)
                return
            if segment.t_end_h is not None and float(data["t"].min()) <= segment.t_end_h:
                overlapping.append(segment)
        supersedes = None
        if overlapping:
            where = f"{subject}" + (f" stage {stage}" if stage else "")
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
                mask = np.zeros(len(table.frame), dtype=bool)
                mask[_positions(group)] = True
                table.flag(
                    mask,
                    "t",
                    f"data for {where} overlap {len(overlapping)} stored "
                    "segments; a correction must replace exactly one segment (import "
                    "the corrected series of that segment only)",
                )
                return
            supersedes = overlapping[0]
            report.corrected += len(data)
        else:
            report.inserted += len(data)
        segment = store.write_segment(
            session,
            data,
            subject_ref=subject,
            subject_type=subject_type,
            stage=stage,
            source="import",
            supersedes=supersedes,
        )
        self.written.append(store.root / segment.path)


def _positions(group: pd.DataFrame) -> np.ndarray:
    """Positions in the validated frame of a group's rows."""
    if "_position" in group:
        return np.unique(group["_position"].to_numpy())
    return group.index.to_numpy()
