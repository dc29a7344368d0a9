"""Queries behind the joined factor table: lots with their source material, transport,
process parameters, material lots, equipment and QC results.

Rows come back as plain named tuples, never ORM objects; :func:`saisei.services._data.factor_table`
turns them into one row per lot. Every query filters by product type through a join, so no long
lists of ids travel to the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from saisei.domain.enums import ProductType, QCStatus, SubjectType
from saisei.errors import NotFound
from saisei.storage.models import (
    Batch,
    Collection,
    Donor,
    Equipment,
    Material,
    MaterialLot,
    MaterialUse,
    ParameterValue,
    Party,
    ProcessDefinition,
    ProcessParameter,
    ProcessStage,
    QCResult,
    QualityAttribute,
    Shipment,
    Specification,
    StageRun,
)
from saisei.storage.timeseries import TimeSeriesStore

__all__ = [
    "DeclaredParameter",
    "EquipmentRow",
    "LotRow",
    "MaterialRow",
    "ParameterValueRow",
    "QCRow",
    "ReleaseSpec",
    "ShipmentRow",
    "SourceRow",
    "declared_parameters",
    "equipment_rows",
    "find_process",
    "lot_rows",
    "material_rows",
    "parameter_value_rows",
    "qc_rows",
    "release_specs",
    "shipment_logs",
    "shipment_rows",
    "source_rows",
]


class LotRow(NamedTuple):
    """A lot with its process definition, manufacturing site and source collection."""

    batch_id: int
    lot_number: str
    product_type: str
    started_at: datetime | None
    created_at: datetime
    process_id: int | None
    process_name: str | None
    process_version: str | None
    site: str | None
    collection_id: int | None


class SourceRow(NamedTuple):
    """A collection of source material with its donor and collection site."""

    collection_id: int
    din: str
    donor: str
    donor_type: str
    age_years: int | None
    sex: str | None
    donor_attributes: dict[str, Any]
    tissue_source: str
    method: str | None
    collection_site: str
    collected_at: datetime
    volume_ml: float | None
    total_nucleated_cells: float | None
    viability_pct: float | None


class ShipmentRow(NamedTuple):
    """A shipment of a collection (its DIN in ``din``) with its stored evaluation."""

    code: str
    din: str
    condition_class: str | None
    container_id: str | None
    shipped_at: datetime | None
    received_at: datetime | None
    evaluation: dict[str, Any]


class ParameterValueRow(NamedTuple):
    """A recorded process parameter value (numeric or text) of a lot."""

    batch_id: int
    stage: str
    parameter: str
    value: float | None
    value_text: str | None
    unit: str | None


class MaterialRow(NamedTuple):
    """A material lot used by a lot."""

    batch_id: int
    material: str
    material_lot: str


class EquipmentRow(NamedTuple):
    """Equipment a lot's stage ran on."""

    batch_id: int
    stage: str
    asset_id: str


class QCRow(NamedTuple):
    """A valid numeric QC result of a lot."""

    batch_id: int
    attribute: str
    value: float
    unit: str | None


class DeclaredParameter(NamedTuple):
    """A parameter declared in a process definition, with target, NOR and PAR."""

    stage: str
    name: str
    unit: str
    parameter_class: str
    target: float | None
    nor_low: float | None
    nor_high: float | None
    par_low: float | None
    par_high: float | None


class ReleaseSpec(NamedTuple):
    """Numeric acceptance limits of a quality attribute for one purpose."""

    attribute: str
    unit: str
    lower: float | None
    upper: float | None


def _product(query: Any, product: ProductType | None) -> Any:
    """``query`` restricted to lots of ``product`` (unchanged for None)."""
    return query if product is None else query.where(Batch.product_type == product)


def lot_rows(session: Session, *, product: ProductType | None = None) -> list[LotRow]:
    """Every lot (of ``product``) in manufacturing order (start time, else creation time)."""
    site = aliased(Party)
    query = (
        select(
            Batch.id,
            Batch.lot_number,
            Batch.product_type,
            Batch.started_at,
            Batch.created_at,
            Batch.process_id,
            ProcessDefinition.name,
            ProcessDefinition.version,
            site.code,
            Batch.collection_id,
        )
        .outerjoin(ProcessDefinition, ProcessDefinition.id == Batch.process_id)
        .outerjoin(site, site.id == Batch.site_party_id)
        .order_by(func.coalesce(Batch.started_at, Batch.created_at), Batch.id)
    )
    return [
        LotRow(r[0], r[1], r[2].value, r[3], r[4], r[5], r[6], r[7], r[8], r[9])
        for r in session.execute(_product(query, product))
    ]


