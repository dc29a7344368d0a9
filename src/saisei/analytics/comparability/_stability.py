"""Optional stability comparison: degradation slopes of pre- and post-change lots by ANCOVA.

The model is the analysis of covariance of ICH Q1E (Evaluation of Stability Data, 2003,
appendix B) with the process as the factor:

    value = intercept(group or lot) + slope_reference * time + delta * time * [test lot] + error

``delta`` is the difference of slopes test - reference; its t-test is the test of the
time-by-process interaction. With ``lot`` labels each lot gets its own intercept (lots start at
different levels) while the slope is common within a process.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from saisei.analytics.comparability._validation import FloatArray, as_values, check_probability
from saisei.errors import ValidationFailed

__all__ = ["StabilityComparison", "compare_stability"]


@dataclass(frozen=True)
class StabilityComparison:
    """Comparison of degradation slopes between processes (ANCOVA).

    Attributes
    ----------
    slope_reference, slope_test : float
        Fitted slopes (unit of the attribute per unit of time).
    slope_difference : float
        ``slope_test - slope_reference``.
    std_error : float
        Standard error of the slope difference.
    dof : int
        Residual degrees of freedom.
    ci_low, ci_high : float
        (1 - alpha) confidence interval of the slope difference.
    pvalue : float
        Two-sided p-value of the time-by-process interaction (equal slopes).
    alpha : float
        Level of the test.
    slopes_differ : bool
        ``pvalue < alpha``.
    n_reference, n_test : int
        Observations per process.
    method : str
        ``"ANCOVA, process intercepts"`` or ``"ANCOVA, lot intercepts"``.
    """

    slope_reference: float
    slope_test: float
    slope_difference: float
    std_error: float
    dof: int
    ci_low: float
    ci_high: float
    pvalue: float
    alpha: float
    slopes_differ: bool
    n_reference: int
    n_test: int
    method: str

    def to_frame(self) -> pd.DataFrame:
        """Return the comparison as a one-row DataFrame."""
        return pd.DataFrame([asdict(self)])

    def summary(self) -> str:
        """Return a short human-readable account of the comparison."""
        verdict = "slopes differ" if self.slopes_differ else "no evidence that slopes differ"
        level = 100.0 * (1.0 - self.alpha)
        return (
            f"{self.method}: slope reference {self.slope_reference:.4g}, test "
            f"{self.slope_test:.4g}, difference {self.slope_difference:.4g} ({level:.4g} % CI "
            f"[{self.ci_low:.4g}, {self.ci_high:.4g}]), p = {self.pvalue:.3g}: {verdict}."
        )


def compare_stability(
    time_reference: object,
    value_reference: object,
    time_test: object,
    value_test: object,
    *,
    lot_reference: object = None,
    lot_test: object = None,
    alpha: float = 0.05,
) -> StabilityComparison:
    """Compare degradation slopes of pre- and post-change lots by ANCOVA (ICH Q1E).

    Parameters
    ----------
    time_reference, value_reference : array-like of shape (n_reference,)
        Time points (e.g. months) and attribute values of the pre-change stability samples.
    time_test, value_test : array-like of shape (n_test,)
        The same for the post-change samples.
    lot_reference, lot_test : array-like of shape (n_reference,) / (n_test,), optional
        Lot label of each sample; give both to fit one intercept per lot.
    alpha : float, default 0.05
        Level of the equal-slopes test (ICH Q1E uses 0.25 for poolability of batches; for a
        process comparison the plan states its own level).

    Returns
    -------
    StabilityComparison
    """
    owner = "compare_stability"
    t_r = as_values(time_reference, "time_reference", owner)
    y_r = as_values(value_reference, "value_reference", owner)
    t_t = as_values(time_test, "time_test", owner)
    y_t = as_values(value_test, "value_test", owner)
    alpha = check_probability(alpha, "alpha", owner)
    for t, y, which in ((t_r, y_r, "reference"), (t_t, y_t, "test")):
        if t.size != y.size:
            raise ValidationFailed(
                f"The 'time_{which}' and 'value_{which}' parameters of {owner} must have the "
                f"same length. Got {t.size} and {y.size} instead."
            )
    intercepts, method = _intercept_columns(lot_reference, lot_test, t_r.size, t_t.size, owner)
    time = np.concatenate([t_r, t_t])
    is_test = np.concatenate([np.zeros(t_r.size), np.ones(t_t.size)])
    design = np.column_stack([intercepts, time, time * is_test])
    values = np.concatenate([y_r, y_t])
    n, k = design.shape
    if np.linalg.matrix_rank(design) < k or n <= k:
        raise ValidationFailed(
            f"The stability data given to {owner} cannot separate the slopes: every group "
            "(or lot) needs at least two distinct time points and there must be more samples "
            f"than model terms. Got {n} samples for {k} terms."
        )
    coef, _, _, _ = np.linalg.lstsq(design, values, rcond=None)
    residual = values - design @ coef
    dof = n - k
    sigma2 = float(residual @ residual) / dof
    cov = sigma2 * np.linalg.inv(design.T @ design)
    delta, se = float(coef[-1]), math.sqrt(float(cov[-1, -1]))
    t_crit = float(stats.t.ppf(1.0 - alpha / 2.0, dof))
    pvalue = float(2.0 * stats.t.sf(abs(delta) / se, dof))
    return StabilityComparison(
        slope_reference=float(coef[-2]),
        slope_test=float(coef[-2] + coef[-1]),
        slope_difference=delta,
        std_error=se,
        dof=dof,
        ci_low=delta - t_crit * se,
        ci_high=delta + t_crit * se,
        pvalue=pvalue,
        alpha=alpha,
        slopes_differ=bool(pvalue < alpha),
        n_reference=t_r.size,
        n_test=t_t.size,
        method=method,
    )


def _intercept_columns(
    lot_reference: object, lot_test: object, n_r: int, n_t: int, owner: str
) -> tuple[FloatArray, str]:
    """Indicator columns: one intercept per process, or one per lot when lots are given."""
    if lot_reference is None and lot_test is None:
        group = np.concatenate([np.zeros(n_r), np.ones(n_t)])
        return np.column_stack([1.0 - group, group]), "ANCOVA, process intercepts"
    if lot_reference is None or lot_test is None:
        raise ValidationFailed(
            f"The 'lot_reference' and 'lot_test' parameters of {owner} must be given together "
            "or not at all. Got only one of them."
        )
    labels_r = [f"reference:{v}" for v in np.asarray(lot_reference, dtype=object).ravel()]
    labels_t = [f"test:{v}" for v in np.asarray(lot_test, dtype=object).ravel()]
    if len(labels_r) != n_r or len(labels_t) != n_t:
        raise ValidationFailed(
            f"The lot labels given to {owner} must have one entry per sample. Got "
            f"{len(labels_r)} reference and {len(labels_t)} test labels for {n_r} and {n_t} "
            "samples."
        )
    labels = labels_r + labels_t
    levels = sorted(set(labels), key=labels.index)
    columns = np.array([[label == level for level in levels] for label in labels], dtype=float)
    return columns, "ANCOVA, lot intercepts"
