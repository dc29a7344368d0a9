"""Closed vocabularies of the data model, as string enums (stored by value)."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "BatchStatus",
    "DeviationSeverity",
    "DeviationStatus",
    "DonorType",
    "MaterialCategory",
    "ParameterClass",
    "PartyType",
    "ProductType",
    "QCStatus",
    "QualificationStatus",
    "ShipmentStatus",
    "SignatureMeaning",
    "SubjectType",
]


class ProductType(StrEnum):
    """Product families saisei models."""

    MSC = "MSC"
    CAR_T = "CAR-T"
    IPSC = "iPSC-derived"
    AAV = "AAV"
    LV = "LV"


class PartyType(StrEnum):
    """Roles an organisation plays in the supply chain."""

    COLLECTION_SITE = "collection_site"
    INTERMEDIARY = "intermediary"
    MANUFACTURER = "manufacturer"
    COURIER = "courier"
    CLINICAL_SITE = "clinical_site"


class QualificationStatus(StrEnum):
    """Qualification of a party or an asset."""

    PENDING = "pending"
    QUALIFIED = "qualified"
    SUSPENDED = "suspended"
    DISQUALIFIED = "disqualified"


class DonorType(StrEnum):
    """Whether the donor is the patient (autologous) or another person (allogeneic)."""

    AUTOLOGOUS = "autologous"
    ALLOGENEIC = "allogeneic"


class SubjectType(StrEnum):
    """What a shipment, custody event or time series is about."""

    COLLECTION = "collection"
    BATCH = "batch"
    PRODUCT = "product"
    SHIPMENT = "shipment"


class ShipmentStatus(StrEnum):
    """Life cycle of a shipment."""

    PLANNED = "planned"
    PACKED = "packed"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    QUARANTINED = "quarantined"
    REJECTED = "rejected"


class ParameterClass(StrEnum):
    """Criticality of a process parameter (ICH Q8)."""

    CPP = "CPP"
    KPP = "KPP"
    NON_CRITICAL = "non-critical"


class MaterialCategory(StrEnum):
    """Kinds of material that enter a process."""

    MEDIUM = "medium"
    SUPPLEMENT = "supplement"
    REAGENT = "reagent"
    CYTOKINE = "cytokine"
    PLASMID = "plasmid"
    VECTOR = "vector"
    VESSEL = "vessel"
    OTHER = "other"


class BatchStatus(StrEnum):
    """Status of a batch (lot); permitted transitions live in :mod:`saisei.domain.batch`."""

    PLANNED = "planned"
    IN_PROCESS = "in_process"
    COMPLETED = "completed"
    QUARANTINE = "quarantine"
    RELEASED = "released"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class QCStatus(StrEnum):
    """Validity of a QC result; an invalidated result keeps its value and gains a reason."""

    VALID = "valid"
    INVALIDATED = "invalidated"


class DeviationSeverity(StrEnum):
    """Severity of a deviation."""

    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class DeviationStatus(StrEnum):
    """Life cycle of a deviation."""

    OPEN = "open"
    INVESTIGATION = "investigation"
    CAPA = "capa"
    CLOSED = "closed"


class SignatureMeaning(StrEnum):
    """Meaning of an electronic signature (21 CFR 11.50)."""

    AUTHORSHIP = "authorship"
    REVIEW = "review"
    APPROVAL = "approval"
    RESPONSIBILITY = "responsibility"
    VERIFICATION = "verification"
    RELEASE = "release"
