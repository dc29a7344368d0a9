"""Recording custody events through the service: order, scans, deviations, hash links."""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from custody_helpers import COI, DIN, OTHER_DIN, PATH, T0, Recorder, walk
from sqlalchemy import select, text

from saisei.custody.chains import show_chain, verify_chains
from saisei.custody.events import CustodyChainBlocked
from saisei.domain.custody import ClockRule, CustodyScanMismatch
from saisei.domain.enums import DeviationSeverity, DeviationStatus, SubjectType
from saisei.errors import CustodyBreak, IntegrityViolation, NotFound, ValidationFailed
from saisei.storage.models import ChainOfIdentity, CustodyEvent, Deviation
from saisei.storage.store import Store


def _events(store: Store) -> list[SimpleNamespace]:
    """Stored custody-event rows as plain values."""
    with store.reader() as session:
        rows = session.execute(select(CustodyEvent).order_by(CustodyEvent.id)).scalars()
        return [
            SimpleNamespace(**{c.key: getattr(r, c.key) for c in CustodyEvent.__table__.columns})
            for r in rows
        ]


def test_the_whole_path_is_recorded_and_hash_linked(record: Recorder, chain_store: Store) -> None:
    recorded = walk(record, len(PATH))
    assert [r.seq for r in recorded] == list(range(1, len(PATH) + 1))
    assert recorded[-1].stage == "infused"
    assert recorded[0].prev_hash == "0" * 64
    for before, after in itertools.pairwise(recorded):
        assert after.prev_hash == before.hash
    rows = _events(chain_store)
    assert [r.event_type for r in rows] == [s.event_type for s in PATH]
    assert rows[0].subject_type is SubjectType.COLLECTION and rows[0].subject_ref == DIN
    assert verify_chains(chain_store).ok


