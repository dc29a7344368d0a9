"""Connecting to clusters, describing them, joblib on Dask, process workers."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from distributed import Client, get_worker
from joblib import Parallel, delayed

from saisei.analytics.mvda import PCAMonitor
from saisei.errors import ValidationFailed
from saisei.scale import cluster_info, connect, dask_backend, fit_pca


def _where(_: int) -> str:
    return str(get_worker().address)


def test_cluster_info_lists_the_workers(client: Client) -> None:
    info = cluster_info(client)
    assert len(info.workers) == 2
    assert info.threads == 2
    assert info.scheduler == client.scheduler.address
    assert info.to_dict()["workers"][0]["threads"] == 1


def test_dask_backend_sends_joblib_work_to_the_workers(client: Client) -> None:
    with dask_backend(client):
        places = Parallel(n_jobs=-1)(delayed(_where)(i) for i in range(8))
    assert set(places) <= set(client.scheduler_info()["workers"])
    with pytest.raises(ValueError, match="No worker found"):
        _where(0)  # outside the backend the function runs here, not on a worker


@pytest.mark.parametrize(
    ("cluster", "workers", "message"),
    [
        (None, None, "Give exactly one of a scheduler address"),
        ("tcp://x:8786", 2, "Give exactly one of a scheduler address"),
        ("scheduler:8786", None, "must be a scheduler URL"),
        (None, 0, "number of workers must be an integer >= 1"),
    ],
)
def test_connect_refuses_ambiguous_or_bad_arguments(
    cluster: str | None, workers: int | None, message: str
) -> None:
    with pytest.raises(ValidationFailed, match=message), connect(cluster, workers):
        pass


@pytest.mark.slow
def test_process_workers_fit_the_same_model() -> None:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5)), columns=list("abcde"))
    with connect(workers=2, processes=True, memory_limit="1GiB") as client:
        assert len(cluster_info(client).workers) == 2
        spread = fit_pca(dd.from_pandas(frame, npartitions=4), n_components=2, client=client)
    single = PCAMonitor(n_components=2).fit(frame)
    np.testing.assert_allclose(spread.components_, single.components_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(spread.spe_limit_, single.spe_limit_, rtol=1e-8)
