"""Deviations, QC result invalidation and e-signatures of records."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from saisei.api.deps import SOURCE, CurrentUser, PathId, PolicyDep, StoreDep
from saisei.api.schemas.quality import (
    CapaIn,
    ClassifyIn,
    CloseIn,
    DeviationIn,
    InvalidateIn,
    InvestigationIn,
    SignatureIn,
)
from saisei.quality import deviations, esign, specs

router = APIRouter(tags=["quality"])


@router.get("/deviations")
def list_deviations(
    store: StoreDep, _actor: CurrentUser, lot: str | None = None, status: str | None = None
) -> dict[str, Any]:
    """Deviations by number, optionally of one lot and in one status."""
    found = deviations.list_deviations(store, lot=lot, status=status)
    return {"items": [d.to_dict() for d in found]}


@router.get("/deviations/{number}")
def show_deviation(number: str, store: StoreDep, _actor: CurrentUser) -> dict[str, Any]:
    """One deviation with its links and signatures."""
    return deviations.show_deviation(store, number).to_dict()


@router.post("/deviations", status_code=201)
def record_deviation(body: DeviationIn, store: StoreDep, actor: CurrentUser) -> dict[str, Any]:
    """Record a deviation (needs deviations.record); it opens with status ``open``."""
    return deviations.record_deviation(
        store, actor.username, source=SOURCE, **body.model_dump()
    ).to_dict()


@router.post("/deviations/{number}/classify")
def classify(number: str, body: ClassifyIn, store: StoreDep, actor: CurrentUser) -> dict[str, Any]:
    """Set the severity of an open deviation (QA, with a reason)."""
    return deviations.classify_deviation(
        store, actor.username, number, body.severity, reason=body.reason, source=SOURCE
    ).to_dict()


@router.post("/deviations/{number}/investigation")
def investigate(
    number: str, body: InvestigationIn, store: StoreDep, actor: CurrentUser
) -> dict[str, Any]:
    """Record the root cause; the deviation moves to ``investigation``."""
    return deviations.record_investigation(
        store,
        actor.username,
        number,
        root_cause=body.root_cause,
        reason=body.reason,
        source=SOURCE,
    ).to_dict()


@router.post("/deviations/{number}/capa")
def capa(number: str, body: CapaIn, store: StoreDep, actor: CurrentUser) -> dict[str, Any]:
    """Record the CAPA; the deviation moves to ``capa``."""
    return deviations.record_capa(
        store, actor.username, number, capa=body.capa, source=SOURCE
    ).to_dict()


@router.post("/deviations/{number}/close")
def close(
    number: str, body: CloseIn, store: StoreDep, actor: CurrentUser, policy: PolicyDep
) -> dict[str, Any]:
    """Close with the QA e-signature (meaning ``approval``)."""
    return deviations.close_deviation(
        store,
        number,
        actor.credentials(body.password, body.username),
        policy,
        conclusion=body.conclusion,
        source=SOURCE,
    ).to_dict()


@router.post("/qc/{result_id}/invalidate")
def invalidate_qc(
    result_id: PathId, body: InvalidateIn, store: StoreDep, actor: CurrentUser
) -> dict[str, Any]:
    """Invalidate a QC result with a reason (needs qc.invalidate, QA); the value stays."""
    return specs.invalidate_qc_result(
        store, actor.username, result_id, reason=body.reason, source=SOURCE
    ).to_dict()


@router.get("/signatures")
def list_signatures(
    record_type: str, record_id: str, store: StoreDep, _actor: CurrentUser
) -> dict[str, Any]:
    """Signatures of a record: printed name, UTC time, meaning, validity recomputed now."""
    found = esign.signatures_of(store, record_type, record_id)
    return {"items": [s.to_dict() for s in found]}


@router.post("/signatures", status_code=201)
def sign(
    body: SignatureIn, store: StoreDep, actor: CurrentUser, policy: PolicyDep
) -> dict[str, Any]:
    """Sign a QC result or a deviation as it is now (authorship, review, approval, ...)."""
    return esign.sign_record(
        store,
        body.record_type,
        body.record_id,
        body.meaning,
        actor.credentials(body.password, body.username),
        policy,
        source=SOURCE,
    ).to_dict()
