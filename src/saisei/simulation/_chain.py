"""The chain around a batch: shipments with their logger files, and custody events."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from saisei.simulation._tables import COLUMNS, NS_PER_H, frame, utc
from saisei.simulation._transport import ShipmentOutcome, ShipmentPlan, simulate_shipments

#: Condition class -> (container kind, band low, band high, pack/set-point temperature).
CONDITIONS = {
    "15-25C": ("passive", 15.0, 25.0, 20.0),
    "2-8C": ("passive", 2.0, 8.0, 5.0),
    "2-8C_active": ("active", 2.0, 8.0, 5.0),
    "LN2_dry_shipper": ("dry_shipper", -273.0, -150.0, -192.0),
}


@dataclass
class Leg:
    """One shipment per batch (arrays of shape (n,))."""

    codes: np.ndarray
    subject_type: str
    subject_ref: np.ndarray
    from_party: np.ndarray
    to_party: np.ndarray
    condition: np.ndarray
    container_id: np.ndarray
    packed_ns: np.ndarray
    shipped_ns: np.ndarray
    received_ns: np.ndarray
    duration_h: np.ndarray
    outcome: ShipmentOutcome
    dock: np.ndarray  # bool: left on a dock at room temperature
    tipped: np.ndarray  # bool


def ship(
    rng: np.random.Generator,
    codes: np.ndarray,
    subject_type: str,
    refs: np.ndarray,
    from_party: np.ndarray,
    to_party: np.ndarray,
    condition: np.ndarray,
    shipped_ns: np.ndarray,
    duration_h: np.ndarray,
    fresh: bool,
    dock: np.ndarray,
    tipped: np.ndarray,
) -> Leg:
    """Simulate one leg for every batch."""
    n = codes.size
    kind = np.array([CONDITIONS[c][0] for c in condition])
    low = np.array([CONDITIONS[c][1] for c in condition])
    high = np.array([CONDITIONS[c][2] for c in condition])
    pack = np.array([CONDITIONS[c][3] for c in condition])
    plan = ShipmentPlan(
        container=kind,
        band_low_c=low,
        band_high_c=high,
        pack_c=pack,
        duration_h=duration_h,
        start_hour_of_day=((shipped_ns // NS_PER_H) % 24).astype(float),
        ambient_base_c=rng.normal(19.0, 4.0, n),
        dock_onset_h=np.where(dock, duration_h * rng.uniform(0.1, 0.4, n), np.nan),
        dock_hours=np.full(n, 6.0),
        tipped_at_h=np.where(tipped, duration_h * 0.2, np.nan),
        fresh=np.full(n, fresh),
    )
    outcome = simulate_shipments(plan, rng)
    prefix = {"passive": "BOX", "active": "ACT", "dry_shipper": "LN2"}
    container = np.array([f"{prefix[k]}-{rng.integers(1, 40):03d}" for k in kind])
    packed = shipped_ns - np.round(rng.uniform(0.2, 1.0, n) * NS_PER_H).astype(np.int64)
    received = shipped_ns + np.round(duration_h * NS_PER_H).astype(np.int64)
    return Leg(
        codes,
        subject_type,
        refs,
        from_party,
        to_party,
        condition,
        container,
        packed,
        shipped_ns,
        received,
        duration_h,
        outcome,
        dock,
        tipped,
    )


def shipment_frames(legs: list[Leg]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``shipments`` and ``shipment_logs`` tables of ``legs``."""
    ships, logs = [], []
    for leg in legs:
        out = leg.outcome
        excursion = out.hours_out > 0.5
        ships.append(
            pd.DataFrame(
                {
                    "code": leg.codes,
                    "subject_type": leg.subject_type,
                    "subject_ref": leg.subject_ref,
                    "from_party": leg.from_party,
                    "to_party": leg.to_party,
                    "container_id": leg.container_id,
                    "condition_class": leg.condition,
                    "packed_at": utc(leg.packed_ns),
                    "shipped_at": utc(leg.shipped_ns),
                    "received_at": utc(leg.received_ns),
                    "status": np.where(excursion, "quarantined", "accepted"),
                }
            )
        )
        m = out.temperature_c.shape[1]
        alive = np.arange(m)[None, :] < out.n_readings[:, None]
        rows, cols = np.nonzero(alive)
        step_ns = np.int64(5 * 60 * 1_000_000_000)
        logs.append(
            pd.DataFrame(
                {
                    "shipment": leg.codes[rows],
                    "timestamp": utc(leg.shipped_ns[rows] + cols.astype(np.int64) * step_ns),
                    "temperature": out.logged_c[rows, cols],
                    "shock": out.shock_g[rows, cols],
                    "tilt": out.tilt_deg[rows, cols],
                }
            )
        )
    shipments = pd.concat(ships, ignore_index=True) if ships else frame("shipments", [])
    shipment_logs = pd.concat(logs, ignore_index=True) if logs else frame("shipment_logs", [])
    return shipments[COLUMNS["shipments"]], shipment_logs[COLUMNS["shipment_logs"]]


@dataclass
class Custody:
    """Events of one type for every batch.

    ``scanned`` holds the identity codes read (``;``-separated, empty for a record-only event
    such as the QC disposition); ``qc_disposition`` (approved/rejected) only at that event.
    """

    event_type: str
    subject_type: str
    subject_ref: np.ndarray
    party: np.ndarray | str
    actor: str
    at_ns: np.ndarray
    scanned: np.ndarray
    qc_disposition: np.ndarray | None = None


def custody_frame(coi: np.ndarray, events: list[Custody]) -> pd.DataFrame:
    """The ``custody_events`` table, ordered by chain and time."""
    if not events:
        return frame("custody_events", [])
    parts = [
        pd.DataFrame(
            {
                "coi": coi,
                "subject_type": e.subject_type,
                "subject_ref": e.subject_ref,
                "event_type": e.event_type,
                "party": e.party,
                "actor": e.actor,
                "occurred_at": utc(e.at_ns),
                "scanned_ids": e.scanned,
                "qc_disposition": e.qc_disposition,
                "_ns": e.at_ns,
            }
        )
        for e in events
    ]
    out = pd.concat(parts, ignore_index=True).sort_values(["coi", "_ns"], kind="stable")
    return out.reset_index(drop=True)[COLUMNS["custody_events"]]
