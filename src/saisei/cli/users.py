"""`saisei users`: accounts, roles, passwords; plus the sign-in helpers of the quality commands.

Passwords are never command-line arguments: they are read from a hidden prompt, or (for
scripts and tests) from ``$SAISEI_PASSWORD`` (the acting user's) and ``$SAISEI_NEW_PASSWORD``
(a password being set).
"""

from __future__ import annotations

import os

import typer

from saisei.cli._common import (
    JSON_OPTION,
    handle_errors,
    open_store,
    print_json,
    print_table,
    settings_from,
)
from saisei.config import Settings
from saisei.quality import users
from saisei.quality.esign import Credentials
from saisei.quality.permissions import OPERATIONS, Role, roles_allowed
from saisei.storage.store import Store

app = typer.Typer(help="Users and roles: accounts, passwords, permissions.", no_args_is_help=True)

USER_OPTION = typer.Option(
    None, "--user", envvar="SAISEI_USER", help="Your user id (default: $SAISEI_USER; prompted)."
)
REASON_OPTION = typer.Option(None, "--reason", help="Why (required for GMP-relevant changes).")


def policy_from(settings: Settings) -> users.AuthPolicy:
    """The authentication policy of ``settings``."""
    return users.AuthPolicy(
        lockout_threshold=settings.lockout_threshold,
        password_max_age_days=settings.password_max_age_days,
        session_timeout_min=settings.session_timeout_min,
        password_history=settings.password_history,
        argon2_time_cost=settings.argon2_time_cost,
        argon2_memory_kib=settings.argon2_memory_kib,
        argon2_parallelism=settings.argon2_parallelism,
    )


def read_password(prompt: str = "Password", env: str = "SAISEI_PASSWORD") -> str:
    """A password from ``$env`` or a hidden prompt (never an argument)."""
    value = os.environ.get(env)
    if value:
        return value
    return str(typer.prompt(prompt, hide_input=True))


def read_new_password() -> str:
    """A new password from ``$SAISEI_NEW_PASSWORD`` or a hidden, confirmed prompt."""
    value = os.environ.get("SAISEI_NEW_PASSWORD")
    if value:
        return value
    return str(typer.prompt("New password", hide_input=True, confirmation_prompt=True))


def user_id(user: str | None) -> str:
    """The acting user id: ``--user``/``$SAISEI_USER`` or a prompt."""
    return user if user else str(typer.prompt("User id"))


def sign_in(store: Store, settings: Settings, user: str | None) -> str:
    """Authenticate the acting user (user id + password); returns the user id."""
    name = user_id(user)
    users.authenticate(store, name, read_password(), policy_from(settings), source="cli")
    return name


def signature_credentials(user: str | None) -> Credentials:
    """Both signature components (a CLI command is a session of its own)."""
    name = user_id(user)
    return Credentials(password=read_password(f"Password of {name} (e-signature)"), username=name)


def _print_user(view: users.UserView, json_output: bool) -> None:
    if json_output:
        print_json(view.to_dict())
    else:
        typer.echo(
            f"{view.username} ({view.full_name}) roles: {', '.join(view.roles)}; "
            f"{'active' if view.active else 'deactivated'}{', locked' if view.locked else ''}"
        )


