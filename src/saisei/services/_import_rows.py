"""Upserting validated relational rows by natural key (part of :mod:`saisei.services.ingest`)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from saisei.errors import FieldError
from saisei.ingestion.validate import ValidatedTable
from saisei.storage.exchange import TABLE_MAPS, Resolver, TableMap, same_value
from saisei.storage.models import BatchLink, ChainOfIdentity, Material, MaterialLot
from saisei.storage.repositories.exchange import existing_links, existing_rows
from saisei.storage.types import Session

if TYPE_CHECKING:
    from saisei.services.ingest import TableReport

#: Tables whose rows others refer to, with the resolver kind they register as.
_REGISTERS = {
    "parties": "party",
    "donors": "donor",
    "collections": "collection",
    "batches": "batch",
}
_NEEDS_VALUE = ("parameters", "qc_results")


def native(value: Any) -> Any:
    """A pandas/numpy cell as a plain Python value (NaN and NaT become None)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if value is pd.NA:
        return None
    return value


class RowImporter:
    """Inserts new rows, skips identical ones and corrects changed ones (with a reason)."""

    def __init__(self, session: Session, *, reason: str | None) -> None:
        self.session = session
        self.reason = reason
        self.resolver = Resolver(session)
        self.corrections_without_reason: list[FieldError] = []

    def _reject(
        self, table: ValidatedTable, position: int, column: str, message: str, value: Any
    ) -> None:
        mask = np.zeros(len(table.frame), dtype=bool)
        mask[position] = True
        table.flag(mask, column, message, pd.Series([value] * len(table.frame)))

    def _resolve(
        self, table: ValidatedTable, position: int, tmap: TableMap, row: dict[str, Any]
    ) -> dict[str, Any] | None:
        values = {attr: native(row.get(column)) for column, attr in tmap.fields.items()}
        for column, (attr, kind) in tmap.refs.items():
            code = native(row.get(column))
            if code is None:
                values[attr] = None
                continue
            if kind == "coi" and table.table == "collections":
                values[attr] = self._coi(code, values, row)
                continue
            if kind == "material_lot":
                material_id = self.resolver.id_of("material", row.get("material"))
                code = (material_id, code)
            found = self.resolver.id_of(kind, code)
            if found is None:
                shown = code[1] if isinstance(code, tuple) else code
                self._reject(
                    table,
                    position,
                    column,
                    f"names unknown {kind.replace('_', ' ')} "
                    f"{shown!r}; import it first (in this folder or earlier)",
                    shown,
                )
                return None
            values[attr] = found
        if tmap.extras is not None:
            prefix, attr = tmap.extras
            values[attr] = {
                k[len(prefix) :]: native(v)
                for k, v in row.items()
                if k.startswith(prefix) and native(v) is not None
            }
        return values

    def _coi(self, coi: str, values: dict[str, Any], row: dict[str, Any]) -> int | None:
        found = self.resolver.id_of("coi", coi)
        if found is not None:
            return found
        donor_id = self.resolver.id_of("donor", native(row.get("donor")))
        if donor_id is None:
            return None
        chain = ChainOfIdentity(coi=coi, donor_id=donor_id)
        self.session.add(chain)
        self.session.flush()
        self.resolver.add("coi", chain)
        return chain.id

    def _upsert(
        self,
        table: ValidatedTable,
        position: int,
        tmap: TableMap,
        values: dict[str, Any],
        existing: dict[tuple[Any, ...], Any],
        report: TableReport,
    ) -> Any:
        key = tuple(values[k] for k in tmap.key)
        # An empty cell (or a column the file does not have) leaves the stored value and the
        # model default alone: an import adds and corrects values, it never blanks them.
        values = {attr: value for attr, value in values.items() if value is not None}
        current = existing.get(key)
        if current is None:
            current = tmap.model(**values)
            self.session.add(current)
            existing[key] = current
            report.inserted += 1
            return current
        changed = [
            (attr, getattr(current, attr), new)
            for attr, new in values.items()
            if not same_value(getattr(current, attr), new)
        ]
        if not changed:
            report.unchanged += 1
            return current
        if self.reason is None:
            columns = {attr: column for column, attr in tmap.fields.items()}
            for attr, old, new in changed:
                self.corrections_without_reason.append(
                    FieldError(
                        f"would change the stored {attr} from {_show(old)} to {_show(new)}; "
                        "pass --reason to correct it",
                        file=table.source,
                        row=int(table.rows[position]),
                        field=columns.get(attr, attr),
                    )
                )
            return current
        for attr, _, new in changed:
            setattr(current, attr, new)
        report.corrected += 1
        return current

    def run(self, table: ValidatedTable, report: TableReport) -> None:
        """Import every valid row of ``table``."""
        if table.table == "materials":
            self._materials(table, report)
            return
        tmap = TABLE_MAPS[table.table]
        existing = existing_rows(self.session, tmap)
        records: list[dict[str, Any]] = table.frame.to_dict("records")  # type: ignore[assignment]
        added: list[tuple[int, Any]] = []
        for position, row in enumerate(records):
            if table.bad[position]:
                continue
            if (
                table.table in _NEEDS_VALUE
                and native(row.get("value")) is None
                and native(row.get("value_text")) is None
            ):
                self._reject(table, position, "value", "needs a value or a value_text", None)
                continue
            if table.table == "batches" and not self._process(table, position, row):
                continue
            values = self._resolve(table, position, tmap, row)
            if values is None:
                continue
            if table.table == "batches":
                values["process_id"] = row.get("_process_id")
            added.append((position, self._upsert(table, position, tmap, values, existing, report)))
        self.session.flush()
        kind = _REGISTERS.get(table.table)
        if kind is not None:
            for _, obj in added:
                self.resolver.add(kind, obj)
        if table.table == "batches":
            self._genealogy(table, records, added)

    def _process(self, table: ValidatedTable, position: int, row: dict[str, Any]) -> bool:
        name, version = native(row.get("process")), native(row.get("process_version"))
        row["_process_id"] = None
        if name is None and version is None:
            return True
        process_id = self.resolver.id_of("process", (name, version))
        if process_id is None:
            self._reject(
                table,
                position,
                "process",
                f"names unknown process {name!r} "
                f"version {version!r}; add process/*.yaml with that name and version",
                name,
            )
            return False
        row["_process_id"] = process_id
        return True

    def _genealogy(
        self, table: ValidatedTable, records: list[dict[str, Any]], added: list[tuple[int, Any]]
    ) -> None:
        links = existing_links(self.session)
        for position, batch in added:
            for parent in records[position].get("parent_lots") or []:
                parent_id = self.resolver.id_of("batch", parent)
                if parent_id is None:
                    self._reject(
                        table,
                        position,
                        "parent_lots",
                        f"names unknown parent lot {parent!r}",
                        parent,
                    )
                    continue
                if (parent_id, batch.id) not in links:
                    self.session.add(BatchLink(parent_id=parent_id, child_id=batch.id))
                    links.add((parent_id, batch.id))

    def _materials(self, table: ValidatedTable, report: TableReport) -> None:
        material_map = TableMap(
            Material, {c: c for c in ("code", "name", "category", "supplier")}, key=("code",)
        )
        lot_map = TableMap(
            MaterialLot,
            {"lot_number": "lot_number", "expiry": "expiry", "lot_status": "status"},
            key=("material_id", "lot_number"),
            extras=("coa_", "coa"),
        )
        materials = existing_rows(self.session, material_map)
        lots = existing_rows(self.session, lot_map)
        rows: list[dict[str, Any]] = table.frame.to_dict("records")  # type: ignore[assignment]
        for position, row in enumerate(rows):
            if table.bad[position]:
                continue
            values = {attr: native(row.get(c)) for c, attr in material_map.fields.items()}
            material = self._upsert(table, position, material_map, values, materials, report)
            self.session.flush()
            self.resolver.add("material", material)
            if native(row.get("lot_number")) is None:
                continue
            lot_values = {attr: native(row.get(c)) for c, attr in lot_map.fields.items()}
            lot_values["status"] = lot_values["status"] or "released"
            lot_values["material_id"] = material.id
            lot_values["coa"] = {
                k[4:]: native(v)
                for k, v in row.items()
                if k.startswith("coa_") and native(v) is not None
            }
            lot = self._upsert(table, position, lot_map, lot_values, lots, report)
            self.session.flush()
            self.resolver.add("material_lot", lot)


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return repr(getattr(value, "value", value))
