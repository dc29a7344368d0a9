"""Result objects of the monitoring estimators: frozen, typed, with ``to_frame`` and ``summary``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class MonitorDiagnosis:
    """Per-row monitoring statistics of a fitted PCA or PLS monitor.

    All statistics are computed on the scaled data (``(x - mean_) / scale_``). Scores, T2,
    SPE, DModX and the alarms are computed when the diagnosis is made; the per-variable
    matrices (``t2_contributions``, ``residuals``, ``spe_contributions``) are computed from the
    input rows the first time one of them is read, so that scoring many rows does not pay for
    two ``n_rows x n_features`` matrices that are rarely all needed. Do not modify the input
    array between ``diagnose`` and reading them.

    Attributes
    ----------
    scores : ndarray of shape (n_rows, n_components)
        Latent-variable scores ``t``.
    t2 : ndarray of shape (n_rows,)
        Hotelling's T2, ``sum_a t_a^2 / lambda_a`` with ``lambda_a`` the training variance of
        score ``a``.
    spe : ndarray of shape (n_rows,)
        Squared prediction error (Q), the sum of squared residuals over the observed variables.
    dmodx : ndarray of shape (n_rows,)
        Normalised distance to the model, SIMCA's DModX for a new observation:
        ``sqrt(spe / (k_obs - A)) / s0``.
    t2_limit, spe_limit, dmodx_limit : float
        Control limits at the monitor's ``alpha``.
    n_observed : ndarray of int of shape (n_rows,)
        Number of observed (non-missing) variables in the row.
    feature_names : tuple of str
        Variable names, in column order.
    index : pandas.Index
        Row labels (those of the input DataFrame, else 0..n-1).
    """

    scores: np.ndarray
    t2: np.ndarray
    spe: np.ndarray
    dmodx: np.ndarray
    t2_limit: float
    spe_limit: float
    dmodx_limit: float
    n_observed: np.ndarray
    feature_names: tuple[str, ...]
    index: pd.Index
    _source: Callable[[], tuple[np.ndarray, np.ndarray]] = field(repr=False, compare=False)

    @cached_property
    def _matrices(self) -> tuple[np.ndarray, np.ndarray]:
        return self._source()

    @property
    def t2_contributions(self) -> np.ndarray:
        """``x_j * (R diag(1/lambda) t)_j``, shape (n_rows, n_features).

        They sum to ``t2`` for a complete row (Westerhuis, Gurden & Smilde 2000, "Generalized
        contribution plots in multivariate statistical process monitoring", Chemom. Intell.
        Lab. Syst. 51, 95-114). Missing cells contribute 0.
        """
        return self._matrices[0]

    @property
    def residuals(self) -> np.ndarray:
        """Signed scaled residuals, shape (n_rows, n_features), NaN where a value was missing.

        The sign tells whether a variable is above or below what the model expects; their
        squares are the SPE contributions.
        """
        return self._matrices[1]

    @property
    def spe_contributions(self) -> np.ndarray:
        """Squared residual of each variable (0 where missing); each row sums to ``spe``."""
        return np.nan_to_num(self.residuals**2, nan=0.0)

    @property
    def t2_alarm(self) -> np.ndarray:
        """Rows whose T2 exceeds its limit."""
        return self.t2 > self.t2_limit

    @property
    def spe_alarm(self) -> np.ndarray:
        """Rows whose SPE exceeds its limit."""
        return self.spe > self.spe_limit

    @property
    def alarm(self) -> np.ndarray:
        """Rows where T2 or SPE exceeds its limit."""
        return self.t2_alarm | self.spe_alarm

    def top_contributors(self, n: int = 3) -> list[tuple[str, ...]]:
        """Names of the ``n`` variables that contribute most, per row.

        The ranking uses the statistic that is furthest above its limit relative to the limit
        (SPE contributions when ``spe / spe_limit >= t2 / t2_limit``, else the absolute T2
        contributions).
        """
        return top_contributors(
            self.t2 / self.t2_limit,
            self.spe / self.spe_limit,
            self.t2_contributions,
            self.spe_contributions,
            self.feature_names,
            n,
        )

    def to_frame(self, n_top: int = 3) -> pd.DataFrame:
        """One row per input row: scores, statistics, limits, alarms and top contributors."""
        frame = pd.DataFrame(
            self.scores,
            index=self.index,
            columns=[f"score_{a + 1}" for a in range(self.scores.shape[1])],
        )
        frame["t2"] = self.t2
        frame["t2_limit"] = self.t2_limit
        frame["spe"] = self.spe
        frame["spe_limit"] = self.spe_limit
        frame["dmodx"] = self.dmodx
        frame["dmodx_limit"] = self.dmodx_limit
        frame["t2_alarm"] = self.t2_alarm
        frame["spe_alarm"] = self.spe_alarm
        frame["alarm"] = self.alarm
        frame["n_observed"] = self.n_observed
        frame["top_variables"] = self.top_contributors(n_top)
        return frame

    def summary(self) -> str:
        """A short text account: rows, alarms of each kind, the rows most out of limits."""
        n = self.t2.shape[0]
        lines = [
            f"{n} rows: {int(self.alarm.sum())} in alarm "
            f"(T2 {int(self.t2_alarm.sum())}, SPE {int(self.spe_alarm.sum())}); "
            f"limits T2 {self.t2_limit:.4g}, SPE {self.spe_limit:.4g}.",
        ]
        if self.alarm.any():
            severity = np.fmax(self.t2 / self.t2_limit, self.spe / self.spe_limit)
            worst = np.argsort(-np.nan_to_num(severity, nan=-np.inf))[: min(5, n)]
            tops = self.top_contributors(3)
            for i in worst:
                if not self.alarm[i]:
                    break
                lines.append(
                    f"  row {self.index[i]}: T2 {self.t2[i]:.4g}, SPE {self.spe[i]:.4g}; "
                    f"top variables {', '.join(tops[i])}"
                )
        return "\n".join(lines)


def top_contributors(
    t2_ratio: np.ndarray,
    spe_ratio: np.ndarray,
    t2_contributions: np.ndarray,
    spe_contributions: np.ndarray,
    feature_names: tuple[str, ...],
    n: int,
) -> list[tuple[str, ...]]:
    """Per row, the names of the ``n`` largest contributions to the dominant statistic."""
    n = min(n, len(feature_names))
    use_spe = (np.nan_to_num(spe_ratio, nan=-1.0) >= np.nan_to_num(t2_ratio, nan=-1.0))[:, None]
    weight = np.where(use_spe, spe_contributions, np.abs(t2_contributions))
    weight = np.nan_to_num(weight, nan=-np.inf)
    if n == 0 or weight.shape[0] == 0:
        return [() for _ in range(weight.shape[0])]
    part = np.argpartition(-weight, n - 1, axis=1)[:, :n]
    order = np.take_along_axis(part, np.argsort(-np.take_along_axis(weight, part, 1), 1), 1)
    names = np.asarray(feature_names, dtype=object)
    return [tuple(row) for row in names[order]]
