"""Batch models: the observation-wise batch evolution model and the batch-wise batch level model.

Batch evolution model (observation-wise unfolding; Wold, Kettaneh, Friden & Holmberg 1998,
"Modelling and diagnostics of batch processes and analogous kinetic experiments", Chemom.
Intell. Lab. Syst. 44, 331-340 - SIMCA's "BEM"): every (batch, time) row of the reference
batches is one observation of a PCA on the process variables. The reference batches' scores,
T2 and SPE at each point of maturity give limits *along maturity*: the mean and covariance of
the scores, and a scaled chi-square for SPE (Nomikos & MacGregor 1995), pooled over a window of
neighbouring time points. A running batch is scored row by row as its data arrive.

Batch level model (batch-wise unfolding; Nomikos & MacGregor 1995, "Multivariate SPC charts
for monitoring batch processes", Technometrics 37, 41-59; Nomikos & MacGregor 1994, AIChE J.
40, 1361-1375): each batch is one row of all variables at all times (time-major columns), every
column centred and scaled, so the model describes deviations from the mean trajectory. With
end-of-batch quality ``y`` it is a PLS model (Nomikos & MacGregor 1995, "Multi-way partial
least squares in monitoring batch processes", Chemom. Intell. Lab. Syst. 30, 97-108).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from saisei.errors import ValidationFailed

from ._batchdata import DEFAULT_COLUMNS, BatchCube, check_columns, to_cube
from ._limits import spe_limit_from_moments, t2_limit
from ._monitor import ensure_fitted
from ._pca import PCAMonitor
from ._pls import PLSMonitor
from ._results import top_contributors
from ._validation import check_alpha, check_choice, check_int, check_scale

IMPUTATIONS = ("tsr", "zero", "current")


def _prepare(model: Any, data: Any, *, fitting: bool) -> BatchCube:
    owner = type(model).__name__
    columns = check_columns(model.columns, owner)
    if model.aligner is not None:
        if fitting:
            data = model.aligner.fit_transform(data, columns=columns)
        else:
            data = model.aligner.transform(data, columns=columns, partial=True)
    variables = None if fitting else model.variables_
    return to_cube(data, columns, owner, variables)


def _grid_index(times: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Index of the nearest grid time for each time (clamped to the grid)."""
    if grid.size == 1:
        return np.zeros(times.size, dtype=np.int64)
    right = np.clip(np.searchsorted(grid, times), 1, grid.size - 1)
    left = right - 1
    return np.where(np.abs(times - grid[left]) <= np.abs(grid[right] - times), left, right)


