"""The permission matrix and the stored process definitions, with the import of one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile

from saisei.api.deps import SOURCE, CurrentUser, StoreDep
from saisei.quality.permissions import OPERATIONS, ROLE_PERMISSIONS, Permission, Role
from saisei.services import processes

router = APIRouter(tags=["admin"])


def permission_matrix() -> dict[str, Any]:
    """Roles, permissions, which role holds which, and the operation each permission gates."""
    return {
        "roles": [r.value for r in Role],
        "permissions": [p.value for p in Permission],
        "matrix": {r.value: sorted(p.value for p in ROLE_PERMISSIONS[r]) for r in Role},
        "operations": {name: permission.value for name, permission in OPERATIONS.items()},
    }


@router.get("/roles")
def roles(_actor: CurrentUser) -> dict[str, Any]:
    """The permission matrix: role x permission, and the operations each permission gates."""
    return permission_matrix()


@router.get("/processes")
def list_processes(store: StoreDep, _actor: CurrentUser) -> dict[str, Any]:
    """Every stored process definition and version: stages, parameters (NOR, PAR), attributes
    and specifications."""
    return {"items": processes.list_processes(store)}


@router.post("/processes", status_code=201)
def import_process(
    store: StoreDep,
    actor: CurrentUser,
    file: Annotated[UploadFile, File(description="One process/*.yaml document (UTF-8).")],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> dict[str, Any]:
    """Import one process-definition YAML (multipart field ``file``), checked as the folder
    import checks ``process/*.yaml``. ``created`` is false when that version was already stored
    with the same content; a changed version is refused (409): give it a new version.
    Administrators and process scientists."""
    content = file.file.read(processes.MAX_PROCESS_BYTES + 1)
    return processes.import_process(
        store,
        actor.username,
        content,
        filename=file.filename or "process.yaml",
        reason=reason or None,
        source=SOURCE,
    ).to_dict()
