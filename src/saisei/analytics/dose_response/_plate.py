"""Microplates: 96/384-well layouts, joining readings to a plate map, replicates and outliers."""

from __future__ import annotations

import re
import string

import numpy as np
import pandas as pd

from saisei.errors import FieldError, ValidationFailed

__all__ = ["flag_outliers", "plate_wells", "read_plate", "summarize_replicates"]

#: Plate size -> (rows, columns), ANSI/SLAS 4-2004 footprint layouts.
PLATE_SHAPES = {96: (8, 12), 384: (16, 24)}
_WELL = re.compile(r"^\s*([A-Pa-p])\s*0*([1-9][0-9]?)\s*$")


def plate_wells(n_wells: int = 96) -> list[str]:
    """Well names of a plate in row-major order (``A1, A2, ..., H12`` for 96 wells)."""
    if n_wells not in PLATE_SHAPES:
        raise ValidationFailed(
            f"The 'n_wells' parameter of plate_wells must be 96 or 384. Got {n_wells!r} instead."
        )
    rows, cols = PLATE_SHAPES[n_wells]
    return [f"{r}{c}" for r in string.ascii_uppercase[:rows] for c in range(1, cols + 1)]


def _normalise_well(name: object, n_wells: int) -> str | None:
    match = _WELL.match(str(name))
    if match is None:
        return None
    well = f"{match.group(1).upper()}{int(match.group(2))}"
    return well if well in set(plate_wells(n_wells)) else None


def _long_values(values: pd.DataFrame) -> pd.DataFrame:
    """Readings as columns ``well, response`` from long or grid (row letters x numbers) form."""
    if "well" in values.columns:
        column = next((c for c in ("response", "value", "signal") if c in values.columns), None)
        if column is None:
            raise ValidationFailed(
                "Plate readings in long form need a 'response' (or 'value') column beside "
                f"'well'. Got columns {list(values.columns)}."
            )
        return pd.DataFrame({"well": values["well"], "response": values[column]})
    grid = values.stack(future_stack=True).reset_index()
    grid.columns = ["row", "column", "response"]
    grid["well"] = grid["row"].astype(str).str.strip() + grid["column"].astype(str).str.strip()
    return grid[["well", "response"]]


def read_plate(values: pd.DataFrame, plate_map: pd.DataFrame, *, n_wells: int = 96) -> pd.DataFrame:
    """Join plate readings to a plate map.

    Parameters
    ----------
    values : DataFrame
        Either long form with columns ``well`` and ``response`` (or ``value``), or the
        reader's grid: index row letters ``A..H`` (``A..P``), columns ``1..12`` (``1..24``).
    plate_map : DataFrame
        One row per used well: ``well``, ``sample`` (e.g. ``"reference"``, ``"test"``, or a
        compound), ``dose`` (>= 0, NaN for blanks); any other columns (``cell_type``,
        ``replicate``, ...) are carried through.
    n_wells : {96, 384}

    Returns
    -------
    DataFrame
        Columns ``well, row, column, sample, dose, response`` plus the extra map columns, one
        row per mapped well, in plate order. Unmapped wells are dropped.

    Raises
    ------
    ValidationFailed
        Listing every unknown or duplicated well, missing reading or non-numeric value.
    """
    if n_wells not in PLATE_SHAPES:
        raise ValidationFailed(
            f"The 'n_wells' parameter of read_plate must be 96 or 384. Got {n_wells!r} instead."
        )
    missing = {"well", "sample", "dose"} - set(plate_map.columns)
    if missing:
        raise ValidationFailed(
            "The plate map must have columns 'well', 'sample' and 'dose'. "
            f"Missing {sorted(missing)}."
        )
    readings = _long_values(values)
    errors: list[FieldError] = []
    readings["well"] = _checked_wells(readings["well"], n_wells, "plate readings", errors)
    layout = plate_map.copy()
    layout["well"] = _checked_wells(layout["well"], n_wells, "plate map", errors)
    readings["response"] = pd.to_numeric(readings["response"], errors="coerce")
    layout["dose"] = pd.to_numeric(layout["dose"], errors="coerce")
    merged = layout.merge(readings, on="well", how="left")
    for well in merged.loc[merged["response"].isna(), "well"]:
        errors.append(FieldError("no numeric reading for a mapped well", field="well", value=well))
    for well in merged.loc[merged["dose"] < 0, "well"]:
        errors.append(FieldError("dose must be >= 0", field="dose", value=well))
    if errors:
        raise ValidationFailed(f"The plate ({n_wells} wells) cannot be read.", errors)
    order = {w: i for i, w in enumerate(plate_wells(n_wells))}
    merged["row"] = merged["well"].str[0]
    merged["column"] = merged["well"].str[1:].astype(int)
    merged = merged.sort_values("well", key=lambda s: s.map(order)).reset_index(drop=True)
    first = ["well", "row", "column", "sample", "dose", "response"]
    return merged[first + [c for c in merged.columns if c not in first]]


