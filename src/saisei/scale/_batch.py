"""Distributed training of the batch models from long rows partitioned by lot.

``fit_batch_evolution`` (observation-wise unfolding) and ``fit_batch_level`` (batch-wise
unfolding) take the long table of reference batches (``lot, t, variable, value``) as a Dask
DataFrame in which every lot lies whole in one partition, as :func:`read_timeseries` returns
it. Three kinds of pass, each a map over the partitions and a tree of exact merges:

1. the layout: lots (in order of first appearance), times and variables of every partition,
   whose unions are the maturity grid and the variables of the model;
2. the PCA/PLS of the unfolded rows (:func:`fit_pca`/:func:`fit_pls`: one pass accumulating
   ``X'X``, ``X'Y`` for complete data; one pass per iteration of the missing-data path);
3. the reference statistics along maturity from the fitted model
   (:func:`saisei.analytics.mvda.maturity_moments` / ``spe_trajectory_moments``).

The concatenated partitions are the table the single-machine ``fit`` would get, so the model
equals ``BatchEvolutionModel().fit(data.compute())`` (resp. ``BatchLevelModel``) to rounding.
"""

from __future__ import annotations

from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
from distributed import Client

from saisei.analytics.mvda import (
    BatchEvolutionModel,
    BatchLevelModel,
    MaturityMoments,
    SpeTrajectoryMoments,
    batch_evolution_from_moments,
    batch_level_from_moments,
    check_batch_model,
    cube_on_grid,
    maturity_moments,
    quality_matrix,
    spe_trajectory_moments,
    to_cube,
    unfolded_names,
)
from saisei.errors import ValidationFailed

from ._blocks import compute, tree_reduce
from ._pca import fit_pca
from ._pls import fit_pls

__all__ = ["fit_batch_evolution", "fit_batch_level"]


def _layout(
    part: pd.DataFrame, columns: tuple[str, str, str, str], owner: str
) -> tuple[tuple[Any, ...], np.ndarray, tuple[str, ...]]:
    cube = to_cube(part, columns, owner)
    return cube.lots, cube.times, cube.variables


def _merge_layout(
    a: list[tuple[tuple[Any, ...], np.ndarray, tuple[str, ...]]],
    b: list[tuple[tuple[Any, ...], np.ndarray, tuple[str, ...]]],
) -> list[tuple[tuple[Any, ...], np.ndarray, tuple[str, ...]]]:
    return a + b


def _single(item: Any) -> list[Any]:
    return [item]


def _grid(
    data: dd.DataFrame, columns: tuple[str, str, str, str], owner: str, client: Client | None
) -> tuple[list[tuple[Any, ...]], np.ndarray, tuple[str, ...]]:
    """Lots per partition, the maturity grid and the variables, checking lots are whole."""
    if not isinstance(data, dd.DataFrame):
        raise ValidationFailed(
            f"The distributed {owner} fit needs a dask.dataframe.DataFrame of long rows "
            f"{list(columns)}. Got {type(data).__name__}; for data in memory call "
            f"{owner}().fit."
        )
    parts = [
        dask.delayed(_single)(dask.delayed(_layout)(p, columns, owner)) for p in data.to_delayed()
    ]
    layouts = compute(tree_reduce(parts, _merge_layout), client)
    seen: dict[Any, int] = {}
    for i, (lots, _times, _variables) in enumerate(layouts):
        for lot in lots:
            if lot in seen:
                raise ValidationFailed(
                    f"{owner}: lot {lot!r} is in partitions {seen[lot]} and {i}; the "
                    "distributed fit needs every lot whole in one partition (read with "
                    "saisei.scale.read_timeseries, or shuffle by lot first)."
                )
            seen[lot] = i
    nonempty = [layout for layout in layouts if len(layout[0])]
    if not nonempty:
        raise ValidationFailed(f"{owner}: the data have no rows; give reference batches.")
    times = np.unique(np.concatenate([layout[1] for layout in nonempty]))
    variables = tuple(sorted(set().union(*(layout[2] for layout in nonempty))))
    return [layout[0] for layout in layouts], times, variables