@app.command("bootstrap")
@handle_errors
def bootstrap(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="User id of the first administrator."),
    full_name: str = typer.Option(..., "--full-name", help="Printed name."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Create the first administrator of a home that has no users yet."""
    settings = settings_from(ctx)
    password = read_new_password()
    with open_store(settings) as store:
        view = users.bootstrap_admin(
            store, username, full_name, password, policy_from(settings), source="cli"
        )
    _print_user(view, json_output)


@app.command("create")
@handle_errors
def create(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="User id of the new account."),
    full_name: str = typer.Option(..., "--full-name", help="Printed name (on e-signatures)."),
    role: list[str] = typer.Option(..., "--role", help="A role; repeat for several."),
    party: str | None = typer.Option(None, "--party", help="Party code of the user's site."),
    reason: str | None = REASON_OPTION,
    user: str | None = USER_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Create an account (administrators). The new password is prompted twice."""
    settings = settings_from(ctx)
    with open_store(settings) as store:
        actor = sign_in(store, settings, user)
        view = users.create_user(
            store,
            actor,
            username,
            full_name,
            read_new_password(),
            role,
            policy_from(settings),
            party_code=party,
            reason=reason,
            source="cli",
        )
    _print_user(view, json_output)


@app.command("list")
@handle_errors
def list_command(ctx: typer.Context, json_output: bool = JSON_OPTION) -> None:
    """List accounts with roles, state and failed sign-ins."""
    with open_store(settings_from(ctx)) as store:
        views = users.list_users(store)
    if json_output:
        print_json([v.to_dict() for v in views])
        return
    print_table(
        "Users",
        ["user id", "name", "roles", "active", "locked", "failed", "password changed"],
        [
            [
                v.username,
                v.full_name,
                ", ".join(v.roles),
                v.active,
                v.locked,
                v.failed_logins,
                v.password_changed_at and v.password_changed_at.isoformat(timespec="minutes"),
            ]
            for v in views
        ],
    )


def _admin_change(
    ctx: typer.Context, user: str | None, json_output: bool, change: str, *args: str
) -> None:
    settings = settings_from(ctx)
    with open_store(settings) as store:
        actor = sign_in(store, settings, user)
        reason = args[-1]
        if change == "grant":
            view = users.grant_role(store, actor, args[0], args[1], reason=reason, source="cli")
        elif change == "revoke":
            view = users.revoke_role(store, actor, args[0], args[1], reason=reason, source="cli")
        elif change == "deactivate":
            view = users.deactivate_user(store, actor, args[0], reason=reason, source="cli")
        elif change == "unlock":
            view = users.unlock_user(store, actor, args[0], reason=reason, source="cli")
        else:
            view = users.reset_password(
                store,
                actor,
                args[0],
                read_new_password(),
                policy_from(settings),
                reason=reason,
                source="cli",
            )
    _print_user(view, json_output)


@app.command("grant")
@handle_errors
def grant(
    ctx: typer.Context,
    username: str = typer.Argument(...),
    role: str = typer.Argument(..., help="Role to give."),
    reason: str | None = REASON_OPTION,
    user: str | None = USER_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Give a user a role (administrators; reason required)."""
    _admin_change(ctx, user, json_output, "grant", username, role, reason or "")


@app.command("revoke")
@handle_errors
def revoke(
    ctx: typer.Context,
    username: str = typer.Argument(...),
    role: str = typer.Argument(..., help="Role to take away."),
    reason: str | None = REASON_OPTION,
    user: str | None = USER_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Take a role from a user (administrators; reason required)."""
    _admin_change(ctx, user, json_output, "revoke", username, role, reason or "")


@app.command("deactivate")
@handle_errors
def deactivate(
    ctx: typer.Context,
    username: str = typer.Argument(...),
    reason: str | None = REASON_OPTION,
    user: str | None = USER_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Deactivate an account; its user id is never reused (reason required)."""
    _admin_change(ctx, user, json_output, "deactivate", username, reason or "")


@app.command("unlock")
@handle_errors
def unlock(
    ctx: typer.Context,
    username: str = typer.Argument(...),
    reason: str | None = REASON_OPTION,
    user: str | None = USER_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Unlock an account locked after failed sign-ins (reason required)."""
    _admin_change(ctx, user, json_output, "unlock", username, reason or "")


@app.command("reset-password")
@handle_errors
def reset_password(
    ctx: typer.Context,
    username: str = typer.Argument(...),
    reason: str | None = REASON_OPTION,
    user: str | None = USER_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Set a new password for a user (administrators; reason required)."""
    _admin_change(ctx, user, json_output, "reset", username, reason or "")


@app.command("passwd")
@handle_errors
def passwd(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="Your user id."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Change your own password (also when it has expired)."""
    settings = settings_from(ctx)
    old = read_password("Current password")
    new = read_new_password()
    with open_store(settings) as store:
        view = users.change_password(store, username, old, new, policy_from(settings), source="cli")
    _print_user(view, json_output)


@app.command("permissions")
@handle_errors
def permissions(json_output: bool = JSON_OPTION) -> None:
    """Show which roles may run each operation (the authorisation matrix)."""
    matrix = {op: [r.value for r in roles_allowed(op)] for op in sorted(OPERATIONS)}
    if json_output:
        print_json({"roles": [r.value for r in Role], "operations": matrix})
        return
    print_table(
        "Permissions", ["operation", "roles"], [[op, ", ".join(rs)] for op, rs in matrix.items()]
    )
