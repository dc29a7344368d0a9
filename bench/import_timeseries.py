"""Import throughput of time series: saisei's importer against pyarrow alone.

Writes N long-format rows (lot, stage, variable, t, value, unit) as Parquet and as CSV, then
times (a) `saisei import` of each into a fresh SQLite home and (b) pyarrow reading the same
file and writing it back as one Parquet file (the floor any importer pays).

    .venv/bin/python bench/import_timeseries.py --parquet-rows 10000000 --csv-rows 1000000

``--repeat N`` runs each N times and keeps the best time of each (for a busy machine).
Before each timed run the page cache's dirty data are written out (``os.sync``, not timed),
so that an import, which flushes its own files, does not also wait for the input files or
the previous runs' output still waiting to be written.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from saisei.services.ingest import import_path
from saisei.storage.store import Store


def make_rows(n: int, seed: int = 1) -> pd.DataFrame:
    """``n`` rows: 100 lots x 1 stage x 10 variables, t in 10-min steps."""
    rng = np.random.default_rng(seed)
    lots, variables = 100, 10
    per_series = n // (lots * variables)
    t = np.tile(np.arange(per_series) / 6.0, lots * variables)
    return pd.DataFrame(
        {
            "lot": np.repeat([f"L{i:04d}" for i in range(lots)], variables * per_series),
            "stage": "expansion",
            "variable": np.tile(np.repeat([f"v{j}" for j in range(variables)], per_series), lots),
            "t": t,
            "value": rng.normal(37.0, 0.2, t.size),
            "unit": "degC",
        }
    )


def _settle() -> None:
    """Write out the page cache's dirty data, so a measurement does not pay for the writes of
    the one before (an import flushes its files; with earlier runs' data still waiting to be
    written, its flushes wait for that too)."""
    os.sync()


def _baseline(path: Path, suffix: str, out: Path) -> float:
    _settle()
    started = time.perf_counter()
    table = pq.read_table(path) if suffix == "parquet" else pacsv.read_csv(path)
    pq.write_table(table, out, compression="zstd")
    return time.perf_counter() - started


def _saisei(path: Path, batches_file: Path, home: Path) -> float:
    store = Store.open(f"sqlite:///{home / 'saisei.db'}", home / "timeseries")
    home.mkdir()
    store.upgrade()
    import_path(store, batches_file, actor="bench")
    _settle()
    started = time.perf_counter()
    import_path(store, path, actor="bench")
    seconds = time.perf_counter() - started
    store.close()
    return seconds


def run(rows: pd.DataFrame, suffix: str, folder: Path, repeat: int = 1) -> dict[str, Any]:
    """Time saisei's import (into a fresh home each time) and the pyarrow-only baseline.

    With ``repeat`` > 1 both are run that many times, alternating, and the best time of each
    is kept (the least disturbed by other work on the machine).
    """
    data = folder / f"data-{suffix}"
    data.mkdir()
    path = data / f"timeseries.{suffix}"
    (rows.to_parquet(path, index=False) if suffix == "parquet" else rows.to_csv(path, index=False))
    batches = pd.DataFrame({"lot": rows["lot"].unique(), "product_type": "MSC"})
    batches_file = folder / f"lots-{suffix}" / "batches.csv"
    batches_file.parent.mkdir()
    batches.to_csv(batches_file, index=False)
    baseline, saisei = [], []
    for i in range(repeat):
        baseline.append(_baseline(path, suffix, folder / f"baseline-{suffix}-{i}.parquet"))
        saisei.append(_saisei(path, batches_file, folder / f"home-{suffix}-{i}"))
    return {
        "rows": len(rows),
        "saisei_s": min(saisei),
        "pyarrow_s": min(baseline),
        "ratio": min(saisei) / min(baseline),
        "saisei_runs": saisei,
        "pyarrow_runs": baseline,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parquet-rows", type=int, default=10_000_000)
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each; the best time of each is kept"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for suffix, n in (("parquet", args.parquet_rows), ("csv", args.csv_rows)):
            if n <= 0:  # --parquet-rows 0 (or --csv-rows 0) measures the other alone
                continue
            result = run(make_rows(n), suffix, Path(tmp), args.repeat)
            print(
                f"{suffix}: {result['rows']:,} rows  saisei {result['saisei_s']:.2f} s  "
                f"pyarrow {result['pyarrow_s']:.2f} s  ratio {result['ratio']:.1f}x"
            )
            if args.repeat > 1:
                runs = zip(result["saisei_runs"], result["pyarrow_runs"], strict=True)
                for i, (ours, theirs) in enumerate(runs, start=1):
                    print(f"  run {i}: saisei {ours:.2f} s  pyarrow {theirs:.2f} s")


if __name__ == "__main__":
    main()
