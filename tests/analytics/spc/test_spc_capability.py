"""Capability indices against Montgomery's worked example, closed forms and properties."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from saisei.analytics.spc import NonNormalDataWarning, capability
from saisei.errors import ValidationFailed


def _sample(n: int, mean: float, sd: float) -> np.ndarray:
    # Normal scores (Blom), rescaled to the exact sample mean and standard deviation.
    z = stats.norm.ppf((np.arange(1, n + 1) - 0.375) / (n + 0.25))
    z = (z - z.mean()) / z.std(ddof=1)
    return mean + sd * z


def test_montgomery_cp_confidence_interval() -> None:
    # Montgomery, Introduction to SQC (6th ed.), Example 8.5: USL = 62, LSL = 38, n = 20,
    # s = 1.75 -> Cp-hat = 2.29 and the 95% interval 1.57 <= Cp <= 3.01 (chi-square, eq. 8.19).
    result = capability(_sample(20, 50.0, 1.75), lsl=38, usl=62)
    assert result.pp == pytest.approx(2.29, abs=5e-3)
    # Montgomery multiplies the rounded 2.29; from the unrounded 2.2857 the bounds are
    # 1.565 and 3.005, so the tolerance is one unit in the printed second decimal.
    assert result.pp_ci[0] == pytest.approx(1.57, abs=1e-2)
    assert result.pp_ci[1] == pytest.approx(3.01, abs=1e-2)


def test_bissell_interval_closed_form() -> None:
    # USL = 100, LSL = 90, n = 30, mean 97, s = 1.6 (Montgomery exercise 8.x data):
    # Ppk = 3 / 4.8 = 0.625; Bissell (1990): Ppk +/- z sqrt(1/(9n) + Ppk^2 / (2(n-1))).
    result = capability(_sample(30, 97.0, 1.6), lsl=90, usl=100)
    assert result.ppk == pytest.approx(0.625)
    half = stats.norm.ppf(0.975) * np.sqrt(1 / 270 + 0.625**2 / 58)
    assert result.ppk_ci == pytest.approx((0.625 - half, 0.625 + half))
    assert result.ppu == pytest.approx(0.625)
    assert result.ppl == pytest.approx(7 / 4.8)


def test_within_sigma_from_moving_range_and_subgroups() -> None:
    rng = np.random.default_rng(11)
    x = rng.normal(10, 1, 60)
    result = capability(x, lsl=6, usl=14)
    sigma = np.mean(np.abs(np.diff(x))) / (2 / np.sqrt(np.pi))  # MR-bar / d2(2), d2(2) = 2/sqrt(pi)
    assert result.sigma_within == pytest.approx(sigma)
    assert result.cp == pytest.approx(8 / (6 * sigma))
    assert result.cpk == pytest.approx(min(14 - x.mean(), x.mean() - 6) / (3 * sigma))
    groups = x.reshape(12, 5)
    # S-bar / c4(5), c4(5) = 0.9400 (Montgomery Appendix VI).
    sub = capability(groups, lsl=6, usl=14, within="std")
    assert sub.sigma_within == pytest.approx(groups.std(axis=1, ddof=1).mean() / 0.9400, rel=1e-4)
    rng_sub = capability(groups, lsl=6, usl=14, within="range")
    assert rng_sub.sigma_within == pytest.approx(np.ptp(groups, axis=1).mean() / 2.326, rel=2e-4)
    pooled = capability(groups, lsl=6, usl=14, within="pooled")
    assert pooled.sigma_within == pytest.approx(
        np.sqrt(groups.var(axis=1, ddof=1).mean()) / stats.chi(48).mean() * np.sqrt(48)
    )


def test_one_sided_specification() -> None:
    result = capability(_sample(25, 5.0, 0.5), usl=7.0)
    assert np.isnan(result.cp) and np.isnan(result.cpl) and np.isnan(result.pp)
    assert result.ppk == result.ppu == pytest.approx(2.0 / 1.5)
    assert np.isnan(result.cp_ci[0])
    assert np.isnan(result.ppm_below)
    # Expected fraction above USL from the normal model: P(Z > 4) in ppm.
    assert result.ppm_above == pytest.approx(stats.norm.sf(4.0) * 1e6)


def test_non_normal_data_warn() -> None:
    x = np.random.default_rng(5).exponential(1.0, 200)
    with pytest.warns(NonNormalDataWarning, match="Normality is rejected"):
        result = capability(x, usl=8.0)
    assert result.normality_pvalue < 0.05


def test_normal_data_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        capability(_sample(50, 0.0, 1.0), lsl=-4, usl=4)


def test_boxcox_equals_normal_indices_on_transformed_scale() -> None:
    x = np.random.default_rng(8).lognormal(1.0, 0.4, 150)
    result = capability(x, lsl=0.8, usl=12.0, method="boxcox")
    # Independent: scipy's ML lambda, then the normal formulas on transformed data and limits.
    y, lam = stats.boxcox(x)
    tl, tu = stats.boxcox(np.array([0.8, 12.0]), lmbda=lam)
    assert result.boxcox_lambda == pytest.approx(lam)
    assert result.ppk == pytest.approx(min(tu - y.mean(), y.mean() - tl) / (3 * y.std(ddof=1)))
    assert result.pp == pytest.approx((tu - tl) / (6 * y.std(ddof=1)))


def test_percentile_method() -> None:
    x = np.random.default_rng(9).gamma(2.0, 1.0, 500)
    result = capability(x, lsl=0.0, usl=15.0, method="percentile")
    # Clements (1989): Pp = (USL - LSL) / (x_0.99865 - x_0.00135), Ppu from the median.
    lo, med, hi = np.quantile(x, [0.00135, 0.5, 0.99865])
    assert result.pp == pytest.approx(15.0 / (hi - lo), rel=1e-3)
    assert result.ppu == pytest.approx((15.0 - med) / (hi - med), rel=1e-3)
    assert np.isnan(result.cp)


def test_frame_and_summary() -> None:
    result = capability(_sample(20, 50.0, 1.75), lsl=38, usl=62)
    frame = result.to_frame()
    assert frame["index"].tolist() == ["cp", "cpl", "cpu", "cpk", "pp", "ppl", "ppu", "ppk"]
    assert "pp: 2.286" in result.summary()


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 10_000),
    st.floats(-5, 5),
    st.floats(0.1, 5),
    st.floats(0.1, 10),
)
def test_cpk_never_exceeds_cp(seed: int, shift: float, spread: float, width: float) -> None:
    x = np.random.default_rng(seed).normal(shift, spread, 40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonNormalDataWarning)
        result = capability(x, lsl=-width, usl=width)
    assert result.cpk <= result.cp + 1e-12
    assert result.ppk <= result.pp + 1e-12


def test_invalid_inputs() -> None:
    x = _sample(20, 0, 1)
    with pytest.raises(ValidationFailed, match="must not both be None"):
        capability(x)
    with pytest.raises(ValidationFailed, match="The 'lsl' parameter of capability must be below"):
        capability(x, lsl=2, usl=1)
    with pytest.raises(ValidationFailed, match="The 'within' parameter of capability must be one"):
        capability(x, usl=1, within="mad")
    with pytest.raises(ValidationFailed, match="only for 2-D subgrouped data"):
        capability(x, usl=1, within="range")
    with pytest.raises(ValidationFailed, match="The 'method' parameter of capability"):
        capability(x, usl=1, method="johnson")
    with pytest.raises(ValidationFailed, match="must be positive for method='boxcox'"):
        capability(x, usl=1, method="boxcox")
    with pytest.raises(ValidationFailed, match="The 'confidence' parameter of capability"):
        capability(x, usl=1, confidence=1.5)
    with pytest.raises(ValidationFailed, match="at least 3 finite numbers"):
        capability([1.0, np.nan, 2.0, 3.0], usl=5)