def _cube_values(
    part: pd.DataFrame,
    columns: tuple[str, str, str, str],
    owner: str,
    times: np.ndarray,
    variables: tuple[str, ...],
) -> np.ndarray:
    cube = to_cube(part, columns, owner, variables)
    if not cube.lots:
        return np.zeros((0, times.size, len(variables)))
    return cube_on_grid(cube, times, owner)


def _observation_rows(
    part: pd.DataFrame,
    columns: tuple[str, str, str, str],
    owner: str,
    times: np.ndarray,
    variables: tuple[str, ...],
) -> pd.DataFrame:
    values = _cube_values(part, columns, owner, times, variables)
    rows = values.reshape(-1, len(variables))
    return pd.DataFrame(rows[~np.isnan(rows).all(axis=1)], columns=list(variables))


def _maturity(
    part: pd.DataFrame,
    columns: tuple[str, str, str, str],
    owner: str,
    times: np.ndarray,
    variables: tuple[str, ...],
    pca: Any,
) -> MaturityMoments:
    return maturity_moments(pca, _cube_values(part, columns, owner, times, variables))


def _merge_maturity(a: MaturityMoments, b: MaturityMoments) -> MaturityMoments:
    return a.merge(b)


def fit_batch_evolution(
    data: dd.DataFrame, *, client: Client | None = None, **params: Any
) -> BatchEvolutionModel:
    """Fit a :class:`~saisei.analytics.mvda.BatchEvolutionModel` on lots spread over partitions.

    Parameters
    ----------
    data : dask.dataframe.DataFrame
        Long rows of the reference batches with the model's ``columns`` (default ``lot, t,
        variable, value``); every lot whole in one partition (:func:`read_timeseries` gives
        one partition per lot and stage: select one stage). Batches already on a common
        maturity grid (no ``aligner``).
    client : distributed.Client, optional
        Where to compute (default: Dask's current scheduler).
    **params
        The parameters of ``BatchEvolutionModel`` (``n_components``, ``scale``, ``alpha``,
        ``window``, ``columns``, ``n_top``). ``n_components=None`` (cross-validated choice)
        needs complete rows.

    Returns
    -------
    BatchEvolutionModel
        Equal to ``BatchEvolutionModel(**params).fit(data.compute())`` to rounding: PCA,
        maturity grid, score trajectories and limits; ``t2_train_`` and ``spe_train_`` are
        None (score the reference lots with :func:`monitor_batches` when needed).
    """
    model = BatchEvolutionModel(**params)
    owner = type(model).__name__
    check_batch_model(model, distributed=True)
    columns = model.columns
    lots_per_part, times, variables = _grid(data, columns, owner, client)
    lots = tuple(lot for lots in lots_per_part for lot in lots)
    if len(lots) < 3:
        raise ValidationFailed(
            f"{owner} needs at least 3 reference batches to set limits. Got {len(lots)}."
        )
    names = list(variables)
    meta = pd.DataFrame({v: pd.Series(dtype=float) for v in names})
    rows = data.map_partitions(
        _observation_rows, columns, owner, times, variables, meta=meta, enforce_metadata=False
    )
    pca = fit_pca(
        rows,
        columns=names,
        client=client,
        n_components=model.n_components,
        scale=model.scale,
        alpha=model.alpha,
    )
    parts = [
        dask.delayed(_maturity)(p, columns, owner, times, variables, pca) for p in data.to_delayed()
    ]
    moments = compute(tree_reduce(parts, _merge_maturity), client)
    return batch_evolution_from_moments(model, pca, times, variables, lots, moments)


