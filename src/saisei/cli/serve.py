"""`saisei serve`: the web pages and the JSON API with uvicorn."""

from __future__ import annotations

import typer

from saisei.cli._common import handle_errors, settings_from


@handle_errors
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
) -> None:
    """Serve the pages and the API (/api/v1, OpenAPI at /docs) until interrupted."""
    import uvicorn

    from saisei.app import create_app

    settings = settings_from(ctx)
    app = create_app(settings)
    with app.state.store.reader():
        pass  # refuses a home whose database is missing or not at the newest revision
    typer.echo(
        f"saisei serving {settings.home} at http://{host}:{port}/ (API: /api/v1, /docs)", err=True
    )
    uvicorn.run(app, host=host, port=port, log_level="info")
