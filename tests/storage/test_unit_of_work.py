"""Every write goes through a unit of work that audits it in the same transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from saisei.domain.enums import BatchStatus, ProductType
from saisei.errors import StorageError
from saisei.storage.audit import verify_chain
from saisei.storage.models import AuditEvent, Batch
from saisei.storage.store import Store
from saisei.storage.unit_of_work import entity_name


def _audit_count(store: Store) -> int:
    with store.session_factory() as session:
        return session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


def _events(store: Store) -> list[AuditEvent]:
    with store.session_factory() as session:
        return list(session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars())


def _add_batch(store: Store, lot: str = "MSC-0001") -> None:
    with store.unit_of_work(actor="op.tanaka", source="cli", reason="new lot") as uow:
        uow.session.add(Batch(lot_number=lot, product_type=ProductType.MSC))


def test_create_is_audited_with_actor_tag_and_new_values(store: Store) -> None:
    _add_batch(store)
    (event,) = _events(store)
    assert event.seq == 1
    assert event.tag == "cli:batch:create"
    assert event.actor == "op.tanaka"
    assert event.reason == "new lot"
    assert event.entity_type == "batch"
    with store.session_factory() as session:
        batch_id = session.execute(select(Batch.id)).scalar_one()
    assert event.entity_id == str(batch_id), "a creation event names the new row"
    assert event.occurred_at.tzinfo is not None
    new = json.loads(event.new_values)
    assert new["lot_number"] == "MSC-0001"
    assert new["status"] == "planned"
    assert json.loads(event.old_values) == {}


def test_update_records_old_and_new_values_of_changed_fields_only(store: Store) -> None:
    _add_batch(store)
    with store.unit_of_work(actor="op.sato", source="cli", reason="started") as uow:
        batch = uow.session.execute(select(Batch)).scalar_one()
        batch.status = BatchStatus.IN_PROCESS
        batch.started_at = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)
    event = _events(store)[-1]
    assert event.tag == "cli:batch:update"
    assert json.loads(event.old_values) == {"status": "planned", "started_at": None}
    assert json.loads(event.new_values) == {
        "status": "in_process",
        "started_at": "2026-01-05T08:30:00+00:00",
    }


def test_delete_records_the_old_row(store: Store) -> None:
    _add_batch(store)
    with store.unit_of_work(actor="qa.kato", source="cli", reason="entered twice") as uow:
        uow.session.delete(uow.session.execute(select(Batch)).scalar_one())
    event = _events(store)[-1]
    assert event.tag == "cli:batch:delete"
    assert json.loads(event.old_values)["lot_number"] == "MSC-0001"
    assert event.reason == "entered twice"


def test_rolled_back_change_leaves_no_audit_row(store: Store) -> None:
    _add_batch(store)
    before = _audit_count(store)
    with (
        pytest.raises(RuntimeError, match="operator aborted"),
        store.unit_of_work(actor="op", source="cli") as uow,
    ):
        uow.session.add(Batch(lot_number="MSC-0002", product_type=ProductType.MSC))
        uow.flush()
        raise RuntimeError("operator aborted")
    assert _audit_count(store) == before
    with store.session_factory() as session:
        lots = session.execute(select(Batch.lot_number)).scalars().all()
    assert lots == ["MSC-0001"]


def test_failed_commit_leaves_neither_change_nor_audit_row(store: Store) -> None:
    _add_batch(store)
    before = _audit_count(store)
    with (
        pytest.raises(Exception, match="(?i)unique"),
        store.unit_of_work(actor="op", source="cli") as uow,
    ):
        uow.session.add(Batch(lot_number="MSC-0001", product_type=ProductType.MSC))
    assert _audit_count(store) == before


def test_commit_outside_unit_of_work_is_refused(store: Store) -> None:
    session = store.session_factory()
    session.add(Batch(lot_number="MSC-0009", product_type=ProductType.MSC))
    with pytest.raises(StorageError, match="must be committed through .*UnitOfWork"):
        session.commit()
    session.rollback()
    session.close()
    assert _audit_count(store) == 0


def test_explicit_event_and_chain_links(store: Store) -> None:
    _add_batch(store)
    with store.unit_of_work(actor="qa.kato", source="cli") as uow:
        uow.record(
            "batch",
            "review",
            entity_id="MSC-0001",
            new={"reviewed": True},
            reason="audit-trail review before release",
        )
    first, second = _events(store)
    assert second.tag == "cli:batch:review"
    assert second.prev_hash == first.hash
    with store.session_factory() as session:
        assert verify_chain(session).ok


def test_one_unit_of_work_with_many_changes_gets_consecutive_seqs(store: Store) -> None:
    with store.unit_of_work(actor="importer", source="import") as uow:
        for i in range(5):
            uow.session.add(Batch(lot_number=f"L{i}", product_type=ProductType.CAR_T))
    assert [e.seq for e in _events(store)] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (Batch, "batch"),
        (AuditEvent, "audit_event"),
    ],
)
def test_entity_names_are_snake_case(cls: type, expected: str) -> None:
    assert entity_name(cls) == expected


def test_entity_name_of_acronym_class() -> None:
    from saisei.storage.models import QCResult

    assert entity_name(QCResult) == "qc_result"
