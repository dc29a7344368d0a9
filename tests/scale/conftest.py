"""A real two-worker Dask cluster shared by the scale tests, closed at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from distributed import Client, LocalCluster


@pytest.fixture(scope="package")
def client() -> Iterator[Client]:
    """``LocalCluster(n_workers=2, threads_per_worker=1)`` with in-process (thread) workers.

    Thread workers start in well under a second and still run every task through the
    scheduler and the workers; one test (``test_scale_cluster.py``) checks process workers.
    """
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as dask_client,
    ):
        yield dask_client
