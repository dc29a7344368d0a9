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
- :func:`factor_table` joins, per lot, its donor, collection, transport of the source
  collection, process parameters, material lots, equipment, site, process version and QC
  values (column naming in its docstring); :func:`source_factors` gives the donor, collection
  and transport columns of one collection (an incoming DIN) with the same names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from saisei.custody.shipments import load_specs
from saisei.domain.enums import ProductType
from saisei.domain.transport import (
    LoggerRecord,
    TransportSpec,
    evaluate_logger,
    mean_kinetic_temperature,
)
from saisei.errors import NotFound, ValidationFailed
from saisei.storage.repositories import analytics_data as repo
from saisei.storage.repositories import comparability as comparability_repo
from saisei.storage.repositories import factors as factors_repo
from saisei.storage.store import Store
from saisei.storage.types import Session

__all__ = [
    "FACTOR_GROUPS",
    "SERIES_COLUMNS",
    "TRANSPORT_COLUMNS",
    "FactorTable",
    "LotSeries",
    "LotValues",
    "attribute_series",
    "factor_table",
    "lot_attribute_values",
    "lot_series",
    "parameter_series",
    "product_type",
    "source_factors",
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
    products = sorted(rows["product_type"].unique())
    if len(products) > 1:
        raise ValidationFailed(
            f"{name!r} is recorded for lots of several products ({', '.join(products)}); "
            "a control chart or capability study covers one product. Choose one with --product."
        )
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
        stages without ``stage``, lots of several products without ``product``, or values in
        different units.
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


# -- the joined factor table ------------------------------------------------------------------

#: Groups of the columns of a :class:`FactorTable` (``FactorTable.groups`` maps column -> group).
FACTOR_GROUPS = (
    "lot",
    "process",
    "donor",
    "collection",
    "transport",
    "parameter",
    "material",
    "equipment",
    "attribute",
)

#: Transport columns: summed over the legs of the source collection's shipments, except the
#: MKT (over all legs together, USP <1079.2>) and the maximum temperature.
TRANSPORT_COLUMNS = [
    "transport_legs",
    "transport_duration_h",
    "transport_time_out_of_range_h",
    "transport_mkt_c",
    "transport_max_c",
]


@dataclass(frozen=True, eq=False)
class FactorTable:
    """Every factor and quality attribute of the lots of a product, one row per lot.

    Attributes
    ----------
    frame : DataFrame
        Index ``lot`` (lot number, manufacturing order); columns described by ``groups``.
    groups : dict of str -> str
        The group (one of :data:`FACTOR_GROUPS`) of each column.
    units : dict of str -> str or None
        Units of the numeric columns that have one.
    parameter_stages : dict of str -> str
        The stage of each process-parameter column.
    notes : tuple of str
        What could not be computed (e.g. a shipment without logger data).
    """

    frame: pd.DataFrame
    groups: dict[str, str]
    units: dict[str, str | None]
    parameter_stages: dict[str, str]
    notes: tuple[str, ...] = ()

    def columns(self, *groups: str) -> list[str]:
        """Columns of the given groups, in table order."""
        return [c for c in self.frame.columns if self.groups.get(c) in groups]

    @property
    def attributes(self) -> list[str]:
        """Quality attribute columns."""
        return self.columns("attribute")

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output (NaN as None)."""
        frame = self.frame.reset_index()
        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        return {
            "lots": len(self.frame),
            "groups": dict(self.groups),
            "units": dict(self.units),
            "rows": records,
            "notes": list(self.notes),
        }


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600.0


def _stored_metrics(evaluation: dict[str, Any]) -> dict[str, float] | None:
    loggers = evaluation.get("loggers") or []
    if not loggers:
        return None
    first = loggers[0]
    start = datetime.fromisoformat(str(first["start"]))
    end = datetime.fromisoformat(str(first["end"]))
    return {
        "duration_h": _hours(end - start),
        "time_out_of_range_h": float(first["time_out_of_range_h"]),
        "mkt_c": float(first["mkt_c"]),
        "max_c": float(first["max_c"]),
    }


def _logger_from(frame: pd.DataFrame, row: factors_repo.ShipmentRow) -> LoggerRecord | None:
    temps = frame[frame["value"].notna()]
    temps = temps.sort_values("t", kind="stable").drop_duplicates("t", keep="last")
    if temps.empty:
        return None
    if temps["timestamp"].notna().all():
        times = [pd.Timestamp(t).to_pydatetime().astimezone(UTC) for t in temps["timestamp"]]
    elif row.shipped_at is not None:
        times = [row.shipped_at + timedelta(hours=float(t)) for t in temps["t"]]
    else:
        return None
    return LoggerRecord.from_series(
        row.container_id or row.code, times, temps["value"].astype(float).tolist()
    )


def _computed_metrics(
    frame: pd.DataFrame | None,
    row: factors_repo.ShipmentRow,
    specs: dict[str, TransportSpec],
) -> dict[str, float] | None:
    """Metrics of a shipment not evaluated yet, from its logger readings (domain rules)."""
    record = None if frame is None else _logger_from(frame, row)
    if record is None:
        return None
    spec = specs.get(row.condition_class or "")
    if spec is None:
        # No band to be out of: MKT and maximum only.
        temps = [r.temperature_c for r in record.readings]
        return {
            "duration_h": _hours(record.readings[-1].at - record.readings[0].at),
            "time_out_of_range_h": np.nan,
            "mkt_c": mean_kinetic_temperature(temps),
            "max_c": max(temps),
        }
    try:
        ev = evaluate_logger(
            record, spec, dispatched_at=row.shipped_at, received_at=row.received_at
        )
    except ValidationFailed:
        ev = evaluate_logger(record, spec)
    return {
        "duration_h": _hours(ev.end - ev.start),
        "time_out_of_range_h": ev.time_out_of_range_h,
        "mkt_c": ev.mkt_c,
        "max_c": ev.max_c,
    }


def _transport(
    store: Store,
    session: Session,
    shipments: list[factors_repo.ShipmentRow],
    notes: list[str],
) -> pd.DataFrame:
    """Transport columns per DIN, over every leg of the collection's shipments."""
    specs = load_specs(None)
    pending = [row.code for row in shipments if _stored_metrics(row.evaluation) is None]
    logs = factors_repo.shipment_logs(session, store.timeseries, pending)
    legs: dict[str, list[dict[str, float]]] = {}
    for row in shipments:
        metrics = _stored_metrics(row.evaluation) or _computed_metrics(
            logs.get(row.code), row, specs
        )
        if metrics is None:
            notes.append(f"Shipment {row.code} has no temperature logger data.")
            continue
        legs.setdefault(row.din, []).append(metrics)
    records = {}
    for din, items in legs.items():
        durations = [max(m["duration_h"], 0.0) for m in items]
        mkts = [m["mkt_c"] for m in items]
        tor = [m["time_out_of_range_h"] for m in items]
        records[din] = {
            "transport_legs": float(len(items)),
            "transport_duration_h": float(sum(durations)),
            "transport_time_out_of_range_h": float(np.sum(tor))
            if np.isfinite(tor).all()
            else np.nan,
            # The MKT of the whole journey from each leg's MKT weighted by its duration (exact:
            # MKT averages exp(-dH/RT) over time).
            "transport_mkt_c": mean_kinetic_temperature(mkts, durations)
            if sum(durations) > 0
            else mean_kinetic_temperature(mkts),
            "transport_max_c": float(max(m["max_c"] for m in items)),
        }
    frame = pd.DataFrame.from_dict(records, orient="index", columns=TRANSPORT_COLUMNS)
    frame.index.name = "din"
    return frame


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def _sources(
    store: Store,
    session: Session,
    sources: list[factors_repo.SourceRow],
    shipments: list[factors_repo.ShipmentRow],
    notes: list[str],
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Donor, collection and transport columns per DIN, and their groups."""
    rows = []
    groups: dict[str, str] = {}
    for s in sources:
        row: dict[str, Any] = {
            "din": s.din,
            "donor": s.donor,
            "donor_type": s.donor_type,
            "donor_age_years": np.nan if s.age_years is None else float(s.age_years),
            "donor_sex": s.sex,
        }
        for key, value in sorted(s.donor_attributes.items()):
            if _scalar(value):
                row[f"donor_{key}"] = value
                groups[f"donor_{key}"] = "donor"
        row.update(
            {
                "tissue_source": s.tissue_source,
                "collection_method": s.method,
                "collection_site": s.collection_site,
                "collection_volume_ml": s.volume_ml,
                "collection_total_nucleated_cells": s.total_nucleated_cells,
                "collection_viability_pct": s.viability_pct,
            }
        )
        rows.append(row)
    groups.update({c: "donor" for c in ("donor", "donor_type", "donor_age_years", "donor_sex")})
    collection_cols = [
        "tissue_source",
        "collection_method",
        "collection_site",
        "collection_volume_ml",
        "collection_total_nucleated_cells",
        "collection_viability_pct",
    ]
    groups.update({c: "collection" for c in collection_cols})
    groups.update({c: "transport" for c in TRANSPORT_COLUMNS})
    frame = (
        pd.DataFrame(rows).set_index("din")
        if rows
        else pd.DataFrame(index=pd.Index([], name="din"))
    )
    transport = _transport(store, session, shipments, notes)
    frame = frame.join(transport, how="left") if rows else frame
    for col in collection_cols[3:] + TRANSPORT_COLUMNS:
        if col in frame:
            frame[col] = frame[col].astype(float)
    return frame, groups


def source_factors(store: Store, din: str) -> dict[str, Any]:
    """Donor, collection and transport factors of the collection ``din`` (an incoming source
    material), named as in :func:`factor_table`.

    Raises
    ------
    NotFound
        If no collection has the DIN.
    """
    notes: list[str] = []
    with store.reader() as session:
        sources = factors_repo.source_rows(session, din=din)
        shipments = factors_repo.shipment_rows(session, din=din)
        frame, _ = _sources(store, session, sources, shipments, notes)
    values = frame.iloc[0].to_dict()
    return {
        str(k): (None if isinstance(v, float) and np.isnan(v) else v) for k, v in values.items()
    }


def _pivot_parameters(
    rows: list[factors_repo.ParameterValueRow],
) -> tuple[pd.DataFrame, dict[str, str | None], dict[str, str]]:
    frame = pd.DataFrame(rows, columns=list(factors_repo.ParameterValueRow._fields))
    if frame.empty:
        return pd.DataFrame(index=pd.Index([], name="batch_id")), {}, {}
    stages = frame.groupby("parameter")["stage"].nunique()
    frame["column"] = [
        p if stages[p] == 1 else f"{st}.{p}"
        for st, p in zip(frame["stage"], frame["parameter"], strict=True)
    ]
    numeric = frame[frame["value"].notna()].astype({"value": float})
    values = numeric.pivot_table(index="batch_id", columns="column", values="value", aggfunc="mean")
    text = frame[frame["value"].isna() & frame["value_text"].notna()]
    text = text[~text["column"].isin(values.columns)]
    labels = text.groupby(["batch_id", "column"])["value_text"].last().unstack("column")
    out = values.join(labels, how="outer")
    out.columns.name = None
    units = {
        str(c): _one_unit(str(c), numeric.loc[numeric["column"] == c, "unit"])
        for c in values.columns
    }
    column_stage = dict(zip(frame["column"], frame["stage"], strict=True))
    return out, units, column_stage


def _labels(rows: list[Any], key: str, value: str) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(index=pd.Index([], name="batch_id"))
    joined = frame.groupby(["batch_id", key])[value].agg(
        lambda s: "+".join(sorted({str(v) for v in s}))
    )
    out = joined.unstack(key)
    out.columns.name = None
    return out


def factor_table(store: Store, *, product: str | None = None) -> FactorTable:
    """The joined factor table: one row per lot (of ``product``) with every factor and QC value.

    Columns (``FactorTable.groups`` names the group of each):

    - process: ``process_version`` (``NAME VERSION``), ``site`` (manufacturing party code);
    - donor: ``donor``, ``donor_type``, ``donor_age_years``, ``donor_sex``, ``donor_KEY`` for
      each scalar entry of the donor's attributes;
    - collection: ``tissue_source``, ``collection_method``, ``collection_site``,
      ``collection_volume_ml``, ``collection_total_nucleated_cells``,
      ``collection_viability_pct``;
    - transport (:data:`TRANSPORT_COLUMNS`) of the source collection's shipments: taken from
      the stored evaluation, else computed from the shipment's logger segments with
      :func:`saisei.domain.transport.evaluate_logger` against the transport specification of
      its condition class (time out of range NaN when no specification is defined);
    - parameter: one column per recorded process parameter, named by the parameter, or
      ``STAGE.PARAMETER`` when the name is recorded at several stages (numeric: mean of the
      lot's values; text, such as an equipment id: the last value);
    - material: one categorical column per material code, the material lot(s) used (several
      joined with ``+``);
    - equipment: ``STAGE_equipment``, asset ids of the lot's stage runs;
    - attribute: one column per QC attribute, the mean of the lot's valid numeric results.

    A name already taken by an earlier group gets its group as prefix (``material.NAME``).

    Raises
    ------
    NotFound
        If no lot (of the product) is stored.
    """
    ptype = product_type(product)
    notes: list[str] = []
    with store.reader() as session:
        lots = factors_repo.lot_rows(session, product=ptype)
        if not lots:
            what = f" of product {product}" if product else ""
            raise NotFound(f"No lot{what} is stored. Import lots first ('saisei import').")
        sources = factors_repo.source_rows(session, product=ptype)
        shipments = factors_repo.shipment_rows(session, product=ptype)
        source_frame, groups = _sources(store, session, sources, shipments, notes)
        parameter_rows = factors_repo.parameter_value_rows(session, product=ptype)
        material_rows = factors_repo.material_rows(session, product=ptype)
        equipment_rows = factors_repo.equipment_rows(session, product=ptype)
        qc = factors_repo.qc_rows(session, product=ptype)
    din_of = {s.collection_id: s.din for s in sources}
    base = pd.DataFrame(
        {
            "batch_id": [r.batch_id for r in lots],
            "lot": [r.lot_number for r in lots],
            "time": pd.to_datetime([r.started_at or r.created_at for r in lots], utc=True),
            "din": [None if r.collection_id is None else din_of.get(r.collection_id) for r in lots],
            "process_version": [
                None if r.process_name is None else f"{r.process_name} {r.process_version}"
                for r in lots
            ],
            "site": [r.site for r in lots],
        }
    ).set_index("batch_id")
    all_groups = {"lot": "lot", "time": "lot", "din": "lot"}
    all_groups.update({"process_version": "process", "site": "process"})
    frame = base.join(source_frame, on="din")
    all_groups.update(groups)
    parameters, units, stages = _pivot_parameters(parameter_rows)
    materials = _labels([r._asdict() for r in material_rows], "material", "material_lot")
    equipment = _labels(
        [{**r._asdict(), "stage": f"{r.stage}_equipment"} for r in equipment_rows],
        "stage",
        "asset_id",
    )
    qc_frame = pd.DataFrame(qc, columns=list(factors_repo.QCRow._fields)).astype({"value": float})
    attributes = qc_frame.pivot_table(
        index="batch_id", columns="attribute", values="value", aggfunc="mean"
    )
    attributes.columns.name = None
    units.update(
        {
            str(a): _one_unit(str(a), qc_frame.loc[qc_frame["attribute"] == a, "unit"])
            for a in attributes
        }
    )
    parameter_stages: dict[str, str] = {}
    for group, part in (
        ("parameter", parameters),
        ("material", materials),
        ("equipment", equipment),
        ("attribute", attributes),
    ):
        renamed = {c: (c if c not in all_groups else f"{group}.{c}") for c in part.columns}
        part = part.rename(columns=renamed)
        for old, new in renamed.items():
            if old in units and old != new:
                units[new] = units.pop(old)
            if group == "parameter":
                parameter_stages[new] = stages[old]
        all_groups.update({c: group for c in part.columns})
        frame = frame.join(part, how="left")
    frame = frame.reset_index().set_index("lot")
    all_groups["batch_id"] = "lot"
    units.update({"donor_age_years": "year", "collection_volume_ml": "mL"})
    units.update({"collection_viability_pct": "percent", "transport_duration_h": "h"})
    units.update({"transport_time_out_of_range_h": "h", "transport_mkt_c": "degC"})
    units["transport_max_c"] = "degC"
    return FactorTable(
        frame=frame,
        groups={c: all_groups[c] for c in frame.columns},
        units={k: v for k, v in units.items() if k in frame.columns},
        parameter_stages=parameter_stages,
        notes=tuple(notes),
    )