def _source_query() -> Select[Any]:
    return (
        select(
            Collection.id,
            Collection.din,
            Donor.code,
            Donor.donor_type,
            Donor.age_years,
            Donor.sex,
            Donor.attributes,
            Collection.tissue_source,
            Collection.method,
            Party.code,
            Collection.collected_at,
            Collection.volume_ml,
            Collection.total_nucleated_cells,
            Collection.viability_pct,
        )
        .join(Donor, Donor.id == Collection.donor_id)
        .join(Party, Party.id == Collection.party_id)
    )


def _source(r: Any) -> SourceRow:
    return SourceRow(r[0], r[1], r[2], r[3].value, r[4], r[5], dict(r[6] or {}), *r[7:])


def source_rows(
    session: Session, *, product: ProductType | None = None, din: str | None = None
) -> list[SourceRow]:
    """Collections that are the source of a lot (of ``product``), or the one with ``din``.

    Raises
    ------
    NotFound
        If ``din`` is given and no collection has it.
    """
    query = _source_query()
    if din is not None:
        rows = [_source(r) for r in session.execute(query.where(Collection.din == din))]
        if not rows:
            raise NotFound(
                f"No collection with DIN {din!r} is stored. Check it with 'saisei custody' "
                "or import the collection first."
            )
        return rows
    used = _product(select(Batch.collection_id).where(Batch.collection_id.is_not(None)), product)
    return [_source(r) for r in session.execute(query.where(Collection.id.in_(used)))]


def shipment_rows(
    session: Session, *, product: ProductType | None = None, din: str | None = None
) -> list[ShipmentRow]:
    """Shipments of source collections (subject type ``collection``), oldest first."""
    query = select(
        Shipment.code,
        Shipment.subject_ref,
        Shipment.condition_class,
        Shipment.container_id,
        Shipment.shipped_at,
        Shipment.received_at,
        Shipment.evaluation,
    ).where(Shipment.subject_type == SubjectType.COLLECTION)
    if din is not None:
        query = query.where(Shipment.subject_ref == din)
    else:
        used = _product(
            select(Collection.din).join(Batch, Batch.collection_id == Collection.id), product
        )
        query = query.where(Shipment.subject_ref.in_(used))
    query = query.order_by(Shipment.shipped_at, Shipment.id)
    return [
        ShipmentRow(r[0], r[1], r[2], r[3], r[4], r[5], dict(r[6] or {}))
        for r in session.execute(query)
    ]


def parameter_value_rows(
    session: Session, *, product: ProductType | None = None
) -> list[ParameterValueRow]:
    """Every recorded parameter value of the lots (of ``product``), in record order."""
    query = (
        select(
            ParameterValue.batch_id,
            ParameterValue.stage,
            ParameterValue.parameter,
            ParameterValue.value,
            ParameterValue.value_text,
            ParameterValue.unit,
        )
        .join(Batch, Batch.id == ParameterValue.batch_id)
        .order_by(ParameterValue.id)
    )
    return [ParameterValueRow(*r) for r in session.execute(_product(query, product))]


def material_rows(session: Session, *, product: ProductType | None = None) -> list[MaterialRow]:
    """Material lots used by the lots (of ``product``)."""
    query = (
        select(MaterialUse.batch_id, Material.code, MaterialLot.lot_number)
        .join(Batch, Batch.id == MaterialUse.batch_id)
        .join(MaterialLot, MaterialLot.id == MaterialUse.material_lot_id)
        .join(Material, Material.id == MaterialLot.material_id)
        .order_by(MaterialUse.id)
    )
    return [MaterialRow(*r) for r in session.execute(_product(query, product))]


def equipment_rows(session: Session, *, product: ProductType | None = None) -> list[EquipmentRow]:
    """Equipment of the stage runs of the lots (of ``product``)."""
    query = (
        select(StageRun.batch_id, StageRun.stage, Equipment.asset_id)
        .join(Batch, Batch.id == StageRun.batch_id)
        .join(Equipment, Equipment.id == StageRun.equipment_id)
        .order_by(StageRun.id)
    )
    return [EquipmentRow(*r) for r in session.execute(_product(query, product))]


