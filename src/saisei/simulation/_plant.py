"""The plant around the process: parties, equipment with hidden offsets, material lots with
random effects, and which batch used which.

Lot-to-lot variation of media, platelet lysate, vectors, plasmids and resins is a random
effect on the log scale of the rate it touches; one lot of each material with four or more
lots is deliberately poor (-3.5 SD), so that lot outliers exist in the ground truth.
Equipment carries a hidden calibration offset (bioreactor temperature) or rate factor
(controlled-rate freezer); one bioreactor is off by +0.6 C.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

PARTIES = pd.DataFrame(
    {
        "code": ["H01", "H02", "H03", "INT01", "MFG01", "COUR01"],
        "name": [
            "Kamogawa University Hospital",
            "Naniwa General Hospital",
            "Rokko Medical Centre",
            "Kansai Cell Bank (intermediary)",
            "Saisei Cell Manufacturing",
            "Kinki Medical Courier",
        ],
        "party_type": [
            "collection_site",
            "collection_site",
            "collection_site",
            "intermediary",
            "manufacturer",
            "courier",
        ],
        "country": ["JP"] * 6,
        "qualification_status": ["qualified"] * 6,
        "qualified_until": [date(2027, 3, 31)] * 6,
    }
)
HOSPITALS = ("H01", "H02", "H03")
#: Facility identification numbers (fictitious) of the hospitals, for DINs and COIs.
FACILITY = {"H01": "J1001", "H02": "J1002", "H03": "J1003"}
INTERMEDIARY = "INT01"
MANUFACTURER = "MFG01"
COURIER = "COUR01"
LOT_SD_OUTLIER = 3.5


@dataclass
class MaterialLots:
    """Lots of one material and the batch each lot went to."""

    code: str
    name: str
    category: str
    supplier: str
    lot_numbers: list[str]
    effects: np.ndarray  # per lot, log scale
    sd: float
    batch_lot: np.ndarray  # index into lot_numbers, one per batch


def material_lots(
    rng: np.random.Generator,
    code: str,
    name: str,
    category: str,
    supplier: str,
    sd: float,
    batches: np.ndarray,
    per_lot: int,
    prefix: str,
) -> MaterialLots:
    """Lots used in sequence, ``per_lot`` batches each, for the batches flagged in ``batches``.

    ``batches`` is a boolean mask over all batches; batches outside it get index -1.
    """
    idx = np.flatnonzero(batches)
    n_lots = max(1, int(np.ceil(idx.size / per_lot)))
    effects = rng.normal(0.0, sd, n_lots)
    if n_lots >= 4:
        effects[2] = -LOT_SD_OUTLIER * sd
    batch_lot = np.full(batches.shape[0], -1)
    batch_lot[idx] = np.arange(idx.size) // per_lot
    lots = [f"{prefix}{rng.integers(1000, 9999)}{k:03d}" for k in range(n_lots)]
    return MaterialLots(code, name, category, supplier, lots, effects, sd, batch_lot)


def lot_effect(m: MaterialLots) -> np.ndarray:
    """Effect of the lot each batch used (0 where the batch did not use the material)."""
    return np.where(m.batch_lot >= 0, m.effects[np.maximum(m.batch_lot, 0)], 0.0)


def materials_frame(materials: list[MaterialLots], start: datetime) -> pd.DataFrame:
    """The ``materials`` table: one row per lot."""
    rows = []
    for m in materials:
        for k, lot in enumerate(m.lot_numbers):
            rows.append(
                {
                    "code": m.code,
                    "name": m.name,
                    "category": m.category,
                    "supplier": m.supplier,
                    "lot_number": lot,
                    "expiry": (start + timedelta(days=365 + 30 * k)).date(),
                    "lot_status": "released",
                }
            )
    return pd.DataFrame(
        rows, columns=["code", "name", "category", "supplier", "lot_number", "expiry", "lot_status"]
    )


def outlier_lots(materials: list[MaterialLots]) -> list[dict[str, object]]:
    """Lots whose effect is beyond 2.5 SD, for the ground truth."""
    out = []
    for m in materials:
        for lot, effect in zip(m.lot_numbers, m.effects, strict=True):
            if m.sd > 0 and abs(effect) > 2.5 * m.sd:
                out.append(
                    {
                        "material": m.code,
                        "lot_number": lot,
                        "effect_log": float(effect),
                        "effect_sd": float(effect / m.sd),
                    }
                )
    return out


@dataclass
class Equipment:
    """Assets of one type with their hidden offsets."""

    asset_ids: list[str]
    equipment_type: str
    names: list[str]
    offsets: np.ndarray
    assigned: np.ndarray  # asset index per batch


def equipment(
    rng: np.random.Generator,
    prefix: str,
    kind: str,
    name: str,
    count: int,
    n_batches: int,
    offset_sd: float,
    base: float = 0.0,
    outlier: float | None = None,
) -> Equipment:
    """``count`` assets, assigned round-robin with a little shuffling, with hidden offsets."""
    offsets = base + rng.normal(0.0, offset_sd, count)
    if outlier is not None and count >= 3:
        offsets[2] = base + outlier
    assigned = (np.arange(n_batches) + rng.integers(0, 2, n_batches)) % count
    ids = [f"{prefix}-{k + 1:02d}" for k in range(count)]
    return Equipment(ids, kind, [f"{name} {k + 1}" for k in range(count)], offsets, assigned)


def equipment_frame(assets: list[Equipment], start: datetime) -> pd.DataFrame:
    """The ``equipment`` table."""
    rows = []
    for e in assets:
        for k, asset in enumerate(e.asset_ids):
            rows.append(
                {
                    "asset_id": asset,
                    "equipment_type": e.equipment_type,
                    "name": e.names[k],
                    "party": MANUFACTURER,
                    "calibration_due": (start + timedelta(days=180 + 20 * k)).date(),
                }
            )
    return pd.DataFrame(
        rows, columns=["asset_id", "equipment_type", "name", "party", "calibration_due"]
    )
