"""T2 contributions of a batch evolution model are measured from the reference at the same
maturity, checked against the closed form of a tiny hand-computable model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from saisei.analytics.mvda import BatchEvolutionModel

A_DEV, B_DEV, C_DEV = 0.5, 2.0, 0.1  # per-lot deviations of the three variables
TIMES = np.arange(9.0)
COLUMNS = ["x0", "x1", "x2"]


def mean_trajectory() -> np.ndarray:
    """Variable 1 rises by 1 per hour from 10; variables 2 and 3 stay at 50 and 20."""
    return np.c_[10.0 + TIMES, np.full(TIMES.size, 50.0), np.full(TIMES.size, 20.0)]


def reference_cube() -> np.ndarray:
    """5 lots x 9 times x 3 variables: lot i is off the mean trajectory by (d1_i, d2_i, d3_i)
    at every time, with orthogonal patterns (rows of a Hadamard matrix) that sum to zero: the
    covariance of the rows, overall or pooled over a window of times, is diagonal."""
    d1 = np.array([A_DEV, -A_DEV, A_DEV, -A_DEV, 0.0])
    d2 = np.array([B_DEV, B_DEV, -B_DEV, -B_DEV, 0.0])
    d3 = np.array([C_DEV, -C_DEV, -C_DEV, C_DEV, 0.0])
    return np.stack([mean_trajectory() + np.array([d1[i], d2[i], d3[i]]) for i in range(5)])


def running_lot(at: int, offset: tuple[float, float, float]) -> np.ndarray:
    """A lot on the mean trajectory up to ``at`` hours, then off it by ``offset``."""
    lot = mean_trajectory()[None, : at + 1].copy()
    lot[0, at] += offset
    return lot


@pytest.fixture(scope="module")
def model() -> BatchEvolutionModel:
    # Centred only, the overall variances are 309/44, 144/44 and 0.36/44 (sums of squares of
    # the 45 rows by hand): 2 components are the first two axes, variable 3 is the residual.
    return BatchEvolutionModel(n_components=2, scale="center", window=2).fit(reference_cube())


def _at(frame: pd.DataFrame, t: float, statistic: str) -> np.ndarray:
    row = frame[(frame["t"] == t) & (frame["statistic"] == statistic)]
    return np.asarray(row[COLUMNS].to_numpy()[0], dtype=float)


def test_t2_contributions_are_deviations_from_the_mean_at_the_same_maturity(
    model: BatchEvolutionModel,
) -> None:
    lot = running_lot(4, (0.3, -1.0, 0.05))
    frame = model.contributions(lot)
    # Westerhuis, Gurden & Smilde (2000), Chemom. Intell. Lab. Syst. 51, 95-114: generalised
    # T2 contribution c_k = (x_k - xbar_k) [P S^-1 P' (x - xbar)]_k, here about the reference
    # at the same maturity: xbar and S pooled over hours 2..6 of the 5 lots (n = 25, ddof 1).
    # P = [e1, e2], S = diag(v1, v2), so c = ((x1 - xbar1)^2 / v1, (x2 - xbar2)^2 / v2, 0).
    # By hand: xbar = (14, 50, 20); v1 = (5 * (4 + 1 + 0 + 1 + 4) + 5 * 4 * 0.5^2) / 24 =
    # 55/24; v2 = 5 * 4 * 2^2 / 24 = 10/3; c1 = 0.3^2 / (55/24) = 2.16/55; c2 = 1 / (10/3).
    assert _at(frame, 4.0, "t2") == pytest.approx([2.16 / 55, 0.3, 0.0], rel=1e-9, abs=1e-12)
    # SPE: the residual off the plane of e1, e2 is x3 - 20 (overall mean of variable 3)
    assert _at(frame, 4.0, "spe") == pytest.approx([0.0, 0.0, 0.05**2], rel=1e-9, abs=1e-12)
    monitored = model.monitor(lot).set_index("t")
    assert monitored.loc[4.0, "t2"] == pytest.approx(2.16 / 55 + 0.3, rel=1e-9)
    assert monitored.loc[4.0, "spe"] == pytest.approx(0.05**2, rel=1e-9)


def test_a_lot_on_the_mean_trajectory_contributes_nothing(model: BatchEvolutionModel) -> None:
    frame = model.contributions(running_lot(6, (0.0, 0.0, 0.0)))
    # x = xbar_j at hours 2..6 (whole windows), so every c_k = 0; measured from the overall
    # mean (14, 50, 20) variable 1 would contribute (x1 - 14)^2 / v1 > 0 at every hour but 4
    for hour in (2.0, 3.0, 4.0, 5.0, 6.0):
        assert _at(frame, hour, "t2") == pytest.approx([0.0, 0.0, 0.0], abs=1e-12)


def test_contributions_sum_to_t2_and_spe(model: BatchEvolutionModel) -> None:
    rng = np.random.default_rng(3)
    lot = reference_cube()[:1] + rng.normal(scale=0.3, size=(1, TIMES.size, 3))
    frame = model.contributions(lot)
    monitored = model.monitor(lot).set_index("t")
    for statistic in ("t2", "spe"):
        sums = frame[frame["statistic"] == statistic].set_index("t")[COLUMNS].sum(axis=1)
        assert sums.to_numpy() == pytest.approx(
            monitored[statistic].to_numpy(), rel=1e-9, abs=1e-12
        )


def test_models_stored_without_maturity_means_use_the_projected_mean_scores(
    model: BatchEvolutionModel,
) -> None:
    # The reference mean of variable 3 is 20 at every time, on the model plane's centre, so
    # the projected mean scores P tbar_j give the same centre as xbar_j here.
    old = BatchEvolutionModel(n_components=2, scale="center", window=2).fit(reference_cube())
    del old.x_mean_
    lot = running_lot(4, (0.3, -1.0, 0.05))
    pd.testing.assert_frame_equal(old.contributions(lot), model.contributions(lot))
