"""Batch disposition: release or reject a lot in quarantine.

Release needs, all at once (each missing one is named in :class:`ReleaseBlocked`):

1. the lot in ``quarantine`` (status machine :mod:`saisei.domain.batch`);
2. every release specification of its process met by a valid result, and every valid
   out-of-specification result with its deviation closed (an imported result, stored without
   an outcome, is judged against its release specification here);
3. no other deviation of the lot left open;
4. an intact custody chain (:func:`saisei.quality.custody_check.custody_problems`);
5. a current, signed audit-trail review (:mod:`saisei.quality.review`);
6. the QA e-signature with meaning ``release``, bound to the batch record.

Rejection needs the lot in quarantine, the current audit-trail review, a reason and the QA
e-signature (meaning ``approval``): failed QC or a broken custody chain are reasons to reject,
so they cannot be prerequisites of it.

A completed lot is put into quarantine (awaiting disposition) with :func:`quarantine_batch`
(``batches.dispose``, a reason, audited).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from saisei.domain.batch import check_transition
from saisei.domain.enums import BatchStatus, DeviationStatus, SignatureMeaning
from saisei.domain.quality_rules import SpecLimits, SpecOutcome, evaluate, require_reason
from saisei.errors import Conflict, ValidationFailed
from saisei.ingestion.units import convert
from saisei.quality.access import authorize, utc_now
from saisei.quality.custody_check import custody_problems
from saisei.quality.esign import (
    Credentials,
    SignatureView,
    apply_signature,
    signature_views,
    verify_signer,
)
from saisei.quality.permissions import check_permission
from saisei.quality.records import batch_content
from saisei.quality.review import review_problem
from saisei.quality.specs import limits_of
from saisei.quality.users import AuthPolicy
from saisei.storage.models import Batch, QCResult
from saisei.storage.repositories import batches as batch_repo
from saisei.storage.repositories import quality as repo
from saisei.storage.store import Store

__all__ = [
    "DispositionView",
    "Prerequisite",
    "Readiness",
    "ReleaseBlocked",
    "disposition_of",
    "quarantine_batch",
    "reject_batch",
    "release_batch",
    "release_readiness",
]


@dataclass(frozen=True)
class Prerequisite:
    """One release prerequisite: met or not, and every problem found."""

    name: str
    ok: bool
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {"name": self.name, "ok": self.ok, "problems": list(self.problems)}


@dataclass(frozen=True)
class Readiness:
    """Whether a lot can be released, prerequisite by prerequisite."""

    lot: str
    status: str
    prerequisites: tuple[Prerequisite, ...]

    @property
    def ready(self) -> bool:
        """True when every prerequisite is met (the QA signature still to come)."""
        return all(p.ok for p in self.prerequisites)

    def problems(self) -> list[str]:
        """Every unmet prerequisite as ``name: problem``."""
        return [f"{p.name}: {msg}" for p in self.prerequisites for msg in p.problems]

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {
            "lot": self.lot,
            "status": self.status,
            "ready": self.ready,
            "prerequisites": [p.to_dict() for p in self.prerequisites],
        }


class ReleaseBlocked(Conflict):
    """A release was refused; ``readiness`` names each missing prerequisite."""

    code = "release_blocked"

    def __init__(self, readiness: Readiness) -> None:
        lines = "\n".join(f"  - {p}" for p in readiness.problems())
        super().__init__(f"Lot {readiness.lot!r} cannot be released:\n{lines}")
        self.readiness = readiness


@dataclass(frozen=True)
class DispositionView:
    """A lot's disposition: status and the disposition signatures with their validity."""

    lot: str
    status: str
    signatures: tuple[SignatureView, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {
            "lot": self.lot,
            "status": self.status,
            "signatures": [s.to_dict() for s in self.signatures],
        }


def _status(batch: Batch) -> Prerequisite:
    if batch.status == BatchStatus.QUARANTINE:
        return Prerequisite("batch status", True)
    return Prerequisite(
        "batch status",
        False,
        (f"the lot is {batch.status.value!r}; only a lot in 'quarantine' can be released",),
    )


def _outcome(result: QCResult, specs: dict[str, tuple[SpecLimits, str]]) -> str | None:
    """The stored outcome, or for an imported (never judged) release result its judgement now.

    The importer stores values in canonical units; the value is converted to the attribute's
    unit (the unit of its specification) first.
    """
    if result.outcome is not None or result.purpose != "release":
        return result.outcome
    if result.attribute not in specs:
        return None
    limits, unit = specs[result.attribute]
    value = result.value
    try:
        if value is not None and result.unit and unit and result.unit != unit:
            value = float(convert([value], result.unit, unit)[0])
        return evaluate(limits, value, result.value_text).outcome.value
    except ValidationFailed:
        # no conversion to the specification's unit, or a text result for a numeric limit
        return SpecOutcome.OOS.value


def _qc(session: repo.Session, batch: Batch) -> Prerequisite:
    results = repo.valid_results(repo.qc_results_of_batch(session, batch.id))
    problems: list[str] = []
    specs: dict[str, tuple[SpecLimits, str]] = {}
    if batch.process_id is not None:
        tested = {r.attribute for r in results if r.purpose == "release"}
        for attribute, spec in repo.process_specifications(session, batch.process_id, "release"):
            specs[attribute.name] = (limits_of(spec), attribute.unit)
            if attribute.name not in tested:
                problems.append(
                    f"no valid release result for {attribute.name!r} "
                    f"(specification {limits_of(spec).describe()} {attribute.unit})"
                )
    linked: dict[int, list[tuple[str, DeviationStatus]]] = {}
    for deviation in repo.deviations_of_results(session, [r.id for r in results]):
        if deviation.qc_result_id is not None:
            linked.setdefault(deviation.qc_result_id, []).append(
                (deviation.number, deviation.status)
            )
    for result in results:
        if _outcome(result, specs) != SpecOutcome.OOS.value:
            continue
        shown = result.value_text if result.value is None else f"{result.value:g}"
        what = f"QC result {result.id} ({result.attribute} = {shown} {result.unit or ''})".replace(
            " )", ")"
        )
        deviations = linked.get(result.id, [])
        if not deviations:
            problems.append(f"{what} is out of specification and has no deviation")
        for number, status in deviations:
            if status != DeviationStatus.CLOSED:
                problems.append(
                    f"{what} is out of specification and its deviation {number} is "
                    f"{status.value}, not closed"
                )
    return Prerequisite("QC results", not problems, tuple(problems))


def _deviations(session: repo.Session, batch: Batch) -> Prerequisite:
    # Deviations of valid OOS results are named under "QC results", custody ones under
    # "custody chain"; every other open deviation of the lot is named here.
    valid = {r.id for r in repo.valid_results(repo.qc_results_of_batch(session, batch.id))}
    problems = [
        f"deviation {d.number} ({d.category}, {d.severity.value}) is {d.status.value}, not closed"
        for d in repo.open_deviations(session, batch.id)
        if d.category != "custody" and (d.qc_result_id is None or d.qc_result_id not in valid)
    ]
    return Prerequisite("deviations", not problems, tuple(problems))


def _custody(session: repo.Session, batch: Batch) -> Prerequisite:
    problems = custody_problems(session, batch)
    return Prerequisite("custody chain", not problems, tuple(problems))


def _review(session: repo.Session, batch: Batch) -> Prerequisite:
    problem = review_problem(session, batch)
    return Prerequisite("audit-trail review", problem is None, (problem,) if problem else ())


def _readiness(session: repo.Session, batch: Batch) -> Readiness:
    return Readiness(
        lot=batch.lot_number,
        status=batch.status.value,
        prerequisites=(
            _status(batch),
            _qc(session, batch),
            _deviations(session, batch),
            _custody(session, batch),
            _review(session, batch),
        ),
    )


def release_readiness(store: Store, lot: str) -> Readiness:
    """Every release prerequisite of a lot, met or not (reads only)."""
    with store.reader() as session:
        return _readiness(session, batch_repo.get_batch(session, lot))


def _dispose(
    store: Store,
    lot: str,
    credentials: Credentials,
    policy: AuthPolicy,
    *,
    decision: BatchStatus,
    reason: str,
    source: str,
    now: datetime | None,
) -> DispositionView:
    operation = (
        "disposition.release_batch"
        if decision == BatchStatus.RELEASED
        else "disposition.reject_batch"
    )
    moment = utc_now(now)
    signer = verify_signer(store, credentials, policy, source=source, now=moment)
    check_permission(signer.username, signer.roles, operation)
    with store.unit_of_work(actor=signer.username, source=source, reason=reason) as uow:
        authorize(uow.session, signer.username, operation)
        batch = batch_repo.get_batch(uow.session, lot)
        if decision == BatchStatus.RELEASED:
            readiness = _readiness(uow.session, batch)
            if not readiness.ready:
                raise ReleaseBlocked(readiness)
            record_type, meaning = "batch_release", SignatureMeaning.RELEASE
        else:
            check_transition(lot, batch.status, decision)
            problem = review_problem(uow.session, batch)
            if problem is not None:
                raise Conflict(f"Lot {lot!r} cannot be rejected: {problem}.")
            record_type, meaning = "batch_rejection", SignatureMeaning.APPROVAL
        check_transition(lot, batch.status, decision)
        signature = apply_signature(
            uow,
            signer,
            record_type=record_type,
            record_id=lot,
            meaning=meaning,
            content=batch_content(uow.session, batch),
            now=moment,
        )
        old = batch.status
        batch.status = decision
        uow.record(
            "batch",
            "release" if decision == BatchStatus.RELEASED else "reject",
            entity_id=str(batch.id),
            old={"status": old.value},
            new={"lot": lot, "status": decision.value, "signature_id": signature.id},
        )
        uow.flush()
        return _disposition(uow.session, batch)


def _disposition(session: repo.Session, batch: Batch) -> DispositionView:
    signatures = [
        *signature_views(session, "batch_release", batch.lot_number),
        *signature_views(session, "batch_rejection", batch.lot_number),
    ]
    return DispositionView(batch.lot_number, batch.status.value, tuple(signatures))


def release_batch(
    store: Store,
    lot: str,
    credentials: Credentials,
    policy: AuthPolicy,
    *,
    reason: str | None = None,
    source: str = "app",
    now: datetime | None = None,
) -> DispositionView:
    """Release a lot with the QA signature (meaning ``release``) once every prerequisite holds.

    Raises
    ------
    ReleaseBlocked
        Naming every unmet prerequisite.
    PermissionDenied
        When the signer lacks ``batches.dispose`` (QA).
    SignatureRequired, AuthenticationFailed, AuthenticationUnavailable
        When the signature components are missing or wrong.
    """
    return _dispose(
        store,
        lot,
        credentials,
        policy,
        decision=BatchStatus.RELEASED,
        reason=reason or "batch released",
        source=source,
        now=now,
    )


def reject_batch(
    store: Store,
    lot: str,
    credentials: Credentials,
    policy: AuthPolicy,
    *,
    reason: str | None,
    source: str = "app",
    now: datetime | None = None,
) -> DispositionView:
    """Reject a lot in quarantine (QA signature, meaning ``approval``; a reason is required)."""
    why = require_reason(reason, f"reject lot {lot!r}")
    return _dispose(
        store,
        lot,
        credentials,
        policy,
        decision=BatchStatus.REJECTED,
        reason=why,
        source=source,
        now=now,
    )


def disposition_of(store: Store, lot: str) -> DispositionView:
    """A lot's status and its disposition signatures, each checked against the record now."""
    with store.reader() as session:
        return _disposition(session, batch_repo.get_batch(session, lot))


def quarantine_batch(
    store: Store, actor: str, lot: str, *, reason: str | None, source: str = "app"
) -> DispositionView:
    """Put a completed lot into quarantine to await QA disposition (needs ``batches.dispose``).

    Raises
    ------
    ValidationFailed
        Without a reason.
    PermissionDenied
        When ``actor`` lacks ``batches.dispose`` (QA).
    Conflict
        When the lot is not ``completed`` (the batch life cycle permits quarantine only then).
    """
    why = require_reason(reason, f"quarantine lot {lot!r}")
    with store.unit_of_work(actor=actor, source=source, reason=why) as uow:
        authorize(uow.session, actor, "disposition.quarantine_batch")
        batch = batch_repo.get_batch(uow.session, lot)
        check_transition(lot, batch.status, BatchStatus.QUARANTINE)
        old = batch.status
        batch.status = BatchStatus.QUARANTINE
        uow.record(
            "batch",
            "quarantine",
            entity_id=str(batch.id),
            old={"status": old.value},
            new={"lot": lot, "status": BatchStatus.QUARANTINE.value},
        )
        uow.flush()
        return _disposition(uow.session, batch)
