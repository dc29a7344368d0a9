"""TOST, paired TOST and the equivalence margin against R output and independent scipy code."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.weightstats import ttost_ind, ttost_paired

from saisei.analytics.comparability import TostResult, equivalence_margin, paired_tost, tost
from saisei.errors import ValidationFailed

# pingouin's test suite (pingouin/tests/test_equivalence.py) quotes R equivalence::tost on:
A = [4, 7, 8, 6, 3, 2]
B = [6, 8, 7, 10, 11, 9]


def _groups(clinic: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """R's x = clinic[1:15] is the test arm, y = clinic[16:30] the reference arm (diff = x - y)."""
    values = clinic[column].to_numpy(float)
    return values[15:], values[:15]


# R: t <- equivalence::tost(x, y, epsilon = 0.6), values as recorded in statsmodels'
# statsmodels/stats/tests/test_tost.py (tost_clinic_indep, tost_clinic_indep_1, and the
# var.equal = TRUE variants tost_clinic_indep_1_pooled, tost_clinic_indep_2_pooled).
R_CLINIC = [
    # column, equal_var, difference, ci_low, ci_high, dof, pvalue, equivalent
    ("var2", False, 0.562666666666666, 0.194916250699966, 0.930417082633366,
     24.11000151062728, 0.4317936812594803, False),
    ("var1", False, 0.1646666666666667, -0.2666862980722534, 0.596019631405587,
     26.7484787582315, 0.04853083976236974, True),
    ("var1", True, 0.1646666666666667, -0.2659960620757337, 0.595329395409067,
     28.0, 0.04827315100761467, True),
    ("var2", True, 0.562666666666666, 0.1969453064978777, 0.928388026835454,
     28.0, 0.43169347692374, False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("column", "equal_var", "diff", "low", "high", "dof", "pvalue", "equivalent"), R_CLINIC
)
def test_tost_reproduces_r_equivalence_on_clinic_data(
    clinic, column, equal_var, diff, low, high, dof, pvalue, equivalent
):
    reference, test = _groups(clinic, column)
    result = tost(reference, test, margin=0.6, equal_var=equal_var)
    # Source: R equivalence::tost output quoted in statsmodels/stats/tests/test_tost.py.
    assert result.difference == pytest.approx(diff, rel=1e-12)
    assert result.ci_low == pytest.approx(low, rel=1e-10)
    assert result.ci_high == pytest.approx(high, rel=1e-10)
    assert result.dof == pytest.approx(dof, rel=1e-10)
    assert result.pvalue == pytest.approx(pvalue, rel=1e-9)
    assert result.equivalent is equivalent
    assert result.method == ("pooled TOST" if equal_var else "Welch TOST")


def test_tost_on_log_scale_reproduces_r(clinic):
    reference, test = _groups(clinic, "var1")
    result = tost(np.log(reference), np.log(test), margin=math.log(1.25))
    # R: tost(log(clinic$var1[1:15]), log(clinic$var1[16:30]), eps = log(1.25), paired = FALSE)
    # (statsmodels test_tost.py, tost_clinic_1_indep)
    assert result.difference == pytest.approx(0.04312233182252334, rel=1e-10)
    assert result.std_error == pytest.approx(0.073508371131806, rel=1e-10)
    assert (result.ci_low, result.ci_high) == pytest.approx(
        (-0.0819851930203655, 0.1682298566654122), rel=1e-9
    )
    assert result.dof == pytest.approx(27.61177037646526, rel=1e-10)
    assert result.pvalue == pytest.approx(0.01047085593138891, rel=1e-9)
    assert result.equivalent


@pytest.mark.parametrize(
    ("column", "std_error", "low", "high", "pvalue", "equivalent"),
    [
        # R: tost(-clinic$var2[16:30] + clinic$var2[1:15], eps = 0.6)  (tost_clinic_paired)
        ("var2", 0.2478276410785118, 0.1261653305099018, 0.999168002823431,
         0.4412034046017588, False),
        # R: tost(-clinic$var1[16:30] + clinic$var1[1:15], eps = 0.6)  (tost_clinic_paired_1)
        ("var1", 0.1357514067862445, -0.0744336620516462, 0.4037669953849797,
         0.003166881489265175, True),
    ],
)  # fmt: skip
def test_paired_tost_reproduces_r(clinic, column, std_error, low, high, pvalue, equivalent):
    reference, test = _groups(clinic, column)
    result = paired_tost(reference, test, margin=0.6)
    # Source: R equivalence::tost, statsmodels/stats/tests/test_tost.py
    assert result.std_error == pytest.approx(std_error, rel=1e-10)
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high), rel=1e-9)
    assert result.dof == 14.0
    assert result.pvalue == pytest.approx(pvalue, rel=1e-9)
    assert result.equivalent is equivalent
    assert result.method == "paired TOST"
    assert result.n_reference == result.n_test == 15


