"""`saisei design-space`: fit, evaluate and store a Bayesian design space."""

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
from saisei.errors import ValidationFailed
from saisei.services.design_space import build_design_space


def _split(values: list[str] | None) -> list[str]:
    return [v for item in values or [] for v in item.replace(",", " ").split() if v]


def _sds(values: list[str] | None) -> dict[str, float]:
    out = {}
    for item in values or []:
        name, _, sd = item.partition("=")
        try:
            out[name] = float(sd)
        except ValueError:
            raise ValidationFailed(
                f"--measurement-sd must be ATTRIBUTE=SD (e.g. post_thaw_viability=2). Got {item!r}."
            ) from None
    return out


@handle_errors
def design_space_command(
    ctx: typer.Context,
    attributes: list[str] = typer.Option(
        ..., "--attributes", help="Attributes with release specs (repeat or comma-separated)."
    ),
    parameters: list[str] = typer.Option(
        ..., "--parameters", help="Set-points (repeat or comma-separated)."
    ),
    reliability: float = typer.Option(0.9, "--reliability", help="P(all in spec) required."),
    product: str | None = typer.Option(
        None, "--product", help="MSC, CAR-T, iPSC-derived, AAV, LV."
    ),
    process: str | None = typer.Option(
        None, "--process", help="NAME or NAME:VERSION (default: that of the latest lot)."
    ),
    name: str | None = typer.Option(None, "--name", help="Stored name; each run adds a version."),
    covariates: list[str] | None = typer.Option(
        None, "--covariates", help="Source-material covariates, e.g. donor_age_years."
    ),
    terms: str = typer.Option("quadratic", "--terms", help="linear, interaction or quadratic."),
    measurement_sd: list[str] | None = typer.Option(
        None, "--measurement-sd", help="Known assay SD, ATTRIBUTE=SD in the stored unit (repeat)."
    ),
    actor: str | None = typer.Option(None, "--actor", help="User id for the audit trail."),
    cluster: str | None = CLUSTER_OPTION,
    workers: int | None = WORKERS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Fit the design space (Peterson 2008) of attributes on set-points and store it.

    Prints the operable box (largest range set where P(all in spec) >= reliability) and the
    proven acceptable range of each parameter with the others at target. With --workers N or
    --cluster tcp://HOST:8786 the Monte Carlo probability over the grid runs on Dask (same
    result).
    """
    with open_store(settings_from(ctx)) as store, dask_client(cluster, workers) as client:
        mapper = None
        if client is not None:
            from saisei.scale import client_map

            mapper = client_map(client)
        view = build_design_space(
            store,
            attributes=_split(attributes),
            parameters=_split(parameters),
            covariates=_split(covariates),
            reliability=reliability,
            product=product,
            process=process,
            name=name,
            terms=terms,
            measurement_sd=_sds(measurement_sd) or None,
            actor=_actor(actor),
            mapper=mapper,
        )
    if json_output:
        print_json(view.to_dict())
        return
    typer.echo(
        f"Design space {view.name} v{view.version} ({view.status}) of {view.process}: "
        f"{len(view.lots)} lots, P(all in spec) at target {view.probability_at_target:.3f}, "
        f"{view.fraction_inside:.0%} of the fitted ranges at reliability {view.reliability:g}."
    )
    print_table(
        "Operable ranges and PARs",
        ["parameter", "unit", "target", "box low", "box high", "PAR low", "PAR high"],
        [
            [
                p["parameter"],
                view.units.get(p["parameter"]) or "",
                f"{p['target']:.4g}",
                "" if view.box is None else f"{view.box[p['parameter']][0]:.4g}",
                "" if view.box is None else f"{view.box[p['parameter']][1]:.4g}",
                "" if p["low"] is None else f"{p['low']:.4g}",
                "" if p["high"] is None else f"{p['high']:.4g}",
            ]
            for p in view.pars
        ],
    )
