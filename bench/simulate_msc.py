"""Benchmark: 1000 MSC batches (21-day culture, 10-min online signals), target < 30 s.

Run: ``.venv/bin/python bench/simulate_msc.py [n_batches]``. Times the whole simulation
(donors, transport, culture, fill, freeze, QC, every exchange table and the ground truth)
and, separately, the culture kernel alone; reports the cost per batch. Writing the folder is
timed as well, once, since it is dominated by the writer's serialisation.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from saisei.services.simulation import write_result
from saisei.simulation import simulate
from saisei.simulation._culture_msc import run_msc
from saisei.simulation._truth import _population


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    start = time.perf_counter()
    result = simulate("msc", n, 2024, process_change_at=n // 2 + 1)
    whole = time.perf_counter() - start
    rows = result.summary()
    import numpy as np

    inp = _population("msc", np.random.default_rng(0), n)
    start = time.perf_counter()
    run_msc(inp, np.random.default_rng(1), record=True)
    kernel = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        write_result(result, Path(folder))
        write = time.perf_counter() - start
    print(f"batches: {n}  timeseries rows: {rows['timeseries']:,}")
    print(f"simulate() incl. tables and truth: {whole:.2f} s ({1000 * whole / n:.1f} ms/batch)")
    print(f"culture kernel alone (record=True): {kernel:.2f} s ({1000 * kernel / n:.2f} ms/batch)")
    print(f"writing the exchange folder: {write:.1f} s")


if __name__ == "__main__":
    main()
