"""`saisei monitor`: models of normal operation and scoring of batches."""

from __future__ import annotations

import typer

from saisei.cli._common import (
    CLUSTER_OPTION,
    JSON_OPTION,
    WORKERS_OPTION,
    dask_client,
    handle_errors,
    open_store,
    print_json,
    print_table,
    settings_from,
)
from saisei.cli.data import _actor
from saisei.services.monitoring import build_model, list_models, score_lot

app = typer.Typer(
    help="Multivariate monitoring: build models, score batches.", no_args_is_help=True
)


@app.command("build")
@handle_errors
def build(
    ctx: typer.Context,
    product: str = typer.Option(..., "--product", help="MSC, CAR-T, iPSC-derived, AAV, LV."),
    stage: str = typer.Option(..., "--stage", help="Process stage whose series are modelled."),
    name: str = typer.Option(..., "--name", help="Model name; each build adds a version."),
    lots: list[str] | None = typer.Option(
        None, "--lots", help="Reference lots (repeat the option); default: all with data."
    ),
    variables: list[str] | None = typer.Option(
        None, "--variable", help="Variables to model (repeat); default: all at the stage."
    ),
    n_components: int | None = typer.Option(
        None, "--components", min=1, help="Principal components; default: cross-validated."
    ),
    alpha: float = typer.Option(0.01, "--alpha", help="False-alarm rate of the limits."),
    actor: str | None = typer.Option(None, "--actor", help="User id for the audit trail."),
    cluster: str | None = CLUSTER_OPTION,
    workers: int | None = WORKERS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Fit a batch evolution model on reference lots and store it as a new version.

    With --workers N or --cluster tcp://HOST:8786 the model is trained on Dask
    (saisei.scale.fit_batch_evolution): the same model, from sums over groups of lots.
    """
    with open_store(settings_from(ctx)) as store, dask_client(cluster, workers) as client:
        trainer = None
        if client is not None:
            from saisei.scale import batch_evolution_trainer

            trainer = batch_evolution_trainer(client)
        summary = build_model(
            store,
            name=name,
            product=product,
            stage=stage,
            actor=_actor(actor),
            lots=lots or None,
            variables=variables or None,
            n_components=n_components,
            alpha=alpha,
            trainer=trainer,
        )
    if json_output:
        print_json(summary.to_dict())
    else:
        typer.echo(
            f"Model {summary.name} v{summary.version}: {summary.kind}, "
            f"{len(summary.lots)} reference lots, {len(summary.variables)} variables, "
            f"{summary.n_components} components."
        )


@app.command("score")
@handle_errors
def score(
    ctx: typer.Context,
    lot: str = typer.Argument(..., help="Lot to score (finished or running)."),
    model: str = typer.Option(..., "--model", help="Model name."),
    version: int | None = typer.Option(None, "--version", help="Model version (newest)."),
    actor: str | None = typer.Option(None, "--actor", help="User id for the audit trail."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Score a lot: alarms with time, statistic and top contributing variables."""
    with open_store(settings_from(ctx)) as store:
        result = score_lot(store, lot, model=model, version=version, actor=_actor(actor))
    if json_output:
        print_json(result.to_dict())
        return
    typer.echo(
        f"Lot {result.lot} against {result.model} v{result.version}: "
        f"{len(result.points)} time points, {len(result.alarms)} in alarm "
        f"({result.new_alarms} new)."
    )
    if len(result.alarms):
        print_table(
            "Alarms",
            ["t (h)", "T2", "T2 limit", "SPE", "SPE limit", "top variables"],
            [
                [
                    f"{r['t']:.2f}",
                    f"{r['t2']:.2f}",
                    f"{r['t2_limit']:.2f}",
                    f"{r['spe']:.2f}",
                    f"{r['spe_limit']:.2f}",
                    ", ".join(r["top_variables"] or []),
                ]
                for r in result.alarms.to_dict("records")
            ],
        )


@app.command("list")
@handle_errors
def list_command(ctx: typer.Context, json_output: bool = JSON_OPTION) -> None:
    """List stored monitoring models."""
    with open_store(settings_from(ctx)) as store:
        rows = list_models(store)
    if json_output:
        print_json([r.to_dict() for r in rows])
        return
    print_table(
        "Monitoring models",
        ["name", "version", "product", "stage", "lots", "variables", "components"],
        [
            [
                r.name,
                r.version,
                r.product_type,
                r.stage,
                len(r.lots),
                len(r.variables),
                r.n_components,
            ]
            for r in rows
        ],
    )
