"""One simulated MSC plant (40 lots, seed 11) for the drivers, design-space and recommend
tests: simulated and imported once per test session, copied into each module's own home."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from saisei.services.ingest import import_path
from saisei.services.simulation import simulate_to_folder
from saisei.storage.store import Store

LOTS = 40
SEED = 11


def _built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.getbasetemp() / "drivers-plant"
    if not (base / "done").exists():
        shutil.rmtree(base, ignore_errors=True)
        simulate_to_folder("msc", LOTS, SEED, base / "exchange")
        (base / "home").mkdir()
        store = Store.open(f"sqlite:///{base / 'home' / 'saisei.db'}", base / "home" / "timeseries")
        store.upgrade()
        import_path(store, base / "exchange", actor="importer")
        store.close()
        (base / "done").touch()
    return base


def plant(tmp_path_factory: pytest.TempPathFactory, name: str) -> tuple[Path, Path]:
    """A copy of the plant's home for one module, and the exchange folder it came from."""
    base = _built(tmp_path_factory)
    home = tmp_path_factory.mktemp(name) / "home"
    shutil.copytree(base / "home", home)
    return home, base / "exchange"


def open_store(home: Path) -> Store:
    """The store of a plant home."""
    return Store.open(f"sqlite:///{home / 'saisei.db'}", home / "timeseries")


def truth(exchange: Path) -> dict[str, Any]:
    """The simulator's truth.json."""
    return json.loads((exchange / "truth.json").read_text("utf-8"))  # type: ignore[no-any-return]
