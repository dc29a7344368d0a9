"""Distributed PLS with missing values equals the single-machine NIPALS fit."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from distributed import Client

from saisei.analytics.mvda import PLSMonitor
from saisei.scale import fit_pls

X_NAMES = [f"x{j}" for j in range(6)]
STATE = [
    "n_components_",
    "mean_",
    "scale_",
    "y_mean_",
    "y_scale_",
    "x_weights_",
    "x_loadings_",
    "y_loadings_",
    "x_rotations_",
    "coef_",
    "intercept_",
    "r2x_",
    "r2y_",
    "vip_",
    "score_variances_",
    "residual_eigenvalues_",
    "t2_limit_",
    "spe_limit_",
    "dmodx_s0_",
    "dmodx_limit_",
    "n_iter_",
]

# NIPALS stops when the scores change by less than tol = 1e-10 (relative); the distributed
# sums are added in another order, so the two fits agree to a few orders above that.
RTOL = 1e-7


def _data(missing_x: bool, missing_y: bool) -> pd.DataFrame:
    rng = np.random.default_rng(21)
    latent = rng.normal(size=(240, 3))
    X = latent @ rng.normal(size=(3, 6)) + 0.3 * rng.normal(size=(240, 6))
    Y = latent[:, :2] @ rng.normal(size=(2, 2)) + 0.2 * rng.normal(size=(240, 2))
    frame = pd.DataFrame(X * [1, 3, 5, 1, 2, 4] + 7.0, columns=X_NAMES)
    frame["y1"], frame["y2"] = Y[:, 0], Y[:, 1] + 3.0
    if missing_x:
        cells = rng.random(size=(240, 6)) < 0.06
        frame[X_NAMES] = frame[X_NAMES].mask(cells)
    if missing_y:
        frame.loc[rng.random(240) < 0.1, "y1"] = np.nan
    return frame


@pytest.mark.slow
@pytest.mark.parametrize(
    ("params", "missing_x", "missing_y"),
    [
        ({"n_components": 2}, True, False),
        ({"n_components": 3, "cv_folds": None, "spe_method": "box-moments"}, True, True),
        ({"n_components": None, "scale": "pareto"}, False, True),  # rank by 7-fold Q2
    ],
)
def test_pls_with_missing_values_equals_single_machine_nipals(
    client: Client, params: dict[str, object], missing_x: bool, missing_y: bool
) -> None:
    frame = _data(missing_x, missing_y)
    single = PLSMonitor(**params).fit(frame[X_NAMES], frame[["y1", "y2"]])
    spread = fit_pls(dd.from_pandas(frame, npartitions=3), ["y1", "y2"], client=client, **params)
    for name in STATE:
        np.testing.assert_allclose(
            np.asarray(getattr(spread, name), dtype=float),
            np.asarray(getattr(single, name), dtype=float),
            rtol=RTOL,
            atol=RTOL,
            err_msg=name,
        )
    if params.get("cv_folds", 7) is not None:
        assert single.q2_ is not None
        np.testing.assert_allclose(spread.q2_, single.q2_, rtol=RTOL, atol=RTOL)
    new = _data(True, False).iloc[:30]
    np.testing.assert_allclose(
        spread.predict(new[X_NAMES]), single.predict(new[X_NAMES]), rtol=RTOL, atol=RTOL
    )
