"""The result of a simulation: exchange-format tables, process definitions, ground truth."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from saisei.simulation._tables import COLUMNS


@dataclass(frozen=True)
class SimulationResult:
    """What the simulator produced.

    Attributes
    ----------
    tables : dict of str to pandas.DataFrame
        Exchange-format tables (``parties``, ``donors``, ``collections``, ``shipments``,
        ``shipment_logs``, ``materials``, ``equipment``, ``batches``, ``parameters``,
        ``material_use``, ``timeseries``, ``qc_results``, ``custody_events``,
        ``deviations``) with exactly the columns of the exchange format; datetimes are
        timezone-aware UTC.
    processes : list of dict
        Process definitions in the YAML shape of the exchange format.
    truth : dict
        Ground truth (JSON-serialisable): factor effects, specifications, design-space
        evaluation, faults, process changes, outliers and per-batch true values.
    """

    tables: dict[str, pd.DataFrame]
    processes: list[dict[str, Any]]
    truth: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, int]:
        """Rows per table."""
        return {name: len(df) for name, df in self.tables.items()}

    def truth_json(self) -> str:
        """The ground truth as JSON text (stable key order)."""
        return json.dumps(self.truth, indent=2, sort_keys=True, default=_plain)


def _plain(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    raise TypeError(f"Cannot write {type(value).__name__} to truth.json.")


def combine(results: Iterable[SimulationResult], truth: dict[str, Any]) -> SimulationResult:
    """Merge results of several products into one (shared tables deduplicated by key)."""
    results = list(results)
    tables: dict[str, pd.DataFrame] = {}
    keys = {"parties": ["code"], "equipment": ["asset_id"], "materials": ["code", "lot_number"]}
    for name in COLUMNS:
        parts = [r.tables[name] for r in results if name in r.tables and len(r.tables[name])]
        if not parts:
            continue
        df = pd.concat(
            [
                p.astype(
                    {c: object for c in p.columns if isinstance(p[c].dtype, pd.CategoricalDtype)}
                )
                for p in parts
            ],
            ignore_index=True,
        )
        if name in keys:
            df = df.drop_duplicates(subset=keys[name], keep="first").reset_index(drop=True)
        tables[name] = df[COLUMNS[name]]
    processes = [p for r in results for p in r.processes]
    return SimulationResult(tables=tables, processes=processes, truth=truth)
