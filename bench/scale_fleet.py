"""Fleet benchmark of ``saisei.scale``: a synthetic fleet processed out of core on Dask.

A fleet of ``--lots`` bioreactor runs, each ``--variables`` sensors logged for ``--points``
time points, is written in the time-series store's Parquet layout
(``batch/<lot>/<stage>/<segment>.parquet``, the store's schema: subject, stage, variable, t,
value, unit, timestamp, quality; zstd). The files are written directly in that layout with
PyArrow, vectorised per lot, and their manifest rows (path, lot, stage, row count, variables,
time span) are kept in memory and handed to the reader as ``TimeSeriesStore.segments`` would
return them: inserting 1000 rows into the relational manifest is not what is measured.

The fleet is then processed on a ``LocalCluster`` of 1 and of 2 worker processes (1 thread
each, a memory limit per worker), twice each, alternating (1, 2, 1, 2):

1. ``map_segments(lot_summaries)``: partitions of about 1 M rows (10 lots), read with PyArrow
   on the workers; count, mean, standard deviation, min and max per lot and variable by
   Arrow's hash group-by (a small result);
2. ``map_segments(wide_rows)``: the same partitions pivoted to one row per lot and time point
   (variables as columns, vectorised), and an exact distributed PCA (``fit_pca``, 3
   components) from ``X'X`` accumulated over the partitions.

Nothing is ever held whole in memory: the peak resident memory of the benchmark process plus
its worker processes (sampled every 0.2 s with psutil and summed) is reported, with the wall
time of each phase and the speed-up from 1 to 2 workers, and the load average of the machine.

Usage: ``python bench/scale_fleet.py [--lots 1000] [--variables 10] [--points 10000]
[--folder DIR] [--keep] [--rounds 2]`` (the defaults make 100 million rows).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from saisei.scale import connect, fit_pca, lot_summaries, map_segments, wide_rows

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
STAGE = "expansion"


@dataclass(frozen=True)
class Segment:
    """A manifest row as the reader needs it."""

    path: str
    subject_ref: str
    stage: str | None
    row_count: int
    variables: list[str] = field(default_factory=list)
    t_start_h: float | None = None
    t_end_h: float | None = None


def write_fleet(root: Path, lots: int, variables: int, points: int) -> list[Segment]:
    """One segment per lot: correlated sensors (3 latent drivers) sampled at 1 Hz."""
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(3, variables))
    n = points * variables
    names = [f"v{j:02d}" for j in range(variables)]
    hours = np.arange(points, dtype=float) / 3600.0
    # The columns every lot shares are built once.
    variable = pa.array(np.repeat(names, points), pa.string())
    t = pa.array(np.tile(hours, variables))
    stage = pa.repeat(pa.scalar(STAGE, pa.string()), n)
    unit = pa.repeat(pa.scalar("1", pa.string()), n)
    start_us = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
    stamps = pa.array(
        np.tile(start_us + np.arange(points, dtype=np.int64) * 1_000_000, variables),
        pa.timestamp("us", tz="UTC"),
    )
    quality = pa.nulls(n, pa.string())
    segments = []
    for i in range(lots):
        lot = f"LOT-{i:05d}"
        latent = np.cumsum(rng.normal(size=(points, 3)), axis=0) / np.sqrt(points)
        values = latent @ mixing + 0.1 * rng.normal(size=(points, variables))
        table = pa.Table.from_arrays(
            [
                pa.repeat(pa.scalar(lot, pa.string()), n),
                stage,
                variable,
                t,
                pa.array(values.T.ravel()),
                unit,
                stamps,
                quality,
            ],
            schema=SCHEMA,
        )
        relative = Path("batch", lot, STAGE, f"{i:08d}.parquet")
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, root / relative, compression="zstd")
        segments.append(
            Segment(relative.as_posix(), lot, STAGE, n, names, float(hours[0]), float(hours[-1]))
        )
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


def process(root: Path, segments: list[Segment], workers: int, variables: int) -> dict[str, float]:
    """Summaries, then the wide rows' PCA, on a fresh local cluster of ``workers`` processes."""
    with connect(workers=workers, processes=True, memory_limit="1.5GiB") as client:
        client.run(lambda: __import__("saisei.scale"))  # warm-up: imports are not timed
        start = time.perf_counter()
        summary = client.compute(map_segments(lot_summaries, root, segments)).result()
        after_summary = time.perf_counter()
        columns = [f"v{j:02d}" for j in range(variables)]
        wide = map_segments(partial(wide_rows, variables=columns), root, segments)
        model = fit_pca(wide, columns=columns, n_components=3, client=client)
        end = time.perf_counter()
        partitions = wide.npartitions
    return {
        "partitions": float(partitions),
        "summary_rows": float(len(summary)),
        "summary_s": after_summary - start,
        "pca_s": end - after_summary,
        "total_s": end - start,
        "pca_rows": float(model.n_samples_fit_),
        "r2x_3": float(np.sum(model.explained_variance_ratio_)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--lots", type=int, default=1000)
    parser.add_argument("--variables", type=int, default=10)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--folder", type=Path, default=None, help="Default: a new temp folder.")
    parser.add_argument("--keep", action="store_true", help="Keep (and reuse) the fleet files.")
    parser.add_argument("--rounds", type=int, default=2, help="Passes per worker count.")
    parser.add_argument("--write-only", action="store_true", help="Write the fleet and stop.")
    args = parser.parse_args()
    rows = args.lots * args.variables * args.points
    root = args.folder if args.folder is not None else Path(tempfile.mkdtemp(prefix="fleet-"))
    started = time.perf_counter()
    names = [f"v{j:02d}" for j in range(args.variables)]
    existing = sorted(root.glob(f"batch/*/{STAGE}/*.parquet")) if args.keep else []
    if existing:
        segments = [
            Segment(
                p.relative_to(root).as_posix(),
                p.parts[-3],
                STAGE,
                pq.ParquetFile(p).metadata.num_rows,
                names,
            )
            for p in existing
        ]
        how = "reused"
    else:
        shutil.rmtree(root, ignore_errors=True)
        segments = write_fleet(root, args.lots, args.variables, args.points)
        how = "written"
    size = sum(p.stat().st_size for p in root.rglob("*.parquet"))
    print(
        f"fleet: {sum(s.row_count for s in segments):,} rows in {len(segments)} segments, "
        f"{size / 2**30:.2f} GiB Parquet, {how} in {time.perf_counter() - started:.1f} s"
    )
    if args.write_only:
        return
    best: dict[int, dict[str, float]] = {}
    peaks: list[float] = []
    for round_ in range(args.rounds):
        for workers in (1, 2):
            load = os.getloadavg()
            with PeakMemory() as peak:
                result = process(root, segments, workers, args.variables)
            result["peak_rss_gib"] = peak.peak_bytes / 2**30
            peaks.append(result["peak_rss_gib"])
            print(
                f"round {round_ + 1}, {workers} worker(s): total {result['total_s']:.1f} s "
                f"(summaries {result['summary_s']:.1f} s, PCA {result['pca_s']:.1f} s over "
                f"{result['pca_rows']:,.0f} rows, {result['partitions']:.0f} partitions), "
                f"peak RSS {result['peak_rss_gib']:.2f} GiB, R2X(3) {result['r2x_3']:.4f}, "
                f"load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
                flush=True,
            )
            if workers not in best or result["total_s"] < best[workers]["total_s"]:
                best[workers] = result
    print(
        f"best of {args.rounds}: 1 worker {best[1]['total_s']:.1f} s "
        f"({rows / best[1]['total_s'] / 1e6:.2f} M rows/s), 2 workers "
        f"{best[2]['total_s']:.1f} s ({rows / best[2]['total_s'] / 1e6:.2f} M rows/s), "
        f"speed-up {best[1]['total_s'] / best[2]['total_s']:.2f}x; highest peak RSS "
        f"{max(peaks):.2f} GiB"
    )
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
