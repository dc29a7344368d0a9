"""Exporting the store in the exchange format (data portability).

``import_path(export_store(...))`` into an empty home reproduces the store's records.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from saisei.domain.enums import SubjectType
from saisei.ingestion.schemas import SCHEMAS
from saisei.ingestion.writer import write_exchange_folder
from saisei.storage.exchange import TABLE_MAPS, Resolver
from saisei.storage.models import Batch, BatchLink, Material, MaterialLot, Shipment
from saisei.storage.repositories.exchange import all_rows
from saisei.storage.repositories.process import all_processes, process_to_doc
from saisei.storage.store import Store
from saisei.storage.types import Session

__all__ = ["ExportSummary", "export_store"]

_SERIES_COLUMNS = ["lot", "stage", "variable", "t", "value", "unit", "timestamp"]


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`export_store` wrote."""

    folder: str
    rows: dict[str, int]
    files: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {"folder": self.folder, "rows": self.rows, "files": list(self.files)}


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)


def _table_rows(session: Session, resolver: Resolver, table: str) -> list[dict[str, Any]]:
    tmap = TABLE_MAPS[table]
    rows = []
    for obj in all_rows(session, tmap.model):
        row = {column: _plain(getattr(obj, attr)) for column, attr in tmap.fields.items()}
        for column, (attr, kind) in tmap.refs.items():
            code = resolver.code_of(kind, getattr(obj, attr))
            row[column] = code[1] if isinstance(code, tuple) else code
        if tmap.extras is not None:
            prefix, attr = tmap.extras
            row.update({f"{prefix}{k}": v for k, v in (getattr(obj, attr) or {}).items()})
        rows.append(row)
    return rows


def _batches(session: Session, resolver: Resolver) -> list[dict[str, Any]]:
    rows = _table_rows(session, resolver, "batches")
    parents: dict[int, list[str]] = {}
    for link in all_rows(session, BatchLink):
        parents.setdefault(link.child_id, []).append(resolver.code_of("batch", link.parent_id))
    processes = {p.id: p for p in all_processes(session)}
    for row, batch in zip(rows, all_rows(session, Batch), strict=True):
        process = processes.get(batch.process_id) if batch.process_id else None
        row["process"] = process.name if process else None
        row["process_version"] = process.version if process else None
        row["parent_lots"] = sorted(parents.get(batch.id, []))
    return rows


def _materials(session: Session) -> list[dict[str, Any]]:
    lots_by_material: dict[int, list[MaterialLot]] = {}
    for lot in all_rows(session, MaterialLot):
        lots_by_material.setdefault(lot.material_id, []).append(lot)
    rows = []
    for material in all_rows(session, Material):
        base = {
            "code": material.code,
            "name": material.name,
            "category": material.category.value,
            "supplier": material.supplier,
        }
        lots: list[MaterialLot | None] = list(lots_by_material.get(material.id, [])) or [None]
        for lot in lots:
            row = dict(base)
            if lot is not None:
                row.update(
                    {"lot_number": lot.lot_number, "expiry": lot.expiry, "lot_status": lot.status}
                )
                row.update({f"coa_{k}": v for k, v in (lot.coa or {}).items()})
            rows.append(row)
    return rows


def _material_use(session: Session, resolver: Resolver) -> list[dict[str, Any]]:
    rows = _table_rows(session, resolver, "material_use")
    lots = {lot.id: lot for lot in all_rows(session, MaterialLot)}
    materials = {m.id: m.code for m in all_rows(session, Material)}
    for row, use in zip(rows, all_rows(session, TABLE_MAPS["material_use"].model), strict=True):
        lot = lots[use.material_lot_id]
        row["material"], row["material_lot"] = materials[lot.material_id], lot.lot_number
    return rows


def _series(store: Store, session: Session) -> tuple[pd.DataFrame, pd.DataFrame]:
    ts = store.timeseries
    lots = sorted({s.subject_ref for s in ts.segments(session, subject_type=SubjectType.BATCH)})
    series = ts.read(session, lot=lots) if lots else pd.DataFrame(columns=_SERIES_COLUMNS)
    series = series[_SERIES_COLUMNS] if len(series) else pd.DataFrame(columns=_SERIES_COLUMNS)
    logs = []
    for shipment in all_rows(session, Shipment):
        if not ts.segments(session, subject_ref=shipment.code, subject_type=SubjectType.SHIPMENT):
            continue
        long = ts.read(session, shipment=shipment.code)
        wide = long.pivot_table(
            index="timestamp", columns="variable", values="value", aggfunc="first"
        ).reset_index()
        wide.insert(0, "shipment", shipment.code)
        logs.append(wide)
    columns = [c.name for c in SCHEMAS["shipment_logs"].columns]
    shipment_logs = pd.concat(logs, ignore_index=True) if logs else pd.DataFrame(columns=columns)
    return series, shipment_logs[[c for c in columns if c in shipment_logs]]


def export_store(store: Store, folder: Path) -> ExportSummary:
    """Write every record of the store to ``folder`` in the exchange format."""
    with store.reader() as session:
        resolver = Resolver(session)
        tables: dict[str, pd.DataFrame] = {}
        for name in (
            "parties",
            "donors",
            "collections",
            "equipment",
            "shipments",
            "parameters",
            "qc_results",
            "custody_events",
            "observations",
            "deviations",
        ):
            tables[name] = pd.DataFrame(_table_rows(session, resolver, name))
        tables["batches"] = pd.DataFrame(_batches(session, resolver))
        tables["materials"] = pd.DataFrame(_materials(session))
        tables["material_use"] = pd.DataFrame(_material_use(session, resolver))
        tables["timeseries"], tables["shipment_logs"] = _series(store, session)
        processes = [process_to_doc(p) for p in all_processes(session)]
    non_empty = {name: frame for name, frame in tables.items() if len(frame)}
    files = write_exchange_folder(folder, non_empty, processes)
    return ExportSummary(
        str(folder), {n: len(f) for n, f in non_empty.items()}, tuple(str(f) for f in files)
    )
