"""What the service layer is handed to run work on a cluster without importing Dask itself.

Services take plain callables: a ``mapper(function, items)`` that behaves like the built-in
``map`` (used for the design-space grid), or a ``trainer(long_rows, **params)`` that returns
a fitted batch model (used by ``monitor build``). The CLI opens the cluster and builds these
from the client; with no cluster the services run everything in-process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import dask.dataframe as dd
import pandas as pd
from distributed import Client

from saisei.analytics.mvda import BatchEvolutionModel
from saisei.errors import ValidationFailed

from ._batch import fit_batch_evolution

__all__ = ["batch_evolution_trainer", "client_map", "partition_by_lot"]


def client_map(client: Client) -> Callable[[Callable[[Any], Any], Iterable[Any]], list[Any]]:
    """A ``map``-like function that runs ``function(item)`` for every item on the cluster.

    Results come back in the order of the items. Tasks are not cached by value
    (``pure=False``), so two calls always run.
    """

    def mapper(function: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        futures = client.map(function, list(items), pure=False)
        return list(client.gather(futures))

    return mapper


def partition_by_lot(
    frame: pd.DataFrame, *, partitions: int, lot_column: str = "lot"
) -> dd.DataFrame:
    """A long table in memory as a Dask DataFrame of whole lots, in order of first appearance.

    Parameters
    ----------
    frame : DataFrame
        Long rows with a lot column.
    partitions : int
        Number of partitions (at most one per lot); lots are split as evenly as possible.
    lot_column : str, default="lot"
    """
    if lot_column not in frame.columns:
        raise ValidationFailed(
            f"partition_by_lot needs the lot column {lot_column!r}; the table has "
            f"{list(frame.columns)}."
        )
    if isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1:
        raise ValidationFailed(f"'partitions' must be an integer >= 1. Got {partitions!r}.")
    lots = pd.unique(frame[lot_column])
    order = pd.Index(lots).get_indexer(pd.Index(frame[lot_column]))
    count = max(1, min(partitions, len(lots)))
    group = order * count // max(len(lots), 1)
    pieces = [frame[group == g].reset_index(drop=True) for g in range(count)]
    return dd.concat([dd.from_pandas(piece, npartitions=1) for piece in pieces])


def batch_evolution_trainer(
    client: Client, *, partitions: int | None = None
) -> Callable[..., BatchEvolutionModel]:
    """``trainer(long_rows, **params)``: a :class:`BatchEvolutionModel` fitted on ``client``.

    The rows (a pandas long table ``lot, t, variable, value``) are split into whole lots,
    ``partitions`` parts (default: twice the cluster's worker threads), and fitted with
    :func:`fit_batch_evolution`; the model equals ``BatchEvolutionModel(**params).fit(rows)``
    to rounding.
    """

    def trainer(rows: pd.DataFrame, **params: Any) -> BatchEvolutionModel:
        threads = sum(client.nthreads().values()) or 1
        parts = partitions if partitions is not None else 2 * threads
        columns = params.get("columns", ("lot", "t", "variable", "value"))
        data = partition_by_lot(rows, partitions=parts, lot_column=columns[0])
        return fit_batch_evolution(data, client=client, **params)

    return trainer
