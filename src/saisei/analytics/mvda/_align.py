"""Putting batches of unequal length on a common maturity axis.

``MaturityAligner`` re-expresses every variable against a monotone maturity variable (elapsed
time, cumulative population doublings, conversion, an indicator variable) by linear
interpolation onto a fixed grid of that variable (Kourti 2003, "Multivariate dynamic data
modeling for analysis and statistical process control of batch processes, start-ups and grade
transitions", J. Chemometrics 17, 93-109, on indicator variables).

``DTWAligner`` warps each batch onto a reference trajectory by dynamic time warping with
variable weights refined over iterations, and averages the samples that map to the same
reference point, after Kassidas, MacGregor & Taylor (1998), "Synchronization of batch
trajectories using dynamic time warping", AIChE J. 44, 864-875. Its online form aligns a
running batch to the best-matching *prefix* of the reference (open end).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from saisei.errors import ValidationFailed

from ._batchdata import DEFAULT_COLUMNS, check_columns


def _lots(
    frame: pd.DataFrame, columns: tuple[str, str, str, str], owner: str
) -> list[tuple[Any, pd.DataFrame]]:
    """Per lot: a wide table (index t ascending, one column per variable)."""
    if not isinstance(frame, pd.DataFrame):
        raise ValidationFailed(
            f"{owner} aligns a long DataFrame with columns {list(columns)}; got "
            f"{type(frame).__name__}. A 3-D array is taken as already aligned: pass it "
            "without an aligner."
        )
    lot, time, variable, value = check_columns(columns, owner)
    absent = [c for c in (lot, time, variable, value) if c not in frame.columns]
    if absent:
        raise ValidationFailed(f"{owner} needs the columns {absent} in the batch table.")
    wide = frame.pivot_table(
        index=[lot, time], columns=variable, values=value, aggfunc="mean", dropna=False, sort=True
    )
    return [
        (key, group.droplevel(0).dropna(how="all"))
        for key, group in wide.groupby(level=0, sort=False)
    ]


def _long(
    records: list[tuple[Any, np.ndarray, list[str], np.ndarray]], columns: tuple[str, str, str, str]
) -> pd.DataFrame:
    lot, time, variable, value = columns
    parts = []
    for key, grid, names, values in records:
        j, k = values.shape
        parts.append(
            pd.DataFrame(
                {
                    lot: [key] * (j * k),
                    time: np.repeat(grid, k),
                    variable: np.tile(np.asarray(names, dtype=object), j),
                    value: values.reshape(-1),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=list(columns))
    out = pd.concat(parts, ignore_index=True)
    return out[out[value].notna()].reset_index(drop=True)


class MaturityAligner:
    """Interpolate every variable of a batch onto a grid of a maturity variable.

    Parameters
    ----------
    variable : str
        The maturity variable (a variable of the long table). Its values are made
        non-decreasing by a running maximum; the variable itself becomes the time axis.
    grid : int or array-like, default=50
        Maturity grid: its points, or their number between the largest batch start and the
        smallest batch end of the reference batches.

    Attributes
    ----------
    grid_ : ndarray
        The maturity grid.
    """

    def __init__(self, variable: str, grid: int | Any = 50) -> None:
        self.variable = variable
        self.grid = grid

    def fit(
        self, data: pd.DataFrame, columns: tuple[str, str, str, str] = DEFAULT_COLUMNS
    ) -> MaturityAligner:
        """Set the grid from reference batches."""
        lots = _lots(data, columns, type(self).__name__)
        spans = [self._maturity(wide) for _, wide in lots]
        if np.ndim(self.grid) == 0:
            start = max(float(np.nanmin(m)) for m in spans)
            end = min(float(np.nanmax(m)) for m in spans)
            if not end > start:
                raise ValidationFailed(
                    f"MaturityAligner: the reference batches share no range of "
                    f"'{self.variable}' (largest start {start}, smallest end {end})."
                )
            self.grid_ = np.linspace(start, end, int(self.grid))
        else:
            self.grid_ = np.sort(np.asarray(self.grid, dtype=float))
        return self

    def _maturity(self, wide: pd.DataFrame) -> np.ndarray:
        if self.variable not in wide.columns:
            raise ValidationFailed(
                f"MaturityAligner: maturity variable '{self.variable}' is not in the batch "
                f"table. Variables: {list(wide.columns)[:20]}."
            )
        values = wide[self.variable].to_numpy(dtype=float)
        return np.fmax.accumulate(values)

    def transform(
        self,
        data: pd.DataFrame,
        columns: tuple[str, str, str, str] = DEFAULT_COLUMNS,
        partial: bool = False,
    ) -> pd.DataFrame:
        """Long table on the maturity grid; grid points a batch has not reached are absent."""
        records = []
        for key, wide in _lots(data, columns, type(self).__name__):
            maturity = self._maturity(wide)
            names = [c for c in wide.columns if c != self.variable]
            values = np.full((self.grid_.size, len(names)), np.nan)
            ok = ~np.isnan(maturity)
            if ok.sum() >= 1:
                m_obs = maturity[ok]
                reached = (self.grid_ >= m_obs.min()) & (self.grid_ <= m_obs.max())
                for col, name in enumerate(names):
                    y = wide[name].to_numpy(dtype=float)[ok]
                    have = ~np.isnan(y)
                    xs, idx = np.unique(m_obs[have], return_index=True)
                    if xs.size >= 2:
                        values[reached, col] = np.interp(self.grid_[reached], xs, y[have][idx])
                    elif xs.size == 1:
                        values[reached & np.isclose(self.grid_, xs[0]), col] = y[have][idx][0]
            records.append((key, self.grid_, names, values))
        return _long(records, check_columns(columns, type(self).__name__))

    def fit_transform(
        self, data: pd.DataFrame, columns: tuple[str, str, str, str] = DEFAULT_COLUMNS
    ) -> pd.DataFrame:
        """``fit`` then ``transform`` the reference batches."""
        return self.fit(data, columns).transform(data, columns)


def dtw_path(
    cost: np.ndarray, *, band: float | None = None, open_end: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Warping path of a local cost matrix (n x m), steps (1,0), (0,1), (1,1).

    ``band``: Sakoe-Chiba window as a fraction of the reference length. ``open_end``: the path
    may end at any reference point (the one with the least cost per step).
    Returns the batch indices and the reference indices along the path.
    """
    n, m = cost.shape
    D = np.full((n, m), np.inf)
    cols = np.arange(m)
    allowed = np.ones((n, m), dtype=bool)
    if band is not None:
        centre = np.arange(n)[:, None] * (m - 1) / max(n - 1, 1)
        allowed = np.abs(cols[None, :] - centre) <= max(band * m, 1.0)
        if not open_end:
            allowed[-1, -1] = True
    allowed[0, 0] = True
    cumulative = np.cumsum(cost, axis=1)
    first = np.full(m, np.inf)
    first[0] = cost[0, 0]
    shifted = np.empty(m)
    with np.errstate(invalid="ignore"):
        for i in range(n):
            if i == 0:
                a = first
            else:
                prev = D[i - 1]
                shifted[0] = np.inf
                shifted[1:] = prev[:-1]
                a = cost[i] + np.minimum(prev, shifted)
            a = np.where(allowed[i], a, np.inf)
            row = np.minimum.accumulate(a - cumulative[i]) + cumulative[i]
            D[i] = np.where(allowed[i], row, np.inf)
    end = int(np.argmin(D[n - 1] / (n + cols + 1))) if open_end else m - 1
    i, j = n - 1, end
    path_i, path_j = [i], [j]
    while i > 0 or j > 0:
        options = (
            (D[i - 1, j - 1] if i > 0 and j > 0 else np.inf, i - 1, j - 1),
            (D[i - 1, j] if i > 0 else np.inf, i - 1, j),
            (D[i, j - 1] if j > 0 else np.inf, i, j - 1),
        )
        _, i, j = min(options, key=lambda option: option[0])
        path_i.append(i)
        path_j.append(j)
    return np.asarray(path_i[::-1]), np.asarray(path_j[::-1])


