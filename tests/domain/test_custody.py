"""Custody rules: the permitted order, scan matching, dispensing, holds and hash links.

The permitted-transition table is written out here independently of
``saisei.domain.custody_rules.TRANSITIONS`` (issue 9, item 3: no processing before receipt and
accession, no release before QC disposition, autologous dispense only against the patient's own
COI), and every pair not in it is shown to be refused with a message naming the rule.
"""

from __future__ import annotations

import doctest
import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from saisei.domain import custody, custody_rules, custody_scan
from saisei.domain.custody import (
    GENESIS_HASH,
    ChainProblemKind,
    ChainState,
    CustodyEvent,
    CustodyEventType,
    CustodyScanMismatch,
    CustodyStage,
    DonorType,
    LinkedEvent,
    QcDisposition,
    Scan,
    ScanVerdict,
    apply_event,
    check_dispense,
    check_scan,
    check_transition,
    custody_event_hash,
    link_event,
    link_events,
    permitted_events,
    replay,
    verify_chain,
)
from saisei.domain.identity import ChainOfIdentityId, Din
from saisei.errors import CustodyBreak, IntegrityViolation, ValidationFailed

E = CustodyEventType
S = CustodyStage

COI = ChainOfIdentityId("CHA999925000001")
OTHER_COI = ChainOfIdentityId("CHA999925000002")
DIN = "A999925000001"
OTHER_DIN = "A999925000099"
SOURCE_BAG = "SRC-1"
PRODUCT_BAG = "PRD-1"
T0 = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)

#: Issue 9 item 3, written out: event -> stages it is permitted at.
PERMITTED: dict[CustodyEventType, set[CustodyStage]] = {
    E.COLLECTION: {S.NEW, S.COLLECTED, S.LABELLED},
    E.LABELLING: {S.COLLECTED, S.LABELLED},
    E.PACKING: {S.LABELLED, S.RECEIVED},
    E.HAND_OVER: {S.PACKED, S.IN_TRANSIT, S.SHIPPED_TO_CLINIC, S.RECEIVED_AT_CLINIC},
    E.RECEIPT: {S.IN_TRANSIT},
    E.ACCESSIONING: {S.RECEIVED},
    E.PROCESSING_START: {S.ACCESSIONED},
    E.FILL: {S.PROCESSING, S.FILLED},
    E.FREEZE: {S.FILLED},
    E.STORAGE: {S.FILLED, S.FROZEN, S.STORED},
    E.QC_DISPOSITION: {S.FILLED, S.FROZEN, S.STORED},
    E.RELEASE: {S.FILLED, S.FROZEN, S.STORED},
    E.SHIPMENT_TO_CLINIC: {S.RELEASED},
    E.RECEIPT_AT_CLINIC: {S.SHIPPED_TO_CLINIC},
    E.INFUSION: {S.RECEIVED_AT_CLINIC},
}
STAGE_EVENTS = list(PERMITTED)
FORBIDDEN = [(stage, kind) for kind in STAGE_EVENTS for stage in S if stage not in PERMITTED[kind]]


def event(kind: CustodyEventType, hours: float = 1.0, **fields: Any) -> CustodyEvent:
    """A well-formed event of ``kind`` whose scans match the canonical chain below."""
    bag = (
        PRODUCT_BAG
        if kind
        in (E.FILL, E.SHIPMENT_TO_CLINIC, E.RECEIPT_AT_CLINIC, E.INFUSION, E.FREEZE, E.STORAGE)
        else SOURCE_BAG
    )
    label = COI.value if bag == PRODUCT_BAG else DIN
    defaults: dict[str, Any] = {"actor": "user.one", "party": "SITE-A"}
    if kind in custody.SCAN_REQUIRED_EVENTS or kind in (E.LABELLING, E.FILL):
        defaults["scans"] = (Scan(bag, label),)
    if kind is E.COLLECTION:
        defaults["din"] = DIN
    if kind is E.INFUSION:
        defaults["patient_coi"] = COI.keyed
    if kind is E.QC_DISPOSITION:
        defaults["qc_disposition"] = QcDisposition.APPROVED
    if kind in (E.CHAIN_BLOCKED, E.CHAIN_UNBLOCKED):
        defaults.update(deviation_ref="DEV-1", comment="scan mismatch at hand-over")
    defaults.update(fields)
    return CustodyEvent(kind, T0 + timedelta(hours=hours), **defaults)


