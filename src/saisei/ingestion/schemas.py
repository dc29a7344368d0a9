"""The exchange format: every table, every column, in one place.

``docs/exchange-format.md`` is generated from these definitions (``make docs``) and a test
keeps it current. Readers validate against them; the exporter writes them; the simulator
produces frames with exactly these columns.

Units: a column with a ``quantity`` holds values in its canonical ``unit``. A file may give
another unit of the same quantity in the header, as ``volume [L]``; values are converted on
import. Long tables (``parameters``, ``qc_results``, ``timeseries``) carry a ``unit`` column
per row instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from saisei.domain.custody import QcDisposition
from saisei.domain.enums import (
    BatchStatus,
    DeviationSeverity,
    DeviationStatus,
    DonorType,
    MaterialCategory,
    PartyType,
    ProductType,
    QualificationStatus,
    ShipmentStatus,
    SubjectType,
)

__all__ = [
    "SCHEMAS",
    "TABLE_ORDER",
    "Column",
    "TableSchema",
    "exchange_format_reference",
]

Kind = Literal["str", "int", "float", "datetime", "date", "enum", "list", "bool"]


@dataclass(frozen=True)
class Column:
    """One column of an exchange-format table.

    Attributes
    ----------
    name : str
        Header name.
    kind : {'str', 'int', 'float', 'datetime', 'date', 'enum', 'list', 'bool'}
        Value type. ``datetime`` values must carry a zone (ISO 8601 offset) unless the import
        declares one; they are stored in UTC. ``list`` is a ``;``-separated string.
    required : bool
        Whether every row must have a value.
    description : str
        Meaning, for the reference page.
    unit : str or None
        Canonical unit of a quantity column (values are converted to it).
    low, high : float or None
        Physically plausible range in the canonical unit (inclusive).
    choices : tuple of str
        Allowed values of an ``enum`` column.
    references : str or None
        ``table.column`` this value must name (in the file set or the store).
    """

    name: str
    kind: Kind
    required: bool = False
    description: str = ""
    unit: str | None = None
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    references: str | None = None


@dataclass(frozen=True)
class TableSchema:
    """One exchange-format table: its columns and natural key."""

    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    extra_prefix: str | None = None
    ordered_by: tuple[str, ...] = field(default_factory=tuple)
    #: Whether a file with the header and no data rows is a valid empty table (imported as
    #: nothing): true for records of events that need not happen (deviations, observations);
    #: false for the others, where no rows means something was not recorded (a logger file
    #: with no readings).
    may_be_empty: bool = False

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the required columns."""
        return tuple(c.name for c in self.columns if c.required)


def _choices(enum_class: type) -> tuple[str, ...]:
    return tuple(member.value for member in enum_class)  # type: ignore[attr-defined]


_TS = "Timestamp, ISO 8601 with zone offset (e.g. 2026-03-01T08:00:00+09:00)"