@pytest.mark.parametrize(
    ("margin", "equal_var", "expected"),
    [
        (1.0, True, 0.9650974),  # R: tost(a, b, epsilon = 1, var.equal = TRUE)
        (1.0, False, 0.9643479),  # R: tost(a, b)  (Welch is the R default)
        (10.0, True, 0.00017933),  # R: tost(a, b, epsilon = 10, var.equal = TRUE)
    ],
)
def test_tost_pvalues_quoted_by_pingouin(margin, equal_var, expected):
    # Source: pingouin/tests/test_equivalence.py, "Compare with R" (package equivalence),
    # quoted to 7 decimals (0.00017933 truncated): compared as pingouin does (np.isclose).
    assert tost(A, B, margin=margin, equal_var=equal_var).pvalue == pytest.approx(
        expected, rel=1e-5, abs=1e-8
    )


@pytest.mark.parametrize(("margin", "expected"), [(1.0, 0.9293826), (2.0, 0.8286101)])
def test_paired_tost_pvalues_quoted_by_pingouin(margin, expected):
    # Source: pingouin/tests/test_equivalence.py: R tost(a, b, epsilon, paired = TRUE)
    assert paired_tost(A, B, margin=margin).pvalue == pytest.approx(expected, rel=1e-6)


def _welch_by_hand(reference: np.ndarray, test: np.ndarray, margin: float, alpha: float):
    """Independent Welch TOST written from the textbook formulas with scipy quantiles."""
    n1, n2 = len(reference), len(test)
    v1, v2 = np.var(reference, ddof=1) / n1, np.var(test, ddof=1) / n2
    se = math.sqrt(v1 + v2)
    dof = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
    diff = np.mean(test) - np.mean(reference)
    q = stats.t.ppf(1 - alpha, dof)
    p = max(stats.t.sf((diff + margin) / se, dof), stats.t.cdf((diff - margin) / se, dof))
    return diff, diff - q * se, diff + q * se, dof, p


samples = st.lists(
    st.floats(min_value=-100, max_value=100, allow_nan=False), min_size=3, max_size=12
).filter(lambda xs: np.ptp(xs) > 1e-3)


