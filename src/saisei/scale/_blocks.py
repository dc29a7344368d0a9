"""Rows of a Dask collection as a list of delayed NumPy blocks, and tree reductions over them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
from dask.delayed import Delayed
from distributed import Client

from saisei.errors import ValidationFailed

__all__ = ["RowBlocks", "compute", "row_blocks", "tree_reduce"]


@dataclass(frozen=True)
class RowBlocks:
    """Delayed float blocks of shape (rows, n_columns), in row order."""

    blocks: list[Delayed]
    columns: list[str] | None
    n_columns: int


def _as_float(part: Any, columns: list[str] | None) -> np.ndarray:
    if isinstance(part, pd.DataFrame):
        frame = part if columns is None else part[columns]
        return frame.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(part, dtype=np.float64)


def row_blocks(data: Any, columns: Sequence[str] | None, owner: str) -> RowBlocks:
    """Turn a Dask DataFrame (``columns`` selects and orders) or 2-D Dask array into blocks."""
    if isinstance(data, dd.DataFrame):
        names = [str(c) for c in (columns if columns is not None else data.columns)]
        missing = [c for c in names if c not in data.columns]
        if missing:
            raise ValidationFailed(
                f"{owner} was asked for columns {missing} that the Dask DataFrame does not "
                f"have. Its columns are {list(data.columns)}."
            )
        parts = data[names].to_delayed()
        blocks = [dask.delayed(_as_float)(p, None) for p in parts]
        return RowBlocks(blocks, names, len(names))
    if isinstance(data, da.Array):
        if data.ndim != 2:
            raise ValidationFailed(
                f"{owner} needs a 2-D Dask array (rows x variables). Got {data.ndim} dimensions."
            )
        if columns is not None:
            raise ValidationFailed(f"{owner} takes 'columns' only with a Dask DataFrame.")
        whole = data.rechunk({1: -1})
        blocks = [dask.delayed(_as_float)(b, None) for b in whole.to_delayed().ravel()]
        return RowBlocks(blocks, None, int(data.shape[1]))
    raise ValidationFailed(
        f"{owner} needs a dask.dataframe.DataFrame or a 2-D dask.array.Array. Got "
        f"{type(data).__name__}; for data in memory use the single-machine estimator."
    )


def tree_reduce(items: list[Delayed], combine: Callable[[Any, Any], Any]) -> Delayed:
    """Pairwise, order-preserving reduction (left operand always the earlier rows)."""
    if not items:
        raise ValidationFailed("There are no partitions to reduce: the data have no rows.")
    level = list(items)
    while len(level) > 1:
        nxt = [dask.delayed(combine)(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def compute(task: Delayed, client: Client | None) -> Any:
    """Compute one delayed value on ``client`` or, without one, on Dask's current scheduler."""
    if client is not None:
        return client.compute(task).result()
    return dask.compute(task)[0]


def add(a: Any, b: Any) -> Any:
    """Element-wise sum of tuples of arrays/numbers (the reduction of sufficient statistics)."""
    return tuple(x + y for x, y in zip(a, b, strict=True))
