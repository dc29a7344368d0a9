"""`saisei monitor`: models of normal operation, scoring of batches and their alarms, and
quality models predicting a running batch's end-of-batch quality."""

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
from saisei.services.monitoring import acknowledge_alarms, build_model, list_models, score_lot
from saisei.services.overview import list_alarms
from saisei.services.quality_prediction import (
    QualityPrediction,
    build_quality_model,
    latest_predictions,
    predict_quality,
)

app = typer.Typer(
    help="Multivariate monitoring: build models, score batches, acknowledge alarms, predict "
    "end-of-batch quality.",
    no_args_is_help=True,
)
quality_app = typer.Typer(
    help="Quality models: end-of-batch quality predicted from the trajectory so far.",
    no_args_is_help=True,
)
app.add_typer(quality_app, name="quality-model")


PRODUCT_OPTION = typer.Option(..., "--product", help="MSC, CAR-T, iPSC-derived, AAV, LV.")
STAGE_OPTION = typer.Option(..., "--stage", help="Process stage whose series are modelled.")
NAME_OPTION = typer.Option(..., "--name", help="Model name; each build adds a version.")
LOTS_OPTION = typer.Option(
    None, "--lots", help="Reference lots (repeat the option); default: all with data."
)
VARIABLES_OPTION = typer.Option(
    None, "--variable", help="Variables to model (repeat); default: all at the stage."
)
ACTOR_OPTION = typer.Option(
    None, "--actor", help="User id of an account allowed to do this (recorded in the audit trail)."
)


@app.command("build")
@handle_errors
def build(
    ctx: typer.Context,
    product: str = PRODUCT_OPTION,
    stage: str = STAGE_OPTION,
    name: str = NAME_OPTION,
    lots: list[str] | None = LOTS_OPTION,
    variables: list[str] | None = VARIABLES_OPTION,
    n_components: int | None = typer.Option(
        None, "--components", min=1, help="Principal components; default: cross-validated."
    ),
    alpha: float = typer.Option(0.01, "--alpha", help="False-alarm rate of the limits."),
    actor: str | None = ACTOR_OPTION,
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
    actor: str | None = ACTOR_OPTION,
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


@app.command("alarms")
@handle_errors
def alarms_command(
    ctx: typer.Context,
    lot: str | None = typer.Argument(None, help="Lot whose alarms are listed (default: all)."),
    limit: int = typer.Option(200, "--limit", min=1, max=1000, help="At most this many."),
    json_output: bool = JSON_OPTION,
) -> None:
    """List stored alarms, newest first, with their id and acknowledgement."""
    with open_store(settings_from(ctx)) as store:
        rows = list_alarms(store, lot=lot, limit=limit)
    if json_output:
        print_json([r.to_dict() for r in rows])
        return
    print_table(
        "Monitoring alarms",
        ["id", "lot", "model", "t (h)", "statistic", "value", "limit", "acknowledged"],
        [
            [
                r.id,
                r.lot,
                f"{r.model} v{r.version}",
                f"{r.t_h:.2f}",
                r.statistic.upper(),
                f"{r.value:.3g}",
                f"{r.limit:.3g}",
                f"{r.acknowledged_by}: {r.acknowledgement_comment}" if r.acknowledged else "no",
            ]
            for r in rows
        ],
    )


@app.command("acknowledge")
@handle_errors
def acknowledge_command(
    ctx: typer.Context,
    alarms: list[int] | None = typer.Argument(
        None, help="Alarm ids (see 'saisei monitor alarms'); several are acknowledged together."
    ),
    lot: str | None = typer.Option(
        None, "--lot", help="Acknowledge every alarm of this lot not yet acknowledged."
    ),
    comment: str = typer.Option(..., "--comment", help="What was seen and what was done."),
    actor: str | None = ACTOR_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Acknowledge alarms with a comment (stored and audited): the ALARMS given, or with
    --lot all open alarms of a lot, all or none. --json prints the alarm (one id) or the list."""
    with open_store(settings_from(ctx)) as store:
        done = acknowledge_alarms(
            store, alarms or (), lot=lot, actor=_actor(actor), comment=comment, source="cli"
        )
    if json_output:
        one = alarms is not None and len(alarms) == 1 and lot is None
        print_json(done[0].to_dict() if one else [a.to_dict() for a in done])
        return
    for alarm in done:
        typer.echo(
            f"Alarm {alarm.id} of lot {alarm.lot} (t = {alarm.t_h:.2f} h) acknowledged by "
            f"{alarm.acknowledged_by}."
        )


@quality_app.command("build")
@handle_errors
def quality_build(
    ctx: typer.Context,
    product: str = PRODUCT_OPTION,
    stage: str = STAGE_OPTION,
    attribute: str = typer.Option(..., "--attribute", help="QC attribute predicted."),
    name: str = NAME_OPTION,
    lots: list[str] | None = LOTS_OPTION,
    variables: list[str] | None = VARIABLES_OPTION,
    n_components: int | None = typer.Option(
        None, "--components", min=1, help="PLS components; default: cross-validated."
    ),
    resample_h: float = typer.Option(1.0, "--resample-h", min=0.0, help="Time bin width (h)."),
    actor: str | None = ACTOR_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Fit a batch-level PLS model of a QC attribute on reference lots; store a version."""
    with open_store(settings_from(ctx)) as store:
        summary = build_quality_model(
            store,
            name=name,
            product=product,
            stage=stage,
            attribute=attribute,
            actor=_actor(actor),
            lots=lots or None,
            variables=variables or None,
            n_components=n_components,
            resample_h=resample_h,
        )
    if json_output:
        print_json(summary.to_dict())
    else:
        typer.echo(
            f"Quality model {summary.name} v{summary.version} of {attribute}: "
            f"{len(summary.lots)} reference lots, {len(summary.variables)} variables, "
            f"{summary.n_components} components."
        )


@app.command("predict")
@handle_errors
def predict(
    ctx: typer.Context,
    lot: str = typer.Argument(..., help="Lot (running or finished)."),
    model: str | None = typer.Option(
        None, "--model", help="Predict now with this quality model (audited); default: show."
    ),
    version: int | None = typer.Option(None, "--version", help="Model version (newest)."),
    actor: str | None = ACTOR_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Show the latest predicted end-of-batch quality of a lot, one per quality model.

    With --model the lot is predicted now from its series so far (and the prediction is
    audited) before the latest predictions are shown.
    """
    with open_store(settings_from(ctx)) as store:
        if model is not None:
            predict_quality(store, lot, model=model, version=version, actor=_actor(actor))
        found = latest_predictions(store, lot)
    if json_output:
        print_json([p.to_dict() for p in found])
        return
    if not found:
        typer.echo(
            f"No prediction of lot {lot} yet; predict with 'saisei monitor predict {lot} "
            "--model NAME'.",
            err=True,
        )
        return
    print_table(
        f"Predicted end-of-batch quality of {lot}",
        ["attribute", "predicted", "data until (h)", "model", "predicted at"],
        [_prediction_row(p) for p in found],
    )


def _prediction_row(p: QualityPrediction) -> list[str]:
    return [
        p.attribute,
        f"{p.value:.4g}",
        f"{p.data_until_h:.2f}",
        f"{p.model} v{p.version}",
        p.predicted_at.isoformat(timespec="seconds"),
    ]
