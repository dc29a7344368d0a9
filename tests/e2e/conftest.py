"""A live server over the plant (tests/api/saisei_plant.py) and Debian's headless Chromium."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

sys.path.insert(0, str(Path(__file__).parents[1] / "api"))

from saisei_plant import plant_database, policy

from saisei.app import create_app
from saisei.config import Settings
from saisei.quality.specs import enter_qc_result
from saisei.storage.store import Store

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The application on a free local port, over the plant with release QC results in."""
    folder = tmp_path_factory.mktemp("e2e-plant")
    engine, root = plant_database(folder)
    store = Store(engine, root)
    for attribute, value, text in (
        ("viability", 92.5, None),
        ("CD73", 97.1, None),
        ("sterility", None, "No growth"),
    ):
        enter_qc_result(
            store,
            "qc.ito",
            "MSC-0001",
            attribute,
            value=value,
            value_text=text,
            unit="%" if value is not None else None,
        )
    app = create_app(Settings(home=folder), store=store, policy=policy())
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium from the system package (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.fail(
            "The end-to-end tests need Debian's chromium at /usr/bin/chromium: "
            "'apt-get install -y chromium'."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