CANONICAL = [
    E.COLLECTION,
    E.LABELLING,
    E.PACKING,
    E.HAND_OVER,
    E.RECEIPT,
    E.ACCESSIONING,
    E.PROCESSING_START,
    E.FILL,
    E.FREEZE,
    E.STORAGE,
    E.QC_DISPOSITION,
    E.RELEASE,
    E.SHIPMENT_TO_CLINIC,
    E.RECEIPT_AT_CLINIC,
    E.INFUSION,
]


def canonical_events(n: int = len(CANONICAL)) -> list[CustodyEvent]:
    return [event(kind, hours=i) for i, kind in enumerate(CANONICAL[:n])]


def state_after(n: int) -> ChainState:
    return replay(COI, DonorType.AUTOLOGOUS, canonical_events(n))


def state_at(stage: CustodyStage) -> ChainState:
    """The canonical chain when it first reaches ``stage``."""
    for n in range(len(CANONICAL) + 1):
        state = state_after(n)
        if state.stage is stage:
            return state
    raise AssertionError(stage)


# --------------------------------------------------------------------------------------------
# The permitted order
# --------------------------------------------------------------------------------------------


def test_the_canonical_chain_runs_from_collection_to_infusion() -> None:
    state = state_after(len(CANONICAL))
    assert state.stage is S.INFUSED
    assert state.dins == frozenset({Din(DIN)})
    assert dict(state.containers) == {PRODUCT_BAG: COI.value}
    assert state.qc_disposition is QcDisposition.APPROVED
    assert state.event_count == len(CANONICAL)


def test_the_table_matches_the_issue() -> None:
    assert {k: set(v) for k, v in custody.TRANSITIONS.items() if k in PERMITTED} == PERMITTED


@pytest.mark.parametrize(
    ("stage", "kind"), FORBIDDEN, ids=[f"{k.value}@{s.value}" for s, k in FORBIDDEN]
)
def test_every_forbidden_transition_is_refused(stage: CustodyStage, kind: CustodyEventType) -> None:
    state = replace(
        ChainState.new(COI, DonorType.AUTOLOGOUS),
        stage=stage,
        qc_disposition=QcDisposition.APPROVED,
    )
    allowed = "|".join(f"'{s.label}'" for s in S if s in PERMITTED[kind])
    message = (
        rf"Custody event '{kind.label}' is not permitted for chain {COI} at stage "
        rf"'{stage.label}': it is permitted only at stage ({allowed}).*Permitted now:"
    )
    with pytest.raises(CustodyBreak, match=message):
        check_transition(state, kind)
    with pytest.raises(CustodyBreak, match=message):
        apply_event(state, event(kind))


@pytest.mark.parametrize("stage", list(S))
def test_permitted_events_follow_the_table(stage: CustodyStage) -> None:
    state = replace(
        ChainState.new(COI, DonorType.AUTOLOGOUS),
        stage=stage,
        qc_disposition=QcDisposition.APPROVED,
    )
    expected = {k for k, stages in PERMITTED.items() if stage in stages} - {E.QC_DISPOSITION}
    assert permitted_events(state) == expected | {E.CHAIN_BLOCKED}


def test_no_processing_before_receipt_and_accession() -> None:
    for stage in (S.IN_TRANSIT, S.RECEIVED):
        with pytest.raises(
            CustodyBreak,
            match=r"'processing start' is not permitted .* "
            r"permitted only at stage 'accessioned'",
        ):
            apply_event(state_at(stage), event(E.PROCESSING_START, hours=20))


