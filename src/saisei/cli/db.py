"""`saisei db`: schema migrations."""

from __future__ import annotations

import typer

from saisei.cli._common import JSON_OPTION, handle_errors, open_store, print_json, settings_from

app = typer.Typer(help="Database schema: apply and inspect migrations.", no_args_is_help=True)


@app.command("upgrade")
@handle_errors
def upgrade(ctx: typer.Context, json_output: bool = JSON_OPTION) -> None:
    """Apply every pending migration to the database."""
    with open_store(settings_from(ctx)) as store:
        before = store.revision()
        after = store.upgrade()
        url = store.url
    if json_output:
        print_json({"database": url, "from_revision": before, "to_revision": after})
    else:
        typer.echo(f"Database {url}: schema {before or 'empty'} -> {after}")


@app.command("status")
@handle_errors
def status(ctx: typer.Context, json_output: bool = JSON_OPTION) -> None:
    """Show the schema revision of the database and whether it is current."""
    with open_store(settings_from(ctx)) as store:
        current, head, url = store.revision(), store.head_revision(), store.url
    if json_output:
        print_json({"database": url, "revision": current, "head": head, "current": current == head})
    else:
        state = "current" if current == head else f"behind (newest is {head})"
        typer.echo(f"Database {url}: schema {current or 'empty'}, {state}")
