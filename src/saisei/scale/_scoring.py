"""Scoring many rows or batches with a fitted model, one partition at a time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import dask.dataframe as dd
import numpy as np
import pandas as pd

from saisei.errors import ValidationFailed

__all__ = ["apply_partitions", "diagnose_partitions", "monitor_batches"]


def _diagnose(part: pd.DataFrame, model: Any, columns: list[str], n_top: int) -> pd.DataFrame:
    frame: pd.DataFrame = model.diagnose(part[columns]).to_frame(n_top=n_top)
    return frame


def diagnose_partitions(
    model: Any, data: dd.DataFrame, *, columns: Sequence[str] | None = None, n_top: int = 3
) -> dd.DataFrame:
    """``model.diagnose(rows).to_frame()`` for every partition of ``data``, lazily.

    Parameters
    ----------
    model : PCAMonitor or PLSMonitor
        A fitted monitor (single-machine or from :func:`fit_pca`/:func:`fit_pls`).
    data : dask.dataframe.DataFrame
        Rows to score, with the model's feature columns.
    columns : sequence of str, optional
        Feature columns in model order (default: the model's ``feature_names_in_``).
    n_top : int
        Top contributing variables per row.

    Returns
    -------
    dask.dataframe.DataFrame
        Scores, T2, SPE, DModX, limits, alarms and top variables, one row per input row with
        the input's index; computing it gives the same rows as ``diagnose`` on all rows.
    """
    if not hasattr(model, "n_components_"):
        raise ValidationFailed(
            f"diagnose_partitions needs a fitted model; this {type(model).__name__} is not "
            "fitted. Call fit (or saisei.scale.fit_pca / fit_pls) first."
        )
    names = getattr(model, "feature_names_in_", None)
    if columns is None:
        if names is None:
            raise ValidationFailed(
                "diagnose_partitions needs 'columns' for a model fitted without column names."
            )
        columns = [str(c) for c in names]
    cols = list(columns)
    probe = pd.DataFrame(np.zeros((1, len(cols))), columns=cols)
    meta = _diagnose(probe, model, cols, n_top).iloc[:0]
    return data.map_partitions(_diagnose, model, cols, n_top, meta=meta)


def apply_partitions(
    func: Callable[[pd.DataFrame], pd.DataFrame], data: dd.DataFrame
) -> dd.DataFrame:
    """``func(partition)`` for every partition; the output layout is taken from partition 0.

    For functions whose output columns cannot be guessed from an empty frame (batch models
    scoring whole lots). Partition 0 is computed once, on the client's scheduler, to learn it.
    """
    first = func(data.get_partition(0).compute())
    return data.map_partitions(func, meta=first.iloc[:0])


def monitor_batches(model: Any, data: dd.DataFrame) -> dd.DataFrame:
    """``model.monitor(lot_rows)`` of a fitted ``BatchEvolutionModel`` for every partition.

    ``data`` is partitioned by lot (as :func:`read_timeseries` returns it: one partition per
    lot and stage), so each partition is a whole batch and is scored on its own; the result
    equals ``model.monitor`` on all lots together, row for row.
    """
    if not hasattr(model, "monitor"):
        raise ValidationFailed(
            f"monitor_batches needs a model with a 'monitor' method (BatchEvolutionModel). "
            f"Got {type(model).__name__}."
        )
    return apply_partitions(model.monitor, data)
