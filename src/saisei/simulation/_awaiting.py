"""Lots awaiting disposition: the newest lots of the demonstration programme stay in quarantine.

A plant always has lots that QC has tested but QA has not yet decided. For the newest
``per_product`` lots of each product the QA decision is taken back out of the simulated
record: the lot's status is ``quarantine``, its chain of custody ends at storage (no QC
disposition, release, shipment to the clinic or receipt there) and its outbound shipment is
not made. QC results, the inbound chain and every other record stay as simulated, so QA can
review and release (or reject) the lot in saisei.

In the truth, a held lot's record has ``released`` false and ``qc_passed`` (whether its
measured QC met the specifications, i.e. whether it would have been released).

The newest MSC lot awaiting disposition also gets a custody fault: the hand-over of its second
inbound leg (intermediary to manufacturer) was never recorded. Its chain does not verify, so
its release must be refused. Both are written to the ground truth
(``awaiting_disposition`` and ``custody_faults``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from saisei.simulation._result import SimulationResult

__all__ = ["AWAITING_PER_PRODUCT", "hold_newest_lots"]

#: Lots per product left awaiting disposition in the demonstration programme.
AWAITING_PER_PRODUCT = 3

#: Custody events from the QA decision on; removed from the chains of the lots held back.
_AFTER_DECISION = frozenset(
    {"qc_disposition", "release", "shipment_to_clinic", "receipt_at_clinic", "infusion"}
)

_PRODUCT_KEYS = {"MSC": "msc", "CAR-T": "cart", "AAV": "aav"}


def _newest(batches: pd.DataFrame, per_product: int) -> dict[str, list[str]]:
    held: dict[str, list[str]] = {}
    for product, group in batches.groupby("product_type", sort=False):
        ordered = group.sort_values("started_at", kind="stable")
        held[_PRODUCT_KEYS.get(str(product), str(product))] = [
            str(lot) for lot in ordered["lot"].tail(per_product)
        ]
    return held


def _missing_hand_over(custody: pd.DataFrame, coi: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Drop the last inbound hand-over of chain ``coi`` (the one before its last receipt)."""
    chain = custody[(custody["coi"] == coi) & (custody["subject_type"] == "collection")]
    hand_overs = chain.index[chain["event_type"] == "hand_over"]
    dropped = hand_overs[-1]
    fault = {
        "kind": "missing_hand_over",
        "coi": coi,
        "party": str(custody.at[dropped, "party"]),
        "occurred_at": str(custody.at[dropped, "occurred_at"]),
        "description": (
            "the courier's hand-over of the inbound leg to the manufacturer was not recorded; "
            "the chain goes from packing straight to receipt and must not verify"
        ),
    }
    return custody.drop(index=dropped).reset_index(drop=True), fault


def _held_record(record: dict[str, Any]) -> dict[str, Any]:
    """A held lot's truth: not released; ``qc_passed`` keeps whether its QC met the specs."""
    return {**record, "qc_passed": record.get("released"), "released": False}


def hold_newest_lots(
    result: SimulationResult, per_product: int = AWAITING_PER_PRODUCT
) -> SimulationResult:
    """Leave the newest ``per_product`` lots of each product in quarantine (see module doc).

    Returns a new result; ``result`` is not changed.
    """
    tables = {name: frame.copy() for name, frame in result.tables.items()}
    truth = dict(result.truth)
    batches = tables["batches"]
    held = _newest(batches, per_product)
    lots = {lot for group in held.values() for lot in group}
    is_held = batches["lot"].isin(lots)
    batches.loc[is_held, "status"] = "quarantine"
    cois = set(batches.loc[is_held & batches["coi"].notna(), "coi"].astype(str))
    faults: list[dict[str, Any]] = []
    if "custody_events" in tables:
        custody = tables["custody_events"]
        decided = custody["coi"].isin(cois) & custody["event_type"].isin(_AFTER_DECISION)
        custody = custody[~decided].reset_index(drop=True)
        msc = held.get("msc", [])
        msc_coi = batches.loc[batches["lot"] == msc[-1], "coi"] if msc else pd.Series([], dtype=str)
        if len(msc_coi) and pd.notna(msc_coi.iloc[0]):
            custody, fault = _missing_hand_over(custody, str(msc_coi.iloc[0]))
            faults.append({"product": "msc", "lot": msc[-1], **fault})
        tables["custody_events"] = custody
    dropped: set[str] = set()
    if "shipments" in tables:
        shipments = tables["shipments"]
        outbound = (shipments["subject_type"] == "batch") & shipments["subject_ref"].isin(lots)
        dropped = set(shipments.loc[outbound, "code"].astype(str))
        tables["shipments"] = shipments[~outbound].reset_index(drop=True)
    if "shipment_logs" in tables and dropped:
        logs = tables["shipment_logs"]
        tables["shipment_logs"] = logs[~logs["shipment"].isin(dropped)].reset_index(drop=True)
    truth["outliers"] = {
        product: {
            **outliers,
            "shipments": [s for s in outliers.get("shipments", []) if s["shipment"] not in dropped],
        }
        for product, outliers in result.truth["outliers"].items()
    }
    truth["batches"] = {
        product: [_held_record(record) if record["lot"] in lots else record for record in records]
        for product, records in result.truth["batches"].items()
    }
    truth["awaiting_disposition"] = held
    truth["custody_faults"] = faults
    return SimulationResult(tables=tables, processes=result.processes, truth=truth)