def qc_rows(session: Session, *, product: ProductType | None = None) -> list[QCRow]:
    """Valid numeric QC results of the lots (of ``product``)."""
    query = (
        select(QCResult.batch_id, QCResult.attribute, QCResult.value, QCResult.unit)
        .join(Batch, Batch.id == QCResult.batch_id)
        .where(QCResult.status == QCStatus.VALID, QCResult.value.is_not(None))
        .order_by(QCResult.id)
    )
    return [
        QCRow(r[0], r[1], cast(float, r[2]), r[3])
        for r in session.execute(_product(query, product))
    ]


def find_process(
    session: Session,
    *,
    name: str | None = None,
    version: str | None = None,
    product: ProductType | None = None,
) -> ProcessDefinition:
    """A process definition by name (and version; newest created when omitted), or the one
    most recently used by a lot of ``product``.

    Raises
    ------
    NotFound
        When none matches.
    """
    if name is not None:
        query = select(ProcessDefinition).where(ProcessDefinition.name == name)
        if version is not None:
            query = query.where(ProcessDefinition.version == version)
        query = query.order_by(ProcessDefinition.created_at.desc(), ProcessDefinition.id.desc())
        found = session.execute(query.limit(1)).scalar_one_or_none()
        if found is None:
            label = f"{name} {version}" if version else name
            raise NotFound(
                f"No process definition {label!r} is stored. Import it (process/*.yaml) first."
            )
        return found
    query = (
        select(ProcessDefinition)
        .join(Batch, Batch.process_id == ProcessDefinition.id)
        .order_by(func.coalesce(Batch.started_at, Batch.created_at).desc(), Batch.id.desc())
    )
    found = cast(
        ProcessDefinition | None,
        session.execute(_product(query, product).limit(1)).scalars().first(),
    )
    if found is None:
        what = f" of product {product.value}" if product is not None else ""
        raise NotFound(
            f"No lot{what} with a process definition is stored. Import lots first or name "
            "the process definition."
        )
    return found


def declared_parameters(session: Session, process_id: int) -> list[DeclaredParameter]:
    """Parameters declared in a process definition, by stage position."""
    query = (
        select(
            ProcessStage.name,
            ProcessParameter.name,
            ProcessParameter.unit,
            ProcessParameter.parameter_class,
            ProcessParameter.target,
            ProcessParameter.nor_low,
            ProcessParameter.nor_high,
            ProcessParameter.par_low,
            ProcessParameter.par_high,
        )
        .join(ProcessStage, ProcessStage.id == ProcessParameter.stage_id)
        .where(ProcessStage.process_id == process_id)
        .order_by(ProcessStage.position, ProcessParameter.id)
    )
    return [DeclaredParameter(r[0], r[1], r[2], r[3].value, *r[4:]) for r in session.execute(query)]


def release_specs(
    session: Session, process_id: int, *, purpose: str = "release"
) -> list[ReleaseSpec]:
    """Numeric limits (lower and/or upper) of the attributes of a process for ``purpose``."""
    query = (
        select(
            QualityAttribute.name,
            QualityAttribute.unit,
            Specification.lower,
            Specification.upper,
        )
        .join(Specification, Specification.attribute_id == QualityAttribute.id)
        .where(
            and_(
                QualityAttribute.process_id == process_id,
                Specification.purpose == purpose,
            ),
            (Specification.lower.is_not(None)) | (Specification.upper.is_not(None)),
        )
        .order_by(QualityAttribute.id)
    )
    return [ReleaseSpec(*r) for r in session.execute(query)]


def shipment_logs(
    session: Session,
    timeseries: TimeSeriesStore,
    codes: Sequence[str],
    *,
    variable: str = "temperature",
) -> dict[str, pd.DataFrame]:
    """Current logger segments of several shipments at once, one frame per shipment code
    (columns ``t``, ``value``, ``timestamp``); shipments without segments are absent.

    One Parquet read per segment instead of one DuckDB query per shipment: a factor table
    needs every source shipment of a product.
    """
    if not codes:
        return {}
    manifest = timeseries.segments(
        session, subject_ref=list(codes), subject_type=SubjectType.SHIPMENT
    )
    parts: dict[str, list[pd.DataFrame]] = {}
    for segment in manifest:
        table = pq.read_table(
            timeseries.root / segment.path, columns=["variable", "t", "value", "timestamp"]
        )
        table = table.filter(pc.equal(table["variable"], pa.scalar(variable)))
        parts.setdefault(segment.subject_ref, []).append(
            table.select(["t", "value", "timestamp"]).to_pandas()
        )
    return {code: pd.concat(frames, ignore_index=True) for code, frames in parts.items()}
