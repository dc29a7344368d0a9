"""Comparability studies: a plan registered before results, locked, amended, run, reported.

Life cycle (ICH Q5E; FDA 2023 draft guidance on manufacturing changes for CGT products):

1. ``save_plan``: a draft plan (CQAs, tiers, margins, pre/post lot selections) is created
   or edited freely; nothing can be computed yet.
2. ``lock_study``: QA approves the plan with an e-signature (meaning ``approval``) bound to
   the plan's SHA-256. From then on the plan changes only by
3. ``amend_study``: a signed, audited amendment with a reason; the amendment row keeps the
   plan before and both hashes, and says whether results had already been computed.
4. ``run_study``: selects the lots, pulls their QC values, evaluates the plan and stores a
   snapshot (lots, values, result) with the plan hash it ran against. Refused for a draft, and
   refused when the stored plan no longer matches its hash or its approval signature.
5. ``study_result`` / ``write_report``: the result of a run, rebuilt from its snapshot, as
   JSON or as a self-contained HTML report.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from saisei.analytics.comparability import ComparabilityPlan, evaluate_plan
from saisei.domain.enums import SignatureMeaning
from saisei.errors import Conflict, IntegrityViolation, NotFound, ValidationFailed
from saisei.quality.access import authorize
from saisei.quality.esign import (
    Credentials,
    SignatureView,
    apply_signature,
    binding_hash,
    verify_signer,
)
from saisei.quality.permissions import check_permission
from saisei.quality.users import AuthPolicy
from saisei.reports.render import (
    PLOTLY_JS_FILENAME,
    ReportContext,
    plotly_js_source,
    render_comparability_report,
)
from saisei.services import _comparability_lots as lots_mod
from saisei.services._comparability_views import (
    AmendmentView,
    PlanSaved,
    ReportWritten,
    RunView,
    StudyDefinition,
    StudyResult,
    StudyView,
    content_of,
    load_study_file,
    parse_study,
    sha256_of,
    utc_time,
)
from saisei.storage.models import (
    ComparabilityAmendment,
    ComparabilityRun,
    ComparabilityStudy,
    Signature,
    StudyStatus,
    User,
)
from saisei.storage.repositories import comparability as repo
from saisei.storage.repositories import quality as quality_repo
from saisei.storage.store import Store

__all__ = [
    "RECORD_TYPE",
    "AmendmentView",
    "PlanSaved",
    "ReportWritten",
    "RunView",
    "StudyDefinition",
    "StudyResult",
    "StudyView",
    "amend_study",
    "list_studies",
    "load_study_file",
    "lock_study",
    "parse_study",
    "run_study",
    "save_plan",
    "show_study",
    "study_result",
    "write_report",
]

#: Record type of the approval signatures of comparability plans.
RECORD_TYPE = "comparability_plan"


# -- integrity ------------------------------------------------------------------------------


def _record_id(code: str, version: int) -> str:
    return f"{code}/v{version}"


def _stored_sha256(study: ComparabilityStudy) -> str:
    return sha256_of(content_of(study.product_type, study.plan))


def _signed_content(study: ComparabilityStudy) -> dict[str, Any]:
    return {
        "study": study.code,
        "plan_version": study.plan_version,
        "plan_sha256": _stored_sha256(study),
    }


def _signature_view(
    session: quality_repo.Session, study: ComparabilityStudy, signature: Signature
) -> SignatureView:
    current = signature.record_id == _record_id(study.code, study.plan_version)
    valid = current and signature.content_hash == binding_hash(
        record_type=signature.record_type,
        record_id=signature.record_id,
        meaning=signature.meaning,
        signer_id=signature.signer_id,
        signer_name=signature.signer_name,
        signed_at=signature.signed_at,
        content=_signed_content(study),
    )
    signer = session.get(User, signature.signer_id)
    return SignatureView(
        id=signature.id,
        record_type=signature.record_type,
        record_id=signature.record_id,
        signer=signer.username if signer is not None else "?",
        printed_name=signature.signer_name,
        meaning=signature.meaning.value,
        signed_at=signature.signed_at,
        content_hash=signature.content_hash,
        valid=valid,
    )


def _signatures(session: quality_repo.Session, study: ComparabilityStudy) -> list[SignatureView]:
    views = []
    for version in range(1, study.plan_version + 1):
        for signature in quality_repo.signatures_for(
            session, RECORD_TYPE, _record_id(study.code, version)
        ):
            views.append(_signature_view(session, study, signature))
    return views


def _approval_valid(session: quality_repo.Session, study: ComparabilityStudy) -> bool:
    if study.signature_id is None:
        return False
    signature = session.get(Signature, study.signature_id)
    return signature is not None and _signature_view(session, study, signature).valid


def _check_integrity(session: quality_repo.Session, study: ComparabilityStudy) -> None:
    """Refuse to work on a plan edited outside saisei or whose approval no longer holds."""
    if _stored_sha256(study) != study.plan_sha256:
        raise IntegrityViolation(
            f"The stored plan of comparability study {study.code} does not match its recorded "
            f"SHA-256 {study.plan_sha256[:12]}...: it was changed without an amendment. "
            "Refused. A locked plan changes only by 'saisei comparability amend'; inspect the "
            "audit trail ('saisei audit') for the change."
        )
    if study.status != StudyStatus.DRAFT and not _approval_valid(session, study):
        raise IntegrityViolation(
            f"The approval signature of comparability study {study.code} (plan version "
            f"{study.plan_version}) is missing or no longer valid for the stored plan. "
            "Refused; inspect the audit trail ('saisei audit')."
        )


# -- views ----------------------------------------------------------------------------------


def _view(session: quality_repo.Session, study: ComparabilityStudy) -> StudyView:
    amendments = tuple(
        AmendmentView(
            plan_version=a.plan_version,
            reason=a.reason,
            amended_by=a.amended_by,
            amended_at=a.amended_at,
            previous_sha256=a.previous_sha256,
            plan_sha256=a.plan_sha256,
            after_results=a.after_results,
        )
        for a in repo.amendments_of(session, study.id)
    )
    runs = tuple(_run_view(study, r) for r in repo.runs_of(session, study.id))
    return StudyView(
        code=study.code,
        title=study.title,
        status=study.status.value,
        product=study.product_type.value if study.product_type is not None else None,
        plan_version=study.plan_version,
        plan_sha256=study.plan_sha256,
        plan=dict(study.plan),
        created_by=study.created_by,
        created_at=study.created_at,
        locked_by=study.locked_by,
        locked_at=study.locked_at,
        plan_intact=_stored_sha256(study) == study.plan_sha256,
        approval_valid=_approval_valid(session, study),
        signatures=tuple(_signatures(session, study)),
        amendments=amendments,
        runs=runs,
    )


def _run_view(study: ComparabilityStudy, run: ComparabilityRun) -> RunView:
    return RunView(
        run_number=run.run_number,
        plan_version=run.plan_version,
        plan_sha256=run.plan_sha256,
        passed=run.passed,
        ran_by=run.ran_by,
        ran_at=run.ran_at,
        current=run.plan_sha256 == study.plan_sha256,
    )


def show_study(store: Store, code: str) -> StudyView:
    """One study with its signatures (validity recomputed now), amendments and runs."""
    with store.reader() as session:
        return _view(session, repo.get_study(session, code))


def list_studies(store: Store) -> list[StudyView]:
    """Every study, by code."""
    with store.reader() as session:
        return [_view(session, s) for s in repo.list_studies(session)]


# -- plan, lock, amend ----------------------------------------------------------------------


def _locked_message(study: ComparabilityStudy) -> str:
    when = study.locked_at.strftime("%Y-%m-%d") if study.locked_at else "?"
    return (
        f"Comparability study {study.code} is {study.status.value} (plan version "
        f"{study.plan_version}, approved by {study.locked_by} on {when}): its plan cannot be "
        "edited. Change it with a signed, audited amendment: "
        f"'saisei comparability amend {study.code} FILE.yaml --reason TEXT'."
    )


def save_plan(
    store: Store,
    actor: str,
    definition: StudyDefinition,
    *,
    source: str = "app",
    now: datetime | None = None,
) -> PlanSaved:
    """Create a draft study, or replace the plan of a draft.

    Raises
    ------
    Conflict
        When the study is locked or has been run: its plan changes only by an amendment.
    PermissionDenied
        Unless the actor may define comparability plans (qa, process_scientist).
    """
    moment = utc_time(now)
    code = definition.code
    with store.unit_of_work(
        actor=actor, source=source, reason=f"comparability plan {code} drafted"
    ) as uow:
        authorize(uow.session, actor, "comparability.edit_plan")
        study = repo.find_study(uow.session, code)
        if study is None:
            study = ComparabilityStudy(
                code=code,
                title=definition.plan.name,
                product_type=definition.product,
                status=StudyStatus.DRAFT,
                plan=definition.plan.to_dict(),
                plan_sha256=definition.sha256,
                plan_version=1,
                created_by=actor,
                created_at=moment,
            )
            uow.session.add(study)
            action = "created"
        elif study.status != StudyStatus.DRAFT:
            raise Conflict(_locked_message(study))
        elif study.plan_sha256 == definition.sha256:
            action = "unchanged"
        else:
            study.title = definition.plan.name
            study.product_type = definition.product
            study.plan = definition.plan.to_dict()
            study.plan_sha256 = definition.sha256
            action = "updated"
        uow.flush()
        return PlanSaved(study=_view(uow.session, study), action=action)


def lock_study(
    store: Store,
    code: str,
    credentials: Credentials,
    policy: AuthPolicy,
    *,
    source: str = "app",
    now: datetime | None = None,
) -> StudyView:
    """Lock a draft plan with the approval e-signature (meaning ``approval``; QA).

    The signature is bound to the study code, plan version and the plan's SHA-256.

    Raises
    ------
    Conflict
        When the study is already locked.
    """
    moment = utc_time(now)
    with store.reader() as session:
        repo.get_study(session, code)
    signer = verify_signer(store, credentials, policy, source=source, now=moment)
    check_permission(signer.username, signer.roles, "comparability.lock_plan")
    with store.unit_of_work(
        actor=signer.username, source=source, reason=f"comparability plan {code} approved"
    ) as uow:
        authorize(uow.session, signer.username, "comparability.lock_plan")
        study = repo.get_study(uow.session, code)
        if study.status != StudyStatus.DRAFT:
            raise Conflict(
                f"Comparability study {code} is already {study.status.value} (plan version "
                f"{study.plan_version}). A change of its plan is an amendment: "
                f"'saisei comparability amend {code} FILE.yaml --reason TEXT'."
            )
        _check_integrity(uow.session, study)
        signature = apply_signature(
            uow,
            signer,
            record_type=RECORD_TYPE,
            record_id=_record_id(code, study.plan_version),
            meaning=SignatureMeaning.APPROVAL,
            content=_signed_content(study),
            now=moment,
        )
        study.status = StudyStatus.LOCKED
        study.locked_by = signer.username
        study.locked_at = moment
        study.signature_id = signature.id
        uow.flush()
        return _view(uow.session, study)


def amend_study(
    store: Store,
    code: str,
    definition: StudyDefinition,
    credentials: Credentials,
    policy: AuthPolicy,
    *,
    reason: str | None,
    source: str = "app",
    now: datetime | None = None,
) -> StudyView:
    """Amend a locked plan: new plan version, reason, new approval signature (QA).

    The study returns to ``locked``: earlier runs stay, marked as run against an older plan.

    Raises
    ------
    ValidationFailed
        Without a reason, or when the plan file names another study.
    Conflict
        When the study is a draft (edit it instead) or the plan is unchanged.
    """
    moment = utc_time(now)
    if not reason or not reason.strip():
        raise ValidationFailed(
            f"An amendment of comparability study {code} needs a reason (--reason TEXT); it "
            "is kept with the amendment, in the audit trail and in the report."
        )
    if definition.code != code:
        raise ValidationFailed(
            f"The plan file is for study {definition.code!r}, not {code!r}. Amend the study "
            "the file names, or fix its 'study:' line."
        )
    with store.reader() as session:
        study = repo.get_study(session, code)
        if study.status == StudyStatus.DRAFT:
            raise Conflict(
                f"Comparability study {code} is a draft: edit its plan with 'saisei "
                "comparability plan FILE.yaml'; amendments are for locked plans."
            )
        if study.plan_sha256 == definition.sha256:
            raise Conflict(
                f"The amended plan is identical to plan version {study.plan_version} of "
                f"study {code}; there is nothing to amend."
            )
    signer = verify_signer(store, credentials, policy, source=source, now=moment)
    check_permission(signer.username, signer.roles, "comparability.amend_plan")
    with store.unit_of_work(actor=signer.username, source=source, reason=reason.strip()) as uow:
        authorize(uow.session, signer.username, "comparability.amend_plan")
        study = repo.get_study(uow.session, code)
        _check_integrity(uow.session, study)
        previous = (study.plan_version, study.plan_sha256)
        amendment = ComparabilityAmendment(
            study_id=study.id,
            plan_version=study.plan_version + 1,
            previous_sha256=study.plan_sha256,
            plan_sha256=definition.sha256,
            previous_plan=dict(study.plan),
            reason=reason.strip(),
            after_results=bool(repo.runs_of(uow.session, study.id)),
            amended_by=signer.username,
            amended_at=moment,
        )
        uow.session.add(amendment)
        study.title = definition.plan.name
        study.product_type = definition.product
        study.plan = definition.plan.to_dict()
        study.plan_sha256 = definition.sha256
        study.plan_version += 1
        study.status = StudyStatus.LOCKED
        uow.flush()
        signature = apply_signature(
            uow,
            signer,
            record_type=RECORD_TYPE,
            record_id=_record_id(code, study.plan_version),
            meaning=SignatureMeaning.APPROVAL,
            content=_signed_content(study),
            now=moment,
        )
        study.signature_id = signature.id
        amendment.signature_id = signature.id
        uow.record(
            "comparability_study",
            "amend",
            entity_id=code,
            old={"plan_version": previous[0], "plan_sha256": previous[1]},
            new={"plan_version": study.plan_version, "plan_sha256": study.plan_sha256},
        )
        uow.flush()
        return _view(uow.session, study)


# -- run and results ------------------------------------------------------------------------


def run_study(
    store: Store,
    actor: str,
    code: str,
    *,
    source: str = "app",
    now: datetime | None = None,
) -> StudyResult:
    """Evaluate a locked study on the lots its plan selects and store the result snapshot.

    Raises
    ------
    Conflict
        When the study is a draft (its plan is not locked).
    IntegrityViolation
        When the stored plan no longer matches its hash or its approval signature.
    ValidationFailed, NotFound
        When a lot selection matches no lot, names unknown lots, or both arms share a lot.
    """
    moment = utc_time(now)
    with store.reader() as session:
        authorize(session, actor, "comparability.run_study")
        study = repo.get_study(session, code)
        if study.status == StudyStatus.DRAFT:
            raise Conflict(
                f"Comparability study {code} is a draft: its plan has not been locked with an "
                "approval signature, so no results can be computed. Lock it first with "
                f"'saisei comparability lock {code}'; results are computed only against a "
                "locked plan."
            )
        _check_integrity(session, study)
        plan = ComparabilityPlan.from_dict(study.plan)
        sha256, version, product = study.plan_sha256, study.plan_version, study.product_type
        candidates = repo.candidate_lots(session, product=product)
    selected = lots_mod.select_lots(plan, candidates, product=product)
    reference, test, units = lots_mod.lot_values(store, plan, selected)
    result = evaluate_plan(plan, reference, test)
    snapshot = lots_mod.snapshot(plan, selected, reference, test, units, result)
    snapshot.update({"study": code, "plan_version": version, "plan_sha256": sha256})
    with store.unit_of_work(
        actor=actor, source=source, reason=f"comparability study {code} run"
    ) as uow:
        authorize(uow.session, actor, "comparability.run_study")
        stored = repo.get_study(uow.session, code)
        if stored.plan_sha256 != sha256:
            raise Conflict(
                f"The plan of comparability study {code} was amended while it ran; run it again."
            )
        run = ComparabilityRun(
            study_id=stored.id,
            run_number=repo.next_run_number(uow.session, stored.id),
            plan_version=version,
            plan_sha256=sha256,
            passed=bool(result.passed),
            snapshot=snapshot,
            ran_by=actor,
            ran_at=moment,
        )
        uow.session.add(run)
        stored.status = StudyStatus.RUN
        uow.flush()
        view = _view(uow.session, stored)
        return StudyResult(
            study=view,
            run=_run_view(stored, run),
            result=result,
            reference=reference,
            test=test,
            lots=snapshot["lots"],
            units=units,
        )


def study_result(store: Store, code: str, *, run: int | None = None) -> StudyResult:
    """The result of run ``run`` (default: the latest), rebuilt from its stored snapshot.

    Raises
    ------
    NotFound
        When the study has no run (or no run with that number).
    """
    with store.reader() as session:
        study = repo.get_study(session, code)
        stored = repo.run_of(session, study.id, run)
        if stored is None:
            which = f"no run {run}" if run is not None else "no results yet"
            raise NotFound(
                f"Comparability study {code} has {which}. Compute them with 'saisei "
                f"comparability run {code}' (the plan must be locked first)."
            )
        view = _view(session, study)
        run_view = _run_view(study, stored)
        snapshot = dict(stored.snapshot)
        approval_valid = _approval_valid(session, study)
        intact = view.plan_intact
    rebuilt = lots_mod.rebuild(snapshot)
    warnings = list(rebuilt.warnings)
    if not run_view.current:
        warnings.append(
            f"The plan was amended after this run (now version {view.plan_version}); this run "
            f"used version {run_view.plan_version}. Run the study again for results against "
            "the current plan."
        )
    warnings.extend(
        f"Plan version {a.plan_version} was amended after results had been computed: {a.reason}"
        for a in view.amendments
        if a.after_results
    )
    if not intact or not approval_valid:
        warnings.append(
            "The stored plan no longer matches its approval signature; see 'saisei "
            f"comparability show {code}'."
        )
    return StudyResult(
        study=view,
        run=run_view,
        result=rebuilt.result,
        reference=rebuilt.reference,
        test=rebuilt.test,
        lots=rebuilt.lots,
        units=rebuilt.units,
        warnings=tuple(warnings),
    )


def _context(found: StudyResult, generated: datetime) -> ReportContext:
    plan = found.result.plan
    return ReportContext(
        study=found.study.code,
        status=found.study.status,
        plan_version=found.run.plan_version,
        plan_sha256=found.run.plan_sha256,
        run_number=found.run.run_number,
        ran_at=found.run.ran_at.strftime("%Y-%m-%d %H:%M:%S"),
        ran_by=found.run.ran_by,
        generated_at=generated.strftime("%Y-%m-%d %H:%M:%S"),
        product=found.study.product,
        reference_selection=plan.reference_lots.describe(),
        test_selection=plan.test_lots.describe(),
        reference_lots=tuple(str(lot["lot"]) for lot in found.lots["reference"]),
        test_lots=tuple(str(lot["lot"]) for lot in found.lots["test"]),
        signatures=tuple(s.line() for s in found.study.signatures),
        amendments=tuple(a.line() for a in found.study.amendments),
        warnings=found.warnings,
    )


def write_report(
    store: Store,
    code: str,
    out: Path,
    *,
    run: int | None = None,
    plotly_js: Literal["inline", "directory"] = "inline",
    now: datetime | None = None,
) -> ReportWritten:
    """Write the HTML report of a run (default: the latest) to ``out``.

    With ``plotly_js="directory"`` the page loads ``plotly.min.js`` from its own folder, which
    is written beside it; by default plotly.js is embedded and the page stands alone.
    """
    found = study_result(store, code, run=run)
    html = render_comparability_report(
        found.result,
        found.reference,
        found.test,
        _context(found, utc_time(now)),
        plotly_js=plotly_js,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(out, html)
    if plotly_js == "directory":
        _write_atomic(out.parent / PLOTLY_JS_FILENAME, plotly_js_source())
    return ReportWritten(
        study=code,
        run_number=found.run.run_number,
        path=str(out),
        bytes=len(html.encode("utf-8")),
        plotly_js=plotly_js,
        passed=bool(found.result.passed),
    )


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
