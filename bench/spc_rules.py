"""Benchmark: individuals chart with all eight Nelson rules over 10^6 points (target < 1 s).

Run: ``.venv/bin/python bench/spc_rules.py [n_points] [repeats]``. Prints the best and median
wall time of ``individuals_chart(x, rules="nelson")`` and of ``run_rules`` alone, after one
warm-up call (which also computes and caches the d2/d3 constants).
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from saisei.analytics.spc import individuals_chart, run_rules


def _time(func, repeats: int) -> list[float]:  # type: ignore[no-untyped-def]
    func()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    rng = np.random.default_rng(2024)
    x = rng.normal(100.0, 2.0, n)
    x[n // 2 :] += 1.5  # a sustained shift so that rules actually fire
    chart = individuals_chart(x, rules="nelson")
    fired = {rule: int(chart.rules.indices(rule).size) for rule in range(1, 9)}  # type: ignore[union-attr]
    full = _time(lambda: individuals_chart(x, rules="nelson"), repeats)
    rules_only = _time(
        lambda: run_rules(x, center=chart.params.center, sigma=chart.params.sigma), repeats
    )
    print(f"points: {n:,}  repeats: {repeats}")
    print(
        f"individuals_chart + Nelson 1-8: best {min(full):.3f} s, median "
        f"{statistics.median(full):.3f} s"
    )
    print(
        f"run_rules (Nelson 1-8) alone:   best {min(rules_only):.3f} s, median "
        f"{statistics.median(rules_only):.3f} s"
    )
    print(f"points firing each rule: {fired}")


if __name__ == "__main__":
    main()
