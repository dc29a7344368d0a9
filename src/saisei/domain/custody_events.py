"""Custody event types, chain stages and the custody event value.

A custody event is one step a container of one chain of identity goes through: collection,
labelling, packing, hand-over, receipt, ... infusion. Its shape (which fields each type needs)
is checked here, when the event is built; whether it may happen now is the state machine's
business (:mod:`saisei.domain.custody_rules`). Import from :mod:`saisei.domain.custody`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType

from saisei.errors import FieldError, ValidationFailed

__all__ = [
    "ESTABLISHING_EVENTS",
    "SCAN_REQUIRED_EVENTS",
    "CustodyEvent",
    "CustodyEventType",
    "CustodyStage",
    "DetailValue",
    "QcDisposition",
    "Scan",
    "as_utc",
]


class CustodyEventType(StrEnum):
    """What happened to the chain's material (issue 9, item 3), plus QC disposition and the
    hold that a deviation puts on a chain."""

    COLLECTION = "collection"
    LABELLING = "labelling"
    PACKING = "packing"
    HAND_OVER = "hand_over"
    RECEIPT = "receipt"
    ACCESSIONING = "accessioning"
    PROCESSING_START = "processing_start"
    FILL = "fill"
    FREEZE = "freeze"
    STORAGE = "storage"
    QC_DISPOSITION = "qc_disposition"
    RELEASE = "release"
    SHIPMENT_TO_CLINIC = "shipment_to_clinic"
    RECEIPT_AT_CLINIC = "receipt_at_clinic"
    INFUSION = "infusion"
    CHAIN_BLOCKED = "chain_blocked"
    CHAIN_UNBLOCKED = "chain_unblocked"

    @property
    def label(self) -> str:
        """Words for messages: ``processing start``."""
        return self.value.replace("_", " ")


class CustodyStage(StrEnum):
    """Where the chain's material is; each event type moves it from some stages to one."""

    NEW = "new"
    COLLECTED = "collected"
    LABELLED = "labelled"
    PACKED = "packed"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    ACCESSIONED = "accessioned"
    PROCESSING = "processing"
    FILLED = "filled"
    FROZEN = "frozen"
    STORED = "stored"
    RELEASED = "released"
    SHIPPED_TO_CLINIC = "shipped_to_clinic"
    RECEIVED_AT_CLINIC = "received_at_clinic"
    INFUSED = "infused"

    @property
    def label(self) -> str:
        """Words for messages: ``received at clinic``."""
        return self.value.replace("_", " ")


class QcDisposition(StrEnum):
    """Outcome of the QC disposition of the product."""

    APPROVED = "approved"
    REJECTED = "rejected"


#: Events at which every container handled is scanned together with its COI or DIN; each scan
#: must match the chain (a mismatch is a hard stop that opens a deviation).
SCAN_REQUIRED_EVENTS: frozenset[CustodyEventType] = frozenset(
    {
        CustodyEventType.PACKING,
        CustodyEventType.HAND_OVER,
        CustodyEventType.RECEIPT,
        CustodyEventType.ACCESSIONING,
        CustodyEventType.PROCESSING_START,
        CustodyEventType.SHIPMENT_TO_CLINIC,
        CustodyEventType.RECEIPT_AT_CLINIC,
        CustodyEventType.INFUSION,
    }
)

#: Events whose scans may put a new container into the chain (its label is read, not matched
#: against a known container; the label's identity must still belong to the chain).
ESTABLISHING_EVENTS: frozenset[CustodyEventType] = frozenset(
    {
        CustodyEventType.COLLECTION,
        CustodyEventType.LABELLING,
        CustodyEventType.FILL,
    }
)

#: Establishing events that must scan the container they establish (collection may not have
#: a container yet).
_MUST_ESTABLISH = frozenset({CustodyEventType.LABELLING, CustodyEventType.FILL})

#: Values allowed in :attr:`CustodyEvent.details` (kept flat so the hash stays canonical).
DetailValue = str | int | float | bool | None


def as_utc(moment: datetime, name: str) -> datetime:
    """Return ``moment`` in UTC, refusing a naive datetime.

    Raises
    ------
    ValidationFailed
        If ``moment`` is not a timezone-aware datetime.
    """
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationFailed(
            f"'{name}' must be a timezone-aware datetime in UTC; got {moment!r}. "
            "Attach a timezone, e.g. datetime(..., tzinfo=timezone.utc)."
        )
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Scan:
    """One reading at an event: a container's id and the COI or DIN on its label.

    Attributes
    ----------
    container_id : str
        The container's own identifier, compared exactly (surrounding whitespace removed).
    identity_code : str
        The COI or DIN read from the container's label, in any accepted barcode or keyboard
        form (compared by identity, flags ignored).
    """

    container_id: str
    identity_code: str

    def __post_init__(self) -> None:
        errors = [
            FieldError("must be a non-empty string", field=name, value=getattr(self, name))
            for name in ("container_id", "identity_code")
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip()
        ]
        if errors:
            raise ValidationFailed("A scan needs a container id and an identity code.", errors)
        object.__setattr__(self, "container_id", self.container_id.strip())
        object.__setattr__(self, "identity_code", self.identity_code.strip())


def _frozen_details(details: Mapping[str, DetailValue]) -> Mapping[str, DetailValue]:
    return MappingProxyType(dict(details))


