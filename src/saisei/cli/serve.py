"""`saisei serve`: the web pages and the JSON API with uvicorn."""

from __future__ import annotations

import os

import typer

from saisei.cli._common import handle_errors, settings_from
from saisei.config import Settings

HOST_OPTION = typer.Option("127.0.0.1", "--host", help="Interface to listen on.")
PORT_OPTION = typer.Option(8000, "--port", min=1, max=65535, help="TCP port.")
WORKERS_OPTION = typer.Option(
    1,
    "--workers",
    min=1,
    help="uvicorn worker processes; each builds its own application from the environment.",
)

#: Import string of the factory the worker processes call (uvicorn imports it in each worker).
APP_FACTORY = "saisei.app:create_app_from_environment"


@handle_errors
def serve(
    ctx: typer.Context,
    host: str = HOST_OPTION,
    port: int = PORT_OPTION,
    workers: int = WORKERS_OPTION,
) -> None:
    """Serve the pages and the API (/api/v1, OpenAPI at /docs) until interrupted."""
    run_server(settings_from(ctx), host, port, workers=workers)


def settings_environment(settings: Settings) -> dict[str, str]:
    """The ``SAISEI_*`` environment variables that rebuild ``settings`` in another process.

    Every field is written, so options given on the command line (``--home``,
    ``--database-url``) reach the worker processes, which read only the environment.
    """
    environment: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is not None:
            environment[f"SAISEI_{name.upper()}"] = str(value)
    return environment


def run_server(settings: Settings, host: str, port: int, *, workers: int = 1) -> None:
    """Serve the home of ``settings`` on ``host``:``port`` until interrupted.

    Parameters
    ----------
    settings : Settings
        Configuration of the home to serve.
    host, port : str, int
        Address to listen on.
    workers : int, default 1
        Number of uvicorn worker processes. With one, the application is built here and served
        in this process; with more, the settings are put into the environment and every worker
        builds its own application with :func:`saisei.app.create_app_from_environment` (each
        with its own caches and store connections).

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
    plural = f" with {workers} worker processes" if workers > 1 else ""
    typer.echo(
        f"saisei serving {settings.home} at http://{host}:{port}/{plural} (API: /api/v1, /docs)",
        err=True,
    )
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="info")
        return
    app.state.store.close()
    os.environ.update(settings_environment(settings))
    uvicorn.run(APP_FACTORY, factory=True, workers=workers, host=host, port=port, log_level="info")