def test_no_release_before_qc_disposition() -> None:
    stored = state_at(S.STORED)
    assert stored.qc_disposition is None
    with pytest.raises(
        CustodyBreak,
        match=r"cannot be released before an approved QC "
        r"disposition; none is recorded",
    ):
        apply_event(stored, event(E.RELEASE, hours=20))
    rejected = apply_event(
        stored, event(E.QC_DISPOSITION, hours=20, qc_disposition=QcDisposition.REJECTED)
    )
    with pytest.raises(CustodyBreak, match=r"it is 'rejected'"):
        apply_event(rejected, event(E.RELEASE, hours=21))


def test_qc_disposition_is_recorded_once() -> None:
    approved = apply_event(state_at(S.STORED), event(E.QC_DISPOSITION, hours=20))
    with pytest.raises(CustodyBreak, match="already recorded as 'approved'"):
        apply_event(approved, event(E.QC_DISPOSITION, hours=21))


def test_events_must_not_go_back_in_time() -> None:
    state = state_after(3)
    with pytest.raises(CustodyBreak, match="before the previous event"):
        apply_event(state, event(E.HAND_OVER, hours=1.5))


def test_a_din_is_collected_once() -> None:
    with pytest.raises(CustodyBreak, match=f"DIN {DIN} is already collected"):
        apply_event(state_after(1), event(E.COLLECTION, hours=2))
    second = apply_event(state_after(2), event(E.COLLECTION, hours=3, din=OTHER_DIN))
    assert second.stage is S.COLLECTED and len(second.dins) == 2


def test_collection_may_record_its_container() -> None:
    collected = apply_event(
        ChainState.new(COI, DonorType.AUTOLOGOUS),
        event(E.COLLECTION, scans=(Scan("APH-1", f"={DIN}00"),)),
    )
    assert dict(collected.containers) == {"APH-1": DIN}
    with pytest.raises(CustodyScanMismatch, match=f"label identity {OTHER_DIN}"):
        apply_event(
            ChainState.new(COI, DonorType.AUTOLOGOUS),
            event(E.COLLECTION, scans=(Scan("APH-1", OTHER_DIN),)),
        )


def test_intermediary_receives_repacks_and_hands_over_again() -> None:
    state = state_at(S.RECEIVED)
    for i, kind in enumerate([E.PACKING, E.HAND_OVER, E.HAND_OVER, E.RECEIPT, E.ACCESSIONING]):
        state = apply_event(state, event(kind, hours=10 + i))
    assert state.stage is S.ACCESSIONED


# --------------------------------------------------------------------------------------------
# Scans: a mismatch is a hard stop that opens a deviation and blocks the chain
# --------------------------------------------------------------------------------------------


def test_wrong_container_scan_requires_a_deviation_and_blocks_the_chain() -> None:
    state = state_at(S.IN_TRANSIT)
    outcome = check_scan(state.expected_identity, Scan("SRC-9", DIN))
    assert outcome.verdict is ScanVerdict.MISMATCH
    assert outcome.requires_deviation and outcome.blocks_chain and not outcome.matched
    assert "open a deviation and block the chain" in outcome.message
    assert [d.field for d in outcome.discrepancies] == ["container_id"]
    with pytest.raises(CustodyScanMismatch, match="container 'SRC-9' is not a container") as info:
        apply_event(state, event(E.RECEIPT, hours=9, scans=(Scan("SRC-9", DIN),)))
    assert isinstance(info.value, CustodyBreak)
    assert info.value.outcome == outcome


def test_wrong_label_on_the_right_container_is_a_mismatch() -> None:
    state = state_at(S.IN_TRANSIT)
    outcome = check_scan(state.expected_identity, Scan(SOURCE_BAG, OTHER_DIN))
    assert outcome.requires_deviation
    assert f"label identity {OTHER_DIN} does not belong to chain {COI}" in outcome.message


def test_other_chains_coi_is_a_mismatch() -> None:
    state = state_at(S.SHIPPED_TO_CLINIC)
    outcome = check_scan(state.expected_identity, Scan(PRODUCT_BAG, OTHER_COI.barcode_data))
    assert outcome.requires_deviation


