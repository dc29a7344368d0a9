"""The one place where stored rows become DataFrames for the analytics.

Repositories (:mod:`saisei.storage.repositories.analytics_data`) run the SQL and return plain
rows; the functions here turn them into one row per lot, in manufacturing order, ready for
:mod:`saisei.analytics`. Conventions (documented in ``docs/cli.md``):

- A lot's **value** is the mean of its valid numeric results (QC results with status
  ``valid``; recorded parameter values), ``n_results`` says how many there were.
- Lots are ordered by batch start time, or creation time when a batch has no start time
  (column ``time``), then by batch id.
- ``lower`` and ``upper`` are the limits of the release :class:`Specification` of the
  attribute in the lot's process definition (NaN when none is stored; always NaN for process
  parameters).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from saisei.domain.enums import ProductType
from saisei.errors import NotFound, ValidationFailed
from saisei.storage.repositories import analytics_data as repo
from saisei.storage.repositories import comparability as comparability_repo
from saisei.storage.store import Store

__all__ = [
    "SERIES_COLUMNS",
    "LotSeries",
    "LotValues",
    "attribute_series",
    "lot_attribute_values",
    "lot_series",
    "parameter_series",
    "product_type",
]

#: Columns of every per-lot frame built here.
SERIES_COLUMNS = ["lot", "time", "started_at", "value", "n_results", "lower", "upper"]

Kind = Literal["auto", "attribute", "parameter"]
KINDS = ("auto", "attribute", "parameter")


@dataclass(frozen=True, eq=False)
class LotSeries:
    """Values of one quality attribute or process parameter, one row per lot.

    Attributes
    ----------
    name : str
        Attribute or parameter name as stored.
    kind : {"attribute", "parameter"}
        Where the values came from: QC results or recorded parameter values.
    unit : str or None
        The unit shared by every value (None when none was recorded).
    stage : str or None
        Stage of a process parameter.
    frame : DataFrame
        Columns :data:`SERIES_COLUMNS`, one row per lot in manufacturing order.
    """

    name: str
    kind: str
    unit: str | None
    stage: str | None
    frame: pd.DataFrame


def product_type(product: str | None) -> ProductType | None:
    """The product type named by a ``--product`` option (None for all)."""
    if product is None:
        return None
    try:
        return ProductType(product)
    except ValueError:
        options = ", ".join(p.value for p in ProductType)
        raise ValidationFailed(
            f"The 'product' filter must be one of {options}. Got {product!r} instead."
        ) from None


def _one_unit(name: str, units: pd.Series) -> str | None:
    found = sorted({str(u) for u in units.dropna()})
    if len(found) > 1:
        raise ValidationFailed(
            f"The values of {name!r} are stored in different units ({', '.join(found)}); "
            "they cannot be charted together. Convert them to one unit first."
        )
    return found[0] if found else None


def _per_lot(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per lot: mean value, count, limits; ordered by time then batch id."""
    rows = rows.assign(time=rows["started_at"].fillna(rows["created_at"]))
    lots = (
        rows.groupby("batch_id", sort=False)
        .agg(
            lot=("lot_number", "first"),
            time=("time", "first"),
            started_at=("started_at", "first"),
            value=("value", "mean"),
            n_results=("value", "size"),
            lower=("lower", "first"),
            upper=("upper", "first"),
        )
        .reset_index()
        .sort_values(["time", "batch_id"], kind="stable")
    )
    return lots[SERIES_COLUMNS].reset_index(drop=True)


def _attribute_frame(store: Store, name: str, product: ProductType | None) -> pd.DataFrame:
    with store.reader() as session:
        rows = repo.attribute_rows(session, name, product=product)
    frame = pd.DataFrame(rows, columns=list(repo.AttributeRow._fields))
    return frame.rename(columns={"spec_lower": "lower", "spec_upper": "upper"})


def _parameter_frame(
    store: Store, name: str, product: ProductType | None, stage: str | None
) -> pd.DataFrame:
    with store.reader() as session:
        rows = repo.parameter_rows(session, name, product=product, stage=stage)
    frame = pd.DataFrame(rows, columns=list(repo.ParameterRow._fields))
    return frame.assign(lower=np.nan, upper=np.nan)


def _as_series(name: str, kind: str, rows: pd.DataFrame, stage: str | None) -> LotSeries:
    rows = rows.astype({"value": float, "lower": float, "upper": float})
    for column in ("started_at", "created_at"):
        rows[column] = pd.to_datetime(rows[column], utc=True)
    unit = _one_unit(name, rows["unit"])
    return LotSeries(name=name, kind=kind, unit=unit, stage=stage, frame=_per_lot(rows))


def attribute_series(store: Store, name: str, *, product: str | None = None) -> pd.DataFrame:
    """Valid QC results of attribute ``name``, one row per lot (columns SERIES_COLUMNS).

    Raises
    ------
    NotFound
        If no valid numeric result of the attribute is stored (for the product).
    """
    return lot_series(store, name, kind="attribute", product=product).frame


