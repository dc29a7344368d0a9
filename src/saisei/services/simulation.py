"""Simulating a plant into an exchange folder with its ground truth (``truth.json``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from saisei.ingestion.writer import write_exchange_folder
from saisei.simulation import SimulationResult, default_programme, simulate

__all__ = [
    "SimulationSummary",
    "simulate_programme_to_folder",
    "simulate_to_folder",
    "write_result",
]


@dataclass(frozen=True)
class SimulationSummary:
    """What was simulated and where it was written.

    Attributes
    ----------
    product : str
        ``msc``, ``cart``, ``aav`` or ``programme`` (the default demonstration programme).
    batches : int
        Batches simulated.
    seed : int
    out : str
        The exchange folder.
    rows : dict of str to int
        Rows written per table.
    files : list of str
        Files written (relative to ``out``), ``truth.json`` included.
    released : int
        Batches released (measured in specification).
    faults : int
        Faults injected.
    """

    product: str
    batches: int
    seed: int
    out: str
    rows: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    released: int = 0
    faults: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return asdict(self)


def write_result(result: SimulationResult, out: Path) -> list[Path]:
    """Write the tables, process definitions and ``truth.json`` of ``result`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = write_exchange_folder(out, result.tables, result.processes)
    truth = out / "truth.json"
    tmp = out / ".truth.json.tmp"
    tmp.write_text(result.truth_json(), encoding="utf-8")
    tmp.replace(truth)
    return [*written, truth]


def _summary(
    result: SimulationResult, product: str, seed: int, out: Path, written: list[Path]
) -> SimulationSummary:
    batches = result.tables["batches"]
    return SimulationSummary(
        product=product,
        batches=len(batches),
        seed=seed,
        out=str(out),
        rows=result.summary(),
        files=sorted(str(p.relative_to(out)) for p in written),
        released=int((batches["status"] == "released").sum()),
        faults=len(result.truth.get("faults", [])),
    )


def simulate_to_folder(
    product: str,
    batches: int,
    seed: int,
    out: Path,
    process_change_at: int | None = None,
    faults: str | None = None,
    *,
    progress: Callable[[str, float], None] | None = None,
) -> SimulationSummary:
    """Simulate ``batches`` batches of ``product`` and write them as an exchange folder.

    Deterministic for a seed: the same arguments write identical files.

    Raises
    ------
    ValidationFailed
        If the product, the number of batches, the process change or the fault
        specification is not valid.
    """
    result = simulate(
        product,
        batches,
        seed,
        process_change_at=process_change_at,
        faults=faults,
        progress=progress,
    )
    written = write_result(result, out)
    return _summary(result, product, seed, out, written)


def simulate_programme_to_folder(
    seed: int,
    out: Path,
    *,
    size: str = "full",
    progress: Callable[[str, float], None] | None = None,
) -> SimulationSummary:
    """Simulate the default demonstration programme (``size`` ``full`` or ``small``, see
    :func:`saisei.simulation.default_programme`) into ``out``."""
    result = default_programme(seed, size=size, progress=progress)
    written = write_result(result, out)
    return _summary(result, "programme", seed, out, written)
