"""Building exchange-format tables from per-batch arrays, vectorised.

Column names and order are those of :mod:`saisei.ingestion.schemas` (the simulation layer may
not import it; a test checks that they agree). Datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from saisei.simulation._qc import Attribute

COLUMNS: dict[str, list[str]] = {
    "parties": ["code", "name", "party_type", "country", "qualification_status", "qualified_until"],
    "donors": ["code", "donor_type", "age_years", "sex"],
    "collections": [
        "din",
        "donor",
        "coi",
        "party",
        "tissue_source",
        "method",
        "collected_at",
        "volume",
        "total_nucleated_cells",
        "viability",
    ],
    "materials": ["code", "name", "category", "supplier", "lot_number", "expiry", "lot_status"],
    "equipment": ["asset_id", "equipment_type", "name", "party", "calibration_due"],
    "batches": [
        "lot",
        "product_type",
        "process",
        "process_version",
        "coi",
        "din",
        "site",
        "status",
        "started_at",
        "ended_at",
        "parent_lots",
    ],
    "shipments": [
        "code",
        "subject_type",
        "subject_ref",
        "from_party",
        "to_party",
        "container_id",
        "condition_class",
        "packed_at",
        "shipped_at",
        "received_at",
        "status",
    ],
    "shipment_logs": ["shipment", "timestamp", "temperature", "shock", "tilt"],
    "parameters": [
        "lot",
        "stage",
        "parameter",
        "value",
        "value_text",
        "unit",
        "recorded_by",
        "recorded_at",
    ],
    "material_use": ["lot", "stage", "material", "material_lot", "quantity", "unit"],
    "timeseries": ["lot", "stage", "variable", "t", "value", "unit", "timestamp"],
    "qc_results": [
        "lot",
        "attribute",
        "value",
        "value_text",
        "unit",
        "method",
        "sample_id",
        "tested_at",
        "analyst",
    ],
    "custody_events": [
        "coi",
        "subject_type",
        "subject_ref",
        "event_type",
        "party",
        "actor",
        "occurred_at",
        "scanned_ids",
        "qc_disposition",
    ],
    "deviations": [
        "number",
        "lot",
        "category",
        "severity",
        "description",
        "root_cause",
        "capa",
        "status",
        "opened_at",
    ],
}

NS_PER_H = 3_600_000_000_000


def utc(ns: np.ndarray) -> pd.DatetimeIndex:
    """Nanoseconds since the epoch as timezone-aware UTC datetimes (whole seconds)."""
    ns = (np.asarray(ns, dtype=np.int64) // 1_000_000_000) * 1_000_000_000
    return pd.to_datetime(ns, utc=True)


def frame(table: str, rows: list[dict[str, object]] | dict[str, object]) -> pd.DataFrame:
    """A frame of ``table`` with exactly its columns (missing ones empty)."""
    df = pd.DataFrame(rows)
    for column in COLUMNS[table]:
        if column not in df:
            df[column] = None
    return df[COLUMNS[table]]


@dataclass
class Block:
    """One variable of one stage for every batch: values (n, k) at times t_h (k,)."""

    stage: str
    variable: str
    unit: str
    t_h: np.ndarray
    values: np.ndarray
    start_ns: np.ndarray  # (n,) stage start


def timeseries(lots: np.ndarray, blocks: list[Block]) -> pd.DataFrame:
    """The long ``timeseries`` table, ordered by lot, stage, variable and t, without loops
    over batches (fixed-size blocks are laid side by side and flattened)."""
    if not blocks or lots.size == 0:
        return frame("timeseries", [])
    blocks = sorted(blocks, key=lambda b: (b.stage, b.variable))
    n = lots.size
    values = np.hstack([b.values for b in blocks]).ravel()
    t = np.tile(np.concatenate([b.t_h for b in blocks]), n)
    stamps = np.hstack(
        [b.start_ns[:, None] + np.round(b.t_h * NS_PER_H).astype(np.int64) for b in blocks]
    ).ravel()
    block_of = np.concatenate([np.full(b.t_h.size, i) for i, b in enumerate(blocks)])
    per_lot = block_of.size
    codes = np.tile(block_of, n)
    stages = sorted({b.stage for b in blocks})
    variables = sorted({b.variable for b in blocks})
    units = sorted({b.unit for b in blocks})
    stage_code = np.array([stages.index(b.stage) for b in blocks])[codes]
    var_code = np.array([variables.index(b.variable) for b in blocks])[codes]
    unit_code = np.array([units.index(b.unit) for b in blocks])[codes]
    lot_codes = np.repeat(np.arange(n), per_lot)
    return pd.DataFrame(
        {
            "lot": pd.Categorical.from_codes(lot_codes, categories=pd.Index(list(lots))),
            "stage": pd.Categorical.from_codes(stage_code, categories=pd.Index(stages)),
            "variable": pd.Categorical.from_codes(var_code, categories=pd.Index(variables)),
            "t": t,
            "value": values,
            "unit": pd.Categorical.from_codes(unit_code, categories=pd.Index(units)),
            "timestamp": utc(stamps),
        }
    )


def qc_results(
    lots: np.ndarray,
    attributes: tuple[Attribute, ...],
    measured: dict[str, np.ndarray],
    tested_ns: np.ndarray,
    analysts: np.ndarray,
) -> pd.DataFrame:
    """The ``qc_results`` table: one row per lot and attribute."""
    parts = []
    for j, a in enumerate(attributes):
        v = np.asarray(measured[a.name], dtype=float)
        parts.append(
            pd.DataFrame(
                {
                    "lot": lots,
                    "attribute": a.name,
                    "value": np.nan if a.qualitative else v,
                    "value_text": np.where(v > 0, "positive", "negative")
                    if a.qualitative
                    else None,
                    "unit": a.unit or None,
                    "method": a.method,
                    "sample_id": [f"{lot}-QC{j + 1:02d}" for lot in lots],
                    "tested_at": utc(tested_ns + j * NS_PER_H // 4),
                    "analyst": analysts,
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    order = np.lexsort(
        (
            np.tile(np.arange(len(attributes)), 1).repeat(lots.size),
            np.tile(np.arange(lots.size), len(attributes)),
        )
    )
    return out.iloc[order].reset_index(drop=True)[COLUMNS["qc_results"]]


def parameters(
    lots: np.ndarray, rows: list[tuple[str, str, str, np.ndarray, np.ndarray]], who: str
) -> pd.DataFrame:
    """The ``parameters`` table from (stage, parameter, unit, values, recorded_ns) tuples.

    A value array of strings is written to ``value_text``.
    """
    parts = []
    for stage, name, unit, values, when in rows:
        text = values.dtype.kind in "USO"
        parts.append(
            pd.DataFrame(
                {
                    "lot": lots,
                    "stage": stage,
                    "parameter": name,
                    "value": np.nan if text else values.astype(float),
                    "value_text": values.astype(str) if text else None,
                    "unit": None if text else unit,
                    "recorded_by": who,
                    "recorded_at": utc(when),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["lot", "stage", "parameter"], kind="stable").reset_index(drop=True)[
        COLUMNS["parameters"]
    ]