def _unfolded(
    part: pd.DataFrame,
    columns: tuple[str, str, str, str],
    owner: str,
    times: np.ndarray,
    variables: tuple[str, ...],
    names: list[str],
    quality: pd.DataFrame | None,
) -> pd.DataFrame:
    values = _cube_values(part, columns, owner, times, variables)
    frame = pd.DataFrame(values.reshape(values.shape[0], -1), columns=names)
    if quality is not None:
        for name in quality.columns:
            frame[name] = quality[name].to_numpy()
    return frame


def _spe_moments(
    part: pd.DataFrame,
    columns: tuple[str, str, str, str],
    owner: str,
    times: np.ndarray,
    variables: tuple[str, ...],
    fitted: Any,
) -> SpeTrajectoryMoments:
    values = _cube_values(part, columns, owner, times, variables)
    return spe_trajectory_moments(fitted, values.reshape(values.shape[0], -1), times.size)


def _merge_spe(a: SpeTrajectoryMoments, b: SpeTrajectoryMoments) -> SpeTrajectoryMoments:
    return a.merge(b)


def fit_batch_level(
    data: dd.DataFrame, y: Any = None, *, client: Client | None = None, **params: Any
) -> BatchLevelModel:
    """Fit a :class:`~saisei.analytics.mvda.BatchLevelModel` on lots spread over partitions.

    Parameters
    ----------
    data : dask.dataframe.DataFrame
        Long rows of the reference batches, every lot whole in one partition (see
        :func:`fit_batch_evolution`). Each batch becomes one row of ``times x variables``
        columns, so the fit needs at least as many batches as that.
    y : Series or DataFrame indexed by lot, or array with one row per batch, optional
        End-of-batch quality (a PLS model); lots without a value keep NaN (the distributed
        PLS then takes its missing-data path).
    client : distributed.Client, optional
    **params
        The parameters of ``BatchLevelModel`` (``n_components``, ``scale``, ``alpha``,
        ``impute``, ``columns``, ``n_top``).

    Returns
    -------
    BatchLevelModel
        Equal to ``BatchLevelModel(**params).fit(data.compute(), y)`` to rounding.
    """
    model = BatchLevelModel(**params)
    owner = type(model).__name__
    check_batch_model(model, distributed=True)
    columns = model.columns
    lots_per_part, times, variables = _grid(data, columns, owner, client)
    lots = tuple(lot for lots in lots_per_part for lot in lots)
    if len(lots) < 3:
        raise ValidationFailed(f"{owner} needs at least 3 reference batches. Got {len(lots)}.")
    names = unfolded_names(times, variables)
    targets: tuple[str, ...] | None = None
    quality_parts: list[pd.DataFrame | None] = [None] * len(lots_per_part)
    y_names: list[str] = []
    if y is not None:
        Y, targets = quality_matrix(y, lots)
        y_names = [f"__quality_{i}" for i in range(Y.shape[1])]
        start = 0
        for i, part_lots in enumerate(lots_per_part):
            stop = start + len(part_lots)
            quality_parts[i] = pd.DataFrame(Y[start:stop], columns=y_names)
            start = stop
    meta = pd.DataFrame({c: pd.Series(dtype=float) for c in [*names, *y_names]})
    rows = dd.from_delayed(
        [
            dask.delayed(_unfolded)(p, columns, owner, times, variables, names, q)
            for p, q in zip(data.to_delayed(), quality_parts, strict=True)
        ],
        meta=meta,
        verify_meta=False,
    )
    fitted: Any
    if y is None:
        fitted = fit_pca(
            rows,
            columns=names,
            client=client,
            n_components=model.n_components,
            scale=model.scale,
            alpha=model.alpha,
        )
    else:
        fitted = fit_pls(
            rows,
            y_names,
            columns=names,
            client=client,
            n_components=model.n_components,
            scale=model.scale,
            alpha=model.alpha,
        )
    parts = [
        dask.delayed(_spe_moments)(p, columns, owner, times, variables, fitted)
        for p in data.to_delayed()
    ]
    moments = compute(tree_reduce(parts, _merge_spe), client)
    return batch_level_from_moments(model, fitted, times, variables, lots, targets, moments)