@settings(max_examples=60, deadline=None)
@given(
    reference=samples,
    test=samples,
    margin=st.floats(min_value=0.1, max_value=50),
    alpha=st.sampled_from([0.01, 0.05, 0.1]),
)
def test_welch_tost_matches_independent_scipy_and_statsmodels(reference, test, margin, alpha):
    result = tost(reference, test, margin=margin, alpha=alpha)
    diff, low, high, dof, p = _welch_by_hand(np.array(reference), np.array(test), margin, alpha)
    assert result.difference == pytest.approx(diff, rel=1e-9, abs=1e-9)
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high), rel=1e-9, abs=1e-9)
    assert result.dof == pytest.approx(dof, rel=1e-9)
    assert result.pvalue == pytest.approx(p, rel=1e-9, abs=1e-12)
    # statsmodels' ttost_ind tests x1 - x2 against (low, upp): x1 = test, x2 = reference.
    sm_p, _, _ = ttost_ind(np.array(test), np.array(reference), -margin, margin, usevar="unequal")
    assert result.pvalue == pytest.approx(sm_p, rel=1e-8, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(pairs=st.lists(st.tuples(st.floats(-50, 50), st.floats(-50, 50)), min_size=3, max_size=10),
       margin=st.floats(min_value=0.1, max_value=30))  # fmt: skip
def test_paired_tost_matches_statsmodels(pairs, margin):
    reference = np.array([p[0] for p in pairs])
    test = np.array([p[1] for p in pairs])
    if np.ptp(test - reference) < 1e-3:
        return
    sm_p, _, _ = ttost_paired(test, reference, -margin, margin)
    assert paired_tost(reference, test, margin=margin).pvalue == pytest.approx(
        sm_p, rel=1e-8, abs=1e-12
    )


@settings(max_examples=40, deadline=None)
@given(reference=samples, test=samples, margin=st.floats(min_value=0.1, max_value=50))
def test_tost_invariants(reference, test, margin):
    result = tost(reference, test, margin=margin)
    swapped = tost(test, reference, margin=margin)
    # Swapping the arms negates the difference and mirrors the interval; the p-value is kept.
    assert swapped.difference == pytest.approx(-result.difference, abs=1e-9)
    assert swapped.ci_low == pytest.approx(-result.ci_high, abs=1e-9)
    assert swapped.pvalue == pytest.approx(result.pvalue, rel=1e-9, abs=1e-12)
    # Changing units (x 10) with the margin leaves the decision and p-value unchanged.
    scaled = tost(np.array(reference) * 10, np.array(test) * 10, margin=margin * 10)
    assert scaled.pvalue == pytest.approx(result.pvalue, rel=1e-8, abs=1e-12)
    assert scaled.equivalent is result.equivalent
    # CI inside the margins <=> both one-sided tests reject (Schuirmann 1987).
    if abs(result.pvalue - result.alpha) > 1e-9:
        assert result.equivalent is (result.pvalue < result.alpha)


def test_tost_does_not_mutate_inputs_and_accepts_series():
    reference = np.array([1.0, 2.0, 3.0])
    before = reference.copy()
    result = tost(pd.Series(reference), [1.5, 2.5, 3.5], margin=2.0)
    np.testing.assert_array_equal(reference, before)
    assert result.n_reference == 3 and result.n_test == 3
    assert result.mean_reference == 2.0 and result.mean_test == 2.5


def test_tost_result_is_frozen_and_tidy():
    result = tost(A, B, margin=1.0)
    with pytest.raises(AttributeError):
        result.margin = 2.0  # type: ignore[misc]
    frame = result.to_frame()
    assert list(frame.columns)[:8] == [
        "difference", "ci_low", "ci_high", "margin", "pvalue", "dof", "equivalent", "method"
    ]  # fmt: skip
    assert frame.shape == (1, len(TostResult.__dataclass_fields__))
    text = result.summary()
    assert "Welch TOST" in text and "90 % CI" in text and "NOT shown equivalent" in text


def test_equivalence_margin_is_k_times_sample_sd():
    # Hand computation: SD of (9, 10, 11) with ddof 1 is exactly 1.
    assert equivalence_margin([9.0, 10.0, 11.0]) == pytest.approx(1.5)
    assert equivalence_margin([9.0, 10.0, 11.0], k=3.0) == pytest.approx(3.0)
    # SD of (2, 4, 4, 4, 5, 5, 7, 9) with ddof 1 is sqrt(32 / 7).
    assert equivalence_margin([2, 4, 4, 4, 5, 5, 7, 9], k=1.0) == pytest.approx(math.sqrt(32 / 7))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: tost(A, B, margin=0.0), r"The 'margin' parameter of tost must be a finite "
         r"float > 0\. Got 0\.0 instead\."),
        (lambda: tost(A, B, margin=1.0, alpha=0.6), r"The 'alpha' parameter of tost must be a "
         r"float in \(0, 0\.5\)\. Got 0\.6 instead\."),
        (lambda: tost([1.0], B, margin=1.0), r"The 'reference' parameter of tost must hold at "
         r"least 2 value\(s\)\. Got 1 instead\."),
        (lambda: tost(A, [1.0, np.nan, 2.0], margin=1.0), r"The 'test' parameter of tost must "
         r"contain only finite numbers\. Got 1 NaN"),
        (lambda: tost([[1, 2], [3, 4]], B, margin=1.0), r"must be 1-D \(one value per lot\)"),
        (lambda: tost(["a", "b"], B, margin=1.0), r"must be a 1-D sequence of numbers"),
        (lambda: tost([2, 2, 2], [3, 3], margin=1.0), r"must not both be constant"),
        (lambda: paired_tost([1, 2, 3], [1, 2], margin=1.0), r"must have the same length "
         r"\(one value per split starting material\)\. Got 3 and 2 instead\."),
        (lambda: paired_tost([1, 2, 3], [2, 3, 4], margin=1.0), r"must vary"),
        (lambda: equivalence_margin([1, 2, 3], k=-1), r"The 'k' parameter of "
         r"equivalence_margin must be a finite float > 0\. Got -1\.0 instead\."),
        (lambda: tost(A, B, margin=True), r"The 'margin' parameter of tost must be a finite "
         r"float > 0\. Got True\."),
    ],
)  # fmt: skip
def test_invalid_inputs_are_refused_with_clear_messages(call, match):
    with pytest.raises(ValidationFailed, match=match):
        call()
