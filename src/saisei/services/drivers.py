"""Drivers of a quality attribute over the joined factor table of a product.

:func:`driver_analysis` builds the factor table (:func:`saisei.services._data.factor_table`:
donor, collection, transport, process parameters, material lots, equipment, site and process
version, one row per lot) and ranks the factors of one QC attribute with
:func:`saisei.analytics.drivers.analyse_drivers` (linear mixed model with variance components
for material lots, equipment and site; gradient boosting with permutation importance;
confounded factors flagged).

Default factors: fixed effects for the donor, collection and transport columns, the process
version and the parameters declared in the lots' process definition; random effects for every
material, every equipment column, text-valued parameters (e.g. the bioreactor used) and the
manufacturing site. Other recorded parameters (in-process results such as a harvest
viability, which sit between the set-points and the attribute) are left out unless named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from saisei.analytics.drivers import DriverResult, analyse_drivers
from saisei.errors import ValidationFailed
from saisei.services._data import FactorTable, factor_table, product_type
from saisei.services.audit import store_revision
from saisei.services.caching import ResultCache
from saisei.storage.repositories import factors as repo
from saisei.storage.store import Store

__all__ = ["DriverReport", "default_factors", "driver_analysis", "driver_document"]


@dataclass(frozen=True, eq=False)
class DriverReport:
    """Drivers of one attribute of a product, with the factors that were analysed."""

    attribute: str
    product: str | None
    fixed: tuple[str, ...]
    random: tuple[str, ...]
    result: DriverResult
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """Plain-language summary (see :meth:`DriverResult.summary`)."""
        return self.result.summary()

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        out = self.result.to_dict()
        out.update(
            {
                "attribute": self.attribute,
                "product": self.product,
                "fixed": list(self.fixed),
                "random": list(self.random),
                "ranking": self.result.ranking(),
                "notes": [*self.notes, *out["notes"]],
            }
        )
        return out


def _declared(store: Store, product: str | None) -> set[str]:
    with store.reader() as session:
        process = repo.find_process(session, product=product_type(product))
        return {p.name for p in repo.declared_parameters(session, process.id)}


def default_factors(table: FactorTable, declared: set[str]) -> tuple[list[str], list[str]]:
    """Default fixed and random factors of a factor table (see the module docstring)."""
    frame = table.frame

    def numeric(column: str) -> bool:
        return pd.api.types.is_numeric_dtype(frame[column])

    fixed = [
        *table.columns("donor", "collection", "transport"),
        *[c for c in table.columns("process") if c != "site"],
        *[c for c in table.columns("parameter") if numeric(c) and c.rsplit(".", 1)[-1] in declared],
    ]
    fixed = [c for c in fixed if c != "donor"]
    random = [
        *table.columns("material", "equipment"),
        *[c for c in table.columns("parameter") if not numeric(c)],
        *[c for c in table.columns("process") if c == "site"],
    ]
    return fixed, random


def driver_analysis(
    store: Store,
    attribute: str,
    *,
    product: str | None = None,
    fixed: Sequence[str] | None = None,
    random: Sequence[str] | None = None,
    random_state: int | None = 0,
) -> DriverReport:
    """Rank the factors of QC attribute ``attribute`` across the lots of ``product``.

    Parameters
    ----------
    attribute : str
        A QC attribute stored with numeric results.
    product : str, optional
        Product type (``MSC``, ``CAR-T``, ...); default every lot.
    fixed, random : sequence of str, optional
        Columns of the factor table for fixed and random effects (default: see the module
        docstring).

    Raises
    ------
    NotFound
        If no lot is stored (for the product).
    ValidationFailed
        If the attribute has no numeric result, or a named factor is not a column of the
        factor table, or too few lots have a value.
    """
    table = factor_table(store, product=product)
    if attribute not in table.attributes:
        known = ", ".join(table.attributes) or "none"
        raise ValidationFailed(
            f"{attribute!r} is not a QC attribute with numeric results in these lots. "
            f"Attributes: {known}."
        )
    default_fixed, default_random = default_factors(table, _declared(store, product))
    chosen_fixed = list(fixed) if fixed is not None else default_fixed
    chosen_random = list(random) if random is not None else default_random
    unknown = [c for c in [*chosen_fixed, *chosen_random] if c not in table.frame.columns]
    if unknown:
        raise ValidationFailed(
            f"The factor table has no column(s) {', '.join(unknown)}. Columns: "
            f"{', '.join(c for c in table.frame.columns if table.groups[c] != 'lot')}."
        )
    result = analyse_drivers(
        table.frame,
        attribute,
        fixed=chosen_fixed,
        random=chosen_random,
        random_state=random_state,
        unit=table.units.get(attribute),
        units={k: v for k, v in table.units.items() if v is not None},
    )
    return DriverReport(
        attribute=attribute,
        product=product,
        fixed=tuple(chosen_fixed),
        random=tuple(chosen_random),
        result=result,
        notes=table.notes,
    )


def driver_document(
    store: Store, attribute: str, *, product: str | None = None, cache: ResultCache
) -> dict[str, Any]:
    """:func:`driver_analysis` with default factors as a JSON document, computed once while
    nothing stored changes (keyed by :func:`saisei.services.audit.store_revision`).

    Raises
    ------
    NotFound, ValidationFailed
        As :func:`driver_analysis` (refusals are not cached).
    """
    # the revision is read first: data stored meanwhile can only make the entry newer
    key = ("drivers", attribute, product, store_revision(store))
    return cache.get(key, lambda: driver_analysis(store, attribute, product=product).to_dict())