def test_the_stored_hash_is_sha256_of_the_documented_fields(
    record: Recorder, chain_store: Store
) -> None:
    first = walk(record, 1)[0]
    # Rebuilt with json and hashlib alone, from the field list in docs/identity-and-custody.md.
    payload = {
        "coi": COI,
        "seq": 1,
        "event_type": "collection",
        "occurred_at": "2025-03-01T08:00:00+00:00",
        "recorded_at": "2025-03-01T08:05:00+00:00",
        "actor": "op.test",
        "party": "HOSP",
        "scans": [{"container_id": "BAG-1", "identity_code": "=A99992112345663"}],
        "din": DIN,
        "patient_coi": None,
        "qc_disposition": None,
        "deviation_ref": None,
        "comment": None,
        "details": {},
        "previous_hash": "0" * 64,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert first.hash == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert _events(chain_store)[0].hash == first.hash


@pytest.mark.parametrize(
    ("done", "event_type", "kwargs", "match"),
    [
        (
            1,
            "processing_start",
            {"scans": [("BAG-1", DIN)]},
            "'processing start' is not permitted for chain CHA999925000011 at stage 'collected'",
        ),
        (2, "receipt", {"scans": [("BAG-1", DIN)]}, "'receipt' is not permitted .* 'labelled'"),
        (
            5,
            "processing_start",
            {"scans": [("BAG-1", DIN)]},
            "not permitted .* stage 'received'.*permitted only at stage 'accessioned'",
        ),
        (10, "release", {}, "cannot be released before an approved QC disposition"),
        (
            11,
            "qc_disposition",
            {"qc_disposition": "rejected"},
            "already recorded as 'approved'; it cannot be recorded twice",
        ),
        (12, "infusion", {"scans": [("VIAL-1", COI)], "patient_coi": COI}, "'infusion' is not"),
        (0, "chain_unblocked", {"deviation_ref": "DEV-1", "comment": "x"}, "is not blocked"),
        (1, "collection", {"din": DIN}, f"DIN {DIN} is already collected"),
    ],
)
def test_forbidden_transitions_are_refused_and_nothing_is_recorded(
    record: Recorder,
    chain_store: Store,
    done: int,
    event_type: str,
    kwargs: dict[str, object],
    match: str,
) -> None:
    walk(record, done)
    with pytest.raises(CustodyBreak, match=match):
        record(event_type, "MFG", float(done), **kwargs)
    assert len(_events(chain_store)) == done


def test_an_event_dated_before_the_last_one_is_refused(record: Recorder) -> None:
    walk(record, 2)
    with pytest.raises(CustodyBreak, match="before the previous event"):
        record("packing", "HOSP", 0.5, scans=[("BAG-1", DIN)])


def test_a_wrong_container_scan_opens_a_deviation_and_blocks_the_chain(
    record: Recorder, chain_store: Store
) -> None:
    walk(record, 3)
    with pytest.raises(CustodyChainBlocked, match="container 'BAG-9' is not a container") as info:
        record("hand_over", "COURIER", 3.0, scans=[("BAG-9", DIN)])
    assert isinstance(info.value, CustodyScanMismatch)
    assert "Deviation DEV-00001 was opened" in info.value.message
    with chain_store.reader() as session:
        deviation = session.execute(select(Deviation)).scalar_one()
        blocked = session.get(CustodyEvent, deviation.custody_event_id)
        session.expunge_all()
    assert deviation.number == info.value.deviation_number == "DEV-00001"
    assert deviation.category == "custody"
    assert deviation.severity is DeviationSeverity.CRITICAL
    assert deviation.status is DeviationStatus.OPEN
    assert "BAG-9" in deviation.description
    assert blocked is not None and blocked.event_type == "chain_blocked"
    assert blocked.deviation_ref == "DEV-00001" and blocked.seq == 4
    assert [e.event_type for e in _events(chain_store)][-1] == "chain_blocked"  # no hand-over
    # Blocked: even the right scan is refused until the deviation's unblocking event.
    with pytest.raises(CustodyBreak, match="is blocked by deviation DEV-00001"):
        record("hand_over", "COURIER", 3.1, scans=[("BAG-1", DIN)])
    assert show_chain(chain_store, COI).blocked_by == "DEV-00001"
    record("chain_unblocked", "HOSP", 3.2, deviation_ref="DEV-00001", comment="bag found")
    assert record("hand_over", "COURIER", 3.3, scans=[("BAG-1", DIN)]).stage == "in_transit"
    assert verify_chains(chain_store).ok


def test_another_donations_din_on_a_known_container_is_a_mismatch(record: Recorder) -> None:
    walk(record, 3)
    with pytest.raises(CustodyChainBlocked, match=f"label identity {OTHER_DIN} does not belong"):
        record("hand_over", "COURIER", 3.0, scans=[("BAG-1", OTHER_DIN)])


def test_infusion_into_the_wrong_patient_is_a_hard_stop(
    record: Recorder, chain_store: Store
) -> None:
    walk(record, len(PATH) - 1)
    with pytest.raises(CustodyChainBlocked, match="may only be dispensed to its own patient"):
        record("infusion", "CLINIC", 20.0, scans=[("VIAL-1", COI)], patient_coi="CHA999925000022")
    with chain_store.reader() as session:
        assert (
            session.execute(select(Deviation.severity)).scalar_one() is DeviationSeverity.CRITICAL
        )


def test_an_unreadable_scan_records_nothing(record: Recorder, chain_store: Store) -> None:
    walk(record, 3)
    with pytest.raises(ValidationFailed, match="could not be read"):
        record("hand_over", "COURIER", 3.0, scans=[("BAG-1", "A9999211234564")])
    assert len(_events(chain_store)) == 3
    with chain_store.reader() as session:
        assert session.execute(select(Deviation)).first() is None


def test_unknown_chain_and_party_are_named(record: Recorder) -> None:
    with pytest.raises(NotFound, match="No party 'NOWHERE'"):
        record("collection", "NOWHERE", 0.0, din=DIN)


def test_clock_warning_is_reported(record: Recorder) -> None:
    walk(record, 6)
    rule = ClockRule("collection to processing", "collection", "processing_start", 48.0)
    # 40 h after collection: past the warning at 0.8 x 48 = 38.4 h, within 48 h.
    result = record("processing_start", "MFG", 40.0, scans=[("BAG-1", DIN)], clock_rules=[rule])
    assert result.clocks[0]["status"] == "warning"
    assert result.warnings and "collection to processing: warning" in result.warnings[0]


@pytest.mark.parametrize(
    ("statement", "first"),
    [
        ("UPDATE custody_events SET actor = 'mallory' WHERE seq = 2", "event 2 (hash)"),
        ("UPDATE custody_events SET comment = 'edited' WHERE seq = 2", "event 2 (hash)"),
        ("DELETE FROM custody_events WHERE seq = 2", "event 3 (sequence)"),
    ],
)
def test_tampering_with_a_stored_event_is_found(
    record: Recorder, chain_store: Store, statement: str, first: str
) -> None:
    walk(record, 4)
    chain_store.bind.execute(text(statement))
    report = verify_chains(chain_store)
    assert not report.ok
    assert report.first_problem is not None
    assert report.first_problem.startswith(f"chain {COI}: {first}")
    with pytest.raises(IntegrityViolation, match=f"does not verify at {first.split(' (')[0]}"):
        record("receipt", "MFG", 5.0, scans=[("BAG-1", DIN)])


def test_imported_chains_without_links_are_reported_not_failed(
    record: Recorder, chain_store: Store
) -> None:
    with chain_store.unit_of_work(actor="import", source="import", reason="import") as uow:
        chain_id = uow.session.execute(select(ChainOfIdentity.id)).scalar_one()
        uow.session.add(
            CustodyEvent(
                coi_id=chain_id,
                subject_type=SubjectType.COLLECTION,
                subject_ref=DIN,
                event_type="collection",
                actor="nurse",
                occurred_at=T0 - timedelta(hours=1),
                scanned_ids=[DIN],
            )
        )
    report = verify_chains(chain_store)
    assert report.ok and report.chains[0].status == "unlinked"
    assert not verify_chains(chain_store, strict=True).ok
    assert show_chain(chain_store, DIN).stage == "unknown"
    with pytest.raises(CustodyBreak, match="1 imported custody event.* not hash-linked"):
        record("collection", "HOSP", 0.0, din=DIN)
