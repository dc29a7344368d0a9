"""Audit-trail rules: event tags and the hash chain, as pure functions.

An audit event is tagged ``source:subject:action`` (e.g. ``cli:batch:create``). Each event's
hash is the SHA-256 of a canonical JSON document of its fields plus the previous event's hash,
so editing, deleting or reordering any stored event breaks the chain from that point on.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from saisei.errors import ValidationFailed

__all__ = [
    "GENESIS_HASH",
    "AuditRecord",
    "canonical_json",
    "chain_hash",
    "jsonable",
    "make_tag",
]

#: The ``prev_hash`` of the first event of every chain.
GENESIS_HASH = "0" * 64

_TAG_PART = re.compile(r"^[a-z][a-z0-9_.-]*$")


def make_tag(source: str, subject: str, action: str) -> str:
    """Build an audit tag ``source:subject:action``.

    Each part is lower-case ASCII starting with a letter (``[a-z][a-z0-9_.-]*``).

    Examples
    --------
    >>> make_tag("cli", "batch", "create")
    'cli:batch:create'
    """
    for name, part in (("source", source), ("subject", subject), ("action", action)):
        if not _TAG_PART.match(part):
            raise ValidationFailed(
                f"The audit tag {name} must be lower-case ASCII matching [a-z][a-z0-9_.-]*. "
                f"Got {part!r} instead."
            )
    return f"{source}:{subject}:{action}"


def jsonable(value: Any) -> Any:
    """Convert a stored value to a JSON-representable one, deterministically.

    Datetimes become ISO 8601 strings in UTC, dates ISO strings, enums their value, decimals
    strings; mappings and sequences are converted element by element.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        # Binary artefacts are summarised by their digest, not copied into the trail.
        data = bytes(value)
        return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    return str(value)


def canonical_json(value: Any) -> str:
    """Serialise to canonical JSON: sorted keys, no whitespace, UTF-8 kept, NaN refused."""
    return json.dumps(
        jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


@dataclass(frozen=True)
class AuditRecord:
    """The hashed content of one audit event.

    Attributes
    ----------
    seq : int
        Position in the chain, 1 for the genesis event, consecutive.
    tag : str
        ``source:subject:action``.
    actor : str
        Unique user id of who acted (``system`` for the software itself).
    occurred_at : datetime
        Server time of the event, timezone-aware UTC.
    entity_type, entity_id : str or None
        The record changed, when there is one.
    old_values, new_values : str
        Canonical JSON of the changed fields before and after (``{}`` when none).
    reason : str or None
        Why the change was made.
    prev_hash : str
        Hash of the previous event (``GENESIS_HASH`` for the first).
    """

    seq: int
    tag: str
    actor: str
    occurred_at: datetime
    entity_type: str | None
    entity_id: str | None
    old_values: str
    new_values: str
    reason: str | None
    prev_hash: str


def chain_hash(record: AuditRecord) -> str:
    """SHA-256 (hex) of the canonical JSON of every field of ``record``.

    The previous hash is one of the fields, which links the chain.
    """
    payload = canonical_json(
        {
            "seq": record.seq,
            "tag": record.tag,
            "actor": record.actor,
            "occurred_at": record.occurred_at,
            "entity_type": record.entity_type,
            "entity_id": record.entity_id,
            "old_values": record.old_values,
            "new_values": record.new_values,
            "reason": record.reason,
            "prev_hash": record.prev_hash,
        }
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
