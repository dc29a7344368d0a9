"""Unit of work: one transaction whose every change is written to the audit trail.

Sessions made by :func:`saisei.storage.engine.make_session_factory` carry flush hooks that
record each inserted, updated and deleted row (old -> new values) as a pending audit draft.
:class:`UnitOfWork` turns the drafts into hash-chained audit events in the same transaction
just before it commits. A session that tries to commit changes without doing so is refused,
so no ORM write escapes the trail.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import TracebackType
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import ColumnProperty, RelationshipProperty, Session, sessionmaker

from saisei.domain.audit import canonical_json, jsonable, make_tag
from saisei.errors import StorageError
from saisei.storage.audit import AuditDraft, append_events
from saisei.storage.models import AuditChainHead, AuditEvent

__all__ = ["UnitOfWork", "entity_name", "install_audit_hooks"]

_PENDING = "saisei_audit_pending"
_NEW = "saisei_audit_new"
_CONTEXT = "saisei_audit_context"
_UNAUDITED = (AuditEvent, AuditChainHead)


def entity_name(obj_or_class: object) -> str:
    """Audit subject of a model: its class name in snake case (``QCResult`` -> ``qc_result``)."""
    cls = obj_or_class if isinstance(obj_or_class, type) else type(obj_or_class)
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", cls.__name__).lower()


def _identity(obj: object) -> str | None:
    state = inspect(obj)
    # A row inserted in this flush has its primary key on the instance before its identity
    # key is set (after_flush runs first), so read the key from the instance.
    key = state.identity or state.mapper.primary_key_from_instance(obj)
    if key is None or any(part is None for part in key):
        return None
    return "/".join(str(part) for part in key)


def _column_values(obj: object) -> dict[str, Any]:
    mapper = inspect(obj).mapper
    return {
        prop.key: jsonable(getattr(obj, prop.key))
        for prop in mapper.iterate_properties
        if isinstance(prop, ColumnProperty)
    }


def _changes(obj: object) -> tuple[dict[str, Any], dict[str, Any]]:
    state = inspect(obj)
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for prop in state.mapper.iterate_properties:
        history = state.attrs[prop.key].history
        if not history.has_changes():
            continue
        if isinstance(prop, ColumnProperty):
            old[prop.key] = jsonable(history.deleted[0]) if history.deleted else None
            new[prop.key] = jsonable(history.added[0]) if history.added else None
        elif isinstance(prop, RelationshipProperty) and prop.secondary is not None:
            unchanged = [_identity(o) for o in history.unchanged]
            old[prop.key] = sorted(map(str, unchanged + [_identity(o) for o in history.deleted]))
            new[prop.key] = sorted(map(str, unchanged + [_identity(o) for o in history.added]))
    return old, new


def _context(session: Session) -> tuple[str, str, str | None]:
    return session.info.get(_CONTEXT, ("system", "system", None))  # type: ignore[no-any-return]


def _draft(
    session: Session, obj: object, action: str, old: dict[str, Any], new: dict[str, Any]
) -> AuditDraft:
    source, actor, reason = _context(session)
    name = entity_name(obj)
    return AuditDraft(
        tag=make_tag(source, name, action),
        actor=actor,
        entity_type=name,
        entity_id=_identity(obj),
        old_values=canonical_json(old),
        new_values=canonical_json(new),
        reason=reason,
    )


def _before_flush(session: Session, _flush_context: Any, _instances: Any) -> None:
    pending: list[AuditDraft] = session.info.setdefault(_PENDING, [])
    new_objects: list[object] = session.info.setdefault(_NEW, [])
    for obj in session.new:
        if not isinstance(obj, _UNAUDITED):
            new_objects.append(obj)
    for obj in session.dirty:
        if isinstance(obj, _UNAUDITED) or not session.is_modified(obj):
            continue
        old, new = _changes(obj)
        if old or new:
            pending.append(_draft(session, obj, "update", old, new))
    for obj in session.deleted:
        if not isinstance(obj, _UNAUDITED):
            pending.append(_draft(session, obj, "delete", _column_values(obj), {}))


def _after_flush(session: Session, _flush_context: Any) -> None:
    # Primary keys of new rows exist only now, after the INSERT.
    pending: list[AuditDraft] = session.info.setdefault(_PENDING, [])
    for obj in session.info.pop(_NEW, []):
        pending.append(_draft(session, obj, "create", {}, _column_values(obj)))


def _before_commit(session: Session) -> None:
    session.flush()  # changes not yet flushed would otherwise escape the check below
    if session.info.get(_PENDING):
        kinds = sorted({d.tag for d in session.info[_PENDING]})
        raise StorageError(
            "Changes must be committed through saisei.storage.unit_of_work.UnitOfWork so that "
            f"they reach the audit trail. Refused to commit unaudited changes: {', '.join(kinds)}."
        )


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_NEW, None)


def install_audit_hooks(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Attach the audit flush and commit hooks to every session ``factory`` makes."""
    event.listen(factory, "before_flush", _before_flush)
    event.listen(factory, "after_flush", _after_flush)
    event.listen(factory, "before_commit", _before_commit)
    event.listen(factory, "after_soft_rollback", lambda s, _t: _after_rollback(s))
    return factory


class UnitOfWork:
    """One audited transaction.

    Parameters
    ----------
    session_factory : callable returning Session
        A factory from :func:`saisei.storage.engine.make_session_factory`.
    actor : str
        Unique user id of the person (or ``system``) making the change.
    source : str
        Where the change comes from: ``cli``, ``api``, ``web``, ``import``, ``system``, ...
    reason : str, optional
        Why the change is made; recorded on every event of this unit of work.

    Examples
    --------
    >>> with UnitOfWork(factory, actor="qa.lead", source="cli") as uow:  # doctest: +SKIP
    ...     uow.session.add(batch)
    ...     uow.record("batch", "review", entity_id="L1", new={"reviewed": True})
    """

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        actor: str,
        source: str,
        reason: str | None = None,
    ) -> None:
        self._factory = session_factory
        self.actor = actor
        self.source = source
        self.reason = reason
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        """The open session (only inside ``with``)."""
        if self._session is None:
            raise StorageError("The unit of work is not open; use it in a 'with' block.")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._factory()
        self._session.info[_CONTEXT] = (self.source, self.actor, self.reason)
        return self

    def record(
        self,
        subject: str,
        action: str,
        *,
        entity_id: str | None = None,
        old: dict[str, Any] | None = None,
        new: dict[str, Any] | None = None,
        reason: str | None = None,
    ) -> None:
        """Add an explicit audit event (for actions that are not row changes)."""
        self.session.info.setdefault(_PENDING, []).append(
            AuditDraft(
                tag=make_tag(self.source, subject, action),
                actor=self.actor,
                entity_type=subject,
                entity_id=entity_id,
                old_values=canonical_json(old or {}),
                new_values=canonical_json(new or {}),
                reason=reason if reason is not None else self.reason,
            )
        )

    def flush(self) -> None:
        """Send pending changes to the database (primary keys become known)."""
        self.session.flush()

    def commit(self) -> None:
        """Write the audit events for every change, then commit, all in one transaction."""
        session = self.session
        session.flush()
        drafts = session.info.pop(_PENDING, [])
        append_events(session, drafts)
        session.flush()
        session.commit()

    def rollback(self) -> None:
        """Discard every change and its pending audit events."""
        self.session.rollback()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if exc_type is None:
                self.commit()
            else:
                self.rollback()
        finally:
            session.close()
            self._session = None
