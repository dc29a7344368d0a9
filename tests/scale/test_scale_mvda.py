"""Distributed PCA/PLS fits equal the single-machine estimators; scoring by partitions."""

from __future__ import annotations

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from distributed import Client
from sklearn.cross_decomposition import PLSRegression
from sklearn.decomposition import PCA

from saisei.analytics.mvda import PCAMonitor, PLSMonitor
from saisei.errors import ValidationFailed
from saisei.scale import diagnose_partitions, fit_pca, fit_pls

COLUMNS = [f"x{j}" for j in range(8)]

PCA_STATE = [
    "n_components_",
    "components_",
    "mean_",
    "scale_",
    "explained_variance_",
    "explained_variance_ratio_",
    "score_variances_",
    "residual_eigenvalues_",
    "t2_limit_",
    "t2_limit_phase1_",
    "spe_limit_",
    "dmodx_s0_",
    "dmodx_limit_",
    "n_samples_fit_",
]


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    latent = rng.normal(size=(611, 3))
    X = latent @ rng.normal(size=(3, 8)) + 0.4 * rng.normal(size=(611, 8))
    return pd.DataFrame(X * [1, 2, 3, 4, 5, 6, 7, 8] + 10.0, columns=COLUMNS)


def _same(single: object, distributed: object, names: list[str], rtol: float = 1e-8) -> None:
    for name in names:
        np.testing.assert_allclose(
            np.asarray(getattr(distributed, name), dtype=float),
            np.asarray(getattr(single, name), dtype=float),
            rtol=rtol,
            atol=1e-8,
            err_msg=name,
        )


@pytest.mark.parametrize(
    "params",
    [
        {"n_components": 3},
        {"n_components": None},  # chosen by 7-fold cross-validation from fold moments
        {"n_components": 2, "scale": "pareto", "spe_method": "box-moments"},
        {"n_components": 2, "scale": "none", "spe_method": "box"},
        {"n_components": 3, "blocks": {"a": COLUMNS[:2], "b": COLUMNS[2:]}},
    ],
)
def test_pca_equals_single_machine_fit(
    client: Client, frame: pd.DataFrame, params: dict[str, object]
) -> None:
    single = PCAMonitor(**params).fit(frame)
    spread = fit_pca(dd.from_pandas(frame, npartitions=7), client=client, **params)
    _same(single, spread, PCA_STATE)
    if params["n_components"] is None:
        assert single.q2_ is not None
        _same(single, spread, ["q2_", "q2_cum_"])
    assert list(spread.feature_names_in_) == COLUMNS
    new = frame.iloc[:40].copy()
    new.iloc[5, 3] = np.nan  # a row scored by trimmed score regression
    a = single.diagnose(new)
    b = spread.diagnose(new)
    for field in ("scores", "t2", "spe", "dmodx"):
        np.testing.assert_allclose(getattr(b, field), getattr(a, field), rtol=1e-8, atol=1e-8)


def test_pca_loadings_equal_scikit_learn(client: Client, frame: pd.DataFrame) -> None:
    # Reference: scikit-learn's PCA on the autoscaled data (ddof=1 as SIMCA's UV scaling).
    scaled = (frame - frame.mean()) / frame.std(ddof=1)
    reference = PCA(n_components=3, svd_solver="full").fit(scaled)
    spread = fit_pca(dd.from_pandas(frame, npartitions=5), n_components=3, client=client)
    signs = np.sign(np.sum(reference.components_ * spread.components_, axis=1))
    np.testing.assert_allclose(
        spread.components_, reference.components_ * signs[:, None], atol=1e-8
    )
    np.testing.assert_allclose(spread.explained_variance_, reference.explained_variance_, rtol=1e-8)


def test_pca_with_missing_values_equals_single_machine_als(
    client: Client, frame: pd.DataFrame
) -> None:
    rng = np.random.default_rng(3)
    holed = frame.mask(rng.random(frame.shape) < 0.06)
    single = PCAMonitor(n_components=3).fit(holed)
    spread = fit_pca(dd.from_pandas(holed, npartitions=6), n_components=3, client=client)
    assert spread.solver_ == single.solver_ == "als"
    assert spread.n_iter_ == single.n_iter_
    _same(single, spread, PCA_STATE, rtol=1e-7)


