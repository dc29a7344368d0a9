"""Administration pages: user accounts (with their forms), the permission matrix, process
definitions (with the import of one). Every signed-in user may look; the account forms are
refused by :mod:`saisei.quality.users` unless the user holds ``users.manage``, the process import
by :mod:`saisei.services.processes` unless the user holds ``processes.import``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import RedirectResponse, Response

from saisei.quality import users
from saisei.quality.permissions import OPERATIONS, ROLE_PERMISSIONS, Permission, Role
from saisei.services import processes
from saisei.web.context import SOURCE, Page, SignedIn
from saisei.web.render import render
from saisei.web.routes.forms import Form_

router = APIRouter(prefix="/admin")

Reason = Annotated[str, Form(max_length=500)]


@router.get("/users")
def user_accounts(page: SignedIn) -> Response:
    """Accounts with their roles and lock state (JSON twin: GET /api/v1/users)."""
    found = users.list_users(page.request.app.state.store)
    return render(
        page,
        "admin_users.html",
        accounts=[u.to_dict() for u in found],
        roles=[r.value for r in Role],
    )


@router.post("/users")
def create_account(
    page: Form_,
    username: Annotated[str, Form(max_length=64)],
    full_name: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=200)],
    roles: Annotated[list[str], Form()],
    reason: Reason = "",
) -> Response:
    """Create an account (administrators)."""
    assert page.user is not None  # signed_form guarantees it
    users.create_user(
        page.request.app.state.store,
        page.user.username,
        username,
        full_name,
        password,
        roles,
        page.request.app.state.policy,
        reason=reason or None,
        source=SOURCE,
    )
    return RedirectResponse("/admin/users", status_code=303)


def _on_account(
    page: Page, action: Callable[..., object], username: str, *args: str, reason: str
) -> Response:
    """Run one administrator action on an account as the signed-in user, then show the list."""
    assert page.user is not None  # signed_form guarantees it
    action(
        page.request.app.state.store,
        page.user.username,
        username,
        *args,
        reason=reason or None,
        source=SOURCE,
    )
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{username}/deactivate")
def deactivate_account(username: str, page: Form_, reason: Reason = "") -> Response:
    """Deactivate an account (administrators; a reason is required)."""
    return _on_account(page, users.deactivate_user, username, reason=reason)


@router.post("/users/{username}/unlock")
def unlock_account(username: str, page: Form_, reason: Reason = "") -> Response:
    """Unlock an account locked after failed sign-ins (administrators; with a reason)."""
    return _on_account(page, users.unlock_user, username, reason=reason)


@router.post("/users/{username}/roles")
def grant_role(
    username: str, page: Form_, role: Annotated[str, Form(max_length=64)], reason: Reason = ""
) -> Response:
    """Grant a role (administrators; with a reason)."""
    return _on_account(page, users.grant_role, username, role, reason=reason)


@router.get("/roles")
def permission_matrix(page: SignedIn) -> Response:
    """Role x permission, and the operations each permission gates (JSON twin:
    GET /api/v1/roles)."""
    gates: dict[str, list[str]] = {p.value: [] for p in Permission}
    for operation, permission in OPERATIONS.items():
        gates[permission.value].append(operation)
    return render(
        page,
        "admin_roles.html",
        roles=[r.value for r in Role],
        permissions=[p.value for p in Permission],
        granted={r.value: {p.value for p in ROLE_PERMISSIONS[r]} for r in Role},
        gates=gates,
    )


@router.get("/processes")
def process_definitions(page: SignedIn) -> Response:
    """Stored process definitions (JSON twin: GET /api/v1/processes)."""
    found = processes.list_processes(page.request.app.state.store)
    return render(page, "admin_processes.html", processes=found)


@router.post("/processes")
def import_process_definition(
    page: Form_,
    file: Annotated[UploadFile, File()],
    reason: Reason = "",
) -> Response:
    """Import one process-definition YAML (administrators and process scientists)."""
    assert page.user is not None
    outcome = processes.import_process(
        page.request.app.state.store,
        page.user.username,
        file.file.read(processes.MAX_PROCESS_BYTES + 1),
        filename=file.filename or "process.yaml",
        reason=reason or None,
        source=SOURCE,
    )
    anchor = f"process-{outcome.name}-{outcome.version}"
    return RedirectResponse(f"/admin/processes#{anchor}", status_code=303)
