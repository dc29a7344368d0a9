"""Alignment of batches: dynamic time warping and maturity variables."""

from __future__ import annotations

import numpy as np
import pandas as pd
from mvda_helpers import cube_as_long, culture_batch

from saisei.analytics.mvda import BatchEvolutionModel
from saisei.analytics.mvda._align import DTWAligner, MaturityAligner, dtw_path


def _dtw_cost_by_definition(cost: np.ndarray) -> float:
    """Textbook O(nm) recursion with steps (1,0), (0,1), (1,1) (Sakoe & Chiba 1978)."""
    n, m = cost.shape
    D = np.full((n + 1, m + 1), np.inf)
    D[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            D[i, j] = cost[i - 1, j - 1] + min(D[i - 1, j], D[i, j - 1], D[i - 1, j - 1])
    return float(D[n, m])


def test_dtw_path_is_optimal(rng):
    for n, m in [(7, 9), (15, 11), (1, 5)]:
        cost = rng.random((n, m))
        i, j = dtw_path(cost)
        assert i[0] == 0 and j[0] == 0 and i[-1] == n - 1 and j[-1] == m - 1
        assert np.all(np.diff(i) >= 0) and np.all(np.diff(j) >= 0)
        assert cost[i, j].sum() == _dtw_cost_by_definition(cost)


def test_dtw_recovers_a_time_stretched_batch(rng):
    time = np.linspace(0, 1, 50)
    reference = np.c_[np.sin(3 * time), time**2]
    slow_time = np.linspace(0, 1, 80)
    slow = np.c_[np.sin(3 * slow_time), slow_time**2]
    frame = pd.concat(
        [
            cube_as_long(reference[None], ["ref"]).replace({"density": "a", "glucose": "b"}),
            cube_as_long(slow[None], ["slow"]).replace({"density": "a", "glucose": "b"}),
        ]
    )
    aligned = DTWAligner(reference="ref", n_iter=1).fit_transform(frame)
    wide = aligned.pivot_table(index=["lot", "t"], columns="variable", values="value")
    diff = wide.loc["slow"].to_numpy() - wide.loc["ref"].to_numpy()
    assert np.abs(diff).max() < 0.05


def test_open_end_dtw_aligns_a_running_batch_to_a_prefix(rng):
    time = np.linspace(0, 1, 60)
    reference = np.c_[time, np.sin(4 * time)]
    running = reference[:25] + 0.001 * rng.normal(size=(25, 2))
    cost = ((running[:, None, :] - reference[None]) ** 2).sum(axis=2)
    _, j = dtw_path(cost, open_end=True)
    assert abs(int(j[-1]) - 24) <= 2


def test_maturity_alignment_makes_fast_and_slow_batches_comparable(rng):
    # Two batches that grow at different speeds; against cumulative population doublings
    # (the maturity variable) their trajectories coincide.
    parts = []
    for lot, speed, n in [("fast", 1.5, 40), ("slow", 0.75, 80)]:
        t = np.arange(n, dtype=float)
        doublings = 0.1 * speed * t
        metabolite = 5.0 + 2.0 * doublings
        parts.append(
            pd.DataFrame(
                {
                    "lot": lot,
                    "t": np.tile(t, 2),
                    "variable": np.repeat(["doublings", "metabolite"], n),
                    "value": np.r_[doublings, metabolite],
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    aligned = MaturityAligner("doublings", grid=20).fit_transform(frame)
    wide = aligned.pivot_table(index="t", columns="lot", values="value")
    np.testing.assert_allclose(wide["fast"], wide["slow"], atol=1e-9)
    assert set(aligned["variable"]) == {"metabolite"}


def test_batch_evolution_model_with_an_aligner_monitors_unequal_batches(rng):
    batches = []
    for i in range(25):
        speed = rng.uniform(0.8, 1.2)
        n = int(60 / speed)
        cube = culture_batch(rng, n_times=n)[None]
        batches.append(cube_as_long(cube, [f"L{i}"]))
    data = pd.concat(batches, ignore_index=True)
    model = BatchEvolutionModel(n_components=2, aligner=DTWAligner(band=0.3)).fit(data)
    new = cube_as_long(
        culture_batch(rng, n_times=70, fault="temperature_step", onset=40)[None], ["NEW"]
    )
    report = model.monitor(new[new["t"] < 55])
    assert report["alarm"].iloc[-5:].all()
    assert not report["alarm"].iloc[:20].any()
