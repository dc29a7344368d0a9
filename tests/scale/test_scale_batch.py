"""Distributed batch-model training equals the single-machine batch models."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from distributed import Client

from saisei.analytics.mvda import (
    BatchCube,
    BatchEvolutionModel,
    BatchLevelModel,
    MaturityAligner,
    cube_to_long,
)
from saisei.errors import ValidationFailed
from saisei.scale import fit_batch_evolution, fit_batch_level

BEM_STATE = [
    "times_",
    "score_mean_",
    "score_std_",
    "score_cov_inv_",
    "t2_limits_",
    "spe_limits_",
    "n_reference_",
]


def _long(n_lots: int, n_times: int, seed: int, ragged: bool = False) -> pd.DataFrame:
    """Batches following a common trajectory with lot-to-lot variation (3 variables)."""
    rng = np.random.default_rng(seed)
    time = np.linspace(0.0, 10.0, n_times)
    shift = rng.normal(size=(n_lots, 2))
    values = np.stack(
        [
            np.c_[
                np.sin(time / 3) + 0.3 * s[0] * time / 10,
                time**0.5 + 0.2 * s[1],
                np.exp(-time / 5) + 0.1 * (s[0] - s[1]),
            ]
            + 0.05 * rng.normal(size=(n_times, 3))
            for s in shift
        ]
    )
    if ragged:
        values[1, -3:, :] = np.nan  # a batch that ended early: absent rows
        values[4, 2, 1] = np.nan  # single missing cells
        values[7, 5, 0] = np.nan
    lots = tuple(f"B{(17 * i) % n_lots:03d}" for i in range(n_lots))  # not in sorted order
    frame = cube_to_long(BatchCube(values, lots, time, ("do", "ph", "temp")))
    return frame.astype({"lot": str, "variable": str})


def _partitioned(frame: pd.DataFrame, sizes: list[int]) -> dd.DataFrame:
    """Whole lots per partition, partitions in the frame's lot order."""
    lots = list(pd.unique(frame["lot"]))
    parts, start = [], 0
    for size in sizes:
        chosen = lots[start : start + size]
        parts.append(frame[frame["lot"].isin(chosen)].reset_index(drop=True))
        start += size
    assert start == len(lots)
    return dd.concat([dd.from_pandas(p, npartitions=1) for p in parts])


def _same(single: object, spread: object, names: list[str], rtol: float = 1e-8) -> None:
    for name in names:
        np.testing.assert_allclose(
            np.asarray(getattr(spread, name), dtype=float),
            np.asarray(getattr(single, name), dtype=float),
            rtol=rtol,
            atol=rtol,
            err_msg=name,
        )


@pytest.mark.parametrize(
    ("params", "ragged", "rtol"),
    [
        ({"n_components": 2}, False, 1e-8),
        ({"n_components": None, "window": 1}, False, 1e-8),  # 7-fold choice of the rank
        ({"n_components": 2, "scale": "pareto"}, True, 1e-7),  # ALS over the missing cells
    ],
)
def test_batch_evolution_equals_single_machine_fit(
    client: Client, params: dict[str, object], ragged: bool, rtol: float
) -> None:
    frame = _long(24, 10, seed=3, ragged=ragged)
    single = BatchEvolutionModel(**params).fit(frame)
    spread = fit_batch_evolution(_partitioned(frame, [5, 1, 10, 8]), client=client, **params)
    assert spread.lots_ == single.lots_
    assert spread.variables_ == single.variables_
    assert spread.n_components_ == single.n_components_
    _same(single, spread, BEM_STATE, rtol)
    if hasattr(single, "x_mean_"):  # reference centre of the T2 contributions
        _same(single, spread, ["x_mean_"], rtol)
    _same(single.pca_, spread.pca_, ["components_", "mean_", "scale_", "explained_variance_"], rtol)
    assert spread.t2_train_ is None
    new = _long(3, 10, seed=11)
    pd.testing.assert_frame_equal(spread.monitor(new), single.monitor(new), rtol=rtol)


@pytest.mark.parametrize(
    ("params", "with_y", "rtol"),
    [
        ({"n_components": 3}, False, 1e-8),
        ({"n_components": 2}, True, 1e-8),
        ({"n_components": None}, True, 1e-8),  # PLS rank by 7-fold cross-validation
        ({"n_components": 2}, "partial", 1e-7),  # lots without quality: NIPALS path
    ],
)
def test_batch_level_equals_single_machine_fit(
    client: Client, params: dict[str, object], with_y: bool | str, rtol: float
) -> None:
    frame = _long(60, 8, seed=5)
    lots = list(pd.unique(frame["lot"]))
    first = frame[frame["variable"] == "do"].groupby("lot")["value"].mean()
    y = (3.0 * first + 0.01 * np.arange(len(first))).rename("titer") if with_y else None
    if with_y == "partial":
        assert y is not None
        y = y.drop(y.index[::9])  # these lots have no quality result: NaN in Y
    single = BatchLevelModel(**params).fit(frame, y)
    spread = fit_batch_level(_partitioned(frame, [13, 20, 7, 20]), y, client=client, **params)
    assert spread.lots_ == tuple(lots) == single.lots_
    assert spread.targets_ == single.targets_
    _same(single, spread, ["times_", "spe_limits_up_to_", "spe_limits_at_"], rtol)
    names = ["components_", "mean_", "scale_", "t2_limit_", "spe_limit_"]
    if with_y:
        names = ["x_weights_", "coef_", "intercept_", "r2y_", "t2_limit_", "spe_limit_"]
    _same(single.model_, spread.model_, names, rtol)
    new = _long(4, 8, seed=13)
    pd.testing.assert_frame_equal(
        spread.diagnose(new, up_to=5.0), single.diagnose(new, up_to=5.0), rtol=rtol
    )
    if with_y:
        pd.testing.assert_frame_equal(spread.predict(new), single.predict(new), rtol=rtol)


def test_batch_fits_refuse_split_lots_and_aligners(client: Client) -> None:
    frame = _long(12, 6, seed=2)
    split = dd.from_pandas(frame, npartitions=5)  # rows cut without regard to lots
    with pytest.raises(ValidationFailed, match="whole in one partition"):
        fit_batch_evolution(split, client=client, n_components=2)
    with pytest.raises(ValidationFailed, match="aligner=None"):
        fit_batch_level(_partitioned(frame, [6, 6]), client=client, aligner=MaturityAligner("do"))
    with pytest.raises(ValidationFailed, match="needs a dask.dataframe.DataFrame"):
        fit_batch_evolution(frame, client=client)


def test_spe_limit_from_a_summary_equals_the_limit_from_the_values() -> None:
    # Nomikos & MacGregor (1995): g chi2(1 - alpha; h), g = v / 2m, h = 2 m^2 / v, from the
    # mean m and variance v of the reference SPE; the summary (n, m, M2) carries the same.
    from scipy import stats

    from saisei.analytics.mvda._limits import spe_limit_from_mean_var, spe_limit_from_moments

    values = np.random.default_rng(4).chisquare(3, size=500) * 0.7
    n, m = values.size, values.mean()
    m2 = float(np.sum((values - m) ** 2))
    v = m2 / (n - 1)
    closed = v / (2 * m) * stats.chi2.ppf(0.99, 2 * m * m / v)
    assert spe_limit_from_mean_var(n, m, m2, 0.01) == pytest.approx(closed, rel=1e-12)
    assert spe_limit_from_moments(values, 0.01) == pytest.approx(closed, rel=1e-12)
    assert spe_limit_from_mean_var(1, 1.0, 0.0, 0.01) == np.inf
