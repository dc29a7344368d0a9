"""Fleet scale on Dask: the same analyses over years of data from many sites.

``saisei.scale`` is the only part of saisei that imports Dask. It reads the time-series
store's Parquet layout as Dask DataFrames (one partition per lot and stage), fits the MVDA
monitors exactly from sums over partitions (``X'X``, ``X'Y``; alternating least squares when
values are missing), scores many rows or batches partition by partition, spreads simulation
sweeps and Monte Carlo over a cluster, and routes joblib's ``n_jobs`` through Dask. A cluster
is anything ``distributed.Client`` connects to: a ``LocalCluster``, Kubernetes, Slurm.
See ``docs/scale.md``.

Examples
--------
>>> from saisei.scale import connect, fit_pca          # doctest: +SKIP
>>> with connect(workers=2) as client:                  # doctest: +SKIP
...     monitor = fit_pca(frame, n_components=3, client=client)
"""

from saisei.scale._cluster import ClusterInfo, WorkerInfo, cluster_info, connect, dask_backend
from saisei.scale._pca import fit_pca
from saisei.scale._pls import fit_pls
from saisei.scale._read import SegmentRef, read_segments, read_timeseries
from saisei.scale._scoring import apply_partitions, diagnose_partitions, monitor_batches
from saisei.scale._sweeps import (
    MonteCarloEstimate,
    monte_carlo_probability,
    probability_grid,
    simulate_sweep,
)

__all__ = [
    "ClusterInfo",
    "MonteCarloEstimate",
    "SegmentRef",
    "WorkerInfo",
    "apply_partitions",
    "cluster_info",
    "connect",
    "dask_backend",
    "diagnose_partitions",
    "fit_pca",
    "fit_pls",
    "monitor_batches",
    "monte_carlo_probability",
    "probability_grid",
    "read_segments",
    "read_timeseries",
    "simulate_sweep",
]
