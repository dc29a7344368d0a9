"""Signed forms of the pages: audit-trail review, release, rejection, excursion and
monitoring-alarm acknowledgement. Each needs a live session and the page's CSRF token;
permissions are the services'."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse, Response

from saisei.quality import disposition, review
from saisei.quality.esign import Credentials
from saisei.services import monitoring, quality_prediction, shipments
from saisei.web.context import SOURCE, Page, check_csrf, signed_in

router = APIRouter()


def signed_form(
    page: Annotated[Page, Depends(signed_in)], _checked: Annotated[Page, Depends(check_csrf)]
) -> Page:
    """A signed-in user posting a form issued by this site."""
    return page


Form_ = Annotated[Page, Depends(signed_form)]


def _credentials(page: Page, password: str, username: str) -> Credentials:
    return Credentials(password=password, username=username or None, session_token=page.token)


@router.post("/batches/{lot}/review")
def review_lot(
    lot: str,
    page: Form_,
    password: Annotated[str, Form()],
    username: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
) -> Response:
    """Sign the audit-trail review of the lot."""
    review.review_audit_trail(
        page.request.app.state.store,
        lot,
        _credentials(page, password, username),
        page.request.app.state.policy,
        comment=comment or None,
        source=SOURCE,
    )
    return RedirectResponse(f"/batches/{lot}#release", status_code=303)


@router.post("/batches/{lot}/release")
def release_lot(
    lot: str,
    page: Form_,
    password: Annotated[str, Form()],
    username: Annotated[str, Form()] = "",
) -> Response:
    """Release the lot with the QA signature."""
    disposition.release_batch(
        page.request.app.state.store,
        lot,
        _credentials(page, password, username),
        page.request.app.state.policy,
        source=SOURCE,
    )
    return RedirectResponse(f"/batches/{lot}#release", status_code=303)


@router.post("/batches/{lot}/reject")
def reject_lot(
    lot: str,
    page: Form_,
    password: Annotated[str, Form()],
    reason: Annotated[str, Form()],
    username: Annotated[str, Form()] = "",
) -> Response:
    """Reject the lot with the QA signature and a reason."""
    disposition.reject_batch(
        page.request.app.state.store,
        lot,
        _credentials(page, password, username),
        page.request.app.state.policy,
        reason=reason,
        source=SOURCE,
    )
    return RedirectResponse(f"/batches/{lot}#release", status_code=303)


@router.post("/shipments/{code}/excursions/{number}/acknowledge")
def acknowledge(
    code: str, number: int, page: Form_, comment: Annotated[str, Form()] = ""
) -> Response:
    """Acknowledge one excursion with a comment."""
    assert page.user is not None  # signed_in guarantees it
    shipments.acknowledge_excursion(
        page.request.app.state.store, page.user.username, code, number, comment, source=SOURCE
    )
    return RedirectResponse(f"/shipments/{code}", status_code=303)


@router.post("/monitoring/alarms/acknowledge")
def acknowledge_alarm(
    page: Form_,
    alarm: Annotated[int, Form(ge=1, le=2_147_483_647)],
    comment: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "batch",
) -> Response:
    """Acknowledge a monitoring alarm with a comment; back to the batch page or, with
    ``back=dashboard``, to the dashboard."""
    assert page.user is not None  # signed_in guarantees it
    done = monitoring.acknowledge_alarm(
        page.request.app.state.store,
        alarm,
        actor=page.user.username,
        comment=comment,
        source=SOURCE,
    )
    target = "/#alarms" if back == "dashboard" else f"/batches/{done.lot}#alarms"
    return RedirectResponse(target, status_code=303)


@router.post("/monitoring/alarms/acknowledge-lot")
def acknowledge_lot_alarms(
    page: Form_,
    lot: Annotated[str, Form(min_length=1, max_length=64)],
    comment: Annotated[str, Form()] = "",
) -> Response:
    """Acknowledge every open alarm of a lot with one comment; back to the batch page."""
    assert page.user is not None  # signed_in guarantees it
    monitoring.acknowledge_alarms(
        page.request.app.state.store,
        lot=lot,
        actor=page.user.username,
        comment=comment,
        source=SOURCE,
    )
    return RedirectResponse(f"/batches/{quote(lot, safe='')}#alarms", status_code=303)


@router.post("/models/quality")
def build_quality_model(
    page: Form_,
    name: Annotated[str, Form(min_length=1, max_length=100)],
    product: Annotated[str, Form(min_length=1, max_length=32)],
    stage: Annotated[str, Form(min_length=1, max_length=64)],
    attribute: Annotated[str, Form(min_length=1, max_length=64)],
    components: Annotated[int | None, Form(ge=1, le=20)] = None,
) -> Response:
    """Fit a quality model (batch-level PLS of a QC attribute on the reference lots' series)
    and store it as a new version; back to the models page at it."""
    assert page.user is not None  # signed_in guarantees it
    built = quality_prediction.build_quality_model(
        page.request.app.state.store,
        name=name.strip(),
        product=product,
        stage=stage.strip(),
        attribute=attribute.strip(),
        actor=page.user.username,
        n_components=components,
    )
    anchor = quote(f"model-{built.name}-{built.version}", safe="")
    return RedirectResponse(f"/models#{anchor}", status_code=303)
