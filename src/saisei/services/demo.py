"""The demonstration programme: simulate a plant, import it through the normal importer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from saisei.services.home import HomeSummary, initialise_home, summarise_home
from saisei.services.ingest import ImportReport, import_path
from saisei.services.simulation import simulate_programme_to_folder
from saisei.storage.store import Store

__all__ = ["DemoSummary", "run_demo"]


@dataclass(frozen=True)
class DemoSummary:
    """What the demo did: the simulated folder, the import report and the home summary."""

    exchange_folder: str
    imported: ImportReport | None
    home: HomeSummary

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {
            "exchange_folder": self.exchange_folder,
            "import": None if self.imported is None else self.imported.to_dict(),
            "home": self.home.to_dict(),
        }


def run_demo(
    store: Store,
    home: Path,
    *,
    seed: int = 20261128,
    progress: Callable[[str, float], None] | None = None,
) -> DemoSummary:
    """Initialise ``home``, simulate the default programme and import it.

    The programme (3 hospitals, 1 intermediary, 1 manufacturer; MSC batches with a medium
    change, CAR-T and AAV lots, a few faults and excursions) is written as an exchange folder
    in ``home/demo-exchange`` and imported exactly as a user's files would be. A home that
    already holds batches is only summarised, so the demo can be run again safely.
    """
    summary = initialise_home(store, home, actor="demo")
    folder = home / "demo-exchange"
    if summary.counts.get("batches", 0) > 0:
        return DemoSummary(str(folder), None, summary)
    simulate_programme_to_folder(seed, folder, progress=progress)
    report = import_path(
        store, folder, actor="demo", reason="demonstration programme (simulated data)"
    )
    return DemoSummary(str(folder), report, summarise_home(store, home, created=summary.created))