class DTWAligner:
    """Align batches to a reference trajectory by dynamic time warping.

    Parameters
    ----------
    reference : lot label or None, default=None
        Reference batch; None takes the batch of median length.
    n_iter : int, default=3
        Refinements of the variable weights and of the reference (the average aligned
        trajectory), as in Kassidas et al. (1998).
    band : float or None, default=None
        Sakoe-Chiba band as a fraction of the reference length; None allows any warping.
    warp_variable : str or None, default=None
        When set, the aligned data gain a variable of this name holding the batch's original
        time at each reference point (how far ahead or behind the batch runs).

    Attributes
    ----------
    grid_ : ndarray
        Time values of the reference batch: the aligned time axis.
    reference_ : ndarray of shape (len(grid_), n_variables)
        Scaled reference trajectory after the last refinement.
    weights_ : ndarray of shape (n_variables,)
        Variable weights (sum = number of variables).
    variables_ : list of str
    """

    def __init__(
        self,
        reference: Any = None,
        *,
        n_iter: int = 3,
        band: float | None = None,
        warp_variable: str | None = None,
    ) -> None:
        self.reference = reference
        self.n_iter = n_iter
        self.band = band
        self.warp_variable = warp_variable

    def _scaled(self, wide: pd.DataFrame) -> np.ndarray:
        values = wide.reindex(columns=self.variables_).to_numpy(dtype=float)
        values = pd.DataFrame(values).ffill().bfill().to_numpy()
        return np.nan_to_num((values - self.mean_) / self.std_)

    def _align_one(self, x: np.ndarray, open_end: bool) -> tuple[np.ndarray, np.ndarray]:
        w, r = self.weights_, self.reference_
        cost = (x * x) @ w
        cost = cost[:, None] + ((r * r) @ w)[None, :] - 2.0 * (x * w) @ r.T
        return dtw_path(np.clip(cost, 0.0, None), band=self.band, open_end=open_end)

    @staticmethod
    def _average_onto(
        values: np.ndarray, path_i: np.ndarray, path_j: np.ndarray, length: int
    ) -> np.ndarray:
        sums = np.zeros((length, values.shape[1]))
        counts = np.zeros((length, values.shape[1]))
        obs = ~np.isnan(values[path_i])
        np.add.at(sums, path_j, np.where(obs, values[path_i], 0.0))
        np.add.at(counts, path_j, obs)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, sums / counts, np.nan)

    def fit(
        self, data: pd.DataFrame, columns: tuple[str, str, str, str] = DEFAULT_COLUMNS
    ) -> DTWAligner:
        """Choose the reference and refine the weights on reference batches."""
        lots = _lots(data, columns, type(self).__name__)
        if not lots:
            raise ValidationFailed("DTWAligner.fit needs at least one batch.")
        self.variables_ = sorted({str(c) for _, wide in lots for c in wide.columns})
        stacked = pd.concat([wide.reindex(columns=self.variables_) for _, wide in lots])
        self.mean_ = stacked.mean().to_numpy(dtype=float)
        std = stacked.std().to_numpy(dtype=float)
        self.std_ = np.where(np.isfinite(std) & (std > 0), std, 1.0)
        keys = [key for key, _ in lots]
        if self.reference is None:
            lengths = np.array([len(wide) for _, wide in lots])
            ref = int(np.argsort(lengths)[len(lengths) // 2])
        elif self.reference in keys:
            ref = keys.index(self.reference)
        else:
            raise ValidationFailed(
                f"DTWAligner: reference lot {self.reference!r} is not among the batches "
                f"{keys[:10]}."
            )
        self.grid_ = lots[ref][1].index.to_numpy(dtype=float)
        self.reference_ = self._scaled(lots[ref][1])
        k = len(self.variables_)
        self.weights_ = np.ones(k)
        scaled = [self._scaled(wide) for _, wide in lots]
        for _ in range(int(self.n_iter)):
            aligned = np.stack(
                [self._average_onto(x, *self._align_one(x, False), self.grid_.size) for x in scaled]
            )
            average = np.nanmean(aligned, axis=0)
            spread = np.nanmean(np.nansum((aligned - average) ** 2, axis=1), axis=0)
            inverse = np.where(spread > 0, 1.0 / np.where(spread > 0, spread, 1.0), 0.0)
            if inverse.sum() > 0:
                self.weights_ = inverse * k / inverse.sum()
            self.reference_ = np.nan_to_num(average)
        return self

    def transform(
        self,
        data: pd.DataFrame,
        columns: tuple[str, str, str, str] = DEFAULT_COLUMNS,
        partial: bool = False,
    ) -> pd.DataFrame:
        """Long table on the reference time axis; ``partial`` aligns running batches (open end)."""
        records = []
        for key, wide in _lots(data, columns, type(self).__name__):
            raw = wide.reindex(columns=self.variables_).to_numpy(dtype=float)
            path_i, path_j = self._align_one(self._scaled(wide), partial)
            length = int(path_j.max()) + 1
            values = self._average_onto(raw, path_i, path_j, length)
            names = list(self.variables_)
            if self.warp_variable is not None:
                times = wide.index.to_numpy(dtype=float)[:, None]
                values = np.hstack([values, self._average_onto(times, path_i, path_j, length)])
                names.append(self.warp_variable)
            records.append((key, self.grid_[:length], names, values))
        return _long(records, check_columns(columns, type(self).__name__))

    def fit_transform(
        self, data: pd.DataFrame, columns: tuple[str, str, str, str] = DEFAULT_COLUMNS
    ) -> pd.DataFrame:
        """``fit`` then ``transform`` the reference batches."""
        return self.fit(data, columns).transform(data, columns)
