"""Roles, permissions and which service operation needs which permission: the one place.

Every write operation of :mod:`saisei.quality` names itself in :data:`OPERATIONS` and calls
:func:`check_permission` with the acting user's roles, so the CLI, the API and the web get
the same rules (21 CFR 11.10(d), (g)). Reading is not restricted here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType

from saisei.errors import PermissionDenied, ValidationFailed

__all__ = [
    "OPERATIONS",
    "ROLE_PERMISSIONS",
    "SYSTEM_ACTOR",
    "SYSTEM_OPERATIONS",
    "Permission",
    "Role",
    "check_permission",
    "parse_roles",
    "permissions_of",
    "roles_allowed",
]


class Role(StrEnum):
    """The roles of saisei users."""

    ADMIN = "admin"
    QA = "qa"
    QC_ANALYST = "qc_analyst"
    OPERATOR = "operator"
    PROCESS_SCIENTIST = "process_scientist"
    VIEWER = "viewer"
    COLLECTION_SITE_USER = "collection_site_user"
    INTERMEDIARY_USER = "intermediary_user"


class Permission(StrEnum):
    """What a role may do."""

    MANAGE_USERS = "users.manage"
    MANAGE_SPECS = "specs.manage"
    ENTER_QC = "qc.enter"
    INVALIDATE_QC = "qc.invalidate"
    SIGN_RECORD = "records.sign"
    RECORD_DEVIATION = "deviations.record"
    CLASSIFY_DEVIATION = "deviations.classify"
    INVESTIGATE_DEVIATION = "deviations.investigate"
    RECORD_CAPA = "deviations.capa"
    CLOSE_DEVIATION = "deviations.close"
    REVIEW_AUDIT_TRAIL = "audit.review"
    DISPOSE_BATCH = "batches.dispose"
    DEFINE_COMPARABILITY = "comparability.define"
    APPROVE_COMPARABILITY = "comparability.approve"
    EVALUATE_SHIPMENT = "shipments.evaluate"
    ACKNOWLEDGE_EXCURSION = "shipments.acknowledge"
    BUILD_MONITORING_MODEL = "monitoring.build"
    SCORE_BATCH = "monitoring.score"
    ACKNOWLEDGE_ALARM = "monitoring.acknowledge"
    IMPORT_PROCESS = "processes.import"


_P = Permission

#: Role -> permissions. Administrators manage accounts and system configuration such as
#: monitoring models and process definitions (with the process scientists, who design the
#: process; segregation of duties: administrators neither enter data nor sign); QA owns
#: specifications, reviews and disposition. Receipt of shipments (evaluation, excursion
#: acknowledgement with a comment) belongs to QA and the supply-chain coordinators of the
#: collection sites and intermediaries; operators evaluate what they receive. Monitoring alarms
#: are acknowledged by those who watch the running batch: operators, QA, process scientists.
ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = MappingProxyType(
    {
        Role.ADMIN: frozenset({_P.MANAGE_USERS, _P.BUILD_MONITORING_MODEL, _P.IMPORT_PROCESS}),
        Role.QA: frozenset(
            {
                _P.MANAGE_SPECS,
                _P.INVALIDATE_QC,
                _P.SIGN_RECORD,
                _P.RECORD_DEVIATION,
                _P.CLASSIFY_DEVIATION,
                _P.INVESTIGATE_DEVIATION,
                _P.RECORD_CAPA,
                _P.CLOSE_DEVIATION,
                _P.REVIEW_AUDIT_TRAIL,
                _P.DISPOSE_BATCH,
                _P.DEFINE_COMPARABILITY,
                _P.APPROVE_COMPARABILITY,
                _P.EVALUATE_SHIPMENT,
                _P.ACKNOWLEDGE_EXCURSION,
                _P.SCORE_BATCH,
                _P.ACKNOWLEDGE_ALARM,
            }
        ),
        Role.QC_ANALYST: frozenset(
            {_P.ENTER_QC, _P.SIGN_RECORD, _P.RECORD_DEVIATION, _P.INVESTIGATE_DEVIATION}
        ),
        Role.OPERATOR: frozenset(
            {
                _P.SIGN_RECORD,
                _P.RECORD_DEVIATION,
                _P.EVALUATE_SHIPMENT,
                _P.SCORE_BATCH,
                _P.ACKNOWLEDGE_ALARM,
            }
        ),
        Role.PROCESS_SCIENTIST: frozenset(
            {
                _P.SIGN_RECORD,
                _P.RECORD_DEVIATION,
                _P.INVESTIGATE_DEVIATION,
                _P.RECORD_CAPA,
                _P.DEFINE_COMPARABILITY,
                _P.BUILD_MONITORING_MODEL,
                _P.SCORE_BATCH,
                _P.ACKNOWLEDGE_ALARM,
                _P.IMPORT_PROCESS,
            }
        ),
        Role.VIEWER: frozenset(),
        Role.COLLECTION_SITE_USER: frozenset(
            {_P.RECORD_DEVIATION, _P.EVALUATE_SHIPMENT, _P.ACKNOWLEDGE_EXCURSION}
        ),
        Role.INTERMEDIARY_USER: frozenset(
            {_P.RECORD_DEVIATION, _P.EVALUATE_SHIPMENT, _P.ACKNOWLEDGE_EXCURSION}
        ),
    }
)

#: Every write operation of the quality, shipment and monitoring services and the permission
#: it needs.
OPERATIONS: Mapping[str, Permission] = MappingProxyType(
    {
        "users.create_user": _P.MANAGE_USERS,
        "users.grant_role": _P.MANAGE_USERS,
        "users.revoke_role": _P.MANAGE_USERS,
        "users.deactivate_user": _P.MANAGE_USERS,
        "users.unlock_user": _P.MANAGE_USERS,
        "users.reset_password": _P.MANAGE_USERS,
        "specs.define_specification": _P.MANAGE_SPECS,
        "specs.enter_qc_result": _P.ENTER_QC,
        "specs.invalidate_qc_result": _P.INVALIDATE_QC,
        "esign.sign_record": _P.SIGN_RECORD,
        "deviations.record_deviation": _P.RECORD_DEVIATION,
        "deviations.classify_deviation": _P.CLASSIFY_DEVIATION,
        "deviations.record_investigation": _P.INVESTIGATE_DEVIATION,
        "deviations.record_capa": _P.RECORD_CAPA,
        "deviations.close_deviation": _P.CLOSE_DEVIATION,
        "review.review_audit_trail": _P.REVIEW_AUDIT_TRAIL,
        "disposition.release_batch": _P.DISPOSE_BATCH,
        "disposition.reject_batch": _P.DISPOSE_BATCH,
        "disposition.quarantine_batch": _P.DISPOSE_BATCH,
        "comparability.edit_plan": _P.DEFINE_COMPARABILITY,
        "comparability.run_study": _P.DEFINE_COMPARABILITY,
        "comparability.lock_plan": _P.APPROVE_COMPARABILITY,
        "comparability.amend_plan": _P.APPROVE_COMPARABILITY,
        "shipments.evaluate_shipment": _P.EVALUATE_SHIPMENT,
        "shipments.acknowledge_excursion": _P.ACKNOWLEDGE_EXCURSION,
        "monitoring.build_model": _P.BUILD_MONITORING_MODEL,
        "monitoring.score_lot": _P.SCORE_BATCH,
        "monitoring.acknowledge_alarm": _P.ACKNOWLEDGE_ALARM,
        "processes.import_process": _P.IMPORT_PROCESS,
    }
)

#: The actor of unattended changes (the audit trail's ``system``), and the operations it may
#: run without a user account: scoring a running lot during live acquisition.
SYSTEM_ACTOR = "system"
SYSTEM_OPERATIONS: frozenset[str] = frozenset({"monitoring.score_lot"})


def parse_roles(names: Iterable[str]) -> list[Role]:
    """Role values from their names; refuses unknown names and an empty list."""
    roles: list[Role] = []
    for name in names:
        try:
            roles.append(Role(name))
        except ValueError:
            options = ", ".join(r.value for r in Role)
            raise ValidationFailed(f"The role must be one of {options}. Got {name!r}.") from None
    if not roles:
        raise ValidationFailed("A user needs at least one role. Got none.")
    return sorted(set(roles))


def permissions_of(roles: Iterable[str]) -> frozenset[Permission]:
    """Union of the permissions of ``roles`` (unknown role names grant nothing)."""
    granted: set[Permission] = set()
    for name in roles:
        if name in Role.__members__.values():
            granted |= ROLE_PERMISSIONS[Role(name)]
    return frozenset(granted)


def roles_allowed(operation: str) -> list[Role]:
    """Roles that may run ``operation``."""
    permission = OPERATIONS[operation]
    return [role for role in Role if permission in ROLE_PERMISSIONS[role]]


def check_permission(username: str, roles: Iterable[str], operation: str) -> None:
    """Refuse ``operation`` unless one of ``roles`` grants its permission.

    Raises
    ------
    PermissionDenied
        Naming the user, the operation, the permission and the roles that have it.
    """
    permission = OPERATIONS[operation]
    held = sorted(roles)
    if permission not in permissions_of(held):
        allowed = ", ".join(r.value for r in roles_allowed(operation))
        raise PermissionDenied(
            f"User {username!r} (roles: {', '.join(held) or 'none'}) may not run "
            f"{operation} (permission {permission.value}); it needs one of the roles: "
            f"{allowed}."
        )
