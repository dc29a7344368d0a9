"""Benchmark: 20 concurrent clients on the batch page of a lot with 200 000 points.

Run: ``.venv/bin/python bench/web_batch_detail.py [--clients 20] [--requests 15]
[--cache-head-revision]``.

Builds a home in a temporary folder with 7 MSC lots of 4 online variables x 50 000 points
(250 h at 18 s: 200 000 points per lot), a monitoring model on 6 of them with alarms on the
seventh, and a QA user; serves it with uvicorn in a child process (as ``saisei serve`` does);
signs each client in through the login form; then every client requests the batch page of
the seventh lot ``--requests`` times. The first request (which fills the cache of
downsampled series and figures) is timed separately. ``--cache-head-revision`` caches
``saisei.storage.migrations.head_revision`` in the server (it re-read the migration scripts
on every ``Store.reader()`` before storage cached it; see bench/RESULTS.md). Also printed: the
server process's CPU time per request (Linux ``/proc``) and the load average, since the
clients share the machine with the server.
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing
import os
import re
import socket
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

LOT = "MSC-B07"
PASSWORD = "bench-pass-0001"
N_POINTS = 50_000  # per variable; 4 variables = 200 000 points


def _series(rng: np.random.Generator, fault: bool) -> pd.DataFrame:
    t = np.linspace(0.0, 250.0, N_POINTS)
    temperature = 37.0 + 0.05 * rng.standard_normal(t.size)
    if fault:
        temperature += np.where(t > 180, 0.02 * (t - 180), 0.0)
    columns = {
        "temperature": (temperature, "degC"),
        "pH": (7.2 - 0.001 * t + 0.01 * rng.standard_normal(t.size), "1"),
        "DO": (60.0 - 0.1 * t + 0.5 * rng.standard_normal(t.size), "%"),
        "glucose": (5.0 - 0.012 * t + 0.05 * rng.standard_normal(t.size), "g/L"),
    }
    return pd.concat(
        [
            pd.DataFrame({"variable": k, "t": t, "value": v, "unit": u})
            for k, (v, u) in columns.items()
        ],
        ignore_index=True,
    )


def build_home(home: Path) -> None:
    """The bench home: lots with series, a model with alarms, a QA user."""
    from saisei.app import auth_policy, build_store
    from saisei.config import Settings
    from saisei.domain.enums import BatchStatus, ProductType
    from saisei.quality.users import bootstrap_admin, create_user
    from saisei.services.home import initialise_home
    from saisei.services.monitoring import build_model, score_lot
    from saisei.storage.models import Batch, ProcessDefinition

    settings = Settings(home=home)
    store = build_store(settings)
    initialise_home(store, home)
    rng = np.random.default_rng(7)
    start = datetime(2026, 1, 5, tzinfo=UTC)
    with store.unit_of_work(actor="bench", source="bench", reason="bench plant") as uow:
        process = ProcessDefinition(name="MSC-BM", version="2.1", product_type=ProductType.MSC)
        uow.session.add(process)
        uow.flush()
        for i in range(1, 8):
            lot = f"MSC-B{i:02d}"
            uow.session.add(
                Batch(
                    lot_number=lot,
                    product_type=ProductType.MSC,
                    process_id=process.id,
                    status=BatchStatus.QUARANTINE if lot == LOT else BatchStatus.COMPLETED,
                    started_at=start + timedelta(days=14 * i),
                )
            )
            store.timeseries.write_segment(
                uow.session, _series(rng, lot == LOT), subject_ref=lot, stage="expansion"
            )
    policy = auth_policy(settings)
    bootstrap_admin(store, "admin.bench", "Bench Admin", "admin-pass-0001", policy)
    create_user(store, "admin.bench", "qa.bench", "Bench QA", PASSWORD, ["qa"], policy)
    build_model(
        store,
        name="msc-expansion",
        product="MSC",
        stage="expansion",
        actor="admin.bench",
        lots=[f"MSC-B{i:02d}" for i in range(1, 7)],
        n_components=2,
    )
    score_lot(store, LOT, model="msc-expansion", actor="qa.bench")
    store.close()


def serve(home: str, port: int, cache_head_revision: bool) -> None:
    """The server process (what ``saisei serve`` runs)."""
    import uvicorn

    from saisei.app import create_app
    from saisei.config import Settings
    from saisei.storage import migrations

    if cache_head_revision:
        migrations.head_revision = functools.cache(migrations.head_revision)
    uvicorn.run(
        create_app(Settings(home=Path(home))), host="127.0.0.1", port=port, log_level="warning"
    )


def _cpu_s(pid: int | None) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _signed_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60.0)
    form = client.get("/login").text
    token = re.search(r'name="csrf" value="([0-9a-f]{64})"', form)
    assert token is not None
    response = client.post(
        "/login",
        data={"username": "qa.bench", "password": PASSWORD, "csrf": token.group(1), "next": "/"},
    )
    assert response.status_code == 303, response.text
    return client


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--cache-head-revision", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        t0 = time.perf_counter()
        build_home(home)
        print(f"home built in {time.perf_counter() - t0:.1f} s")
        port = _port()
        server = multiprocessing.get_context("spawn").Process(
            target=serve, args=(str(home), port, args.cache_head_revision), daemon=True
        )
        server.start()
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(f"{base}/api/v1/health", timeout=1.0)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        clients = [_signed_in(base) for _ in range(args.clients)]
        t0 = time.perf_counter()
        first = clients[0].get(f"/batches/{LOT}")
        cold = time.perf_counter() - t0
        assert first.status_code == 200 and "contrib-spe" in first.text, first.text[:500]
        latencies: list[float] = []
        lock = threading.Lock()

        def run(client: httpx.Client) -> None:
            for _ in range(args.requests):
                start = time.perf_counter()
                response = client.get(f"/batches/{LOT}")
                elapsed = time.perf_counter() - start
                if response.status_code != 200:
                    raise RuntimeError(response.text[:300])
                with lock:
                    latencies.append(elapsed)

        t0 = time.perf_counter()
        server_cpu0 = _cpu_s(server.pid)
        threads = [threading.Thread(target=run, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - t0
        server_cpu = _cpu_s(server.pid) - server_cpu0
        load = os.getloadavg()
        server.terminate()
        q = statistics.quantiles(latencies, n=100)
        print(
            f"page size: {len(first.content) / 1024:.0f} KiB; cold first request: "
            f"{1000 * cold:.0f} ms"
        )
        print(
            f"{len(latencies)} requests by {args.clients} clients in {wall:.1f} s "
            f"({len(latencies) / wall:.1f} req/s)"
        )
        print(
            f"p50 {1000 * statistics.median(latencies):.0f} ms  p95 {1000 * q[94]:.0f} ms  "
            f"max {1000 * max(latencies):.0f} ms"
        )
        print(
            f"server CPU {1000 * server_cpu / len(latencies):.1f} ms per request; load average "
            f"at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs"
        )


if __name__ == "__main__":
    main()