SCHEMAS: dict[str, TableSchema] = {
    s.name: s
    for s in (
        TableSchema(
            "parties",
            "Organisations in the supply chain.",
            ("code",),
            (
                Column("code", "str", True, "Unique party code."),
                Column("name", "str", True, "Name of the organisation."),
                Column(
                    "party_type", "enum", True, "Role in the chain.", choices=_choices(PartyType)
                ),
                Column("country", "str", description="ISO 3166-1 alpha-2 country code."),
                Column(
                    "qualification_status",
                    "enum",
                    description="Qualification of the party.",
                    choices=_choices(QualificationStatus),
                ),
                Column("qualified_until", "date", description="Expiry of the qualification."),
            ),
        ),
        TableSchema(
            "donors",
            "Pseudonymous donors (autologous patients or allogeneic donors). "
            "Extra columns named `attr_<name>` are kept as donor attributes.",
            ("code",),
            (
                Column("code", "str", True, "Pseudonymous donor code (never a name)."),
                Column(
                    "donor_type",
                    "enum",
                    True,
                    "Autologous or allogeneic.",
                    choices=_choices(DonorType),
                ),
                Column(
                    "age_years", "int", description="Age at donation.", unit="year", low=0, high=120
                ),
                Column(
                    "sex",
                    "enum",
                    description="Sex of the donor.",
                    choices=("female", "male", "other", "unknown"),
                ),
            ),
            extra_prefix="attr_",
        ),
        TableSchema(
            "collections",
            "Collections of source material, one DIN each.",
            ("din",),
            (
                Column(
                    "din", "str", True, "ISBT 128 Donation Identification Number (13 characters)."
                ),
                Column("donor", "str", True, "Donor code.", references="donors.code"),
                Column("coi", "str", description="Chain of Identity identifier."),
                Column(
                    "party", "str", True, "Collection site party code.", references="parties.code"
                ),
                Column(
                    "tissue_source",
                    "str",
                    True,
                    "bone_marrow, umbilical_cord, adipose, cord_blood, leukapheresis, ...",
                ),
                Column("method", "str", description="Collection method or device."),
                Column("collected_at", "datetime", True, _TS),
                Column(
                    "volume", "float", description="Collected volume.", unit="mL", low=0, high=5000
                ),
                Column(
                    "total_nucleated_cells",
                    "float",
                    description="Total nucleated cell count.",
                    unit="cell",
                    low=0,
                    high=1e13,
                ),
                Column(
                    "viability", "float", description="Viability.", unit="percent", low=0, high=100
                ),
            ),
            extra_prefix="attr_",
        ),
        TableSchema(
            "shipments",
            "Shipments between parties.",
            ("code",),
            (
                Column("code", "str", True, "Unique shipment code."),
                Column(
                    "subject_type", "enum", True, "What is shipped.", choices=_choices(SubjectType)
                ),
                Column("subject_ref", "str", True, "DIN, lot number or product id shipped."),
                Column("from_party", "str", True, "Sender party code.", references="parties.code"),
                Column("to_party", "str", True, "Receiver party code.", references="parties.code"),
                Column("container_id", "str", description="Shipper or container id."),
                Column(
                    "condition_class",
                    "str",
                    description="Transport condition, e.g. 2-8C, 15-25C, LN2_dry_shipper.",
                ),
                Column("packed_at", "datetime", description=_TS),
                Column("shipped_at", "datetime", description=_TS),
                Column("received_at", "datetime", description=_TS),
                Column(
                    "status",
                    "enum",
                    description="Shipment status.",
                    choices=_choices(ShipmentStatus),
                ),
            ),
        ),
        TableSchema(
            "shipment_logs",
            "Temperature/shock logger readings of a shipment.",
            ("shipment", "timestamp"),
            (
                Column("shipment", "str", True, "Shipment code.", references="shipments.code"),
                Column("timestamp", "datetime", True, _TS),
                Column(
                    "temperature",
                    "float",
                    True,
                    "Logger temperature.",
                    unit="degC",
                    low=-273.15,
                    high=100,
                ),
                Column(
                    "shock", "float", description="Peak acceleration.", unit="g0", low=0, high=1000
                ),
                Column(
                    "tilt", "float", description="Tilt from upright.", unit="deg", low=0, high=180
                ),
            ),
            ordered_by=("shipment", "timestamp"),
        ),
        TableSchema(
            "materials",
            "Materials and, when `lot_number` is given, their lots.",
            ("code", "lot_number"),
            (
                Column("code", "str", True, "Material code."),
                Column("name", "str", True, "Material name."),
                Column(
                    "category",
                    "enum",
                    True,
                    "Kind of material.",
                    choices=_choices(MaterialCategory),
                ),
                Column("supplier", "str", description="Supplier."),
                Column("lot_number", "str", description="Supplier lot number."),
                Column("expiry", "date", description="Lot expiry date."),
                Column("lot_status", "str", description="released, quarantined, rejected."),
            ),
            extra_prefix="coa_",
        ),
        TableSchema(
            "equipment",
            "Equipment used in manufacture.",
            ("asset_id",),
            (
                Column("asset_id", "str", True, "Unique asset id."),
                Column(
                    "equipment_type",
                    "str",
                    True,
                    "bioreactor, incubator, controlled_rate_freezer, ...",
                ),
                Column("name", "str", description="Name."),
                Column("party", "str", description="Site party code.", references="parties.code"),
                Column("calibration_due", "date", description="Next calibration due."),
            ),
        ),
        TableSchema(
            "batches",
            "Manufactured lots.",
            ("lot",),
            (
                Column("lot", "str", True, "Lot number."),
                Column(
                    "product_type", "enum", True, "Product family.", choices=_choices(ProductType)
                ),
                Column("process", "str", description="Process definition name."),
                Column("process_version", "str", description="Process definition version."),
                Column("coi", "str", description="Chain of Identity identifier."),
                Column(
                    "din", "str", description="Source collection DIN.", references="collections.din"
                ),
                Column(
                    "site",
                    "str",
                    description="Manufacturing site party code.",
                    references="parties.code",
                ),
                Column(
                    "status", "enum", description="Batch status.", choices=_choices(BatchStatus)
                ),
                Column("started_at", "datetime", description=_TS),
                Column("ended_at", "datetime", description=_TS),
                Column(
                    "parent_lots",
                    "list",
                    description="Parent lot numbers, `;`-separated.",
                    references="batches.lot",
                ),
            ),
        ),
        TableSchema(
            "parameters",
            "Scalar process parameter values per lot and stage.",
            ("lot", "stage", "parameter"),
            (
                Column("lot", "str", True, "Lot number.", references="batches.lot"),
                Column("stage", "str", True, "Process stage."),
                Column("parameter", "str", True, "Parameter name."),
                Column("value", "float", description="Numeric value (in `unit`)."),
                Column("value_text", "str", description="Non-numeric value."),
                Column("unit", "str", description="Unit of `value` (normalised on import)."),
                Column("recorded_by", "str", description="Who recorded it."),
                Column("recorded_at", "datetime", description=_TS),
            ),
        ),
        TableSchema(
            "material_use",
            "Material lots consumed by a lot.",
            ("lot", "stage", "material", "material_lot"),
            (
                Column("lot", "str", True, "Lot number.", references="batches.lot"),
                Column("stage", "str", True, "Process stage."),
                Column("material", "str", True, "Material code.", references="materials.code"),
                Column(
                    "material_lot",
                    "str",
                    True,
                    "Supplier lot number.",
                    references="materials.lot_number",
                ),
                Column("quantity", "float", description="Quantity used (in `unit`)."),
                Column("unit", "str", description="Unit of `quantity`."),
            ),
        ),
        TableSchema(
            "timeseries",
            "Sensor traces in long form; wide exports are accepted with a column mapping.",
            ("lot", "stage", "variable", "t"),
            (
                Column("lot", "str", True, "Lot number.", references="batches.lot"),
                Column("stage", "str", True, "Process stage."),
                Column("variable", "str", True, "Variable name."),
                Column(
                    "t", "float", True, "Time since stage start.", unit="h", low=0, high=24 * 365
                ),
                Column("value", "float", description="Value (in `unit`)."),
                Column("unit", "str", description="Unit of `value` (normalised on import)."),
                Column("timestamp", "datetime", description=_TS),
            ),
            ordered_by=("lot", "stage", "variable", "t"),
        ),
        TableSchema(
            "qc_results",
            "QC test results per lot.",
            ("lot", "attribute", "sample_id"),
            (
                Column("lot", "str", True, "Lot number.", references="batches.lot"),
                Column("attribute", "str", True, "Quality attribute."),
                Column("value", "float", description="Numeric result (in `unit`)."),
                Column("value_text", "str", description="Non-numeric result (e.g. 'negative')."),
                Column("unit", "str", description="Unit of `value`."),
                Column("method", "str", description="Test method."),
                Column("sample_id", "str", True, "Sample identifier."),
                Column("tested_at", "datetime", description=_TS),
                Column("analyst", "str", description="Analyst user id."),
            ),
        ),
        TableSchema(
            "custody_events",
            "Chain-of-custody events.",
            ("subject_ref", "event_type", "occurred_at"),
            (
                Column("coi", "str", description="Chain of Identity identifier."),
                Column(
                    "subject_type", "enum", True, "Subject kind.", choices=_choices(SubjectType)
                ),
                Column("subject_ref", "str", True, "DIN, lot or product id."),
                Column("event_type", "str", True, "collection, packing, hand_over, receipt, ..."),
                Column("party", "str", description="Party code.", references="parties.code"),
                Column("actor", "str", True, "User id of who acted."),
                Column("occurred_at", "datetime", True, _TS),
                Column("scanned_ids", "list", description="Identifiers scanned, `;`-separated."),
                Column(
                    "qc_disposition",
                    "enum",
                    description="QC disposition, at `qc_disposition` events only.",
                    choices=_choices(QcDisposition),
                ),
            ),
        ),
        TableSchema(
            "observations",
            "Operator knowledge tied to a lot, stage and time.",
            ("lot", "observed_at", "author"),
            (
                Column("lot", "str", description="Lot number.", references="batches.lot"),
                Column("stage", "str", description="Process stage."),
                Column("observed_at", "datetime", True, _TS),
                Column("author", "str", True, "User id."),
                Column("text", "str", True, "The observation."),
                Column("tags", "list", description="Tags, `;`-separated."),
            ),
            may_be_empty=True,
        ),
        TableSchema(
            "deviations",
            "Deviations.",
            ("number",),
            (
                Column("number", "str", True, "Deviation number."),
                Column("lot", "str", description="Lot number.", references="batches.lot"),
                Column("category", "str", True, "e.g. process, custody, transport, qc."),
                Column("severity", "enum", True, "Severity.", choices=_choices(DeviationSeverity)),
                Column("description", "str", True, "What happened."),
                Column("root_cause", "str", description="Root cause."),
                Column("capa", "str", description="Corrective and preventive action."),
                Column("status", "enum", description="Status.", choices=_choices(DeviationStatus)),
                Column("opened_at", "datetime", description=_TS),
            ),
            may_be_empty=True,
        ),
    )
}

