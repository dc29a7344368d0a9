"""Batch data: long tables (lot, t, variable, value) <-> cubes (batches x times x variables)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from saisei.errors import FieldError, ValidationFailed

DEFAULT_COLUMNS = ("lot", "t", "variable", "value")


@dataclass(frozen=True)
class BatchCube:
    """Batch data on a common time grid.

    values : ndarray (n_lots, n_times, n_variables), NaN where no value exists (missing, or
    after a batch's end); lots, times, variables : the labels of each axis.
    """

    values: np.ndarray
    lots: tuple[Any, ...]
    times: np.ndarray
    variables: tuple[str, ...]


def check_columns(columns: object, owner: str) -> tuple[str, str, str, str]:
    """Validate the ``columns`` parameter: names of the lot, time, variable, value columns."""
    if (
        not isinstance(columns, tuple | list)
        or len(columns) != 4
        or not all(isinstance(c, str) for c in columns)
    ):
        raise ValidationFailed(
            f"The 'columns' parameter of {owner} must be four column names (lot, time, "
            f"variable, value). Got {columns!r} instead."
        )
    return (columns[0], columns[1], columns[2], columns[3])


def to_cube(
    data: Any,
    columns: tuple[str, str, str, str],
    owner: str,
    variables: tuple[str, ...] | None = None,
) -> BatchCube:
    """Read a long DataFrame or a 3-D array into a :class:`BatchCube`.

    A 3-D array is taken as already aligned: lots 0..B-1, times 0..J-1, variables x0..x(K-1)
    (or ``variables`` when given). A long DataFrame is pivoted; its time grid is the sorted
    union of its ``t`` values.
    """
    if isinstance(data, pd.DataFrame):
        return _cube_from_long(data, columns, owner, variables)
    array = np.asarray(data, dtype=np.float64)
    if array.ndim != 3:
        raise ValidationFailed(
            f"{owner} takes a long DataFrame with columns {list(columns)} or a 3-D array "
            f"(batches x times x variables). Got an array with {array.ndim} dimensions."
        )
    if np.isinf(array).any():
        raise ValidationFailed(f"{owner}: the batch array contains infinite values.")
    names = variables if variables is not None else tuple(f"x{k}" for k in range(array.shape[2]))
    if len(names) != array.shape[2]:
        raise ValidationFailed(
            f"{owner} was fitted on {len(names)} variables; the array has {array.shape[2]}."
        )
    return BatchCube(
        array, tuple(range(array.shape[0])), np.arange(array.shape[1], dtype=float), tuple(names)
    )


def _cube_from_long(
    frame: pd.DataFrame,
    columns: tuple[str, str, str, str],
    owner: str,
    variables: tuple[str, ...] | None,
) -> BatchCube:
    lot, time, variable, value = columns
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise ValidationFailed(
            f"{owner} needs the columns {list(columns)} in the batch table; {absent} are "
            f"missing. Found {list(frame.columns)}; name the columns with 'columns='."
        )
    values = pd.to_numeric(frame[value], errors="coerce")
    times = pd.to_numeric(frame[time], errors="coerce")
    bad = frame.index[(times.isna()) | (values.isna() & frame[value].notna())]
    if len(bad):
        errors = [
            FieldError(
                "must be a number",
                row=int(i) if isinstance(i, int) else None,
                field=time if pd.isna(times.loc[i]) else value,
                value=frame.loc[i, time] if pd.isna(times.loc[i]) else frame.loc[i, value],
            )
            for i in bad[:20]
        ]
        raise ValidationFailed(
            f"{owner}: {len(bad)} rows of the batch table have a time or value that is not a "
            "number.",
            errors,
        )
    if np.isinf(values.to_numpy(dtype=float, na_value=np.nan)).any():
        raise ValidationFailed(f"{owner}: the batch table contains infinite values.")
    tidy = pd.DataFrame(
        {
            "lot": frame[lot].to_numpy(),
            "t": times.to_numpy(dtype=float),
            "variable": frame[variable].astype(str).to_numpy(),
            "value": values.to_numpy(dtype=float, na_value=np.nan),
        }
    )
    duplicated = tidy.duplicated(["lot", "t", "variable"], keep=False)
    if duplicated.any():
        first = tidy[duplicated].iloc[0]
        raise ValidationFailed(
            f"{owner}: the batch table has {int(duplicated.sum())} rows that repeat a (lot, t, "
            f"variable) key, e.g. lot {first['lot']!r}, t {first['t']}, variable "
            f"{first['variable']!r}. Keep one value per key (average or drop duplicates)."
        )
    lots = tuple(pd.unique(tidy["lot"]))
    grid = np.sort(tidy["t"].unique())
    names = variables if variables is not None else tuple(sorted(pd.unique(tidy["variable"])))
    unknown = sorted(set(pd.unique(tidy["variable"])) - set(names))
    if unknown:
        raise ValidationFailed(
            f"{owner}: the batch table has variables {unknown[:10]} that the model was not "
            f"fitted on. Known variables: {list(names)[:20]}."
        )
    lot_code = pd.Index(lots).get_indexer(pd.Index(tidy["lot"]))
    time_code = np.searchsorted(grid, tidy["t"].to_numpy())
    var_code = pd.Index(names).get_indexer(pd.Index(tidy["variable"]))
    cube = np.full((len(lots), grid.size, len(names)), np.nan)
    cube[lot_code, time_code, var_code] = tidy["value"].to_numpy()
    return BatchCube(cube, lots, grid.astype(float), tuple(names))


def cube_to_long(
    cube: BatchCube, columns: tuple[str, str, str, str] = DEFAULT_COLUMNS
) -> pd.DataFrame:
    """The inverse of :func:`to_cube`: one row per observed (lot, t, variable)."""
    b, j, k = cube.values.shape
    frame = pd.DataFrame(
        {
            columns[0]: np.repeat(np.asarray(cube.lots, dtype=object), j * k),
            columns[1]: np.tile(np.repeat(cube.times, k), b),
            columns[2]: np.tile(np.asarray(cube.variables, dtype=object), b * j),
            columns[3]: cube.values.reshape(-1),
        }
    )
    return frame[frame[columns[3]].notna()].reset_index(drop=True)