class BatchEvolutionModel(BaseEstimator):
    """Observation-wise batch model with limits along maturity, for real-time monitoring.

    Parameters
    ----------
    n_components : int or None, default=None
        PCA components (None: cross-validated choice, see :class:`PCAMonitor`).
    scale : {"autoscale", "pareto", "center", "none"}, default="autoscale"
        Scaling of each process variable over all reference rows.
    alpha : float, default=0.01
        False-alarm probability of each limit at each time point.
    window : int, default=2
        Limits at time ``j`` pool the reference values at times ``j - window .. j + window``.
    columns : tuple of 4 str, default=("lot", "t", "variable", "value")
        Column names of the long input table.
    aligner : MaturityAligner or DTWAligner, optional
        Puts batches on a common maturity grid before modelling; applied to ``fit`` and, in
        its online (partial) form, to ``monitor``.
    n_top : int, default=3
        Number of top contributing variables reported per row.

    Attributes
    ----------
    pca_ : PCAMonitor
        The PCA of the unfolded reference rows.
    times_ : ndarray of shape (n_times,)
        Maturity grid.
    variables_ : tuple of str
        Process variables.
    score_mean_, score_std_ : ndarray of shape (n_times, n_components)
        Average and standard deviation of the reference scores along maturity.
    x_mean_ : ndarray of shape (n_times, n_variables)
        Reference mean of the scaled variables along maturity, pooled over the same window
        as the score statistics: the centre the T2 contributions are measured from.
    t2_limits_, spe_limits_ : ndarray of shape (n_times,)
        Limits along maturity.
    t2_train_, spe_train_ : ndarray of shape (n_lots, n_times)
        Reference batches' statistics (NaN where a batch has no data).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> time = np.linspace(0, 1, 30)
    >>> cube = np.stack([np.c_[np.sin(3 * time), time**2, np.cos(time)]
    ...                  + 0.05 * rng.normal(size=(30, 3)) for _ in range(25)])
    >>> model = BatchEvolutionModel(n_components=2).fit(cube)
    >>> running = cube[:1, :10].copy()
    >>> running[0, 5:, 1] += 1.0   # a fault from time index 5 on
    >>> report = model.monitor(running)
    >>> list(report.loc[report["alarm"], "t"])[:1]
    [5.0]
    """

    def __init__(
        self,
        n_components: int | None = None,
        *,
        scale: str = "autoscale",
        alpha: float = 0.01,
        window: int = 2,
        columns: tuple[str, str, str, str] = DEFAULT_COLUMNS,
        aligner: Any = None,
        n_top: int = 3,
    ) -> None:
        self.n_components = n_components
        self.scale = scale
        self.alpha = alpha
        self.window = window
        self.columns = columns
        self.aligner = aligner
        self.n_top = n_top

    def check_params(self) -> None:
        """Validate the parameters (``fit`` does this first); raise ValidationFailed."""
        owner = type(self).__name__
        check_scale(self.scale, owner)
        check_alpha(self.alpha, owner)
        check_int(self.window, "window", owner, minimum=0)
        check_int(self.n_top, "n_top", owner, minimum=1)

    def fit(self, data: Any, y: Any = None) -> BatchEvolutionModel:
        """Fit on reference (normal) batches: a long table or a 3-D array.

        Returns
        -------
        self : BatchEvolutionModel
        """
        owner = type(self).__name__
        self.check_params()
        cube = _prepare(self, data, fitting=True)
        b, j, k = cube.values.shape
        if b < 3:
            raise ValidationFailed(
                f"{owner} needs at least 3 reference batches to set limits. Got {b}."
            )
        self.times_, self.variables_, self.lots_ = cube.times, cube.variables, cube.lots
        rows = cube.values.reshape(b * j, k)
        present = ~np.isnan(rows).all(axis=1)
        self.pca_ = PCAMonitor(self.n_components, scale=self.scale, alpha=self.alpha).fit(
            pd.DataFrame(rows[present], columns=list(cube.variables))
        )
        self.n_components_ = self.pca_.n_components_
        a = self.n_components_
        diagnosis = self.pca_._diagnose_array(rows[present], pd.RangeIndex(int(present.sum())))
        scores = np.full((b * j, a), np.nan)
        spe = np.full(b * j, np.nan)
        scores[present], spe[present] = diagnosis.scores, diagnosis.spe
        scores, spe = scores.reshape(b, j, a), spe.reshape(b, j)
        self._fit_maturity_limits(scores, spe)
        self._fit_maturity_means(self.pca_._scale(rows).reshape(b, j, k), scores)
        centred = scores - self.score_mean_[None]
        self.t2_train_ = np.einsum("bja,jac,bjc->bj", centred, self.score_cov_inv_, centred)
        self.spe_train_ = spe
        return self

    def _fit_maturity_limits(self, scores: np.ndarray, spe: np.ndarray) -> None:
        _b, j, a = scores.shape
        w = int(self.window)
        self.score_mean_ = np.zeros((j, a))
        self.score_std_ = np.zeros((j, a))
        self.score_cov_inv_ = np.zeros((j, a, a))
        self.t2_limits_ = np.full(j, np.inf)
        self.spe_limits_ = np.full(j, np.inf)
        self.n_reference_ = np.zeros(j, dtype=np.int64)
        for i in range(j):
            lo, hi = max(0, i - w), min(j, i + w + 1)
            window_scores = scores[:, lo:hi].reshape(-1, a)
            window_scores = window_scores[~np.isnan(window_scores).any(axis=1)]
            n_batches = int((~np.isnan(scores[:, i, 0])).sum())
            self.n_reference_[i] = n_batches
            if window_scores.shape[0] < 2:
                continue
            mean = window_scores.mean(axis=0)
            cov = np.atleast_2d(np.cov(window_scores, rowvar=False))
            self.score_mean_[i] = mean
            self.score_std_[i] = np.sqrt(np.diag(cov))
            self.score_cov_inv_[i] = np.linalg.pinv(cov, hermitian=True)
            self.t2_limits_[i] = t2_limit(a, max(n_batches, 1), self.alpha, "II")
            self.spe_limits_[i] = spe_limit_from_moments(spe[:, lo:hi].ravel(), self.alpha)

    def _fit_maturity_means(self, scaled: np.ndarray, scores: np.ndarray) -> None:
        """Reference mean of the scaled rows at each time, over the rows and window that
        give ``score_mean_`` (so ``x_mean_ @ R`` equals ``score_mean_`` for complete rows)."""
        _b, j, k = scaled.shape
        w = int(self.window)
        self.x_mean_ = np.zeros((j, k))
        for i in range(j):
            lo, hi = max(0, i - w), min(j, i + w + 1)
            rows = scaled[:, lo:hi].reshape(-1, k)
            used = rows[~np.isnan(scores[:, lo:hi].reshape(-1, scores.shape[2])).any(axis=1)]
            if used.shape[0] >= 2:
                counts = (~np.isnan(used)).sum(axis=0)
                self.x_mean_[i] = np.where(
                    counts > 0, np.nansum(used, axis=0) / np.maximum(counts, 1), 0.0
                )

    def _maturity_centre(self, grid: np.ndarray) -> np.ndarray:
        """Scaled reference mean at each row's grid time. Models stored before ``x_mean_``
        existed fall back on the mean scores projected on the loadings."""
        x_mean = getattr(self, "x_mean_", None)
        if x_mean is None:
            return np.asarray(self.score_mean_[grid] @ self.pca_._xloadings.T)
        return np.asarray(x_mean[grid])

    def _scored_rows(self, data: Any) -> dict[str, Any]:
        """T2 and SPE of every row with data against the limits of its maturity, with the
        per-variable contributions."""
        ensure_fitted(self)
        cube = _prepare(self, data, fitting=False)
        b, j, k = cube.values.shape
        rows = cube.values.reshape(b * j, k)
        present = np.flatnonzero(~np.isnan(rows).all(axis=1))
        grid = _grid_index(np.tile(cube.times, b)[present], self.times_)
        pca = self.pca_
        Xs = pca._scale(rows[present])
        diagnosis = pca._diagnose_array(rows[present], pd.RangeIndex(present.size))
        centred = diagnosis.scores - self.score_mean_[grid]
        weights = np.einsum("nac,nc->na", self.score_cov_inv_[grid], centred)
        # Generalised T2 contributions (Westerhuis, Gurden & Smilde 2000, Chemom. Intell. Lab.
        # Syst. 51, 95-114) about the reference at the same maturity: with x the scaled row,
        # xbar_j the reference mean and S_j the score covariance at its time j,
        # c_k = (x_k - xbar_jk) * [R S_j^-1 (t - tbar_j)]_k, which sum to T2 = (t - tbar_j)'
        # S_j^-1 (t - tbar_j) when tbar_j = R' xbar_j (complete reference rows).
        x_dev = np.where(np.isnan(Xs), 0.0, Xs - self._maturity_centre(grid))
        return {
            "lots": np.asarray(cube.lots, dtype=object)[np.repeat(np.arange(b), j)[present]],
            "times": np.tile(cube.times, b)[present],
            "grid": grid,
            "diagnosis": diagnosis,
            "t2": np.einsum("na,na->n", centred, weights),
            "t2_contributions": x_dev * (weights @ pca._rotation.T),
        }

    def contributions(self, data: Any) -> pd.DataFrame:
        """Per-variable contributions to T2 and SPE of every row with data.

        T2 contributions are measured from the reference mean at the same maturity (not the
        overall mean) and sum to the row's T2; SPE contributions are the squared residuals
        of the scaled row and sum to its SPE.

        Parameters
        ----------
        data : long DataFrame or 3-D array
            Batches to diagnose, as for :meth:`monitor`.

        Returns
        -------
        DataFrame
            Two rows per lot and time with data: ``lot, t, statistic`` (``"t2"`` or
            ``"spe"``) and one column per variable (scaled units squared).
        """
        scored = self._scored_rows(data)
        frames = []
        for statistic, values in (
            ("t2", scored["t2_contributions"]),
            ("spe", scored["diagnosis"].spe_contributions),
        ):
            frame = pd.DataFrame(values, columns=list(self.variables_))
            frame.insert(0, "statistic", statistic)
            frame.insert(0, "t", scored["times"])
            frame.insert(0, "lot", scored["lots"])
            frames.append(frame)
        return pd.concat(frames, ignore_index=True).sort_values(
            ["lot", "t", "statistic"], kind="stable", ignore_index=True
        )

    def limits_frame(self) -> pd.DataFrame:
        """Limits and score trajectories along maturity, one row per grid time."""
        ensure_fitted(self)
        frame = pd.DataFrame(
            {
                "t": self.times_,
                "t2_limit": self.t2_limits_,
                "spe_limit": self.spe_limits_,
                "n_reference": self.n_reference_,
            }
        )
        for a in range(self.n_components_):
            frame[f"score_{a + 1}_mean"] = self.score_mean_[:, a]
            frame[f"score_{a + 1}_std"] = self.score_std_[:, a]
        return frame

    def monitor(self, data: Any) -> pd.DataFrame:
        """Score batches, complete or still running, against the limits along maturity.

        Parameters
        ----------
        data : long DataFrame or 3-D array
            Batches to monitor, with only the data so far for a running batch.

        Returns
        -------
        DataFrame
            One row per lot and time with data: ``lot, t, t2, t2_limit, spe, spe_limit,
            t2_alarm, spe_alarm, alarm, top_variables`` and the scores ``score_1..``.
        """
        scored = self._scored_rows(data)
        grid, diagnosis, t2 = scored["grid"], scored["diagnosis"], scored["t2"]
        scores = diagnosis.scores
        t2_lim, spe_lim = self.t2_limits_[grid], self.spe_limits_[grid]
        tops = top_contributors(
            t2 / t2_lim,
            diagnosis.spe / spe_lim,
            scored["t2_contributions"],
            diagnosis.spe_contributions,
            self.variables_,
            self.n_top,
        )
        frame = pd.DataFrame(
            {
                "lot": scored["lots"],
                "t": scored["times"],
                "t2": t2,
                "t2_limit": t2_lim,
                "spe": diagnosis.spe,
                "spe_limit": spe_lim,
            }
        )
        frame["t2_alarm"] = frame["t2"] > frame["t2_limit"]
        frame["spe_alarm"] = frame["spe"] > frame["spe_limit"]
        frame["alarm"] = frame["t2_alarm"] | frame["spe_alarm"]
        frame["top_variables"] = tops
        for a in range(self.n_components_):
            frame[f"score_{a + 1}"] = scores[:, a]
        return frame