@pytest.mark.parametrize(
    ("code", "verdict"),
    [
        ("=A99992500000101", ScanVerdict.MATCH),  # barcode with container flag 01
        ("a9999 25 000001", ScanVerdict.MATCH),
        (COI.barcode_data, ScanVerdict.MATCH),  # the chain's COI label on the same bag
        (COI.keyed, ScanVerdict.MATCH),
        ("=A99992500009901", ScanVerdict.MISMATCH),  # another donation's DIN on this bag
    ],
)
def test_scans_compare_identity_not_decoration(code: str, verdict: ScanVerdict) -> None:
    state = apply_event(state_at(S.LABELLED), event(E.COLLECTION, hours=3, din=OTHER_DIN))
    state = apply_event(state, event(E.LABELLING, hours=4, scans=(Scan("SRC-2", OTHER_DIN),)))
    assert check_scan(state.expected_identity, Scan(SOURCE_BAG, code)).verdict is verdict


def test_unreadable_scan_asks_for_a_rescan_without_a_deviation() -> None:
    state = state_at(S.IN_TRANSIT)
    outcome = check_scan(state.expected_identity, Scan(SOURCE_BAG, "A9999250000019"))
    assert outcome.verdict is ScanVerdict.UNREADABLE
    assert not outcome.requires_deviation and not outcome.blocks_chain
    with pytest.raises(ValidationFailed, match="could not be read.*Rescan"):
        outcome.raise_for_outcome()


def test_labelling_with_another_chains_din_is_a_mismatch() -> None:
    with pytest.raises(CustodyScanMismatch, match=f"label identity {OTHER_DIN}"):
        apply_event(state_after(1), event(E.LABELLING, scans=(Scan(SOURCE_BAG, OTHER_DIN),)))


def test_after_the_first_fill_only_product_containers_are_found() -> None:
    filled = state_at(S.FILLED)
    assert check_scan(filled.expected_identity, Scan(SOURCE_BAG, DIN)).requires_deviation
    two = apply_event(filled, event(E.FILL, hours=20, scans=(Scan("PRD-2", COI.value),)))
    assert set(two.containers) == {PRODUCT_BAG, "PRD-2"}


def test_a_mismatch_leads_to_a_blocked_chain_that_refuses_everything_but_unblocking() -> None:
    state = state_at(S.IN_TRANSIT)
    blocked = apply_event(state, event(E.CHAIN_BLOCKED, hours=9))
    assert blocked.blocked and blocked.blocked_by == "DEV-1"
    assert permitted_events(blocked) == {E.CHAIN_UNBLOCKED}
    for kind in E:
        if kind is E.CHAIN_UNBLOCKED:
            continue
        with pytest.raises(
            CustodyBreak,
            match=rf"Chain {COI} is blocked by deviation DEV-1: no "
            rf"'{kind.label}' event may be recorded",
        ):
            apply_event(blocked, event(kind, hours=10))
    with pytest.raises(
        CustodyBreak, match="blocked by deviation DEV-1; the unblocking event names deviation DEV-2"
    ):
        apply_event(blocked, event(E.CHAIN_UNBLOCKED, hours=10, deviation_ref="DEV-2"))
    unblocked = apply_event(blocked, event(E.CHAIN_UNBLOCKED, hours=10))
    assert not unblocked.blocked
    assert apply_event(unblocked, event(E.RECEIPT, hours=11)).stage is S.RECEIVED


def test_unblocking_an_unblocked_chain_is_refused() -> None:
    with pytest.raises(CustodyBreak, match="is not blocked; there is nothing to unblock"):
        apply_event(state_after(2), event(E.CHAIN_UNBLOCKED, hours=5))


# --------------------------------------------------------------------------------------------
# Dispensing
# --------------------------------------------------------------------------------------------


def test_autologous_product_is_dispensed_only_against_its_own_patient() -> None:
    at_clinic = state_at(S.RECEIVED_AT_CLINIC)
    assert check_dispense(COI, DonorType.AUTOLOGOUS, COI.barcode_data).matched
    outcome = check_dispense(COI, DonorType.AUTOLOGOUS, OTHER_COI.value)
    assert outcome.requires_deviation and outcome.blocks_chain
    assert f"only be dispensed to its own patient (COI {COI})" in outcome.message
    with pytest.raises(CustodyScanMismatch, match=f"the patient's COI reads {OTHER_COI}"):
        apply_event(at_clinic, event(E.INFUSION, hours=20, patient_coi=OTHER_COI.value))