def parameter_series(
    store: Store, name: str, *, product: str | None = None, stage: str | None = None
) -> pd.DataFrame:
    """Recorded values of process parameter ``name``, one row per lot (SERIES_COLUMNS)."""
    return lot_series(store, name, kind="parameter", product=product, stage=stage).frame


def _not_found(name: str, kind: str, product: str | None, stage: str | None) -> NotFound:
    what = {
        "attribute": "valid numeric QC result of attribute",
        "parameter": "numeric value of process parameter",
        "auto": "valid numeric QC result or parameter value named",
    }[kind]
    where = "".join(
        f" {label} {value!r}"
        for label, value in (("for product", product), ("at stage", stage))
        if value is not None
    )
    return NotFound(
        f"No {what} {name!r} is stored{where}. Check the name with 'saisei batches show LOT'."
    )


def lot_series(
    store: Store,
    name: str,
    *,
    kind: str = "auto",
    product: str | None = None,
    stage: str | None = None,
) -> LotSeries:
    """Values of ``name`` across lots, from QC results or process parameter values.

    Parameters
    ----------
    kind : {"auto", "attribute", "parameter"}, default "auto"
        ``auto`` uses whichever of QC results and parameter values holds ``name``; a ``stage``
        implies a process parameter.
    product : str, optional
        Only lots of this product type (``MSC``, ``CAR-T``, ...).
    stage : str, optional
        Only parameter values recorded at this stage. Required when the parameter is recorded
        at more than one stage.

    Raises
    ------
    NotFound
        If nothing is stored under ``name``.
    ValidationFailed
        For an unknown kind or product, a stage given for a QC attribute, a name found both as
        attribute and as parameter under ``kind="auto"``, a parameter recorded at several
        stages without ``stage``, or values in different units.
    """
    if kind not in KINDS:
        raise ValidationFailed(
            f"The 'kind' option must be one of {', '.join(KINDS)}. Got {kind!r} instead."
        )
    if kind == "attribute" and stage is not None:
        raise ValidationFailed(
            f"QC results have no stage, so '--stage {stage}' cannot select attribute {name!r}. "
            "Leave out --stage, or use --kind parameter for a process parameter."
        )
    ptype = product_type(product)
    attributes = (
        _attribute_frame(store, name, ptype) if kind != "parameter" and stage is None else None
    )
    parameters = _parameter_frame(store, name, ptype, stage) if kind != "attribute" else None
    has_attr = attributes is not None and not attributes.empty
    has_param = parameters is not None and not parameters.empty
    if has_attr and has_param:
        raise ValidationFailed(
            f"{name!r} is both a QC attribute and a process parameter in the store. "
            "Choose one with --kind attribute or --kind parameter (or give --stage)."
        )
    if has_attr and attributes is not None:
        return _as_series(name, "attribute", attributes, None)
    if not has_param or parameters is None:
        raise _not_found(name, kind, product, stage)
    stages = sorted(parameters["stage"].unique())
    if len(stages) > 1:
        raise ValidationFailed(
            f"Process parameter {name!r} is recorded at more than one stage "
            f"({', '.join(stages)}). Choose one with --stage."
        )
    return _as_series(name, "parameter", parameters, stages[0])


@dataclass(frozen=True, eq=False)
class LotValues:
    """QC values of chosen lots for several attributes, one row per lot.

    Attributes
    ----------
    values : DataFrame
        Index ``batch_id`` (every lot asked for, in the order given), one column per attribute:
        the mean of the lot's valid numeric results, NaN when it has none.
    n_results : DataFrame
        Same shape: how many valid numeric results each mean is made of.
    units : dict of str to str or None
        The unit shared by the values of each attribute (None when none was recorded).
    """

    values: pd.DataFrame
    n_results: pd.DataFrame
    units: dict[str, str | None]


def lot_attribute_values(store: Store, batch_ids: list[int], attributes: list[str]) -> LotValues:
    """Valid numeric QC results of ``attributes`` for the lots ``batch_ids``, one row per lot.

    Raises
    ------
    ValidationFailed
        If the values of one attribute are stored in different units.
    """
    with store.reader() as session:
        rows = comparability_repo.qc_value_rows(session, batch_ids, attributes)
    frame = pd.DataFrame(rows, columns=list(comparability_repo.QCValueRow._fields))
    frame = frame.astype({"value": float})
    units = {a: _one_unit(a, frame.loc[frame["attribute"] == a, "unit"]) for a in attributes}
    index = pd.Index(batch_ids, name="batch_id")
    grouped = frame.groupby(["batch_id", "attribute"])["value"]
    values = grouped.mean().unstack("attribute").reindex(index=index, columns=attributes)
    counts = grouped.size().unstack("attribute").reindex(index=index, columns=attributes)
    values.columns.name = None
    counts.columns.name = None
    return LotValues(values=values, n_results=counts.fillna(0).astype(int), units=units)
