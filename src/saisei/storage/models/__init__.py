"""ORM models of the relational store (one module per area of the data model)."""

from saisei.storage.models.batches import (
    Batch,
    BatchLink,
    Deviation,
    MaterialUse,
    Observation,
    ParameterValue,
    QCResult,
    StageRun,
)
from saisei.storage.models.comparability import (
    ComparabilityAmendment,
    ComparabilityRun,
    ComparabilityStudy,
    StudyStatus,
)
from saisei.storage.models.design_space import DesignSpace, DesignSpaceStatus
from saisei.storage.models.logistics import CustodyEvent, Shipment
from saisei.storage.models.materials import Equipment, Material, MaterialLot
from saisei.storage.models.monitoring import MonitoringAlarm, MonitoringModel
from saisei.storage.models.parties import Party, PasswordHistory, Role, User, user_roles
from saisei.storage.models.process import (
    ProcessDefinition,
    ProcessParameter,
    ProcessStage,
    QualityAttribute,
    Specification,
)
from saisei.storage.models.quality import AuditReview, UserSession
from saisei.storage.models.records import (
    AuditChainHead,
    AuditEvent,
    SegmentReplacement,
    Signature,
    TimeSeriesSegment,
)
from saisei.storage.models.sources import ChainOfIdentity, Collection, Donor

__all__ = [
    "AuditChainHead",
    "AuditEvent",
    "AuditReview",
    "Batch",
    "BatchLink",
    "ChainOfIdentity",
    "Collection",
    "ComparabilityAmendment",
    "ComparabilityRun",
    "ComparabilityStudy",
    "CustodyEvent",
    "DesignSpace",
    "DesignSpaceStatus",
    "Deviation",
    "Donor",
    "Equipment",
    "Material",
    "MaterialLot",
    "MaterialUse",
    "MonitoringAlarm",
    "MonitoringModel",
    "Observation",
    "ParameterValue",
    "Party",
    "PasswordHistory",
    "ProcessDefinition",
    "ProcessParameter",
    "ProcessStage",
    "QCResult",
    "QualityAttribute",
    "Role",
    "SegmentReplacement",
    "Shipment",
    "Signature",
    "Specification",
    "StageRun",
    "StudyStatus",
    "TimeSeriesSegment",
    "User",
    "UserSession",
    "user_roles",
]
