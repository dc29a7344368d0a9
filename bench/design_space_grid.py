"""Benchmark: design-space probability on a 100 x 100 grid of 2 parameters, 4 CQAs,
4000 predictive draws (issue 7 target: under 2 s)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from saisei.analytics.design_space import BayesianDesignSpace


def main() -> None:
    rng = np.random.default_rng(0)
    n = 60
    X = pd.DataFrame({"agitation": rng.uniform(50, 105, n), "cooling_rate": rng.uniform(0.3, 3, n)})
    e = rng.multivariate_normal(np.zeros(4), np.eye(4) * 0.5 + 0.2, n)
    Y = pd.DataFrame(
        {
            "viability": 85 - 3 * (X["cooling_rate"] - 1.2) ** 2 + e[:, 0],
            "dose": 100 - 0.1 * (X["agitation"] - 70) + e[:, 1],
            "potency": 90 + 0.05 * X["agitation"] + e[:, 2],
            "cd105": 98 - 0.2 * X["cooling_rate"] + e[:, 3],
        }
    )
    specs = {"viability": (82, None), "dose": (75, 150), "potency": (60, None), "cd105": (95, None)}
    ds = BayesianDesignSpace("quadratic", n_draws=4000, random_state=1).fit(X, Y)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        region = ds.region(specs, reliability=0.9, points=100)
        times.append(time.perf_counter() - t0)
    print(
        f"grid 100 x 100, 4 CQAs, 4000 draws: best {min(times):.3f} s, "
        f"median {np.median(times):.3f} s, inside {region.fraction_inside:.2f}"
    )
    t0 = time.perf_counter()
    ds.probability(region.grid[["agitation", "cooling_rate"]], specs)
    print(f"probability() alone: {time.perf_counter() - t0:.3f} s")


if __name__ == "__main__":
    main()