#: Import order: referenced tables before the tables that reference them.
TABLE_ORDER: tuple[str, ...] = (
    "parties",
    "donors",
    "collections",
    "materials",
    "equipment",
    "batches",
    "shipments",
    "shipment_logs",
    "parameters",
    "material_use",
    "timeseries",
    "qc_results",
    "custody_events",
    "observations",
    "deviations",
)

_PROCESS_YAML = """```yaml
name: MSC-BM            # process name
version: "2.1"          # version (string)
product_type: MSC       # MSC, CAR-T, iPSC-derived, AAV, LV
description: Bone-marrow MSC expansion
stages:
  - name: expansion
    parameters:
      - {name: temperature, unit: degC, class: CPP, target: 37.0,
         nor: [36.5, 37.5], par: [36.0, 38.0]}
attributes:
  - name: viability
    unit: percent
    critical: true
    method: trypan blue
    specifications:
      - {purpose: release, lower: 70}
```"""


_WIDE_YAML = """```yaml
lot: MSC-0001                      # or  lot_column: Batch ID
stage: expansion                   # or  stage_column: Phase
time: {column: Process Time, unit: min}
variables:
  Temp PV: {variable: temperature, unit: degC}
  DO PV: {variable: dissolved_oxygen, unit: percent}
```"""