def _checked_wells(
    wells: pd.Series, n_wells: int, source: str, errors: list[FieldError]
) -> pd.Series:
    names = wells.map(lambda w: _normalise_well(w, n_wells))
    for raw in wells[names.isna()]:
        errors.append(
            FieldError(
                f"not a well of a {n_wells}-well plate", file=source, field="well", value=raw
            )
        )
    for dup in names[names.duplicated() & names.notna()].unique():
        errors.append(
            FieldError("well listed more than once", file=source, field="well", value=dup)
        )
    return names


def flag_outliers(
    plate: pd.DataFrame,
    *,
    threshold: float = 3.5,
    by: tuple[str, ...] = ("sample", "dose"),
) -> pd.DataFrame:
    """Flag replicate outliers by the modified z-score (Iglewicz & Hoaglin 1993).

    Within each replicate group ``M_i = 0.6745 (y_i - median) / MAD``; ``|M_i| > threshold``
    flags the well. When the MAD is 0 the mean absolute deviation is used, scaled by
    1.253314 (the same paper). Groups of fewer than 3 replicates are never flagged.

    Parameters
    ----------
    plate : DataFrame
        Output of :func:`read_plate` (any frame with ``response`` and the ``by`` columns).
    threshold : float, default 3.5
    by : tuple of str
        Columns that define a replicate group.

    Returns
    -------
    DataFrame
        A copy with ``modified_z`` and boolean ``outlier`` columns.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or threshold <= 0:
        raise ValidationFailed(
            f"The 'threshold' parameter of flag_outliers must be a positive number. "
            f"Got {threshold!r} instead."
        )
    out = plate.copy()
    out["modified_z"] = out.groupby(list(by), dropna=False)["response"].transform(_modified_z)
    out["outlier"] = out["modified_z"].abs() > threshold
    return out


def _modified_z(y: pd.Series) -> pd.Series:
    values = y.to_numpy(dtype=float)
    if values.size < 3:
        return pd.Series(0.0, index=y.index)
    deviation = values - np.median(values)
    mad = np.median(np.abs(deviation))
    if mad > 0:
        return pd.Series(0.6745 * deviation / mad, index=y.index)
    mean_ad = np.mean(np.abs(deviation))
    scores = deviation / (1.253314 * mean_ad) if mean_ad > 0 else np.zeros_like(deviation)
    return pd.Series(scores, index=y.index)


def summarize_replicates(
    plate: pd.DataFrame,
    *,
    by: tuple[str, ...] = ("sample", "dose"),
    exclude_outliers: bool = True,
) -> pd.DataFrame:
    """Mean, SD and CV (%) of replicate wells per group, outliers left out by default.

    Returns one row per group with ``n``, ``mean``, ``sd`` (n - 1), ``cv_percent``.
    """
    data = plate
    if exclude_outliers and "outlier" in plate.columns:
        data = plate.loc[~plate["outlier"].astype(bool)]
    grouped = data.groupby(list(by), dropna=False)["response"]
    summary = grouped.agg(n="count", mean="mean", sd="std").reset_index()
    summary["cv_percent"] = 100.0 * summary["sd"] / summary["mean"].abs()
    return summary
