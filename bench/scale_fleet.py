"""Fleet benchmark of ``saisei.scale``: a synthetic fleet processed out of core on Dask.

A fleet of ``--lots`` bioreactor runs, each ``--variables`` sensors logged for ``--points``
time points, is written in the time-series store's Parquet layout
(``batch/<lot>/<stage>/<segment>.parquet``, the long format of the store: lot, stage,
variable, t, value, unit, timestamp, quality). It is then processed twice, on a
``LocalCluster`` of 1 and of 2 worker processes (1 thread each, a memory limit per worker):

1. ``read_segments``: one Dask partition per lot, read lazily by the workers;
2. per lot and variable: count, mean, standard deviation, min and max (a reduction whose
   result is small);
3. each lot's long rows pivoted to one row per time point (variables as columns) and an exact
   distributed PCA (``fit_pca``, 3 components) over all those rows, from ``X'X`` accumulated
   over the partitions.

Nothing is ever held whole in memory: the peak resident memory of the benchmark process plus
its worker processes (sampled every 0.2 s with psutil and summed) is reported, with the wall
time of each run and the speed-up from 1 to 2 workers.

Usage: ``python bench/scale_fleet.py [--lots 1000] [--variables 10] [--points 10000]
[--folder /tmp/saisei-fleet] [--keep]`` (the defaults make 100 million rows).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from saisei.scale import connect, fit_pca, read_segments

SCHEMA = pa.schema(
    [
        pa.field("subject", pa.string(), nullable=False),
        pa.field("stage", pa.string()),
        pa.field("variable", pa.string(), nullable=False),
        pa.field("t", pa.float64(), nullable=False),
        pa.field("value", pa.float64()),
        pa.field("unit", pa.string()),
        pa.field("timestamp", pa.timestamp("us", tz="UTC")),
        pa.field("quality", pa.string()),
    ]
)


@dataclass(frozen=True)
class Segment:
    """A manifest row as the reader needs it."""

    path: str
    subject_ref: str
    stage: str | None


def write_fleet(root: Path, lots: int, variables: int, points: int) -> list[Segment]:
    """One segment per lot: correlated sensors (3 latent drivers) sampled at 1 Hz."""
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(3, variables))
    t = np.arange(points, dtype=float) / 3600.0
    names = np.repeat([f"v{j:02d}" for j in range(variables)], points)
    start = pd.Timestamp("2026-01-01", tz="UTC")
    stamps = pa.array(
        np.tile(start.value // 1000 + (np.arange(points) * 1_000_000), variables),
        type=pa.timestamp("us", tz="UTC"),
    )
    segments = []
    for i in range(lots):
        lot = f"LOT-{i:05d}"
        latent = np.cumsum(rng.normal(size=(points, 3)), axis=0) / np.sqrt(points)
        values = latent @ mixing + 0.1 * rng.normal(size=(points, variables))
        n = points * variables
        table = pa.Table.from_arrays(
            [
                pa.DictionaryArray.from_arrays(np.zeros(n, np.int32), [lot]).cast(pa.string()),
                pa.array(["expansion"] * 1, pa.string()).take(np.zeros(n, np.int32)),
                pa.array(names, pa.string()),
                pa.array(np.tile(t, variables)),
                pa.array(values.T.ravel()),
                pa.array(["1"], pa.string()).take(np.zeros(n, np.int32)),
                stamps,
                pa.nulls(n, pa.string()),
            ],
            schema=SCHEMA,
        )
        relative = Path("batch", lot, "expansion", f"{i:08d}.parquet")
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, root / relative, compression="zstd")
        segments.append(Segment(relative.as_posix(), lot, "expansion"))
    return segments


class PeakMemory:
    """Peak of the summed RSS of this process and its children, sampled in a thread."""

    def __init__(self, interval_s: float = 0.2) -> None:
        self.interval_s = interval_s
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
            self.peak_bytes = max(self.peak_bytes, total)
            time.sleep(self.interval_s)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _per_variable(part: pd.DataFrame) -> pd.DataFrame:
    return (
        part.groupby(["lot", "variable"], observed=True)["value"]
        .agg(["count", "mean", "std", "min", "max"])
        .reset_index()
    )


def _wide(part: pd.DataFrame) -> pd.DataFrame:
    wide = part.pivot_table(index="t", columns="variable", values="value", aggfunc="first")
    wide.columns = [str(c) for c in wide.columns]
    return wide.reset_index(drop=True)


def process(root: Path, segments: list[Segment], workers: int, variables: int) -> dict[str, float]:
    with connect(workers=workers, processes=True, memory_limit="1.5GiB") as client:
        client.run(lambda: __import__("saisei.scale"))  # warm-up: imports are not timed
        start = time.perf_counter()
        frame = read_segments(root, segments)
        meta_summary = _per_variable(frame._meta)
        summary = client.compute(frame.map_partitions(_per_variable, meta=meta_summary)).result()
        after_summary = time.perf_counter()
        columns = [f"v{j:02d}" for j in range(variables)]
        meta_wide = pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
        wide = frame.map_partitions(_wide, meta=meta_wide)
        model = fit_pca(wide, columns=columns, n_components=3, client=client)
        end = time.perf_counter()
    return {
        "summary_rows": float(len(summary)),
        "summary_s": after_summary - start,
        "pca_s": end - after_summary,
        "total_s": end - start,
        "pca_rows": float(model.n_samples_fit_),
        "r2x_3": float(np.sum(model.explained_variance_ratio_)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lots", type=int, default=1000)
    parser.add_argument("--variables", type=int, default=10)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/saisei-fleet"))
    parser.add_argument("--keep", action="store_true", help="Keep (and reuse) the fleet files.")
    args = parser.parse_args()
    rows = args.lots * args.variables * args.points
    root = args.folder
    started = time.perf_counter()
    if args.keep and root.exists():
        segments = [
            Segment(p.relative_to(root).as_posix(), p.parts[-3], "expansion")
            for p in sorted(root.glob("batch/*/expansion/*.parquet"))
        ]
    else:
        shutil.rmtree(root, ignore_errors=True)
        segments = write_fleet(root, args.lots, args.variables, args.points)
    size = sum(p.stat().st_size for p in root.rglob("*.parquet"))
    print(
        f"fleet: {rows:,} rows in {len(segments)} segments, {size / 2**30:.2f} GiB Parquet, "
        f"written in {time.perf_counter() - started:.0f} s"
    )
    results = {}
    for workers in (1, 2):
        with PeakMemory() as peak:
            result = process(root, segments, workers, args.variables)
        result["peak_rss_gib"] = peak.peak_bytes / 2**30
        results[workers] = result
        print(
            f"{workers} worker(s): total {result['total_s']:.1f} s (summaries "
            f"{result['summary_s']:.1f} s, PCA {result['pca_s']:.1f} s over "
            f"{result['pca_rows']:,.0f} rows), peak RSS {result['peak_rss_gib']:.2f} GiB, "
            f"R2X(3) {result['r2x_3']:.4f}"
        )
    print(f"speed-up 1 -> 2 workers: {results[1]['total_s'] / results[2]['total_s']:.2f}x")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
