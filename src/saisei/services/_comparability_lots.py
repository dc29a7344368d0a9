"""Lots and values of a comparability run: selection, values, stored snapshot, rebuild.

A run's snapshot keeps the plan, the lots of each arm, the per-lot values it was evaluated on
and the result document, so the result (and its report) can be rebuilt exactly later, even
after QC results change or lots are added.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from saisei.analytics.comparability import (
    ComparabilityPlan,
    ComparabilityResult,
    LotSelection,
    evaluate_plan,
)
from saisei.domain.audit import jsonable
from saisei.domain.enums import ProductType
from saisei.errors import NotFound, ValidationFailed
from saisei.reports.documents import comparability_document, plain
from saisei.services._data import lot_attribute_values
from saisei.storage.repositories.comparability import LotRow
from saisei.storage.store import Store

__all__ = ["Rebuilt", "SelectedLots", "lot_values", "rebuild", "select_lots", "snapshot"]

_ARMS = {"reference": "pre-change (reference)", "test": "post-change (test)"}


@dataclass(frozen=True)
class SelectedLots:
    """The lots of each arm, in manufacturing order, with their labels in the analysis.

    The label is the lot number; in a paired design it is the starting material the two
    arms share (the collection's DIN, else the chain of identity), so rows pair up.
    """

    reference: tuple[LotRow, ...]
    test: tuple[LotRow, ...]
    design: str

    def label(self, lot: LotRow) -> str:
        """The row label of ``lot`` in the analysis."""
        if self.design == "paired":
            return lot.din or lot.coi or lot.lot_number
        return lot.lot_number


def _matches(selection: LotSelection, lot: LotRow) -> bool:
    produced_on = lot.started_at.date() if lot.started_at is not None else None
    versions: list[str | None] = [None]
    if lot.process_version is not None:
        # A plan names a version alone ("2.0") or with its process ("MSC-STR:2.0").
        versions = [lot.process_version, f"{lot.process_name}:{lot.process_version}"]
    return any(
        selection.matches(lot.lot_number, process_version=v, produced_on=produced_on)
        for v in versions
    )


def _arm(
    name: str, selection: LotSelection, candidates: list[LotRow], product: ProductType | None
) -> tuple[LotRow, ...]:
    chosen = tuple(lot for lot in candidates if _matches(selection, lot))
    if selection.lot_ids:
        known = {lot.lot_number for lot in candidates}
        missing = [lot for lot in selection.lot_ids if lot not in known]
        if missing:
            scope = f" of product {product.value}" if product is not None else ""
            raise NotFound(
                f"The {_ARMS[name]} lots of the plan name lot(s) not in the store{scope}: "
                f"{', '.join(missing)}. Import them first or correct the plan (by amendment "
                "if it is locked)."
            )
    if not chosen:
        scope = f" of product {product.value}" if product is not None else ""
        raise ValidationFailed(
            f"The {_ARMS[name]} lot selection ({selection.describe()}) matches no lot in the "
            f"store{scope}. Check the process versions and dates with 'saisei batches list'."
        )
    return chosen


def select_lots(
    plan: ComparabilityPlan, candidates: list[LotRow], *, product: ProductType | None
) -> SelectedLots:
    """The lots of both arms of ``plan`` among ``candidates``.

    Raises
    ------
    ValidationFailed
        When an arm matches no lot, a lot falls in both arms, or (paired design) two lots of
        one arm share their starting material.
    NotFound
        When an explicit lot list names lots that are not stored.
    """
    reference = _arm("reference", plan.reference_lots, candidates, product)
    test = _arm("test", plan.test_lots, candidates, product)
    both = sorted({lot.lot_number for lot in reference} & {lot.lot_number for lot in test})
    if both:
        raise ValidationFailed(
            "A lot cannot be both pre- and post-change. The plan's selections share "
            f"{', '.join(both)}; make the process versions, dates or lists disjoint."
        )
    selected = SelectedLots(reference=reference, test=test, design=plan.design)
    for name, lots in (("reference", reference), ("test", test)):
        labels = [selected.label(lot) for lot in lots]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValidationFailed(
                f"In a paired study each {_ARMS[name]} lot must come from its own starting "
                f"material. Got several lots from {', '.join(repeated)}."
            )
    return selected


def lot_values(
    store: Store, plan: ComparabilityPlan, selected: SelectedLots
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str | None]]:
    """Values of the plan's CQAs for both arms: one row per lot (index = label)."""
    names = [c.name for c in plan.cqas]
    frames = []
    units: dict[str, str | None] = {}
    for lots in (selected.reference, selected.test):
        found = lot_attribute_values(store, [lot.batch_id for lot in lots], names)
        frame = found.values.copy()
        frame.index = pd.Index([selected.label(lot) for lot in lots], name="lot")
        frames.append(frame)
        for name, unit in found.units.items():
            if unit is not None and units.get(name) not in (None, unit):
                raise ValidationFailed(
                    f"The values of {name!r} are stored in different units ({units[name]}, "
                    f"{unit}) in the two arms; convert them to one unit first."
                )
            units[name] = unit if unit is not None else units.get(name)
    return frames[0], frames[1], units


def _lot_entry(selected: SelectedLots, lot: LotRow) -> dict[str, Any]:
    return {
        "lot": lot.lot_number,
        "label": selected.label(lot),
        "batch_id": lot.batch_id,
        "process": lot.process_name,
        "process_version": lot.process_version,
        "started_at": jsonable(lot.started_at),
        "din": lot.din,
        "coi": lot.coi,
    }


def snapshot(
    plan: ComparabilityPlan,
    selected: SelectedLots,
    reference: pd.DataFrame,
    test: pd.DataFrame,
    units: dict[str, str | None],
    result: ComparabilityResult,
) -> dict[str, Any]:
    """The JSON-ready record of a run: plan, lots, values and result (NaN as null)."""
    columns = [c.name for c in plan.cqas]
    return {
        "plan": plan.to_dict(),
        "columns": columns,
        "lots": {
            "reference": [_lot_entry(selected, lot) for lot in selected.reference],
            "test": [_lot_entry(selected, lot) for lot in selected.test],
        },
        "values": {
            "reference": plain(reference[columns].to_numpy().tolist()),
            "test": plain(test[columns].to_numpy().tolist()),
        },
        "units": dict(units),
        "result": comparability_document(result),
    }


@dataclass(frozen=True, eq=False)
class Rebuilt:
    """A run rebuilt from its snapshot."""

    result: ComparabilityResult
    reference: pd.DataFrame
    test: pd.DataFrame
    lots: dict[str, list[dict[str, Any]]]
    units: dict[str, str | None]
    warnings: tuple[str, ...]


def _frame(snap: dict[str, Any], arm: str) -> pd.DataFrame:
    labels = [str(lot["label"]) for lot in snap["lots"][arm]]
    rows = snap["values"][arm]
    return pd.DataFrame(
        rows if rows else None,
        index=pd.Index(labels, name="lot"),
        columns=list(snap["columns"]),
        dtype=float,
    )


def rebuild(snap: dict[str, Any]) -> Rebuilt:
    """Re-evaluate the stored plan on the stored values; warn if verdicts differ from then."""
    plan = ComparabilityPlan.from_dict(snap["plan"])
    reference, test = _frame(snap, "reference"), _frame(snap, "test")
    result = evaluate_plan(plan, reference, test)
    stored = {o["name"]: o["verdict"] for o in snap["result"]["outcomes"]}
    now = {o.name: o.verdict.value for o in result.outcomes}
    warnings = []
    if stored != now:
        changed = sorted(k for k in now if stored.get(k) != now[k])
        warnings.append(
            "Recomputing the stored values gives other verdicts than at run time for "
            f"{', '.join(changed)} (the statistics changed since); the verdicts shown are "
            "recomputed."
        )
    return Rebuilt(
        result=result,
        reference=reference,
        test=test,
        lots=snap["lots"],
        units=snap["units"],
        warnings=tuple(warnings),
    )
