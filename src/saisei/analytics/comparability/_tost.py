"""Tier 1 equivalence of means: two one-sided tests (TOST) and the margin they use.

Schuirmann (1987), "A comparison of the two one-sided tests procedure and the power approach
for assessing the equivalence of average bioavailability", J. Pharmacokinet. Biopharm. 15(6),
657-680: the difference is declared equivalent at level alpha when both one-sided nulls
``diff <= -margin`` and ``diff >= +margin`` are rejected, which is the same as the
(1 - 2 alpha) confidence interval of the difference lying inside (-margin, +margin).
The margin convention (1.5 sigma_R) follows the tiered approach to analytical similarity
(FDA statistical review of biosimilars, Tsong et al. 2017, J. Biopharm. Stat. 27(2), 197-205).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from saisei.analytics.comparability._validation import (
    FloatArray,
    as_values,
    check_positive,
    check_probability,
)
from saisei.errors import ValidationFailed

__all__ = ["TostResult", "equivalence_margin", "paired_tost", "tost"]


@dataclass(frozen=True)
class TostResult:
    """Result of a two one-sided tests (TOST) equivalence test of means.

    The difference is always ``mean(test) - mean(reference)`` (post-change minus pre-change),
    in the unit of the attribute.

    Attributes
    ----------
    difference : float
        Estimated mean difference test - reference.
    ci_low, ci_high : float
        Bounds of the (1 - 2 alpha) two-sided confidence interval of the difference (the 90 %
        interval when alpha = 0.05).
    margin : float
        Equivalence margin; the acceptance region is (-margin, +margin).
    pvalue : float
        TOST p-value, the larger of the two one-sided p-values.
    dof : float
        Degrees of freedom of the t reference distribution (Welch-Satterthwaite, pooled
        n_R + n_T - 2, or n_pairs - 1).
    equivalent : bool
        True when the confidence interval lies strictly inside (-margin, +margin).
    method : str
        ``"Welch TOST"``, ``"pooled TOST"`` or ``"paired TOST"``.
    alpha : float
        Level of each one-sided test.
    std_error : float
        Standard error of the difference.
    pvalue_lower, pvalue_upper : float
        One-sided p-values against ``diff <= -margin`` and ``diff >= +margin``.
    n_reference, n_test : int
        Lots used (pairs, for the paired test: both equal the number of pairs).
    mean_reference, mean_test : float
        Group means.
    """

    difference: float
    ci_low: float
    ci_high: float
    margin: float
    pvalue: float
    dof: float
    equivalent: bool
    method: str
    alpha: float
    std_error: float
    pvalue_lower: float
    pvalue_upper: float
    n_reference: int
    n_test: int
    mean_reference: float
    mean_test: float

    def to_frame(self) -> pd.DataFrame:
        """Return the result as a one-row DataFrame, one column per attribute."""
        return pd.DataFrame([asdict(self)])

    def summary(self) -> str:
        """Return a short human-readable account of the test."""
        verdict = "equivalent" if self.equivalent else "NOT shown equivalent"
        level = 100.0 * (1.0 - 2.0 * self.alpha)
        return (
            f"{self.method} (n_reference={self.n_reference}, n_test={self.n_test}): "
            f"difference test - reference = {self.difference:.4g}, "
            f"{level:.4g} % CI [{self.ci_low:.4g}, {self.ci_high:.4g}] "
            f"against margin +/-{self.margin:.4g}; p = {self.pvalue:.3g} "
            f"(dof {self.dof:.4g}): {verdict}."
        )


def equivalence_margin(reference: object, k: float = 1.5) -> float:
    """Return the tier 1 equivalence margin ``k * SD(reference)``.

    Parameters
    ----------
    reference : array-like of shape (n_reference,)
        Attribute values of the reference (pre-change) lots, n_reference >= 2.
    k : float, default 1.5
        Multiplier of the reference standard deviation (1.5 sigma_R is the usual tier 1
        convention; Tsong et al. 2017).

    Returns
    -------
    float
        The margin, in the unit of the attribute. Uses the sample SD (ddof = 1).

    Examples
    --------
    >>> equivalence_margin([9.0, 10.0, 11.0])
    1.5
    """
    owner = "equivalence_margin"
    values = as_values(reference, "reference", owner)
    factor = check_positive(k, "k", owner)
    return factor * float(np.std(values, ddof=1))


def tost(
    reference: object,
    test: object,
    *,
    margin: float,
    alpha: float = 0.05,
    equal_var: bool = False,
) -> TostResult:
    """Two one-sided t-tests for equivalence of the means of two independent groups of lots.

    Parameters
    ----------
    reference : array-like of shape (n_reference,)
        Attribute values of the pre-change lots, n_reference >= 2.
    test : array-like of shape (n_test,)
        Attribute values of the post-change lots, n_test >= 2, same unit.
    margin : float
        Equivalence margin (> 0, unit of the attribute); see :func:`equivalence_margin`.
    alpha : float, default 0.05
        Level of each one-sided test; the interval reported is the (1 - 2 alpha) CI.
    equal_var : bool, default False
        False: Welch standard error and Welch-Satterthwaite degrees of freedom.
        True: pooled variance with n_reference + n_test - 2 degrees of freedom.

    Returns
    -------
    TostResult

    Raises
    ------
    ValidationFailed
        Non-finite values, fewer than 2 lots in a group, margin <= 0, alpha outside
        (0, 0.5), or no variation at all in either group.

    Examples
    --------
    >>> result = tost([10.1, 9.8, 10.3, 10.0], [10.2, 9.9, 10.4, 10.1], margin=1.0)
    >>> result.equivalent
    True
    """
    owner = "tost"
    ref = as_values(reference, "reference", owner)
    new = as_values(test, "test", owner)
    margin = check_positive(margin, "margin", owner)
    alpha = check_probability(alpha, "alpha", owner, upper=0.5)
    n_r, n_t = ref.size, new.size
    var_r, var_t = float(np.var(ref, ddof=1)), float(np.var(new, ddof=1))
    if var_r == 0.0 and var_t == 0.0:
        raise ValidationFailed(
            "The 'reference' and 'test' parameters of tost must not both be constant: with no "
            "variation at all the standard error of the difference is 0. Got constant values "
            "in both groups; check the data or the number of decimals recorded."
        )
    if equal_var:
        dof = float(n_r + n_t - 2)
        pooled = ((n_r - 1) * var_r + (n_t - 1) * var_t) / dof
        std_error = math.sqrt(pooled * (1.0 / n_r + 1.0 / n_t))
        method = "pooled TOST"
    else:
        # Welch (1947) standard error and Satterthwaite (1946) degrees of freedom.
        v_r, v_t = var_r / n_r, var_t / n_t
        std_error = math.sqrt(v_r + v_t)
        dof = (v_r + v_t) ** 2 / (v_r**2 / (n_r - 1) + v_t**2 / (n_t - 1))
        method = "Welch TOST"
    mean_r, mean_t = float(np.mean(ref)), float(np.mean(new))
    return _tost_from_estimate(
        mean_t - mean_r, std_error, dof, margin, alpha, method, (n_r, n_t), (mean_r, mean_t)
    )


def paired_tost(
    reference: object,
    test: object,
    *,
    margin: float,
    alpha: float = 0.05,
) -> TostResult:
    """TOST on paired lots: split-source designs where one starting material feeds both processes.

    For autologous products the same apheresis or tissue is split between the current and the
    changed process, so donor-to-donor variation cancels in the within-pair differences
    ``test[i] - reference[i]`` (FDA 2023 draft guidance on manufacturing changes for CGT
    products). The test is a one-sample TOST of those differences with n_pairs - 1 dof.

    Parameters
    ----------
    reference : array-like of shape (n_pairs,)
        Values from the pre-change process, one per split starting material.
    test : array-like of shape (n_pairs,)
        Values from the post-change process, in the same order as ``reference``.
    margin : float
        Equivalence margin (> 0, unit of the attribute).
    alpha : float, default 0.05
        Level of each one-sided test.

    Returns
    -------
    TostResult
        ``n_reference`` and ``n_test`` both hold the number of pairs.

    Examples
    --------
    >>> paired_tost([70.0, 82.0, 90.0], [70.5, 82.2, 90.1], margin=2.0).equivalent
    True
    """
    owner = "paired_tost"
    ref = as_values(reference, "reference", owner)
    new = as_values(test, "test", owner)
    if ref.size != new.size:
        raise ValidationFailed(
            "The 'reference' and 'test' parameters of paired_tost must have the same length "
            f"(one value per split starting material). Got {ref.size} and {new.size} instead."
        )
    margin = check_positive(margin, "margin", owner)
    alpha = check_probability(alpha, "alpha", owner, upper=0.5)
    diffs: FloatArray = new - ref
    sd = float(np.std(diffs, ddof=1))
    if sd == 0.0:
        raise ValidationFailed(
            "The paired differences 'test - reference' given to paired_tost must vary: with "
            "identical differences the standard error is 0. Got the same difference for "
            "every pair; check the data."
        )
    n = diffs.size
    return _tost_from_estimate(
        float(np.mean(diffs)),
        sd / math.sqrt(n),
        float(n - 1),
        margin,
        alpha,
        "paired TOST",
        (n, n),
        (float(np.mean(ref)), float(np.mean(new))),
    )


def _tost_from_estimate(
    difference: float,
    std_error: float,
    dof: float,
    margin: float,
    alpha: float,
    method: str,
    sizes: tuple[int, int],
    means: tuple[float, float],
) -> TostResult:
    """Assemble the TOST result from an estimate, its standard error and dof (Schuirmann 1987)."""
    t_crit = float(stats.t.ppf(1.0 - alpha, dof))
    ci_low = difference - t_crit * std_error
    ci_high = difference + t_crit * std_error
    # H0a: diff <= -margin (rejected for large t), H0b: diff >= +margin (rejected for small t).
    p_lower = float(stats.t.sf((difference + margin) / std_error, dof))
    p_upper = float(stats.t.cdf((difference - margin) / std_error, dof))
    return TostResult(
        difference=difference,
        ci_low=ci_low,
        ci_high=ci_high,
        margin=margin,
        pvalue=max(p_lower, p_upper),
        dof=dof,
        equivalent=bool(-margin < ci_low and ci_high < margin),
        method=method,
        alpha=alpha,
        std_error=std_error,
        pvalue_lower=p_lower,
        pvalue_upper=p_upper,
        n_reference=sizes[0],
        n_test=sizes[1],
        mean_reference=means[0],
        mean_test=means[1],
    )
