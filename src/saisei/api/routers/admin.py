"""The permission matrix and the stored process definitions (read-only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from saisei.api.deps import CurrentUser, StoreDep
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
