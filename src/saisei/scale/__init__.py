"""Fleet scale on Dask: the same analyses over years of data from many sites.

``saisei.scale`` is the only part of saisei that imports Dask. It reads the time-series
store's Parquet layout as Dask DataFrames (one partition per lot and stage, or partitions of
about a million rows read with PyArrow), fits the MVDA monitors and the batch models exactly
from sums over partitions (``X'X``, ``X'Y``, per-time moments; alternating least squares or
NIPALS when values are missing), scores many rows or batches partition by partition, spreads
simulation sweeps, Monte Carlo and design-space grids over a cluster, and routes joblib's
``n_jobs`` through Dask. A cluster is anything ``distributed.Client`` connects to: a
``LocalCluster``, Kubernetes, Slurm. See ``docs/scale.md``.

Examples
--------
>>> from saisei.scale import connect, fit_pca          # doctest: +SKIP
>>> with connect(workers=2) as client:                  # doctest: +SKIP
...     monitor = fit_pca(frame, n_components=3, client=client)
"""

from saisei.scale._batch import fit_batch_evolution, fit_batch_level
from saisei.scale._cluster import ClusterInfo, WorkerInfo, cluster_info, connect, dask_backend
from saisei.scale._executors import batch_evolution_trainer, client_map, partition_by_lot
from saisei.scale._pca import fit_pca
from saisei.scale._pls import fit_pls
from saisei.scale._read import SegmentRef, read_segments, read_timeseries
from saisei.scale._scoring import apply_partitions, diagnose_partitions, monitor_batches
from saisei.scale._segments import group_segments, lot_summaries, map_segments, wide_rows
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
    "batch_evolution_trainer",
    "client_map",
    "cluster_info",
    "connect",
    "dask_backend",
    "diagnose_partitions",
    "fit_batch_evolution",
    "fit_batch_level",
    "fit_pca",
    "fit_pls",
    "group_segments",
    "lot_summaries",
    "map_segments",
    "monitor_batches",
    "monte_carlo_probability",
    "partition_by_lot",
    "probability_grid",
    "read_segments",
    "read_timeseries",
    "simulate_sweep",
    "wide_rows",
]
