"""`saisei scale`: the Dask cluster that fleet-scale commands run on."""

from __future__ import annotations

import typer

from saisei.cli._common import (
    CLUSTER_OPTION,
    JSON_OPTION,
    WORKERS_OPTION,
    handle_errors,
    print_json,
)
from saisei.scale import ClusterInfo, cluster_info, connect

app = typer.Typer(help="Fleet scale on Dask: inspect the cluster.", no_args_is_help=True)


def _print(info: ClusterInfo) -> None:
    typer.echo(f"scheduler: {info.scheduler}")
    typer.echo(f"dask {info.dask_version}, distributed {info.distributed_version}")
    typer.echo(
        f"workers: {len(info.workers)}, threads: {info.threads}, "
        f"memory: {info.memory_limit_bytes / 2**30:.1f} GiB"
    )
    for worker in info.workers:
        typer.echo(
            f"  {worker.address}  threads {worker.threads}  "
            f"memory {worker.memory_limit_bytes / 2**30:.1f} GiB"
        )


@app.command("info")
@handle_errors
def info(
    cluster: str | None = CLUSTER_OPTION,
    workers: int | None = WORKERS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Connect to a Dask cluster (or start a local one) and describe its workers."""
    with connect(cluster, workers) as client:
        result = cluster_info(client)
    if json_output:
        print_json(result.to_dict())
    else:
        _print(result)
