"""Mapping between exchange-format rows and ORM rows, in both directions.

One :class:`TableMap` per relational exchange table says which model a row becomes, which
columns copy straight to attributes, which columns are references to resolve (``donor`` code
-> ``donor_id``), and which attributes form the natural key. The :class:`Resolver` turns codes
into ids (and back, for export) with one query per kind.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saisei.storage.base import Base
from saisei.storage.models import (
    Batch,
    ChainOfIdentity,
    Collection,
    CustodyEvent,
    Deviation,
    Donor,
    Equipment,
    Material,
    MaterialLot,
    MaterialUse,
    Observation,
    ParameterValue,
    Party,
    ProcessDefinition,
    QCResult,
    Shipment,
)

__all__ = ["TABLE_MAPS", "Resolver", "TableMap", "same_value"]


@dataclass(frozen=True)
class TableMap:
    """How one exchange table maps onto one model.

    Attributes
    ----------
    model : type
        ORM class.
    fields : dict
        Exchange column -> model attribute, copied as is.
    refs : dict
        Exchange column -> (model attribute, resolver kind).
    key : tuple of str
        Model attributes that identify a row (after references are resolved).
    extras : tuple of (prefix, attribute)
        Columns named ``prefix<name>`` collected into a JSON attribute.
    """

    model: type[Base]
    fields: dict[str, str]
    refs: dict[str, tuple[str, str]] = field(default_factory=dict)
    key: tuple[str, ...] = ()
    extras: tuple[str, str] | None = None


TABLE_MAPS: dict[str, TableMap] = {
    "parties": TableMap(
        Party,
        {
            c: c
            for c in (
                "code",
                "name",
                "party_type",
                "country",
                "qualification_status",
                "qualified_until",
            )
        },
        key=("code",),
    ),
    "donors": TableMap(
        Donor,
        {c: c for c in ("code", "donor_type", "age_years", "sex")},
        key=("code",),
        extras=("attr_", "attributes"),
    ),
    "collections": TableMap(
        Collection,
        {
            "din": "din",
            "tissue_source": "tissue_source",
            "method": "method",
            "collected_at": "collected_at",
            "volume": "volume_ml",
            "total_nucleated_cells": "total_nucleated_cells",
            "viability": "viability_pct",
        },
        refs={
            "donor": ("donor_id", "donor"),
            "party": ("party_id", "party"),
            "coi": ("coi_id", "coi"),
        },
        key=("din",),
        extras=("attr_", "attributes"),
    ),
    "equipment": TableMap(
        Equipment,
        {c: c for c in ("asset_id", "equipment_type", "name", "calibration_due")},
        refs={"party": ("party_id", "party")},
        key=("asset_id",),
    ),
    "batches": TableMap(
        Batch,
        {
            "lot": "lot_number",
            "product_type": "product_type",
            "status": "status",
            "started_at": "started_at",
            "ended_at": "ended_at",
        },
        refs={
            "coi": ("coi_id", "coi"),
            "din": ("collection_id", "collection"),
            "site": ("site_party_id", "party"),
        },
        key=("lot_number",),
    ),
    "shipments": TableMap(
        Shipment,
        {
            c: c
            for c in (
                "code",
                "subject_type",
                "subject_ref",
                "container_id",
                "condition_class",
                "packed_at",
                "shipped_at",
                "received_at",
                "status",
            )
        },
        refs={"from_party": ("from_party_id", "party"), "to_party": ("to_party_id", "party")},
        key=("code",),
    ),
    "parameters": TableMap(
        ParameterValue,
        {
            c: c
            for c in (
                "stage",
                "parameter",
                "value",
                "value_text",
                "unit",
                "recorded_by",
                "recorded_at",
            )
        },
        refs={"lot": ("batch_id", "batch")},
        key=("batch_id", "stage", "parameter"),
    ),
    "material_use": TableMap(
        MaterialUse,
        {"stage": "stage", "quantity": "quantity", "unit": "unit"},
        refs={"lot": ("batch_id", "batch"), "material_lot": ("material_lot_id", "material_lot")},
        key=("batch_id", "stage", "material_lot_id"),
    ),
    "qc_results": TableMap(
        QCResult,
        {
            c: c
            for c in (
                "attribute",
                "value",
                "value_text",
                "unit",
                "method",
                "sample_id",
                "tested_at",
                "analyst",
            )
        },
        refs={"lot": ("batch_id", "batch")},
        key=("batch_id", "attribute", "sample_id"),
    ),
    "custody_events": TableMap(
        CustodyEvent,
        {
            c: c
            for c in (
                "subject_type",
                "subject_ref",
                "event_type",
                "actor",
                "occurred_at",
                "scanned_ids",
                "qc_disposition",
            )
        },
        refs={"coi": ("coi_id", "coi"), "party": ("party_id", "party")},
        key=("subject_ref", "event_type", "occurred_at"),
    ),
    "observations": TableMap(
        Observation,
        {c: c for c in ("stage", "observed_at", "author", "text", "tags")},
        refs={"lot": ("batch_id", "batch")},
        key=("batch_id", "observed_at", "author"),
    ),
    "deviations": TableMap(
        Deviation,
        {
            c: c
            for c in (
                "number",
                "category",
                "severity",
                "description",
                "root_cause",
                "capa",
                "status",
                "opened_at",
            )
        },
        refs={"lot": ("batch_id", "batch")},
        key=("number",),
    ),
}


_KINDS: dict[str, tuple[type[Base], Callable[[Any], Any]]] = {
    "party": (Party, lambda r: r.code),
    "donor": (Donor, lambda r: r.code),
    "coi": (ChainOfIdentity, lambda r: r.coi),
    "collection": (Collection, lambda r: r.din),
    "batch": (Batch, lambda r: r.lot_number),
    "material": (Material, lambda r: r.code),
    "material_lot": (MaterialLot, lambda r: (r.material_id, r.lot_number)),
    "process": (ProcessDefinition, lambda r: (r.name, r.version)),
}


class Resolver:
    """Codes -> ids and ids -> codes, loaded once per kind and kept current as rows are added.

    Parameters
    ----------
    session : Session
        The import's session.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._ids: dict[str, dict[Any, int]] = {}
        self._codes: dict[str, dict[int, Any]] = {}

    def _load(self, kind: str) -> dict[Any, int]:
        if kind not in self._ids:
            model, code_of = _KINDS[kind]
            rows = self.session.execute(select(model)).scalars()
            self._ids[kind] = {code_of(r): r.id for r in rows}  # type: ignore[attr-defined]
            self._codes[kind] = {i: c for c, i in self._ids[kind].items()}
        return self._ids[kind]

    def id_of(self, kind: str, code: Any) -> int | None:
        """The id of the row of ``kind`` with ``code``, or None."""
        return self._load(kind).get(code)

    def code_of(self, kind: str, row_id: int | None) -> Any:
        """The code of the row of ``kind`` with id ``row_id`` (None for None)."""
        if row_id is None:
            return None
        self._load(kind)
        return self._codes[kind].get(row_id)

    def add(self, kind: str, row: Base) -> None:
        """Register a row flushed in this import (it needs its id)."""
        _, code_of = _KINDS[kind]
        ids = self._load(kind)
        ids[code_of(row)] = row.id  # type: ignore[attr-defined]
        self._codes[kind][row.id] = code_of(row)  # type: ignore[attr-defined]

    def codes(self, kind: str) -> Iterable[Any]:
        """Every code of ``kind``."""
        return self._load(kind).keys()


def same_value(old: Any, new: Any) -> bool:
    """Whether a stored value equals an imported one (floats to 1e-12 relative)."""
    if isinstance(old, float) and isinstance(new, float | int):
        return math.isclose(old, float(new), rel_tol=1e-12, abs_tol=0.0) or (
            math.isnan(old) and math.isnan(float(new))
        )
    if isinstance(old, datetime) and isinstance(new, datetime):
        return old == new
    if isinstance(old, date) and isinstance(new, date):
        return old == new
    if hasattr(old, "value") and isinstance(new, str):  # enums stored as StrEnum
        return bool(old.value == new)
    return bool(old == new)