def test_unreadable_patient_coi_asks_for_a_rescan() -> None:
    outcome = check_dispense(COI, DonorType.AUTOLOGOUS, "CH123")
    assert outcome.verdict is ScanVerdict.UNREADABLE and not outcome.requires_deviation


def test_allogeneic_product_goes_only_to_its_assigned_recipient() -> None:
    with pytest.raises(CustodyBreak, match="has no assigned recipient"):
        check_dispense(COI, DonorType.ALLOGENEIC, OTHER_COI.value)
    assert check_dispense(
        COI, DonorType.ALLOGENEIC, OTHER_COI.value, recipient_coi=OTHER_COI
    ).matched
    assert check_dispense(
        COI, DonorType.ALLOGENEIC, COI.value, recipient_coi=OTHER_COI
    ).requires_deviation
    chain = replay(COI, "allogeneic", canonical_events(len(CANONICAL) - 1), recipient_coi=OTHER_COI)
    infused = apply_event(chain, event(E.INFUSION, hours=20, patient_coi=OTHER_COI.value))
    assert infused.stage is S.INFUSED


def test_autologous_chain_cannot_name_another_recipient() -> None:
    with pytest.raises(ValidationFailed, match="autologous chain's recipient is its own patient"):
        ChainState.new(COI, "autologous", recipient_coi=OTHER_COI)
    with pytest.raises(ValidationFailed, match="'autologous' or 'allogeneic'"):
        ChainState.new(COI, "xenogeneic")


# --------------------------------------------------------------------------------------------
# Event shape
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "fields", "problem"),
    [
        (E.HAND_OVER, {"scans": ()}, "needs at least one scan"),
        (E.COLLECTION, {"din": None}, "needs the donation's DIN"),
        (E.INFUSION, {"patient_coi": " "}, "needs the patient's COI"),
        (
            E.RELEASE,
            {"qc_disposition": QcDisposition.APPROVED},
            "only a qc disposition event carries this field",
        ),
        (E.CHAIN_BLOCKED, {"comment": None}, "needs a comment"),
        (E.STORAGE, {"deviation_ref": "DEV-9"}, "only chain blocked/unblocked events"),
        (E.STORAGE, {"details": {"temperature_c": float("nan")}}, "finite"),
        (E.STORAGE, {"actor": ""}, "non-empty"),
    ],
)
def test_incomplete_events_are_refused(
    kind: CustodyEventType, fields: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValidationFailed, match="incomplete or has fields") as info:
        event(kind, **fields)
    assert any(problem in e.message for e in info.value.errors)


def test_event_needs_aware_time_and_known_type() -> None:
    with pytest.raises(ValidationFailed, match="timezone-aware"):
        CustodyEvent(E.STORAGE, datetime(2025, 1, 1), "u", "p")
    with pytest.raises(ValidationFailed, match="Unknown custody event type 'teleport'"):
        CustodyEvent("teleport", T0, "u", "p")  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed, match="'approved' or 'rejected'"):
        event(E.QC_DISPOSITION, qc_disposition="maybe")


# --------------------------------------------------------------------------------------------
# Hash links
# --------------------------------------------------------------------------------------------


