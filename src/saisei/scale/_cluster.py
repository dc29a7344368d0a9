"""Connecting to a Dask cluster, describing it, and routing joblib through it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import dask
import distributed
import joblib  # type: ignore[import-untyped]
from distributed import Client, LocalCluster

from saisei.errors import ValidationFailed

__all__ = ["ClusterInfo", "WorkerInfo", "cluster_info", "connect", "dask_backend"]


@contextmanager
def connect(
    cluster: str | None = None,
    workers: int | None = None,
    *,
    threads_per_worker: int = 1,
    processes: bool = True,
    memory_limit: str | float | None = "auto",
) -> Iterator[Client]:
    """Open a Dask client for the duration of a ``with`` block, then close it.

    Parameters
    ----------
    cluster : str, optional
        Address of a running scheduler, e.g. ``"tcp://scheduler:8786"`` (Kubernetes, Slurm,
        a ``dask scheduler`` started by hand). Give this or ``workers``.
    workers : int, optional
        Start a :class:`distributed.LocalCluster` with this many workers on this machine.
    threads_per_worker : int, default=1
        Threads of each local worker.
    processes : bool, default=True
        Local workers as processes (True) or as threads of this process (False).
    memory_limit : str or float, default="auto"
        Memory limit of each local worker (Dask's syntax: ``"2GiB"``, bytes, ``"auto"``).

    Yields
    ------
    distributed.Client
    """
    if (cluster is None) == (workers is None):
        raise ValidationFailed(
            "Give exactly one of a scheduler address (--cluster tcp://HOST:8786) or a number "
            f"of local workers (--workers N). Got cluster={cluster!r}, workers={workers!r}."
        )
    if cluster is not None:
        if "://" not in cluster:
            raise ValidationFailed(
                f"The cluster address must be a scheduler URL such as tcp://scheduler:8786. "
                f"Got {cluster!r}; add the protocol."
            )
        with Client(cluster) as client:
            yield client
        return
    assert workers is not None  # for mypy: checked above
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValidationFailed(f"The number of workers must be an integer >= 1. Got {workers!r}.")
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=threads_per_worker,
            processes=processes,
            memory_limit=memory_limit,
            dashboard_address=":0",
        ) as local,
        Client(local) as client,
    ):
        yield client


@dataclass(frozen=True)
class WorkerInfo:
    """One worker: address, threads and memory limit in bytes (0 when unlimited)."""

    address: str
    threads: int
    memory_limit_bytes: int


@dataclass(frozen=True)
class ClusterInfo:
    """What a client is connected to.

    Attributes
    ----------
    scheduler : str
        Scheduler address.
    dask_version, distributed_version : str
        Versions on this (client) machine.
    workers : list of WorkerInfo
    threads, memory_limit_bytes : int
        Totals over the workers.
    """

    scheduler: str
    dask_version: str
    distributed_version: str
    workers: list[WorkerInfo] = field(default_factory=list)
    threads: int = 0
    memory_limit_bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return asdict(self)


def cluster_info(client: Client) -> ClusterInfo:
    """Describe the scheduler and workers that ``client`` is connected to."""
    info = client.scheduler_info()
    workers = [
        WorkerInfo(
            address=str(address),
            threads=int(worker.get("nthreads", 0)),
            memory_limit_bytes=int(worker.get("memory_limit", 0) or 0),
        )
        for address, worker in sorted(info.get("workers", {}).items())
    ]
    return ClusterInfo(
        scheduler=str(info.get("address", client.scheduler.address)),
        dask_version=dask.__version__,
        distributed_version=distributed.__version__,
        workers=workers,
        threads=sum(w.threads for w in workers),
        memory_limit_bytes=sum(w.memory_limit_bytes for w in workers),
    )


@contextmanager
def dask_backend(client: Client) -> Iterator[Client]:
    """Run joblib-parallel work (``n_jobs``) on the cluster of ``client`` inside the block.

    Estimators and functions that parallelise through joblib (scikit-learn's
    ``cross_val_score(..., n_jobs=-1)``, ``GridSearchCV``, saisei functions taking
    ``n_jobs``) then send their tasks to the Dask workers instead of local processes.

    Examples
    --------
    >>> from sklearn.model_selection import cross_val_score      # doctest: +SKIP
    >>> with connect(workers=2) as client, dask_backend(client):   # doctest: +SKIP
    ...     cross_val_score(model, X, y, cv=7, n_jobs=-1)
    """
    with joblib.parallel_config(backend="dask", client=client):
        yield client
