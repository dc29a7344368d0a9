"""Degradation slopes by ANCOVA against separate regressions written out with scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from saisei.analytics.comparability import compare_stability
from saisei.errors import ValidationFailed

MONTHS = np.array([0.0, 3, 6, 9, 12, 18, 24])


@pytest.fixture
def stability(rng):
    ref_t = np.tile(MONTHS, 3)
    new_t = np.tile(MONTHS, 2)
    ref_y = 95.0 - 0.20 * ref_t + rng.normal(0, 0.4, ref_t.size)
    new_y = 96.0 - 0.35 * new_t + rng.normal(0, 0.4, new_t.size)
    return ref_t, ref_y, new_t, new_y


def test_common_intercepts_match_two_separate_regressions(stability):
    ref_t, ref_y, new_t, new_y = stability
    result = compare_stability(ref_t, ref_y, new_t, new_y)
    # Closed form: with one intercept and one slope per process, ANCOVA = two separate least
    # squares lines with a pooled residual variance on n - 4 dof.
    fit_r, fit_t = stats.linregress(ref_t, ref_y), stats.linregress(new_t, new_y)
    sse = sum(
        float(np.sum((y - (f.intercept + f.slope * t)) ** 2))
        for t, y, f in ((ref_t, ref_y, fit_r), (new_t, new_y, fit_t))
    )
    dof = ref_t.size + new_t.size - 4
    s2 = sse / dof
    sxx = np.sum((ref_t - ref_t.mean()) ** 2), np.sum((new_t - new_t.mean()) ** 2)
    se = math.sqrt(s2 * (1 / sxx[0] + 1 / sxx[1]))
    delta = fit_t.slope - fit_r.slope
    assert result.slope_reference == pytest.approx(fit_r.slope, rel=1e-10)
    assert result.slope_test == pytest.approx(fit_t.slope, rel=1e-10)
    assert result.slope_difference == pytest.approx(delta, rel=1e-10)
    assert result.std_error == pytest.approx(se, rel=1e-10)
    assert result.dof == dof
    assert result.pvalue == pytest.approx(2 * stats.t.sf(abs(delta) / se, dof), rel=1e-9)
    q = stats.t.ppf(0.975, dof)
    assert (result.ci_low, result.ci_high) == pytest.approx((delta - q * se, delta + q * se))
    assert result.slopes_differ  # -0.35 vs -0.20 per month with SD 0.4 over 24 months
    assert result.method == "ANCOVA, process intercepts"


def test_lot_intercepts_match_within_lot_centred_slopes(stability):
    ref_t, ref_y, new_t, new_y = stability
    ref_lots = np.repeat(["A", "B", "C"], MONTHS.size)
    new_lots = np.repeat(["D", "E"], MONTHS.size)
    ref_y = ref_y + np.repeat([0.0, 1.5, -1.0], MONTHS.size)  # lots start at other levels
    result = compare_stability(ref_t, ref_y, new_t, new_y, lot_reference=ref_lots,
                               lot_test=new_lots)  # fmt: skip

    # Closed form: a common slope with lot intercepts is the regression of within-lot
    # centred values on within-lot centred times.
    def centred(t, y, lots):
        tc, yc = t.copy(), y.copy()
        for lot in np.unique(lots):
            m = lots == lot
            tc[m] -= t[m].mean()
            yc[m] -= y[m].mean()
        return tc, yc

    tr, yr = centred(ref_t, ref_y, ref_lots)
    tt, yt = centred(new_t, new_y, new_lots)
    b_r, b_t = tr @ yr / (tr @ tr), tt @ yt / (tt @ tt)
    sse = np.sum((yr - b_r * tr) ** 2) + np.sum((yt - b_t * tt) ** 2)
    dof = ref_t.size + new_t.size - 5 - 2
    se = math.sqrt(sse / dof * (1 / (tr @ tr) + 1 / (tt @ tt)))
    assert result.slope_reference == pytest.approx(b_r, rel=1e-10)
    assert result.slope_test == pytest.approx(b_t, rel=1e-10)
    assert result.std_error == pytest.approx(se, rel=1e-10)
    assert result.dof == dof
    assert result.method == "ANCOVA, lot intercepts"


def test_equal_slopes_are_not_flagged_on_noise_free_parallel_lines():
    # Noise orthogonal to (1, t): both least-squares slopes are exactly -0.5.
    t = np.array([0.0, 6, 12, 18])
    noise = np.array([0.1, -0.1, -0.1, 0.1])
    result = compare_stability(t, 100 - 0.5 * t + noise, t, 90 - 0.5 * t - noise)
    assert result.slope_difference == pytest.approx(0.0, abs=1e-12)
    assert not result.slopes_differ and result.pvalue == pytest.approx(1.0)
    assert "no evidence that slopes differ" in result.summary()
    assert result.to_frame().shape == (1, 13)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (([0, 1, 2], [1, 2], [0, 1, 2], [1, 2, 3]), {}, r"The 'time_reference' and "
         r"'value_reference' parameters of compare_stability must have the same length"),
        (([0, 0, 0], [1, 2, 3], [0, 1, 2], [1, 2, 3]), {}, r"cannot separate the slopes"),
        (([0, 1, 2], [1, 2, 3], [0, 1, 2], [1, 2, 3]), {"lot_reference": ["a"] * 3},
         r"must be given together"),
        (([0, 1, 2], [1, 2, 3], [0, 1, 2], [1, 2, 3]),
         {"lot_reference": ["a"] * 2, "lot_test": ["b"] * 3}, r"one entry per sample"),
        (([0, 1, 2], [1, 2, 3], [0, 1, 2], [1, 2, 3]), {"alpha": 0}, r"The 'alpha' parameter "
         r"of compare_stability must be a float in \(0, 1\)\. Got 0\.0 instead\."),
    ],
)  # fmt: skip
def test_invalid_inputs(args, kwargs, match):
    with pytest.raises(ValidationFailed, match=match):
        compare_stability(*args, **kwargs)
