"""Helpers of the OPC UA tests: a simulated plant, a home with a model, loopback servers."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pandas as pd

from saisei.domain.enums import ProductType
from saisei.storage.models import Batch, ProcessDefinition
from saisei.storage.store import Store

SEED = 7
N_BATCHES = 12
#: Culture temperature drift in the last batch from 120 h (docs/simulator.md).
FAULTS = f"temperature_drift@{N_BATCHES}:120"
ONSET_H = 120.0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (the OPC UA stack cannot bind port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def register_lots(store: Store, lots: list[str]) -> None:
    """Batch rows (MSC, one process) for ``lots``."""
    with store.unit_of_work(actor="test", source="test") as uow:
        process = ProcessDefinition(
            name="MSC-live", version=lots[0][:32], product_type=ProductType.MSC
        )
        uow.session.add(process)
        uow.session.add_all(
            Batch(lot_number=lot, product_type=ProductType.MSC, process=process) for lot in lots
        )


def store_series(store: Store, lot: str, series: pd.DataFrame) -> None:
    """Store a lot's simulated series directly, one segment per stage."""
    with store.unit_of_work(actor="test", source="test") as uow:
        for stage, rows in series.groupby("stage", observed=True):
            store.timeseries.write_segment(
                uow.session,
                rows[["variable", "t", "value", "unit", "timestamp"]].astype(
                    {"variable": str, "unit": str}
                ),
                subject_ref=lot,
                stage=str(stage),
                source="test",
            )


def stored(store: Store, lot: str, stage: str = "expansion") -> pd.DataFrame:
    """What is stored for ``lot`` at ``stage``, sorted by variable and time."""
    with store.reader() as session:
        data = store.timeseries.read(session, lot=lot, stage=stage)
    assert isinstance(data, pd.DataFrame)
    return data.sort_values(["variable", "timestamp"]).reset_index(drop=True)


def expected_series(
    played: pd.DataFrame, until: datetime | None = None, variables: list[str] | None = None
) -> pd.DataFrame:
    """The simulator's series of the played lot, as the acquirer should store it."""
    data = played.assign(variable=played["variable"].astype(str))
    if variables is not None:
        data = data[data["variable"].isin(variables)]
    return data.sort_values(["variable", "t"]).reset_index(drop=True)


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(  # type: ignore[attr-defined]
            {"at": datetime.now(UTC), "body": json.loads(body)}
        )
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


@contextmanager
def webhook_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local HTTP server on 127.0.0.1 that records every JSON POST."""
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/alarms", server.received  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
