"""The audit trail is append-only and any tampering is detected by the hash chain."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DatabaseError

from saisei.domain.enums import ProductType
from saisei.storage.audit import verify_chain
from saisei.storage.models import Batch
from saisei.storage.store import Store


@pytest.fixture
def chained(store: Store) -> Store:
    """A store with five audit events: genesis plus four batch creations."""
    with store.unit_of_work(actor="system", source="system") as uow:
        uow.record("home", "initialise", reason="test home")
    for i in range(4):
        with store.unit_of_work(actor="op.ito", source="cli") as uow:
            uow.session.add(Batch(lot_number=f"LV-{i:03d}", product_type=ProductType.LV))
    return store


def _conn(store: Store) -> Connection:
    assert isinstance(store.bind, Connection)
    return store.bind


def _allow_tampering(store: Store) -> None:
    """What someone with database-owner rights could do: switch the append-only guard off.

    The DDL runs inside the test's transaction and is rolled back with it.
    """
    connection = _conn(store)
    if store.dialect == "sqlite":
        connection.execute(text("DROP TRIGGER audit_events_no_update"))
        connection.execute(text("DROP TRIGGER audit_events_no_delete"))
    else:
        connection.execute(
            text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        )


def _verify(store: Store):
    with store.session_factory() as session:
        return verify_chain(session)


def test_untouched_chain_verifies(chained: Store) -> None:
    result = _verify(chained)
    assert result.ok
    assert result.events_checked == 5


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor = 'someone.else' WHERE seq = 3",
        "DELETE FROM audit_events WHERE seq = 3",
    ],
)
def test_database_refuses_update_and_delete_of_audit_rows(chained: Store, statement: str) -> None:
    with pytest.raises(DatabaseError, match="append-only"):
        _conn(chained).execute(text(statement))


def test_edited_row_is_detected(chained: Store) -> None:
    _allow_tampering(chained)
    _conn(chained).execute(
        text('UPDATE audit_events SET new_values = \'{"lot_number":"LV-999"}\' WHERE seq = 3')
    )
    result = _verify(chained)
    assert not result.ok
    assert result.first_broken_seq == 3
    assert "modified" in (result.problem or "")


def test_edited_reason_is_detected(chained: Store) -> None:
    _allow_tampering(chained)
    _conn(chained).execute(text("UPDATE audit_events SET reason = 'approved' WHERE seq = 2"))
    assert _verify(chained).first_broken_seq == 2


def test_deleted_middle_row_is_detected(chained: Store) -> None:
    _allow_tampering(chained)
    _conn(chained).execute(text("DELETE FROM audit_events WHERE seq = 2"))
    result = _verify(chained)
    assert not result.ok
    assert result.first_broken_seq == 3
    assert "deleted or inserted" in (result.problem or "")


def test_deleted_last_row_is_detected_through_the_head(chained: Store) -> None:
    _allow_tampering(chained)
    _conn(chained).execute(text("DELETE FROM audit_events WHERE seq = 5"))
    result = _verify(chained)
    assert not result.ok
    assert "head" in (result.problem or "")


def test_reordered_rows_are_detected(chained: Store) -> None:
    """Swapping the contents of rows 2 and 3 (keeping the sequence numbers) breaks the chain."""
    _allow_tampering(chained)
    connection = _conn(chained)
    columns = (
        "tag, actor, occurred_at, entity_type, entity_id, old_values, new_values, "
        "reason, prev_hash, hash"
    )
    rows = {
        seq: connection.execute(
            text(f"SELECT {columns} FROM audit_events WHERE seq = :s"), {"s": seq}
        )
        .one()
        ._mapping
        for seq in (2, 3)
    }
    connection.execute(text("UPDATE audit_events SET hash = 'tmp' || seq WHERE seq IN (2, 3)"))
    for seq, other in ((2, 3), (3, 2)):
        assignments = ", ".join(f"{c.strip()} = :{c.strip()}" for c in columns.split(","))
        connection.execute(
            text(f"UPDATE audit_events SET {assignments} WHERE seq = :s"), {**rows[other], "s": seq}
        )
    result = _verify(chained)
    assert not result.ok
    assert result.first_broken_seq == 2


def test_wiped_trail_is_detected(chained: Store) -> None:
    _allow_tampering(chained)
    _conn(chained).execute(text("DELETE FROM audit_events"))
    result = _verify(chained)
    assert not result.ok
    assert result.events_checked == 0
    assert "empty" in (result.problem or "")


def test_head_hash_is_the_hash_of_the_last_event(chained: Store) -> None:
    result = _verify(chained)
    last = _conn(chained).execute(text("SELECT hash FROM audit_events WHERE seq = 5")).scalar()
    assert result.head_hash == last
