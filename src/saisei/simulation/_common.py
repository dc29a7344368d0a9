"""Plumbing shared by the product builders: random streams, faults per batch, deviations,
per-batch truth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from saisei.simulation._faults import DOCK_HOURS, Fault
from saisei.simulation._qc import Attribute, failing, in_spec
from saisei.simulation._tables import NS_PER_H, frame, utc

DEFAULT_START = datetime(2026, 1, 5, tzinfo=UTC)
PRODUCT_CODES = {"msc": 1, "cart": 2, "aav": 3}


@dataclass(frozen=True)
class RunConfig:
    """What to simulate for one product."""

    product: str
    n_batches: int
    seed: int
    start: datetime = DEFAULT_START
    change_at: int | None = None  # 1-based batch from which the process change applies
    faults: tuple[Fault, ...] = ()

    def streams(self, k: int) -> list[np.random.Generator]:
        """``k`` independent generators for this product and seed."""
        seq = np.random.SeedSequence([self.seed, PRODUCT_CODES[self.product]])
        return [np.random.default_rng(s) for s in seq.spawn(k)]

    def start_ns(self) -> int:
        return int(pd.Timestamp(self.start).value)

    def changed(self) -> np.ndarray:
        """1.0 for batches made after the process change."""
        idx = np.arange(self.n_batches)
        if self.change_at is None:
            return np.zeros(self.n_batches)
        return (idx >= self.change_at - 1).astype(float)


def fault_arrays(faults: tuple[Fault, ...], n: int) -> dict[str, np.ndarray]:
    """Per-batch fault inputs of the kernels (onsets in h, inf when absent)."""
    out = {
        "temperature_drift_h": np.full(n, np.inf),
        "ph_drift_h": np.full(n, np.inf),
        "do_loss_h": np.full(n, np.inf),
        "contamination_h": np.full(n, np.inf),
        "freezer_failure": np.zeros(n),
        "dock": np.zeros(n, dtype=bool),
    }
    names = {
        "temperature_drift": "temperature_drift_h",
        "ph_drift": "ph_drift_h",
        "do_loss": "do_loss_h",
        "contamination": "contamination_h",
    }
    for f in faults:
        i = f.batch - 1
        if f.kind in names:
            out[names[f.kind]][i] = f.onset_h
        elif f.kind == "freezer_failure":
            out["freezer_failure"][i] = 1.0
        else:
            out["dock"][i] = True
    return out


_FAULT_TEXT = {
    "temperature_drift": (
        "equipment",
        "major",
        "Culture temperature rose steadily above the set point",
        "Temperature controller drift",
    ),
    "ph_drift": (
        "equipment",
        "minor",
        "Online pH disagreed with the offline blood-gas check",
        "pH probe drift",
    ),
    "do_loss": (
        "equipment",
        "major",
        "Dissolved oxygen no longer controlled",
        "Gas supply failure",
    ),
    "contamination": (
        "process",
        "critical",
        "Glucose crash, pH drop and DO fall during expansion; sterility positive",
        "Microbial contamination",
    ),
    "freezer_failure": (
        "equipment",
        "major",
        "Controlled-rate freezer did not follow the programmed profile",
        "Liquid-nitrogen supply failure",
    ),
    "shipment_room_temperature": (
        "transport",
        "major",
        f"Inbound shipment left at room temperature for {DOCK_HOURS:.0f} h",
        "Handling error",
    ),
}


def deviations(
    prefix: str,
    lots: np.ndarray,
    faults: tuple[Fault, ...],
    fault_ns: dict[int, int],
    excursions: list[tuple[int, str, int]],
    oos: list[tuple[int, list[str], int]],
) -> pd.DataFrame:
    """Deviations: one per fault, per shipment excursion and per out-of-spec batch."""
    rows: list[dict[str, object]] = []
    for f in faults:
        cat, sev, desc, cause = _FAULT_TEXT[f.kind]
        rows.append(
            {
                "lot": lots[f.batch - 1],
                "category": cat,
                "severity": sev,
                "description": desc,
                "root_cause": cause,
                "status": "closed",
                "capa": "Investigated; equipment or procedure corrected",
                "_ns": fault_ns.get(f.batch - 1, 0),
            }
        )
    for i, code, at in excursions:
        rows.append(
            {
                "lot": lots[i],
                "category": "transport",
                "severity": "minor",
                "description": f"Temperature excursion in shipment {code}",
                "status": "closed",
                "_ns": at,
            }
        )
    for i, names, at in oos:
        rows.append(
            {
                "lot": lots[i],
                "category": "qc",
                "severity": "major",
                "description": "Out of specification: " + ", ".join(names),
                "status": "investigation",
                "_ns": at,
            }
        )
    if not rows:
        return frame("deviations", [])
    rows.sort(key=lambda r: int(r["_ns"]))  # type: ignore[call-overload]
    for k, r in enumerate(rows):
        r["number"] = f"{prefix}-{k + 1:04d}"
        r["opened_at"] = utc(np.array([r.pop("_ns")]))[0]
    return frame("deviations", rows)


def disposition(
    attributes: tuple[Attribute, ...], true: dict[str, np.ndarray], measured: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Whether each batch truly meets and is measured to meet every specification."""
    return in_spec(attributes, true), in_spec(attributes, measured)


def oos_list(
    attributes: tuple[Attribute, ...],
    measured: dict[str, np.ndarray],
    ok: np.ndarray,
    at_ns: np.ndarray,
) -> list[tuple[int, list[str], int]]:
    """(batch, failing attributes, time) for every batch measured out of specification."""
    return [
        (int(i), failing(attributes, measured, int(i)), int(at_ns[i])) for i in np.flatnonzero(~ok)
    ]


def batch_truth(lots: np.ndarray, columns: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Per-batch truth records (numbers as plain floats, NaN as None)."""
    out = []
    for i, lot in enumerate(lots):
        record: dict[str, Any] = {"lot": str(lot)}
        for name, values in columns.items():
            v = values[i]
            if isinstance(v, np.bool_ | bool):
                record[name] = bool(v)
            elif isinstance(v, np.integer | int):
                record[name] = int(v)
            elif isinstance(v, np.floating | float):
                record[name] = float(v) if np.isfinite(v) else None
            else:
                record[name] = str(v)
        out.append(record)
    return out


def hours_ns(h: np.ndarray | float) -> np.ndarray:
    """Hours as integer nanoseconds."""
    return np.round(np.asarray(h, dtype=float) * NS_PER_H).astype(np.int64)