@dataclass(frozen=True)
class CustodyEvent:
    """One custody event as recorded, before it is linked into its chain.

    Attributes
    ----------
    event_type : CustodyEventType
        What happened.
    occurred_at : datetime
        When it happened, timezone-aware; stored in UTC.
    actor : str
        Unique user id of who did it.
    party : str
        Identifier of the party (site, courier) where or by whom it happened.
    scans : tuple of Scan
        Containers and labels read. Required at :data:`SCAN_REQUIRED_EVENTS` and at
        labelling and fill; at collection, labelling and fill (:data:`ESTABLISHING_EVENTS`)
        they record new containers.
    din : str or None
        The donation's DIN; required at collection, not allowed elsewhere.
    patient_coi : str or None
        The COI read from the patient's wristband or order; required at infusion.
    qc_disposition : QcDisposition or None
        Required at QC disposition, not allowed elsewhere.
    deviation_ref : str or None
        The deviation that blocks or unblocks the chain; required for those two events.
    comment : str or None
        Free text; required when a chain is blocked or unblocked (why, and how resolved).
    recorded_at : datetime or None
        When the record was entered, if known (timezone-aware).
    details : Mapping[str, str | int | float | bool | None]
        Further flat facts (shipment id, storage position, temperature class ...).
    """

    event_type: CustodyEventType
    occurred_at: datetime
    actor: str
    party: str
    scans: tuple[Scan, ...] = ()
    din: str | None = None
    patient_coi: str | None = None
    qc_disposition: QcDisposition | None = None
    deviation_ref: str | None = None
    comment: str | None = None
    recorded_at: datetime | None = None
    details: Mapping[str, DetailValue] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "event_type", CustodyEventType(self.event_type))
        except ValueError:
            known = ", ".join(t.value for t in CustodyEventType)
            raise ValidationFailed(
                f"Unknown custody event type {self.event_type!r}; use one of: {known}."
            ) from None
        object.__setattr__(self, "occurred_at", as_utc(self.occurred_at, "occurred_at"))
        if self.recorded_at is not None:
            object.__setattr__(self, "recorded_at", as_utc(self.recorded_at, "recorded_at"))
        object.__setattr__(self, "scans", tuple(self.scans))
        if self.qc_disposition is not None:
            try:
                object.__setattr__(self, "qc_disposition", QcDisposition(self.qc_disposition))
            except ValueError:
                raise ValidationFailed(
                    f"A QC disposition is 'approved' or 'rejected'; got {self.qc_disposition!r}."
                ) from None
        object.__setattr__(self, "details", _frozen_details(self.details))
        errors = _shape_problems(self)
        if errors:
            raise ValidationFailed(
                f"The {self.event_type.label} event is incomplete or has fields it must not have.",
                errors,
            )


def _blank(value: object) -> bool:
    return not isinstance(value, str) or not value.strip()


def _shape_problems(event: CustodyEvent) -> list[FieldError]:
    """Which fields this event type needs or must not have."""
    kind = event.event_type
    errors: list[FieldError] = []
    for name in ("actor", "party"):
        if _blank(getattr(event, name)):
            errors.append(
                FieldError("must be a non-empty string", field=name, value=getattr(event, name))
            )
    if not all(isinstance(scan, Scan) for scan in event.scans):
        errors.append(FieldError("every scan must be a Scan", field="scans", value=event.scans))
    needs_scan = kind in SCAN_REQUIRED_EVENTS or kind in _MUST_ESTABLISH
    if needs_scan and not event.scans:
        errors.append(
            FieldError(
                f"a {kind.label} event needs at least one scan of container id and COI/DIN",
                field="scans",
            )
        )
    rules = (
        ("din", CustodyEventType.COLLECTION, "the donation's DIN"),
        ("patient_coi", CustodyEventType.INFUSION, "the patient's COI from the wristband"),
        ("qc_disposition", CustodyEventType.QC_DISPOSITION, "approved or rejected"),
    )
    for name, owner, what in rules:
        value = getattr(event, name)
        if kind is owner and (value is None or (isinstance(value, str) and not value.strip())):
            errors.append(FieldError(f"a {kind.label} event needs {what}", field=name))
        elif kind is not owner and value is not None:
            errors.append(
                FieldError(
                    f"only a {owner.label} event carries this field", field=name, value=value
                )
            )
    hold_events = (CustodyEventType.CHAIN_BLOCKED, CustodyEventType.CHAIN_UNBLOCKED)
    if kind in hold_events:
        for name in ("deviation_ref", "comment"):
            if _blank(getattr(event, name)):
                errors.append(
                    FieldError(
                        f"a {kind.label} event needs a {name.replace('_', ' ')}",
                        field=name,
                        value=getattr(event, name),
                    )
                )
    elif event.deviation_ref is not None:
        errors.append(
            FieldError(
                "only chain blocked/unblocked events carry a deviation",
                field="deviation_ref",
                value=event.deviation_ref,
            )
        )
    errors.extend(_detail_problems(event.details))
    return errors


def _detail_problems(details: Mapping[str, DetailValue]) -> list[FieldError]:
    errors: list[FieldError] = []
    for key, value in details.items():
        if not isinstance(key, str) or not key:
            errors.append(
                FieldError("detail names must be non-empty strings", field="details", value=key)
            )
        elif value is not None and not isinstance(value, str | int | float | bool):
            errors.append(
                FieldError(
                    "detail values must be str, int, float, bool or None",
                    field=f"details.{key}",
                    value=value,
                )
            )
        elif isinstance(value, float) and not math.isfinite(value):
            errors.append(
                FieldError(
                    "detail values must be finite numbers", field=f"details.{key}", value=value
                )
            )
    return errors
