"""`saisei shipments`: register, evaluate logger data, acknowledge excursions."""

from __future__ import annotations

from pathlib import Path

import typer

from saisei.cli._common import JSON_OPTION, handle_errors, open_store, print_json, settings_from
from saisei.cli.custody import ACTOR_OPTION, actor_of, parse_moment
from saisei.custody import shipments
from saisei.custody.shipments import ShipmentEvaluation
from saisei.services import shipments as receipt

app = typer.Typer(
    help="Shipments: register, evaluate logger data, acknowledge excursions.",
    no_args_is_help=True,
)


def _print(result: ShipmentEvaluation, json_output: bool) -> None:
    if json_output:
        print_json(result.to_dict())
        return
    evaluation = result.evaluation
    typer.echo(
        f"Shipment {result.code} ({result.condition_class}): {result.decision} -> "
        f"{result.status} [{evaluation['spec']['name']}]"
    )
    for logger in evaluation["loggers"]:
        typer.echo(
            f"  logger {logger['logger_id']}: {logger['n_readings']} readings, min "
            f"{logger['min_c']:.2f} C, max {logger['max_c']:.2f} C, MKT {logger['mkt_c']:.2f} C, "
            f"{logger['time_out_of_range_h']:.2f} h out of range"
        )
    for e in evaluation["excursions"]:
        typer.echo(
            f"  excursion {e['number']}: {e['band']} {e['start']} - {e['end']} "
            f"({e['duration_h']:.2f} h, {e['min_c']:g} to {e['max_c']:g} C)"
            + (" acknowledged" if e["acknowledged"] else "")
        )
    for reason in result.reasons:
        typer.echo(f"  reason: {reason}")


@app.command("create")
@handle_errors
def create(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Shipment code."),
    subject_type: str = typer.Option(..., "--subject-type", help="collection, batch, product."),
    subject_ref: str = typer.Option(..., "--subject-ref", help="DIN, lot or product id."),
    from_party: str = typer.Option(..., "--from", help="Sender party code."),
    to_party: str = typer.Option(..., "--to", help="Receiver party code."),
    shipped_at: str = typer.Option(..., "--shipped-at", help="Dispatch time (ISO 8601, zone)."),
    container: str | None = typer.Option(None, "--container", help="Shipper/container id."),
    condition: str | None = typer.Option(
        None, "--condition", help="Condition class, e.g. 2-8C, 15-25C, LN2_dry_shipper."
    ),
    user: str | None = ACTOR_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Register a shipment; refused unless both parties are qualified."""
    with open_store(settings_from(ctx)) as store:
        result = shipments.create_shipment(
            store,
            actor_of(user),
            code=code,
            subject_type=subject_type,
            subject_ref=subject_ref,
            from_party=from_party,
            to_party=to_party,
            shipped_at=parse_moment(shipped_at, "--shipped-at"),
            container_id=container,
            condition_class=condition,
            source="cli",
        )
    if json_output:
        print_json(result)
    else:
        typer.echo(f"Shipment {code}: {result['from_party']} -> {result['to_party']}")


@app.command("evaluate")
@handle_errors
def evaluate(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Shipment code."),
    specs: Path | None = typer.Option(
        None, "--specs", help="YAML file of transport specifications per condition class."
    ),
    user: str | None = ACTOR_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Evaluate the shipment's logger readings and store the receipt decision (QA, operators,
    collection-site and intermediary users)."""
    table = shipments.load_specs(specs)
    with open_store(settings_from(ctx)) as store:
        result = receipt.evaluate_shipment(store, actor_of(user), code, specs=table, source="cli")
    _print(result, json_output)


@app.command("acknowledge")
@handle_errors
def acknowledge(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Shipment code."),
    excursion: int = typer.Option(..., "--excursion", min=1, help="Excursion number (from 1)."),
    comment: str = typer.Option(..., "--comment", help="What happened and why it matters."),
    user: str | None = ACTOR_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Acknowledge one excursion with a comment; the receipt is decided again (QA,
    collection-site and intermediary users)."""
    with open_store(settings_from(ctx)) as store:
        result = receipt.acknowledge_excursion(
            store, actor_of(user), code, excursion, comment, source="cli"
        )
    _print(result, json_output)
