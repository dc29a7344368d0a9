"""What the acquirer hands on: readings with their OPC UA quality, and connection events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asyncua import ua

__all__ = ["OVERFLOW_BIT", "ConnectionEvent", "Reading", "quality_of"]

#: InfoBits of a DataValue status: the server's queue for the item overflowed and dropped
#: values (OPC UA Part 4, 7.39.1, "Overflow").
OVERFLOW_BIT = 0x0080
_SEVERITY_AND_SUBCODE = 0xFFFF0000


def quality_of(status: ua.StatusCode | None) -> str:
    """``good``, ``uncertain:<Name>`` or ``bad:<Name>`` for an OPC UA status code.

    Info bits (overflow, limit bits) are ignored: they say how the value was delivered, not
    how good it is.
    """
    if status is None:
        return "good"
    code = ua.StatusCode(ua.UInt32(int(status.value) & _SEVERITY_AND_SUBCODE))
    if code.value == 0:
        return "good"
    severity = "bad" if code.is_bad() else "uncertain" if code.is_uncertain() else "good"
    return f"{severity}:{code.name}"


@dataclass(frozen=True, slots=True)
class Reading:
    """One value of one mapped node.

    Attributes
    ----------
    timestamp : datetime
        Source timestamp (UTC) the equipment gave the value (the server timestamp when the
        equipment gives none).
    t_h : float
        Hours since the start of the stage.
    value : float or None
        None when the server sent no value or one that is not a number.
    quality : str
        ``good``, ``uncertain:<StatusName>`` or ``bad:<StatusName>``.
    """

    node_id: str
    stage: str
    variable: str
    unit: str | None
    timestamp: datetime
    t_h: float
    value: float | None
    quality: str


@dataclass(frozen=True)
class ConnectionEvent:
    """A change in the link to the server: ``connected``, ``lost``, ``backfilled``."""

    kind: str
    at: datetime
    detail: dict[str, Any] = field(default_factory=dict)
