"""Batch disposition: each missing prerequisite blocks release by name; the happy path."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

import pytest
from quality_helpers import T0, Plant, creds
from sqlalchemy import select

from saisei.custody.imported import link_imported_chains
from saisei.domain.enums import (
    BatchStatus,
    DonorType,
    PartyType,
    QualificationStatus,
    SubjectType,
)
from saisei.errors import Conflict, PermissionDenied, ValidationFailed
from saisei.quality.coa import certificate_of_analysis
from saisei.quality.deviations import (
    close_deviation,
    record_capa,
    record_deviation,
    record_investigation,
)
from saisei.quality.disposition import (
    ReleaseBlocked,
    disposition_of,
    reject_batch,
    release_batch,
    release_readiness,
)
from saisei.quality.review import batch_audit_trail, review_audit_trail
from saisei.quality.specs import enter_qc_result, invalidate_qc_result, list_qc_results
from saisei.quality.users import AuthPolicy, bootstrap_admin, create_user
from saisei.storage.audit import audit_events
from saisei.storage.models import (
    Batch,
    ChainOfIdentity,
    CustodyEvent,
    Donor,
    Party,
    QCResult,
)
from saisei.storage.repositories import batches as batch_repo
from saisei.storage.store import Store


def enter_in_spec(store: Store, analyst: str, lot: str = "MSC-0001") -> None:
    """All three release tests, in specification."""
    enter_qc_result(store, analyst, lot, "viability", value=92.5, unit="%")
    enter_qc_result(store, analyst, lot, "CD73", value=97.1, unit="%")
    enter_qc_result(store, analyst, lot, "sterility", value_text="No growth")


def review(store: Store, plant: Plant, policy: AuthPolicy) -> None:
    review_audit_trail(store, plant.lot, creds(plant.qa), policy, comment="complete")


def release(store: Store, plant: Plant, policy: AuthPolicy) -> None:
    release_batch(store, plant.lot, creds(plant.qa), policy)


def _set_status(store: Store, lot: str, status: BatchStatus) -> None:
    with store.unit_of_work(actor="setup", source="test", reason="setup") as uow:
        batch_repo.get_batch(uow.session, lot).status = status


#: A valid COI and DINs (shared/docs/domain.md: A999921123456 is ICCBBA ST-001's DIN, check
#: character 3; G123498654321 is the UK Red Book annex 2 example, another donation).
COI, DIN, OTHER_DIN = "CHA999925000011", "A999921123456", "G123498654321"

#: An imported chain up to processing start: (event type, party, scanned identity code).
INBOUND = (
    ("collection", "HOSP", DIN),
    ("labelling", "HOSP", DIN),
    ("packing", "HOSP", DIN),
    ("hand_over", "COURIER", DIN),
    ("receipt", "MFG", DIN),
    ("accessioning", "MFG", DIN),
    ("processing_start", "MFG", DIN),
)


def _chain(store: Store, lot: str, events: Sequence[tuple[str, str, str]]) -> None:
    """Give the lot a chain of identity with imported custody events, linked as an import is."""
    with store.unit_of_work(actor="setup", source="test", reason="setup") as uow:
        parties = {}
        for code, kind in (
            ("HOSP", PartyType.COLLECTION_SITE),
            ("COURIER", PartyType.COURIER),
            ("MFG", PartyType.MANUFACTURER),
        ):
            parties[code] = Party(
                code=code,
                name=code,
                party_type=kind,
                qualification_status=QualificationStatus.QUALIFIED,
            )
        uow.session.add_all(parties.values())
        donor = Donor(code="D-1", donor_type=DonorType.AUTOLOGOUS)
        uow.session.add(donor)
        uow.flush()
        coi = ChainOfIdentity(coi=COI, donor_id=donor.id)
        uow.session.add(coi)
        uow.flush()
        batch_repo.get_batch(uow.session, lot).coi_id = coi.id
        for i, (event_type, party, scanned) in enumerate(events):
            source = i < 6  # the collection until accessioning, the lot after
            uow.session.add(
                CustodyEvent(
                    coi_id=coi.id,
                    subject_type=SubjectType.COLLECTION if source else SubjectType.BATCH,
                    subject_ref=DIN if source else lot,
                    event_type=event_type,
                    party_id=parties[party].id,
                    actor="op",
                    occurred_at=T0 + timedelta(hours=i),
                    scanned_ids=[scanned],
                )
            )
        uow.flush()
        link_imported_chains(uow.session)


def test_full_happy_path_from_first_admin_to_certificate(
    store: Store, plant: Plant, policy: AuthPolicy
) -> None:
    # a fresh set of accounts made through the services, first administrator first
    admin_pw, qa_pw, qc_pw = "admin-pass-01", "qa-pass-0002", "qc-pass-0003"
    with pytest.raises(Conflict, match="Users already exist"):
        bootstrap_admin(store, "root", "Root Admin", admin_pw, policy)
    create_user(store, plant.admin, "qa.mori", "Hana Mori", qa_pw, ["qa"], policy)
    create_user(store, plant.admin, "qc.ueda", "Sho Ueda", qc_pw, ["qc_analyst"], policy)

    enter_in_spec(store, "qc.ueda")
    assert [r.outcome for r in list_qc_results(store, plant.lot)] == ["pass", "pass", "pass"]
    assert release_readiness(store, plant.lot).problems() == [
        f"audit-trail review: no audit-trail review is recorded for lot {plant.lot} "
        f"(run 'saisei review {plant.lot}')"
    ]
    trail = batch_audit_trail(store, plant.lot)
    assert sum(e.tag == "app:qc_result:create" for e in trail) == 3
    reviewed = review_audit_trail(
        store, plant.lot, creds("qa.mori", qa_pw), policy, comment="no anomalies"
    )
    assert reviewed.current and reviewed.signatures[0].meaning == "review"
    assert release_readiness(store, plant.lot).ready

    done = release_batch(store, plant.lot, creds("qa.mori", qa_pw), policy)
    assert done.status == "released"
    (signature,) = done.signatures
    assert (signature.meaning, signature.printed_name, signature.signer) == (
        "release",
        "Hana Mori",
        "qa.mori",
    )
    assert signature.valid and signature.signed_at.tzinfo is not None
    assert "Signed by Hana Mori (qa.mori)" in signature.line()

    with store.reader() as session:
        assert batch_repo.get_batch(session, plant.lot).status == BatchStatus.RELEASED
        tags = [e.tag for e in audit_events(session, entity_type="batch")]
    assert "app:batch:release" in tags

    coa = certificate_of_analysis(store, plant.lot)
    assert coa.released
    assert "NOT RELEASED" not in coa.html
    assert ">97.1<" in coa.html and "&gt;= 95" in coa.html
    assert "Hana Mori" in coa.html and "meaning: release" in coa.html


def _no_cd73(store: Store, plant: Plant, policy: AuthPolicy) -> None:
    enter_qc_result(store, plant.analyst, plant.lot, "viability", value=92.5, unit="%")
    enter_qc_result(store, plant.analyst, plant.lot, "sterility", value_text="no growth")
    review(store, plant, policy)


def _oos_open(store: Store, plant: Plant, policy: AuthPolicy) -> None:
    enter_in_spec(store, plant.analyst)
    enter_qc_result(store, plant.analyst, plant.lot, "viability", value=65.0, unit="%")
    review(store, plant, policy)


def _other_deviation(store: Store, plant: Plant, policy: AuthPolicy) -> None:
    enter_in_spec(store, plant.analyst)
    record_deviation(
        store,
        plant.analyst,
        description="incubator door left open 5 min",
        category="process",
        severity="minor",
        lot=plant.lot,
    )
    review(store, plant, policy)


def _custody_deviation(store: Store, plant: Plant, policy: AuthPolicy) -> None:
    enter_in_spec(store, plant.analyst)
    record_deviation(
        store,
        plant.analyst,
        description="label scan mismatch at receipt",
        category="custody",
        severity="critical",
        lot=plant.lot,
    )
    review(store, plant, policy)


def _missing_hand_over(store: Store, plant: Plant, policy: AuthPolicy) -> None:
    _chain(store, plant.lot, [e for e in INBOUND if e[0] != "hand_over"])
    enter_in_spec(store, plant.analyst)
    review(store, plant, policy)


def _identity_mismatch(store: Store, plant: Plant, policy: AuthPolicy) -> None:
    _chain(store, plant.lot, [(*e[:2], OTHER_DIN) if e[0] == "receipt" else e for e in INBOUND])
    enter_in_spec(store, plant.analyst)
    review(store, plant, policy)


def _edited_event(store: Store, plant: Plant, policy: AuthPolicy) -> None:
    _chain(store, plant.lot, INBOUND)
    with store.unit_of_work(actor="mallory", source="test", reason="edit") as uow:
        row = uow.session.scalars(
            select(CustodyEvent).where(CustodyEvent.event_type == "hand_over")
        ).one()
        row.actor = "mallory"
    enter_in_spec(store, plant.analyst)
    review(store, plant, policy)


def _no_custody_events(store: Store, plant: Plant, policy: AuthPolicy) -> None:
    _chain(store, plant.lot, [])
    enter_in_spec(store, plant.analyst)
    review(store, plant, policy)


def _no_review(store: Store, plant: Plant, policy: AuthPolicy) -> None:
    enter_in_spec(store, plant.analyst)


def _stale_review(store: Store, plant: Plant, policy: AuthPolicy) -> None:
    enter_in_spec(store, plant.analyst)
    review(store, plant, policy)
    enter_qc_result(store, plant.analyst, plant.lot, "viability", value=91.0, unit="%")


def _not_in_quarantine(store: Store, plant: Plant, policy: AuthPolicy) -> None:
    enter_in_spec(store, plant.analyst)
    review(store, plant, policy)
    _set_status(store, plant.lot, BatchStatus.COMPLETED)


MISSING: dict[str, tuple[Callable[[Store, Plant, AuthPolicy], None], str, str]] = {
    "status": (_not_in_quarantine, "batch status", r"the lot is 'completed'; only a lot in"),
    "release result": (_no_cd73, "QC results", r"no valid release result for 'CD73' \(spec"),
    "oos deviation": (
        _oos_open,
        "QC results",
        r"QC result \d+ \(viability = 65 %\) is out of specification and its deviation "
        r"DEV-00001 is open, not closed",
    ),
    "open deviation": (
        _other_deviation,
        "deviations",
        r"deviation DEV-00001 \(process, minor\) is open, not closed",
    ),
    "custody deviation": (
        _custody_deviation,
        "custody chain",
        r"custody deviation DEV-00001 \(open\) is not closed",
    ),
    "custody hand-over": (
        _missing_hand_over,
        "custody chain",
        rf"chain {COI}: event 4 \(custody\): Custody event 'receipt' is not permitted for chain "
        rf"{COI} at stage 'packed'",
    ),
    "custody identity": (
        _identity_mismatch,
        "custody chain",
        rf"chain {COI}: event 5 \(custody\): Scan mismatch on chain {COI}",
    ),
    "custody edit": (
        _edited_event,
        "custody chain",
        rf"chain {COI}: event 4 \(hash\): stored hash [0-9a-f]{{64}} does not match",
    ),
    "custody events": (_no_custody_events, "custody chain", "no custody events recorded"),
    "review": (_no_review, "audit-trail review", "no audit-trail review is recorded"),
    "stale review": (
        _stale_review,
        "audit-trail review",
        "the batch record changed after the audit-trail review",
    ),
}


@pytest.mark.parametrize("case", sorted(MISSING))
def test_release_fails_naming_each_missing_prerequisite(
    store: Store, plant: Plant, policy: AuthPolicy, case: str
) -> None:
    arrange, name, message = MISSING[case]
    arrange(store, plant, policy)
    readiness = release_readiness(store, plant.lot)
    assert [p.name for p in readiness.prerequisites if not p.ok] == [name]
    with pytest.raises(ReleaseBlocked, match=f"cannot be released:\n  - {name}: {message}"):
        release(store, plant, policy)
    with store.reader() as session:
        assert batch_repo.get_batch(session, plant.lot).status != BatchStatus.RELEASED
        assert not [e for e in audit_events(session) if e.tag.endswith(":batch:release")]


def test_intact_custody_chain_passes(store: Store, plant: Plant, policy: AuthPolicy) -> None:
    _chain(store, plant.lot, INBOUND)
    enter_in_spec(store, plant.analyst)
    review(store, plant, policy)
    release(store, plant, policy)
    assert disposition_of(store, plant.lot).status == "released"


def test_closed_oos_deviation_or_invalidation_with_retest_allows_release(
    store: Store, plant: Plant, policy: AuthPolicy
) -> None:
    enter_in_spec(store, plant.analyst)
    oos = enter_qc_result(store, plant.analyst, plant.lot, "CD73", value=93.0, unit="%")
    assert (oos.outcome, oos.deviation) == ("oos", "DEV-00001")
    invalidate_qc_result(store, plant.qa, oos.id, reason="pipetting error confirmed")
    retest = enter_qc_result(
        store, plant.analyst, plant.lot, "CD73", value=96.2, unit="%", retest_of=oos.id
    )
    assert retest.retest_of == oos.id
    # the OOS investigation itself must still be closed
    assert release_readiness(store, plant.lot).problems() == [
        "deviations: deviation DEV-00001 (oos, major) is open, not closed",
        f"audit-trail review: no audit-trail review is recorded for lot {plant.lot} "
        f"(run 'saisei review {plant.lot}')",
    ]
    record_investigation(store, plant.qa, "DEV-00001", root_cause="pipetting error")
    record_capa(store, plant.qa, "DEV-00001", capa="retrain analyst; second-person check")
    close_deviation(store, "DEV-00001", creds(plant.qa), policy)
    review(store, plant, policy)
    release(store, plant, policy)
    assert disposition_of(store, plant.lot).status == "released"


def test_only_qa_may_release(store: Store, plant: Plant, policy: AuthPolicy) -> None:
    enter_in_spec(store, plant.analyst)
    review(store, plant, policy)
    with pytest.raises(PermissionDenied, match=r"'qc.ito' .* may not run disposition.release"):
        release_batch(store, plant.lot, creds(plant.analyst), policy)


def test_an_edit_after_release_invalidates_the_release_signature(
    store: Store, plant: Plant, policy: AuthPolicy
) -> None:
    enter_in_spec(store, plant.analyst)
    review(store, plant, policy)
    release(store, plant, policy)
    with store.unit_of_work(actor="intruder", source="test", reason="edit") as uow:
        result = uow.session.query(QCResult).filter_by(attribute="CD73").one()
        result.value = 99.9
    (signature,) = disposition_of(store, plant.lot).signatures
    assert not signature.valid
    assert "NO LONGER VALID" in signature.line()
    coa = certificate_of_analysis(store, plant.lot)
    assert not coa.released
    assert "NOT RELEASED" in coa.html and 'class="invalid"' in coa.html
    # the edit shows as a change since original entry
    changed = {r.attribute: r.changed_since_entry for r in list_qc_results(store, plant.lot)}
    assert changed == {"viability": False, "CD73": True, "sterility": False}


def test_reject_needs_a_reason_a_review_and_signs_with_approval(
    store: Store, plant: Plant, policy: AuthPolicy
) -> None:
    enter_qc_result(store, plant.analyst, plant.lot, "viability", value=50.0, unit="%")
    with pytest.raises(ValidationFailed, match="A reason is required to reject lot"):
        reject_batch(store, plant.lot, creds(plant.qa), policy, reason=" ")
    with pytest.raises(Conflict, match="cannot be rejected: no audit-trail review"):
        reject_batch(store, plant.lot, creds(plant.qa), policy, reason="viability OOS")
    review(store, plant, policy)
    done = reject_batch(store, plant.lot, creds(plant.qa), policy, reason="viability OOS")
    assert done.status == "rejected"
    assert [s.meaning for s in done.signatures] == ["approval"]
    with pytest.raises(ReleaseBlocked, match="the lot is 'rejected'; only a lot in 'quarantine'"):
        release(store, plant, policy)


def test_certificate_of_unreleased_lot_says_so_and_escapes_values(
    store: Store, plant: Plant
) -> None:
    enter_qc_result(store, plant.analyst, plant.lot, "sterility", value_text="<b>growth</b>")
    coa = certificate_of_analysis(store, plant.lot)
    assert not coa.released
    assert "NOT RELEASED" in coa.html
    assert "&lt;b&gt;growth&lt;/b&gt;" in coa.html and "<b>growth" not in coa.html


def test_batch_without_chain_of_identity_needs_no_custody_events(
    store: Store, plant: Plant
) -> None:
    with store.reader() as session:
        batch = batch_repo.get_batch(session, plant.lot)
        assert isinstance(batch, Batch) and batch.coi_id is None
    custody = [
        p for p in release_readiness(store, plant.lot).prerequisites if p.name == "custody chain"
    ]
    assert custody[0].ok
