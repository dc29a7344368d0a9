"""`saisei serve-equipment`: a simulated plant (bioreactor) on OPC UA, for demos and tests."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import typer

from saisei.cli._common import JSON_OPTION, handle_errors, print_json
from saisei.errors import ValidationFailed
from saisei.ingestion.opcua import EquipmentServer
from saisei.services.equipment import serve_equipment, simulated_playback


def _started_at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise ValidationFailed(
            f"--started-at must be an ISO 8601 time with its UTC offset, e.g. "
            f"2026-03-01T08:00:00+00:00. Got {value!r}."
        )
    return when


@handle_errors
def serve_equipment_command(
    product: str = typer.Option("msc", "--product", help="Product: msc, cart or aav."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the simulation."),
    fault: str | None = typer.Option(
        None, "--fault", help="Fault(s) to inject, e.g. 'temperature_drift@3:120'."
    ),
    batch: int | None = typer.Option(
        None, "--batch", help="Batch to play (1-based; default: the faulty one, else 1)."
    ),
    stages: list[str] | None = typer.Option(
        None, "--stage", help="Play only this stage (repeat); default: every stage."
    ),
    speed: float = typer.Option(
        1.0, "--speed", min=1e-6, help="Plant seconds per wall second (3600: 1 h per s)."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(4840, "--port", min=1, max=65535, help="TCP port."),
    started_at: str | None = typer.Option(
        None,
        "--started-at",
        help="Wall time the batch started (ISO 8601); give the same one to continue a batch.",
    ),
    duration_s: float | None = typer.Option(
        None, "--duration-s", help="Stop after N s (default: when the batch has been played)."
    ),
    write_mapping: Path | None = typer.Option(
        None, "--write-mapping", help="Write the node mapping for 'saisei acquire' here."
    ),
    json_output: bool = JSON_OPTION,
) -> None:
    """Run an OPC UA server that plays a simulated batch in real or accelerated time.

    Every value is also kept in the server's history (HistoryRead), so an acquirer can
    back-fill after a lost connection. Ctrl-C stops it.
    """
    logging.basicConfig(level=logging.WARNING)
    playback = simulated_playback(product, seed, faults=fault, batch=batch, stages=stages or None)

    def ready(server: EquipmentServer) -> None:
        typer.echo(
            f"Playing lot {playback.lot} at {server.endpoint} (speed x{speed:g}, "
            f"started {server.started_at:%Y-%m-%dT%H:%M:%S%z}); Ctrl-C to stop.",
            err=True,
        )

    run = serve_equipment(
        playback,
        host=host,
        port=port,
        speed=speed,
        started_at=_started_at(started_at),
        duration_s=duration_s,
        mapping_out=write_mapping,
        on_ready=ready,
    )
    if json_output:
        print_json(run.to_dict())
    else:
        typer.echo(
            f"Lot {run.lot}: {run.published} values published on {run.channels} nodes "
            f"({'finished' if run.finished else 'stopped'})."
        )
