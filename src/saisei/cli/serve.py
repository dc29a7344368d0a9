"""`saisei serve`: the web pages and the JSON API with uvicorn."""

from __future__ import annotations

import typer

from saisei.cli._common import handle_errors, settings_from
from saisei.config import Settings

HOST_OPTION = typer.Option("127.0.0.1", "--host", help="Interface to listen on.")
PORT_OPTION = typer.Option(8000, "--port", min=1, max=65535, help="TCP port.")


@handle_errors
def serve(ctx: typer.Context, host: str = HOST_OPTION, port: int = PORT_OPTION) -> None:
    """Serve the pages and the API (/api/v1, OpenAPI at /docs) until interrupted."""
    run_server(settings_from(ctx), host, port)


def run_server(settings: Settings, host: str, port: int) -> None:
    """Serve the home of ``settings`` on ``host``:``port`` until interrupted.

    Raises
    ------
    StorageError
        When the home's database is missing or not at the newest schema revision.
    """
    import uvicorn

    from saisei.app import create_app

    app = create_app(settings)
    with app.state.store.reader():
        pass  # refuses a home whose database is missing or not at the newest revision
    typer.echo(
        f"saisei serving {settings.home} at http://{host}:{port}/ (API: /api/v1, /docs)", err=True
    )
    uvicorn.run(app, host=host, port=port, log_level="info")