def exchange_format_reference() -> str:
    """The reference page ``docs/exchange-format.md`` as Markdown."""
    lines = [
        "# Exchange format reference",
        "",
        "<!-- Generated from saisei.ingestion.schemas by `make docs`; a test keeps it current. -->",
        "",
        "An exchange folder holds any of the tables below, each as `<table>.csv`, "
        "`<table>.parquet` or a sheet `<table>` of an `.xlsx` workbook, plus process "
        "definitions as `process/*.yaml`. CSV files are UTF-8 (a byte-order mark is "
        "accepted) with `.` as decimal separator. Timestamps carry a zone offset, or the "
        "import declares the zone of naive ones (`--timezone`); everything is stored in "
        "UTC. A quantity column holds values in its canonical unit, or names another unit "
        "of the same quantity in its header (`volume [L]`).",
        "",
        "Import order (references first): " + ", ".join(f"`{t}`" for t in TABLE_ORDER) + ".",
        "",
    ]
    for name in TABLE_ORDER:
        schema = SCHEMAS[name]
        lines += [
            f"## {name}",
            "",
            schema.description,
            "",
            f"Natural key: {', '.join(f'`{k}`' for k in schema.key)}. "
            "Importing a row whose key exists with other values is a correction "
            "(needs `--reason`).",
            "",
        ]
        if schema.may_be_empty:
            lines += [
                "A file with the header row and no data rows is a valid empty table (nothing "
                "is imported); a file with no header row is refused.",
                "",
            ]
        if schema.extra_prefix:
            lines += [
                f"Extra columns named `{schema.extra_prefix}<name>` are kept as attributes.",
                "",
            ]
        lines += [
            "| column | type | required | unit | range | meaning |",
            "|---|---|---|---|---|---|",
        ]
        for c in schema.columns:
            kind = f"enum: {', '.join(c.choices)}" if c.choices else c.kind
            bounds = "" if c.low is None and c.high is None else f"{c.low} to {c.high}"
            ref = f" Must name a `{c.references}`." if c.references else ""
            lines.append(
                f"| `{c.name}` | {kind} | {'yes' if c.required else ''} | "
                f"{c.unit or ''} | {bounds} | {c.description}{ref} |"
            )
        lines.append("")
    lines += ["## process/*.yaml", "", "One process definition per file:", "", _PROCESS_YAML, ""]
    lines += [
        "## Wide time-series exports",
        "",
        "Bioreactor and controlled-rate-freezer software write one column per "
        "variable. Import such a file with `saisei import FILE --mapping MAP.yaml`; "
        "the mapping names the lot (or its column), the stage (or its column), the "
        "time column (elapsed, with its unit, or wall-clock timestamps, counted from "
        "the first reading) and each variable column with its unit:",
        "",
        _WIDE_YAML,
        "",
    ]
    return "\n".join(lines)
