"""Shared plumbing of the CLI: settings from options, error translation, output."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from saisei.app import build_store
from saisei.config import Settings, load_settings
from saisei.errors import SaiseiError
from saisei.storage.store import Store

P = ParamSpec("P")
R = TypeVar("R")

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document on stdout.")


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Translate saisei errors into a message on stderr and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except SaiseiError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(code=1) from None

    return wrapper


def settings_from(ctx: typer.Context, **overrides: Any) -> Settings:
    """Settings from the environment, the root options and command overrides."""
    root: dict[str, Any] = dict(ctx.obj or {})
    root.update({k: v for k, v in overrides.items() if v is not None})
    return load_settings(**root)


@contextmanager
def open_store(settings: Settings) -> Iterator[Store]:
    """The store of ``settings``; connections are released afterwards."""
    store = build_store(settings)
    try:
        yield store
    finally:
        store.close()


def home_of(settings: Settings) -> Path:
    """The home folder."""
    return settings.home


def print_json(document: Any) -> None:
    """One JSON document on stdout."""
    typer.echo(json.dumps(document, ensure_ascii=False, indent=2, default=str))


def print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    """A table on stdout for people."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    Console(soft_wrap=True).print(table)


CLUSTER_OPTION = typer.Option(
    None, "--cluster", help="Scheduler address of a running Dask cluster, e.g. tcp://HOST:8786."
)
WORKERS_OPTION = typer.Option(
    None, "--workers", help="Start a local Dask cluster with N worker processes instead."
)


@contextmanager
def dask_client(cluster: str | None, workers: int | None) -> Iterator[Any]:
    """A Dask client for ``--cluster``/``--workers``, or None when neither is given.

    Dask is imported only when a cluster is asked for (``saisei.scale``), so the other
    commands start without it.
    """
    if cluster is None and workers is None:
        yield None
        return
    from saisei.scale import connect

    with connect(cluster, workers) as client:
        yield client