def test_pca_from_a_dask_array(client: Client, frame: pd.DataFrame) -> None:
    X = frame.to_numpy()
    spread = fit_pca(da.from_array(X, chunks=(100, 3)), n_components=2, client=client)
    single = PCAMonitor(n_components=2).fit(X)
    _same(single, spread, ["components_", "mean_", "scale_", "spe_limit_"])
    assert not hasattr(spread, "feature_names_in_")


@pytest.mark.parametrize(
    ("y_columns", "params"),
    [
        ("y1", {"n_components": None}),
        (["y1", "y2"], {"n_components": 3, "spe_method": "box-moments"}),
    ],
)
def test_pls_equals_single_machine_fit(
    client: Client, frame: pd.DataFrame, y_columns: str | list[str], params: dict[str, object]
) -> None:
    rng = np.random.default_rng(11)
    data = frame.assign(
        y1=frame["x0"] - 0.5 * frame["x3"] + rng.normal(size=len(frame)),
        y2=0.2 * frame["x5"] + rng.normal(size=len(frame)),
    )
    single = PLSMonitor(**params).fit(frame, data[y_columns])
    spread = fit_pls(
        dd.from_pandas(data, npartitions=6), y_columns, columns=COLUMNS, client=client, **params
    )
    names = ["n_components_", "x_weights_", "x_loadings_", "y_loadings_", "x_rotations_"]
    names += ["coef_", "intercept_", "r2x_", "r2y_", "vip_", "q2_", "q2_cum_"]
    _same(single, spread, names + PCA_STATE[6:])
    np.testing.assert_allclose(spread.predict(frame), single.predict(frame), rtol=1e-8)
    assert spread.predict(frame).ndim == single.predict(frame).ndim


def test_pls_coefficients_equal_scikit_learn(client: Client, frame: pd.DataFrame) -> None:
    rng = np.random.default_rng(5)
    data = frame.assign(y1=frame["x1"] + frame["x6"] + rng.normal(size=len(frame)))
    # Reference: scikit-learn's PLSRegression (NIPALS) with scale=True, one response.
    reference = PLSRegression(n_components=2, scale=True).fit(frame, data["y1"])
    spread = fit_pls(
        dd.from_pandas(data, npartitions=4), "y1", n_components=2, cv_folds=None, client=client
    )
    np.testing.assert_allclose(spread.coef_, reference.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(spread.x_weights_, reference.x_weights_, rtol=1e-8, atol=1e-10)


def test_diagnose_partitions_equals_diagnose_on_all_rows(
    client: Client, frame: pd.DataFrame
) -> None:
    model = PCAMonitor(n_components=3).fit(frame.iloc[:300])
    new = frame.iloc[300:].copy()
    new.iloc[::17, 2] = np.nan
    expected = model.diagnose(new).to_frame()
    lazy = diagnose_partitions(model, dd.from_pandas(new, npartitions=4))
    got = client.compute(lazy).result()
    pd.testing.assert_frame_equal(got, expected, rtol=1e-12)


def test_errors_name_the_problem(client: Client, frame: pd.DataFrame) -> None:
    holed = frame.copy()
    holed.iloc[0, 0] = np.nan
    data = dd.from_pandas(holed.assign(y1=np.nan), npartitions=2)
    with pytest.raises(ValidationFailed, match="one observed value in every column of y"):
        fit_pls(data, "y1", n_components=2, client=client)
    with pytest.raises(ValidationFailed, match="needs an explicit 'n_components'"):
        fit_pca(dd.from_pandas(holed, npartitions=2), client=client)
    with pytest.raises(ValidationFailed, match="at least as many rows as variables"):
        fit_pca(dd.from_pandas(frame.iloc[:5], npartitions=2), n_components=1, client=client)
    with pytest.raises(ValidationFailed, match="needs a dask.dataframe.DataFrame"):
        fit_pca(frame, n_components=1)
    with pytest.raises(ValidationFailed, match=r"columns \['nope'\]"):
        fit_pca(dd.from_pandas(frame, npartitions=2), columns=["nope"], client=client)
    with pytest.raises(ValidationFailed, match="'alpha' parameter of PCAMonitor"):
        fit_pca(dd.from_pandas(frame, npartitions=2), alpha=1.5, client=client)
    with pytest.raises(ValidationFailed, match="must be at most"):
        fit_pca(dd.from_pandas(frame, npartitions=2), n_components=9, client=client)