def _independent_hash(coi: str, seq: int, ev: CustodyEvent, previous: str) -> str:
    """The documented hash, rebuilt with json and hashlib only."""

    def when(moment: datetime | None) -> str | None:
        return None if moment is None else moment.astimezone(UTC).isoformat()

    payload = {
        "coi": coi,
        "seq": seq,
        "event_type": ev.event_type.value,
        "occurred_at": when(ev.occurred_at),
        "recorded_at": when(ev.recorded_at),
        "actor": ev.actor,
        "party": ev.party,
        "scans": [
            {"container_id": s.container_id, "identity_code": s.identity_code} for s in ev.scans
        ],
        "din": ev.din,
        "patient_coi": ev.patient_coi,
        "qc_disposition": ev.qc_disposition.value if ev.qc_disposition else None,
        "deviation_ref": ev.deviation_ref,
        "comment": ev.comment,
        "details": dict(ev.details),
        "previous_hash": previous,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_hashes_follow_the_documented_canonical_json() -> None:
    events = canonical_events()
    linked = link_events(COI, events)
    previous = GENESIS_HASH
    for seq, (item, ev) in enumerate(zip(linked, events, strict=True), start=1):
        assert item.previous_hash == previous
        assert item.hash == _independent_hash(COI.value, seq, ev, previous)
        previous = item.hash


def test_intact_chain_verifies() -> None:
    result = verify_chain(COI, DonorType.AUTOLOGOUS, link_events(COI, canonical_events()))
    assert result.intact and result.events_checked == len(CANONICAL)
    assert result.state.stage is S.INFUSED
    result.raise_if_broken()


def test_edited_event_is_detected() -> None:
    linked = list(link_events(COI, canonical_events()))
    linked[2] = replace(linked[2], event=replace(linked[2].event, actor="someone.else"))
    result = verify_chain(COI, DonorType.AUTOLOGOUS, linked)
    assert [(p.seq, p.kind) for p in result.problems] == [(3, ChainProblemKind.HASH)]
    with pytest.raises(
        IntegrityViolation,
        match=rf"Custody chain {COI} does not verify at "
        r"event 3 \(hash\)",
    ):
        result.raise_if_broken()


def test_rehashed_edit_breaks_the_next_link() -> None:
    linked = list(link_events(COI, canonical_events()))
    edited = replace(linked[2].event, actor="someone.else")
    linked[2] = link_event(COI, 3, edited, linked[1].hash)
    problems = verify_chain(COI, DonorType.AUTOLOGOUS, linked).problems
    assert [(p.seq, p.kind) for p in problems] == [(4, ChainProblemKind.LINK)]


def test_deleted_and_reordered_events_are_detected() -> None:
    linked = list(link_events(COI, canonical_events()))
    kinds = {p.kind for p in verify_chain(COI, "autologous", linked[:3] + linked[4:]).problems}
    assert {ChainProblemKind.SEQUENCE, ChainProblemKind.LINK} <= kinds
    swapped = [*linked[:3], linked[4], linked[3], *linked[5:]]
    kinds = {p.kind for p in verify_chain(COI, "autologous", swapped).problems}
    assert {ChainProblemKind.SEQUENCE, ChainProblemKind.LINK, ChainProblemKind.CUSTODY} <= kinds


def test_event_of_another_chain_is_detected() -> None:
    linked = list(link_events(COI, canonical_events(3)))
    linked[1] = LinkedEvent(
        OTHER_COI.value,
        2,
        linked[1].event,
        linked[0].hash,
        custody_event_hash(OTHER_COI, 2, linked[1].event, linked[0].hash),
    )
    kinds = [p.kind for p in verify_chain(COI, "autologous", linked).problems]
    assert ChainProblemKind.WRONG_CHAIN in kinds


def test_correctly_hashed_chain_in_a_forbidden_order_fails_verification() -> None:
    events = [event(E.COLLECTION, 0), event(E.PROCESSING_START, 1)]
    problems = verify_chain(COI, "autologous", link_events(COI, events)).problems
    assert [(p.seq, p.kind) for p in problems] == [(2, ChainProblemKind.CUSTODY)]
    assert "'processing start' is not permitted" in problems[0].message


def test_hash_inputs_are_checked() -> None:
    with pytest.raises(ValidationFailed, match="64 lower-case hex digits"):
        custody_event_hash(COI, 1, event(E.COLLECTION), "abc")
    with pytest.raises(ValidationFailed, match="positive int"):
        custody_event_hash(COI, 0, event(E.COLLECTION), GENESIS_HASH)


@pytest.mark.parametrize("module", [custody, custody_rules, custody_scan])
def test_docstring_examples(module: ModuleType) -> None:
    assert doctest.testmod(module).failed == 0
