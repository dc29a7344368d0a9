"""Comparability studies: plan -> lock (signed) -> amend (signed) -> run -> result, on a store.

Expected statistics are computed in the test with scipy/numpy closed forms (Welch interval,
mean +/- k SD), never with saisei.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from argon2 import PasswordHasher
from scipy import stats
from sqlalchemy import select

from saisei.domain.enums import ProductType, QCStatus
from saisei.errors import (
    AuthenticationFailed,
    Conflict,
    IntegrityViolation,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from saisei.quality.esign import Credentials
from saisei.quality.users import AuthPolicy
from saisei.services import comparability as service
from saisei.services.ingest import import_path
from saisei.services.simulation import simulate_to_folder
from saisei.storage.models import (
    AuditEvent,
    Batch,
    ComparabilityAmendment,
    ComparabilityStudy,
    ProcessDefinition,
    QCResult,
    User,
)
from saisei.storage.repositories import quality as quality_repo
from saisei.storage.store import Store
from saisei.storage.unit_of_work import UnitOfWork

PASSWORD = "correct-horse-42"
POLICY = AuthPolicy(argon2_time_cost=1, argon2_memory_kib=64, argon2_parallelism=1)
HASH = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash(PASSWORD)
T0 = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
T1 = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)

POTENCY_R = [100.0, 104.0, 98.0, 101.0, 97.0, 103.0]
POTENCY_T = [99.0, 102.0, 100.0, 96.0, 101.0, 98.0]
VIABILITY_R = [90.0, 92.0, 91.0, 89.0, 93.0, 90.0]
VIABILITY_T = [91.0, 88.0, 92.0, 90.0, 91.0, 95.0]
CD73_R = [98.0, 98.5, 97.9, 98.2, 98.4, 98.1]
CD73_T = [98.3, 98.0, 98.6, 97.8, 98.2, 98.5]


def _user(store: Store, username: str, role: str, full_name: str) -> None:
    with store.unit_of_work(actor="setup", source="test", reason="test user") as uow:
        user = User(
            username=username,
            full_name=full_name,
            password_hash=HASH,
            active=True,
            failed_logins=0,
            password_changed_at=datetime.now(UTC),
            created_at=datetime.now(UTC),
        )
        user.roles = quality_repo.ensure_roles(uow.session, [role])
        uow.session.add(user)


def _lots(
    uow: UnitOfWork,
    process: str,
    version: str,
    product: ProductType,
    prefix: str,
    start: datetime,
    values: dict[str, list[float]],
) -> dict[str, int]:
    definition = ProcessDefinition(name=process, version=version, product_type=product)
    uow.session.add(definition)
    uow.flush()
    ids = {}
    for i in range(6):
        batch = Batch(
            lot_number=f"{prefix}{i + 1:02d}",
            product_type=product,
            process_id=definition.id,
            started_at=start + timedelta(days=7 * i),
        )
        uow.session.add(batch)
        uow.flush()
        ids[batch.lot_number] = batch.id
        for attribute, column in values.items():
            _qc(uow, batch.id, attribute, column[i])
    return ids


def _qc(uow: UnitOfWork, batch_id: int, attribute: str, value: float, **extra: Any) -> None:
    unit = "%" if attribute != "potency" else "% of reference"
    uow.session.add(
        QCResult(batch_id=batch_id, attribute=attribute, value=value, unit=unit, **extra)
    )


@pytest.fixture
def lab(store: Store) -> Store:
    """Six MSC lots on process 1.0, six on 2.0, six CAR-T lots on 2.0; QA, scientist, analyst."""
    before = {"potency": POTENCY_R, "viability": VIABILITY_R, "cd73": CD73_R}
    after = {"potency": POTENCY_T, "viability": VIABILITY_T, "cd73": CD73_T}
    with store.unit_of_work(actor="setup", source="test", reason="test lots") as uow:
        ref = _lots(uow, "MSC-BM", "1.0", ProductType.MSC, "R", T0, before)
        new = _lots(uow, "MSC-BM", "2.0", ProductType.MSC, "T", T1, after)
        _lots(uow, "CART-X", "2.0", ProductType.CAR_T, "C", T1, after)
        # Lot R01 was tested three times (100, 99, 101: its potency is the mean, 100), and
        # T01 has an invalidated result that must not count.
        _qc(uow, ref["R01"], "potency", 99.0)
        _qc(uow, ref["R01"], "potency", 101.0)
        _qc(
            uow,
            new["T01"],
            "potency",
            500.0,
            status=QCStatus.INVALIDATED,
            invalidation_reason="sample mix-up",
        )
    _user(store, "qa.sato", "qa", "Aiko Sato")
    _user(store, "ps.mori", "process_scientist", "Ren Mori")
    _user(store, "qc.ito", "qc_analyst", "Ken Ito")
    return store


def plan_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "study": "CMP-001",
        "product": "MSC",
        "name": "Expansion medium supplier A -> B",
        "description": "Change control CC-42.",
        "reference_lots": {"process_versions": ["1.0"]},
        "test_lots": {"process_versions": ["MSC-BM:2.0"]},
        "cqas": [
            {"name": "potency", "tier": 1, "margin": 6.0, "unit": "% of reference"},
            {"name": "viability", "tier": 2, "unit": "%"},
            {"name": "cd73", "tier": 3, "unit": "%"},
        ],
        "multivariate": ["potency", "viability", "cd73"],
    }
    data.update(changes)
    return data


def qa() -> Credentials:
    return Credentials(password=PASSWORD, username="qa.sato")


def _locked(store: Store, **changes: Any) -> None:
    service.save_plan(store, "ps.mori", service.parse_study(plan_data(**changes)))
    service.lock_study(store, "CMP-001", qa(), POLICY)


def welch_interval(reference: list[float], test: list[float], alpha: float = 0.05) -> tuple:
    """Welch (1 - 2 alpha) interval of mean(test) - mean(reference), from its closed form."""
    r, t = np.asarray(reference), np.asarray(test)
    vr, vt = r.var(ddof=1) / r.size, t.var(ddof=1) / t.size
    se = np.sqrt(vr + vt)
    dof = (vr + vt) ** 2 / (vr**2 / (r.size - 1) + vt**2 / (t.size - 1))
    d = t.mean() - r.mean()
    half = stats.t.ppf(1 - alpha, dof) * se
    return d, d - half, d + half


def test_plan_lock_run_evaluates_the_selected_lots(lab: Store) -> None:
    saved = service.save_plan(lab, "ps.mori", service.parse_study(plan_data()))
    assert (saved.action, saved.study.status) == ("created", "draft")
    locked = service.lock_study(lab, "CMP-001", qa(), POLICY)
    assert locked.status == "locked" and locked.approval_valid
    (signature,) = locked.signatures
    assert (signature.meaning, signature.printed_name, signature.valid) == (
        "approval",
        "Aiko Sato",
        True,
    )

    found = service.run_study(lab, "ps.mori", "CMP-001")

    assert found.study.status == "run"
    assert found.run.plan_sha256 == locked.plan_sha256 and found.run.current
    # product MSC and process MSC-BM 2.0: the CAR-T lots on a process "2.0" are not selected
    assert [lot["lot"] for lot in found.lots["reference"]] == [f"R{i:02d}" for i in range(1, 7)]
    assert [lot["lot"] for lot in found.lots["test"]] == [f"T{i:02d}" for i in range(1, 7)]
    potency = found.result.outcome("potency")
    d, low, high = welch_interval(POTENCY_R, POTENCY_T)
    assert potency.tost is not None
    assert potency.tost.difference == pytest.approx(d, rel=1e-12)
    assert (potency.tost.ci_low, potency.tost.ci_high) == pytest.approx((low, high), rel=1e-12)
    assert potency.verdict.value == ("pass" if low > -6 and high < 6 else "fail")
    viability = found.result.outcome("viability")
    mean, sd = np.mean(VIABILITY_R), np.std(VIABILITY_R, ddof=1)
    assert viability.quality_range is not None
    assert (viability.quality_range.low, viability.quality_range.high) == pytest.approx(
        (mean - 3 * sd, mean + 3 * sd)
    )
    inside = sum(mean - 3 * sd <= v <= mean + 3 * sd for v in VIABILITY_T)
    assert viability.quality_range.n_inside == inside
    assert found.result.outcome("cd73").verdict.value == "descriptive"
    assert found.result.hotelling is not None and found.result.pca is not None
    assert found.units["potency"] == "% of reference"


def test_every_step_is_audited(lab: Store) -> None:
    _locked(lab)
    service.run_study(lab, "ps.mori", "CMP-001")
    with lab.reader() as session:
        tags = [
            (e.tag, e.actor)
            for e in session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
            if e.entity_type in ("comparability_study", "comparability_run", "signature")
        ]
    assert ("app:comparability_study:create", "ps.mori") in tags
    assert ("app:signature:create", "qa.sato") in tags
    assert ("app:comparability_study:update", "qa.sato") in tags  # draft -> locked
    assert ("app:comparability_run:create", "ps.mori") in tags


def test_run_before_lock_is_refused(lab: Store) -> None:
    service.save_plan(lab, "ps.mori", service.parse_study(plan_data()))
    with pytest.raises(Conflict, match="CMP-001 is a draft: its plan has not been locked"):
        service.run_study(lab, "ps.mori", "CMP-001")
    with pytest.raises(NotFound, match="CMP-001 has no results yet"):
        service.study_result(lab, "CMP-001")


def test_draft_is_edited_freely_but_a_locked_plan_is_not(lab: Store) -> None:
    service.save_plan(lab, "ps.mori", service.parse_study(plan_data()))
    again = service.save_plan(lab, "ps.mori", service.parse_study(plan_data()))
    assert again.action == "unchanged"
    edited = service.save_plan(lab, "ps.mori", service.parse_study(plan_data(name="Supplier B")))
    assert (edited.action, edited.study.plan_version) == ("updated", 1)
    service.lock_study(lab, "CMP-001", qa(), POLICY)
    with pytest.raises(Conflict, match="CMP-001 is locked .* cannot be edited.*amend CMP-001"):
        service.save_plan(lab, "ps.mori", service.parse_study(plan_data(name="Supplier C")))
    with pytest.raises(Conflict, match="already locked"):
        service.lock_study(lab, "CMP-001", qa(), POLICY)


def test_amendment_needs_a_reason_and_a_new_signature(lab: Store) -> None:
    _locked(lab)
    first = service.run_study(lab, "ps.mori", "CMP-001")
    wider = plan_data()
    wider["cqas"][0]["margin"] = 8.0
    definition = service.parse_study(wider)
    with pytest.raises(ValidationFailed, match="needs a reason"):
        service.amend_study(lab, "CMP-001", definition, qa(), POLICY, reason=" ")
    with pytest.raises(Conflict, match="identical to plan version 1"):
        service.amend_study(
            lab, "CMP-001", service.parse_study(plan_data()), qa(), POLICY, reason="none"
        )
    scientist = Credentials(password=PASSWORD, username="ps.mori")
    with pytest.raises(PermissionDenied, match="may not run comparability.amend_plan"):
        service.amend_study(lab, "CMP-001", definition, scientist, POLICY, reason="r")

    amended = service.amend_study(
        lab, "CMP-001", definition, qa(), POLICY, reason="assay variability re-estimated"
    )

    assert (amended.status, amended.plan_version) == ("locked", 2)
    assert amended.plan_sha256 == definition.sha256 != first.run.plan_sha256
    (amendment,) = amended.amendments
    assert amendment.after_results and amendment.previous_sha256 == first.run.plan_sha256
    # the version 1 approval covers the old plan only; the version 2 approval is valid
    assert [(s.record_id, s.valid) for s in amended.signatures] == [
        ("CMP-001/v1", False),
        ("CMP-001/v2", True),
    ]
    assert amended.approval_valid
    old = service.study_result(lab, "CMP-001", run=1)
    assert not old.run.current
    assert any("amended after this run" in w for w in old.warnings)
    second = service.run_study(lab, "ps.mori", "CMP-001")
    assert second.run.run_number == 2 and second.run.plan_sha256 == definition.sha256
    assert second.result.outcome("potency").margin == 8.0
    with lab.reader() as session:
        stored = session.execute(select(ComparabilityAmendment)).scalar_one()
        assert stored.previous_plan["cqas"][0]["margin"] == 6.0


def test_a_plan_changed_without_amendment_is_refused(lab: Store) -> None:
    _locked(lab)
    with lab.unit_of_work(actor="intruder", source="test", reason="quiet edit") as uow:
        study = uow.session.execute(select(ComparabilityStudy)).scalar_one()
        plan = dict(study.plan)
        plan["cqas"] = [{**plan["cqas"][0], "margin": 60.0}, *plan["cqas"][1:]]
        study.plan = plan
    with pytest.raises(IntegrityViolation, match="changed without an amendment"):
        service.run_study(lab, "ps.mori", "CMP-001")
    assert not service.show_study(lab, "CMP-001").plan_intact


def test_lock_needs_qa_and_the_right_password(lab: Store) -> None:
    service.save_plan(lab, "ps.mori", service.parse_study(plan_data()))
    with pytest.raises(PermissionDenied, match="'ps.mori' .* may not run comparability.lock"):
        service.lock_study(lab, "CMP-001", Credentials(PASSWORD, "ps.mori"), POLICY)
    with pytest.raises(AuthenticationFailed):
        service.lock_study(lab, "CMP-001", Credentials("wrong-password-1", "qa.sato"), POLICY)
    with pytest.raises(PermissionDenied, match="'qc.ito' .* may not run comparability.edit"):
        service.save_plan(lab, "qc.ito", service.parse_study(plan_data()))
    with pytest.raises(NotFound, match="No comparability study 'CMP-404'"):
        service.lock_study(lab, "CMP-404", qa(), POLICY)


@pytest.mark.parametrize(
    ("reference", "test", "error", "message"),
    [
        (
            {"process_versions": ["9.9"]},
            {"process_versions": ["2.0"]},
            ValidationFailed,
            r"pre-change \(reference\) lot selection \(process version 9.9\) matches no lot",
        ),
        (
            {"lot_ids": ["R01", "R99"]},
            {"process_versions": ["2.0"]},
            NotFound,
            "name lot\\(s\\) not in the store of product MSC: R99",
        ),
        (
            {"process_versions": ["1.0", "2.0"]},
            {"process_versions": ["2.0"]},
            ValidationFailed,
            "cannot be both pre- and post-change.*T01",
        ),
    ],
)
def test_bad_lot_selections_are_refused_at_run(
    lab: Store, reference: dict, test: dict, error: type[Exception], message: str
) -> None:
    _locked(lab, reference_lots=reference, test_lots=test)
    with pytest.raises(error, match=message):
        service.run_study(lab, "ps.mori", "CMP-001")


def test_lots_selected_by_dates_and_by_list(lab: Store) -> None:
    window = {"produced_from": "2025-01-13", "produced_to": "2025-02-03"}  # R02 .. R05
    _locked(lab, product=None, reference_lots=window, test_lots={"lot_ids": ["T02", "C03"]})
    found = service.run_study(lab, "ps.mori", "CMP-001")
    assert [lot["lot"] for lot in found.lots["reference"]] == ["R02", "R03", "R04", "R05"]
    assert [lot["lot"] for lot in found.lots["test"]] == ["T02", "C03"]


def test_result_is_rebuilt_from_the_snapshot_not_from_current_data(lab: Store) -> None:
    _locked(lab)
    ran = service.run_study(lab, "ps.mori", "CMP-001")
    with lab.unit_of_work(actor="setup", source="test", reason="late result") as uow:
        batch = uow.session.execute(select(Batch).where(Batch.lot_number == "T02")).scalar_one()
        uow.session.add(QCResult(batch_id=batch.id, attribute="potency", value=10.0))
    again = service.study_result(lab, "CMP-001")
    assert again.test.at["T02", "potency"] == ran.test.at["T02", "potency"] == 102.0  # type: ignore[operator]
    assert again.to_dict()["result"] == ran.to_dict()["result"]
    assert again.warnings == ()


def test_plan_definition_errors_name_the_problem() -> None:
    with pytest.raises(ValidationFailed, match="must name its study code under 'study:'"):
        service.parse_study({k: v for k, v in plan_data().items() if k != "study"})
    with pytest.raises(ValidationFailed, match="study code must be 1-48 letters"):
        service.parse_study(plan_data(study="bad code!"))
    with pytest.raises(ValidationFailed, match="'product' of the plan must be one of"):
        service.parse_study(plan_data(product="cheese"))
    with pytest.raises(ValidationFailed, match="the plan: The data for ComparabilityPlan"):
        service.parse_study(plan_data(colour="blue"))


# -- simulator: a process change with known shifts -------------------------------------------

#: Tables a comparability run needs; the simulator's time series and logger files are left out
#: of the import because they cost most of its time and no QC value depends on them.
_NEEDED = {"parties", "donors", "collections", "batches", "qc_results"}


def _simulated_store(tmp_path: Path, seed: int) -> tuple[Store, dict[str, float]]:
    folder = tmp_path / f"plant-{seed}"
    simulate_to_folder("msc", 20, seed, folder, process_change_at=10)
    subset = tmp_path / f"subset-{seed}"
    shutil.copytree(folder / "process", subset / "process")
    for file in folder.iterdir():
        if file.is_file() and file.stem in _NEEDED:
            shutil.copy(file, subset / file.name)
    store = Store.open(f"sqlite:///{tmp_path / f'plant-{seed}.db'}", tmp_path / f"ts-{seed}")
    store.upgrade()
    assert import_path(store, subset, actor="test").ok
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    (change,) = truth["process_changes"]
    return store, change["shifts"]


@pytest.mark.slow
def test_simulated_change_shifted_cqa_fails_unshifted_pass_at_the_power_rate(
    tmp_path: Path,
) -> None:
    """Over several seeds: potency (true shift beyond its margin) always fails; attributes
    without a shift (|shift| < 0.05 SD_R) pass at about the rate the power calculation gives.

    Expected rates come from the simulator's truth.json shifts (docs/simulator.md: medium
    supplier A -> B, potency -7 %) and the estimated-margin TOST power that the study reports
    per CQA (about 0.8 for 9 + 11 lots and a 1.5 SD_R margin).
    """
    unshifted_names = ["cd45", "cd34", "endotoxin", "post_thaw_viability", "cd73", "cd90"]
    verdicts: list[bool] = []
    powers: list[float] = []
    for seed in range(4):
        store, shifts = _simulated_store(tmp_path, seed)
        potency_margin = 5.0
        assert abs(shifts["potency"]) > potency_margin  # the truth: this shift exceeds it
        data = plan_data(
            study=f"SIM-{seed}",
            reference_lots={"process_versions": ["1.0"]},
            test_lots={"process_versions": ["2.0"]},
            cqas=[
                {
                    "name": "potency",
                    "tier": 1,
                    "margin": potency_margin,
                    "assumed_difference": shifts["potency"],
                },
                *({"name": n, "tier": 1} for n in unshifted_names),
            ],
            multivariate=[],
        )
        _user(store, "qa.sato", "qa", "Aiko Sato")
        service.save_plan(store, "qa.sato", service.parse_study(data))
        service.lock_study(store, f"SIM-{seed}", qa(), POLICY)
        found = service.run_study(store, "qa.sato", f"SIM-{seed}")
        potency = found.result.outcome("potency")
        assert potency.verdict.value == "fail"
        assert potency.power is not None and potency.power < 0.05
        for name in unshifted_names:
            outcome = found.result.outcome(name)
            assert abs(shifts[name]) < 0.05 * outcome.sd_reference
            assert outcome.power is not None
            verdicts.append(outcome.verdict.value == "pass")
            powers.append(outcome.power)
        store.close()
    rate, predicted = float(np.mean(verdicts)), float(np.mean(powers))
    assert 0.7 < predicted < 0.9
    # 24 correlated verdicts: a generous band, but a wrong power (or a broken TOST) leaves it
    assert abs(rate - predicted) < 0.2, (rate, predicted)
