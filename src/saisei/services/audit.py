"""Reading the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from saisei.domain.audit import jsonable
from saisei.storage.audit import audit_events, data_revision
from saisei.storage.store import Store

__all__ = ["AuditEntry", "show_audit", "store_revision"]


@dataclass(frozen=True)
class AuditEntry:
    """One audit event as shown to a reviewer."""

    seq: int
    tag: str
    actor: str
    occurred_at: datetime
    entity_type: str | None
    entity_id: str | None
    old_values: str
    new_values: str
    reason: str | None
    hash: str

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {k: jsonable(getattr(self, k)) for k in self.__dataclass_fields__}


def show_audit(
    store: Store,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    limit: int | None = None,
) -> list[AuditEntry]:
    """Audit events in chain order, optionally for one entity."""
    with store.reader() as session:
        return [
            AuditEntry(
                seq=e.seq,
                tag=e.tag,
                actor=e.actor,
                occurred_at=e.occurred_at,
                entity_type=e.entity_type,
                entity_id=e.entity_id,
                old_values=e.old_values,
                new_values=e.new_values,
                reason=e.reason,
                hash=e.hash,
            )
            for e in audit_events(
                session, entity_type=entity_type, entity_id=entity_id, limit=limit
            )
        ]


def store_revision(store: Store) -> int:
    """A number that changes whenever stored data change (the newest audit event about data;
    sign-in bookkeeping does not count), to key caches of views derived from the whole
    store."""
    with store.reader() as session:
        return data_revision(session)
