"""`saisei init` and `saisei demo`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import Progress

from saisei.cli._common import JSON_OPTION, handle_errors, open_store, print_json, settings_from
from saisei.cli.serve import HOST_OPTION, PORT_OPTION, run_server
from saisei.cli.users import policy_from
from saisei.services.demo import DemoLogin, DemoSummary, ensure_demo_login, run_demo
from saisei.services.home import HomeSummary, initialise_home


def _print_summary(summary: HomeSummary) -> None:
    state = "Initialised new" if summary.created else "Existing"
    typer.echo(f"{state} saisei home: {summary.home}")
    typer.echo(f"  database:        {summary.database} (schema {summary.schema_revision})")
    typer.echo(f"  time series:     {summary.timeseries_root}")
    for name, count in summary.counts.items():
        typer.echo(f"  {name + ':':<22}{count}")


@handle_errors
def init(
    ctx: typer.Context,
    home: Path | None = typer.Option(None, "--home", help="Data folder to initialise."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Create a saisei home: folders, database schema and the audit-trail genesis event.

    Safe to run again on an existing home: it then only applies pending migrations.
    """
    settings = settings_from(ctx, home=home)
    with open_store(settings) as store:
        summary = initialise_home(store, settings.home)
    if json_output:
        print_json(summary.to_dict())
    else:
        _print_summary(summary)


@handle_errors
def demo(
    ctx: typer.Context,
    home: Path = typer.Option(Path("demo-home"), "--home", help="Folder of the demo home."),
    seed: int = typer.Option(20261128, "--seed", help="Seed of the simulated programme."),
    small: bool = typer.Option(
        False,
        "--small",
        help="A small programme (8 MSC, 5 CAR-T, 4 AAV lots) of the same shape, for tests.",
    ),
    serve: bool = typer.Option(
        False, "--serve", help="Then serve it: print the address and a demo login, and serve."
    ),
    host: str = HOST_OPTION,
    port: int = PORT_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Simulate a demonstration plant and import it into a demo home.

    Three hospitals and an intermediary supply a manufacturer: about 150 MSC batches (with a
    medium change at batch 100), 40 CAR-T and 20 AAV lots, with a few faults and transport
    excursions, imported through the normal importer (--small: 8 MSC, 5 CAR-T and 4 AAV lots
    of the same shape). Run again, it only summarises the home.
    With --serve it then creates the demo account (once; administrator and QA, its password
    kept in the home's demo-login.txt), prints the address and the login, and serves the
    pages and the API until interrupted.
    """
    settings = settings_from(ctx, home=home)
    with open_store(settings) as store, Progress(transient=True, disable=json_output) as bar:
        task = bar.add_task("simulating", total=1.0)
        result = run_demo(
            store,
            settings.home,
            seed=seed,
            size="small" if small else "full",
            progress=lambda stage, done: bar.update(task, completed=done, description=stage),
        )
        login = ensure_demo_login(store, settings.home, policy_from(settings)) if serve else None
    url = f"http://{host}:{port}/"
    if json_output:
        document = result.to_dict()
        if login is not None:
            document["serve"] = {"url": url, "login": login.to_dict()}
        print_json(document)
    else:
        _print_demo(result, settings.home)
        if login is not None:
            _print_login(url, login)
    if serve:
        run_server(settings, host, port)


def _print_login(url: str, login: DemoLogin) -> None:
    typer.echo(f"Open {url}")
    if login.username is None:
        typer.echo(f"Sign in: {login.note}.")
    else:
        typer.echo(f"Sign in as {login.username} with password {login.password or '(unknown)'}")
        if login.password is None:
            typer.echo(f"  ({login.note})")


def _print_demo(result: DemoSummary, home: Path) -> None:
    if result.imported is not None:
        typer.echo(
            f"Simulated programme written to {result.exchange_folder} and imported in "
            f"{result.imported.seconds:.1f} s."
        )
    _print_summary(result.home)
    typer.echo(
        f"Next: 'saisei --home {home} batches list', "
        f"'saisei --home {home} spc chart viability --product MSC', "
        f"'saisei --home {home} audit verify'."
    )
