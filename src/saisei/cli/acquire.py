"""`saisei acquire`: live acquisition of a lot from equipment over OPC UA."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import typer

from saisei.cli._common import JSON_OPTION, handle_errors, open_store, print_json, settings_from
from saisei.cli.data import _actor
from saisei.errors import ConfigurationError
from saisei.ingestion.opcua import load_mapping
from saisei.services.acquisition import AcquisitionResult, acquire
from saisei.services.notify import WebhookNotifier


def _print(result: AcquisitionResult) -> None:
    typer.echo(
        f"Lot {result.lot} from {result.endpoint}: {result.values} values stored in "
        f"{result.segments} segments ({result.backfilled} back-filled from history, "
        f"{result.duplicates_dropped} duplicates dropped); {result.connections} connection(s), "
        f"{result.losses} lost."
    )
    for key, count in result.per_variable.items():
        typer.echo(f"  {key + ':':<36}{count}")
    for alarm in result.alarms:
        typer.echo(
            f"  ALARM t = {alarm.t_h:g} h: {alarm.statistic.upper()} {alarm.value:.3g} > "
            f"{alarm.limit:.3g}; top variables {', '.join(alarm.top_variables) or '-'}"
            + (f"; deviation {alarm.deviation}" if alarm.deviation else "")
        )
    if result.prediction is not None:
        p = result.prediction
        typer.echo(
            f"  predicted {p.attribute} at the end of the batch: {p.value:.4g} "
            f"(model {p.model} v{p.version}, data to t = {p.data_until_h:g} h)"
        )
    for note in result.notes:
        typer.echo(f"  note: {note}", err=True)


@handle_errors
def acquire_command(
    ctx: typer.Context,
    endpoint: str = typer.Option(
        ..., "--endpoint", help="OPC UA server: opc.tcp://HOST:PORT, optionally with a path."
    ),
    mapping_path: Path = typer.Option(..., "--mapping", help="YAML node mapping (docs/live.md)."),
    lot: str = typer.Option(..., "--lot", help="Lot the data belong to (must exist)."),
    stage: str | None = typer.Option(
        None, "--stage", help="Acquire only the mapped nodes of this stage."
    ),
    flush_seconds: float = typer.Option(
        5.0, "--flush-seconds", min=0.05, help="Seconds between two stored segments."
    ),
    duration_s: float | None = typer.Option(
        None, "--duration-s", min=0.0, help="Stop after N seconds (default: until Ctrl-C)."
    ),
    model: str | None = typer.Option(
        None, "--model", help="Monitoring model to score the lot with after each flush."
    ),
    quality_model: str | None = typer.Option(
        None,
        "--quality-model",
        help="Quality model whose end-of-batch prediction is updated after each flush.",
    ),
    webhook: str | None = typer.Option(
        None, "--webhook", help="POST each new alarm as JSON to this URL."
    ),
    open_deviation: bool = typer.Option(
        False, "--open-deviation", help="Open a deviation at the first new alarm."
    ),
    connect_timeout_s: float = typer.Option(
        30.0, "--connect-timeout-s", help="Give up if the server cannot be reached at start."
    ),
    compact: bool = typer.Option(
        False,
        "--compact",
        help="When the run ends (duration reached or Ctrl-C), merge the lot's segments into "
        "one per stage (as 'saisei batches compact').",
    ),
    actor: str | None = typer.Option(None, "--actor", help="User id for the audit trail."),
    verbose: bool = typer.Option(False, "--verbose", help="Log connection events on stderr."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Acquire a lot's process data from equipment over OPC UA, store and monitor it live.

    Values are stored as audited Parquet segments (one per flush); a lost connection is
    re-established with back-off and the gap back-filled from the server's history; a
    restart resumes after the last stored value. Ctrl-C stops cleanly.
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    mapping = load_mapping(mapping_path).for_stage(stage)
    password = None
    if mapping.security.password_env is not None:
        password = os.environ.get(mapping.security.password_env)
        if password is None:
            raise ConfigurationError(
                f"The mapping names environment variable {mapping.security.password_env} for "
                "the OPC UA password, but it is not set. Set it before running acquire."
            )
    if model is None and (webhook is not None or open_deviation):
        raise ConfigurationError(
            "--webhook and --open-deviation act on monitoring alarms: give --model too."
        )
    notifier = WebhookNotifier(webhook) if webhook is not None else None
    with open_store(settings_from(ctx)) as store:
        result = acquire(
            store,
            endpoint=endpoint,
            mapping=mapping,
            lot=lot,
            actor=_actor(actor),
            flush_seconds=flush_seconds,
            duration_s=duration_s,
            model=model,
            quality_model=quality_model,
            notifier=notifier,
            open_deviation=open_deviation,
            password=password,
            connect_timeout_s=connect_timeout_s,
            compact=compact,
        )
    if json_output:
        print_json(result.to_dict())
    else:
        _print(result)