class BatchLevelModel(BaseEstimator):
    """Batch-wise unfolded model: whole-batch comparison and end-of-batch quality prediction.

    Parameters
    ----------
    n_components : int or None, default=None
        Components (None: cross-validated choice).
    scale : {"autoscale", "pareto", "center", "none"}, default="autoscale"
        Scaling of every (time, variable) column; centring removes the mean trajectory.
    alpha : float, default=0.01
        False-alarm probability of the limits.
    impute : {"tsr", "zero", "current"}, default="tsr"
        How the unseen future of a running batch is filled in for ``predict`` and
        ``diagnose`` with ``up_to``: ``"tsr"`` treats it as missing and estimates the scores
        by trimmed score regression (the "missing data" approach of Nomikos & MacGregor 1995,
        in the form of Arteaga & Ferrer 2002); ``"zero"`` assumes future deviations from the
        mean trajectory are zero; ``"current"`` assumes each variable keeps its current
        deviation (both also from Nomikos & MacGregor 1995).
    columns : tuple of 4 str, default=("lot", "t", "variable", "value")
    aligner : MaturityAligner or DTWAligner, optional
    n_top : int, default=3
        Top contributing variables reported per batch.

    Attributes
    ----------
    model_ : PCAMonitor or PLSMonitor
        The model of the unfolded batches (PLS when ``y`` was given).
    times_, variables_ : maturity grid and process variables.
    targets_ : tuple of str or None
        Quality names when fitted with ``y``.
    spe_limits_up_to_ : ndarray of shape (n_times,)
        Limit of the SPE accumulated from the start to each time (scaled chi-square matched to
        the reference batches' accumulated SPE).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> shift = rng.normal(size=40)
    >>> time = np.linspace(0, 1, 20)
    >>> cube = np.stack([np.c_[time + s * time, np.exp(-time) + 0.1 * s]
    ...                  + 0.02 * rng.normal(size=(20, 2)) for s in shift])
    >>> quality = pd.Series(2 * shift + 0.05 * rng.normal(size=40))
    >>> model = BatchLevelModel(n_components=2).fit(cube, quality)
    >>> early = model.predict(cube[:3], up_to=10)
    >>> bool(np.allclose(early["y"], quality[:3], atol=0.3))
    True
    """

    def __init__(
        self,
        n_components: int | None = None,
        *,
        scale: str = "autoscale",
        alpha: float = 0.01,
        impute: str = "tsr",
        columns: tuple[str, str, str, str] = DEFAULT_COLUMNS,
        aligner: Any = None,
        n_top: int = 3,
    ) -> None:
        self.n_components = n_components
        self.scale = scale
        self.alpha = alpha
        self.impute = impute
        self.columns = columns
        self.aligner = aligner
        self.n_top = n_top

    def check_params(self) -> None:
        """Validate the parameters (``fit`` does this first); raise ValidationFailed."""
        owner = type(self).__name__
        check_scale(self.scale, owner)
        check_alpha(self.alpha, owner)
        check_choice(self.impute, "impute", owner, IMPUTATIONS)
        check_int(self.n_top, "n_top", owner, minimum=1)

    def fit(self, data: Any, y: Any = None) -> BatchLevelModel:
        """Fit on reference batches, with end-of-batch quality ``y`` (indexed by lot) or not.

        Parameters
        ----------
        data : long DataFrame or 3-D array
            Reference batches.
        y : Series or DataFrame indexed by lot, or array with one row per batch, optional
            End-of-batch quality. Lots without quality keep NaN (PLS handles missing Y).

        Returns
        -------
        self : BatchLevelModel
        """
        owner = type(self).__name__
        self.check_params()
        cube = _prepare(self, data, fitting=True)
        b, j, k = cube.values.shape
        if b < 3:
            raise ValidationFailed(f"{owner} needs at least 3 reference batches. Got {b}.")
        self.times_, self.variables_, self.lots_ = cube.times, cube.variables, cube.lots
        X = cube.values.reshape(b, j * k)
        names = [f"{v}@{t:g}" for t in cube.times for v in cube.variables]
        frame = pd.DataFrame(X, columns=names)
        if y is None:
            self.targets_ = None
            self.model_ = PCAMonitor(self.n_components, scale=self.scale, alpha=self.alpha)
            self.model_.fit(frame)
        else:
            Y, self.targets_ = self._quality_matrix(y, cube.lots)
            self.model_ = PLSMonitor(self.n_components, scale=self.scale, alpha=self.alpha)
            self.model_.fit(frame, Y)
        self.n_components_ = self.model_.n_components_
        model = self.model_
        diagnosis = model._diagnose_array(X, pd.RangeIndex(b))
        per_time = np.nan_to_num(diagnosis.spe_contributions).reshape(b, j, k).sum(axis=2)
        accumulated = np.cumsum(per_time, axis=1)
        self.spe_limits_up_to_ = np.array(
            [spe_limit_from_moments(accumulated[:, i], self.alpha) for i in range(j)]
        )
        self.spe_limits_at_ = np.array(
            [spe_limit_from_moments(per_time[:, i], self.alpha) for i in range(j)]
        )
        return self

    @staticmethod
    def _quality_matrix(y: Any, lots: tuple[Any, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
        if isinstance(y, pd.Series):
            y = y.to_frame(name=y.name if y.name is not None else "y")
        if isinstance(y, pd.DataFrame):
            missing = [lot for lot in lots if lot not in y.index]
            if len(missing) == len(lots):
                raise ValidationFailed(
                    "BatchLevelModel: y is indexed by lot, but none of the batches' lots "
                    f"{list(lots)[:5]} is in its index {list(y.index)[:5]}."
                )
            aligned = y.reindex(list(lots))
            return aligned.to_numpy(dtype=float), tuple(str(c) for c in y.columns)
        Y = np.asarray(y, dtype=float)
        Y = Y.reshape(-1, 1) if Y.ndim == 1 else Y
        if Y.shape[0] != len(lots):
            raise ValidationFailed(
                f"BatchLevelModel: y has {Y.shape[0]} rows but there are {len(lots)} batches. "
                "Give one row per batch or a Series/DataFrame indexed by lot."
            )
        names = ("y",) if Y.shape[1] == 1 else tuple(f"y{i}" for i in range(Y.shape[1]))
        return Y, names

    def _partial(self, data: Any, up_to: float | None) -> tuple[BatchCube, np.ndarray, np.ndarray]:
        """Scaled rows on the model grid with the unseen future set to NaN; last time index."""
        cube = _prepare(self, data, fitting=False)
        b = cube.values.shape[0]
        j, k = self.times_.size, len(self.variables_)
        values = np.full((b, j, k), np.nan)
        index = _grid_index(cube.times, self.times_)
        values[:, index, :] = cube.values
        if up_to is not None:
            values[:, self.times_ > float(up_to) + 1e-12, :] = np.nan
        has_data = ~np.isnan(values).all(axis=2)
        last = np.where(has_data.any(axis=1), j - 1 - np.argmax(has_data[:, ::-1], axis=1), -1)
        Xs = self.model_._scale(values.reshape(b, j * k))
        return cube, Xs, last

    def _scores(self, Xs: np.ndarray, last: np.ndarray) -> np.ndarray:
        model = self.model_
        if self.impute == "tsr":
            return model._scores_of_scaled(Xs)
        b = Xs.shape[0]
        j, k = self.times_.size, len(self.variables_)
        filled = Xs.reshape(b, j, k).copy()
        if self.impute == "current":
            by_time = pd.DataFrame(filled.transpose(1, 0, 2).reshape(j, b * k)).ffill()
            filled = by_time.to_numpy().reshape(j, b, k).transpose(1, 0, 2)
        return np.nan_to_num(filled.reshape(b, j * k), nan=0.0) @ model._rotation

    def diagnose(self, data: Any, up_to: float | None = None) -> pd.DataFrame:
        """T2 and SPE of whole (or, with ``up_to``, partial) batches, one row per lot.

        ``spe`` is accumulated over the observed cells up to the last time with data and is
        compared with the limit for that time (``spe_limits_up_to_``).
        """
        ensure_fitted(self)
        cube, Xs, last = self._partial(data, up_to)
        model = self.model_
        scores = self._scores(Xs, last)
        inv_var = model._inv_score_variances
        t2 = np.einsum("ia,a,ia->i", scores, inv_var, scores)
        observed = ~np.isnan(Xs)
        resid = np.where(observed, Xs - scores @ model._xloadings.T, 0.0)
        spe = np.einsum("ij,ij->i", resid, resid)
        b, j, k = Xs.shape[0], self.times_.size, len(self.variables_)
        spe_limit = np.where(last >= 0, self.spe_limits_up_to_[np.maximum(last, 0)], np.nan)
        t2c = np.where(observed, Xs, 0.0) * ((scores * inv_var) @ model._rotation.T)
        per_var_t2 = t2c.reshape(b, j, k).sum(axis=1)
        per_var_spe = (resid**2).reshape(b, j, k).sum(axis=1)
        tops = top_contributors(
            t2 / model.t2_limit_,
            spe / spe_limit,
            per_var_t2,
            per_var_spe,
            self.variables_,
            self.n_top,
        )
        frame = pd.DataFrame(
            {
                "lot": list(cube.lots),
                "t": np.where(last >= 0, self.times_[np.maximum(last, 0)], np.nan),
                "t2": t2,
                "t2_limit": model.t2_limit_,
                "spe": spe,
                "spe_limit": spe_limit,
            }
        )
        frame["t2_alarm"] = frame["t2"] > frame["t2_limit"]
        frame["spe_alarm"] = frame["spe"] > frame["spe_limit"]
        frame["alarm"] = frame["t2_alarm"] | frame["spe_alarm"]
        frame["top_variables"] = tops
        for a in range(self.n_components_):
            frame[f"score_{a + 1}"] = scores[:, a]
        return frame

    def predict(self, data: Any, up_to: float | None = None) -> pd.DataFrame:
        """End-of-batch quality predicted from the data up to ``up_to`` (all data if None).

        Returns
        -------
        DataFrame indexed by lot, one column per quality variable.
        """
        ensure_fitted(self)
        if self.targets_ is None:
            raise ValidationFailed(
                "BatchLevelModel.predict needs a model fitted with end-of-batch quality: call "
                "fit(data, y) with y indexed by lot."
            )
        cube, Xs, last = self._partial(data, up_to)
        model = self.model_
        scores = self._scores(Xs, last)
        Y = (scores @ model.y_loadings_.T) * model.y_scale_ + model.y_mean_
        return pd.DataFrame(
            Y, index=pd.Index(list(cube.lots), name="lot"), columns=list(self.targets_)
        )
