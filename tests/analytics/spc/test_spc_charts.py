"""Control charts against published worked examples, closed forms and invariants."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saisei.analytics.spc import (
    ChartParams,
    cusum_chart,
    ewma_chart,
    individuals_chart,
    p_chart,
    u_chart,
    xbar_r_chart,
    xbar_s_chart,
)
from saisei.errors import ValidationFailed

REFERENCE = Path(__file__).parents[2] / "reference" / "spc" / "chart_constants.csv"

# NIST/SEMATECH e-Handbook 6.3.2.2 (individuals control chart example): flow rate of 10 batches.
NIST_FLOW = [49.6, 47.6, 49.9, 51.3, 47.8, 51.2, 52.6, 52.4, 53.6, 52.1]
# NIST/SEMATECH e-Handbook 6.3.2.4 (EWMA example): 20 observations, EWMA0 = 50, s = 2.0539.
NIST_EWMA = [
    52.0,
    47.0,
    53.0,
    49.3,
    50.1,
    47.0,
    51.0,
    50.1,
    51.2,
    50.5,
    49.6,
    47.6,
    49.9,
    51.3,
    47.8,
    51.2,
    52.6,
    52.4,
    53.6,
    52.1,
]
# Montgomery, Introduction to SQC (6th ed.), Table 9.1: 30 observations, mu0 = 10, sigma = 1,
# used for the tabular CUSUM (Example 9.1) and the EWMA (Example 9.2).
MONTGOMERY_91 = [
    9.45,
    7.99,
    9.29,
    11.66,
    12.16,
    10.18,
    8.04,
    11.46,
    9.20,
    10.34,
    9.03,
    11.47,
    10.51,
    9.40,
    10.08,
    9.37,
    10.62,
    10.31,
    8.52,
    10.84,
    10.90,
    9.33,
    12.29,
    11.50,
    10.60,
    11.08,
    10.38,
    11.62,
    11.31,
    10.52,
]
# Montgomery (6th ed.), Table 7.1: orange-juice cans, 30 samples of n = 50, nonconforming.
MONTGOMERY_OJ = [
    12,
    15,
    8,
    10,
    4,
    7,
    16,
    9,
    14,
    10,
    5,
    6,
    17,
    12,
    22,
    8,
    10,
    5,
    13,
    11,
    20,
    18,
    24,
    15,
    9,
    12,
    7,
    13,
    9,
    6,
]
# Montgomery (6th ed.), Example 7.3 / Table 7.9: nonconformities in 20 samples of 5 computers.
MONTGOMERY_PC = [10, 12, 8, 14, 10, 16, 11, 7, 10, 15, 9, 5, 7, 11, 12, 6, 8, 10, 7, 5]


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    return pd.read_csv(REFERENCE).set_index("n")


def test_individuals_nist_example() -> None:
    chart = individuals_chart(NIST_FLOW)
    x, mr = chart.get("individuals"), chart.get("moving_range")
    # NIST 6.3.2.2: mean 50.81, MR-bar 1.8778, UCL 55.80, LCL 45.82, MR UCL 6.13.
    assert chart.params.center == pytest.approx(50.81, abs=5e-3)
    assert mr.center[0] == pytest.approx(1.8778, abs=5e-5)
    assert x.ucl[0] == pytest.approx(55.80, abs=5e-3)
    assert x.lcl[0] == pytest.approx(45.82, abs=5e-3)
    assert mr.ucl[0] == pytest.approx(6.13, abs=5e-3)
    assert mr.lcl[0] == 0.0
    assert np.isnan(mr.statistic[0])
    assert not chart.out_of_control.any()
    assert chart.phase == "I"


def test_ewma_nist_example() -> None:
    chart = ewma_chart(NIST_EWMA, lam=0.3, center=50.0, sigma=2.0539, limits="asymptotic")
    ewma = chart.primary
    # NIST 6.3.2.4: UCL = 52.5884, LCL = 47.4115 (printed; 47.4116 when rounded).
    assert ewma.ucl[0] == pytest.approx(52.5884, abs=1e-4)
    assert ewma.lcl[0] == pytest.approx(47.4115, abs=2e-4)
    # NIST 6.3.2.4 table of EWMA statistics, printed to two decimals.
    expected = [
        50.60,
        49.52,
        50.56,
        50.18,
        50.16,
        49.21,
        49.75,
        49.85,
        50.26,
        50.33,
        50.11,
        49.36,
        49.52,
        50.05,
        49.38,
        49.92,
        50.73,
        51.23,
        51.94,
        51.99,
    ]
    np.testing.assert_allclose(ewma.statistic, expected, atol=5e-3 + 1e-9)
    assert chart.phase == "II"
    assert not ewma.beyond_limits.any()


def test_ewma_montgomery_example_9_2_exact_limits() -> None:
    chart = ewma_chart(MONTGOMERY_91, lam=0.1, n_sigma=2.7, center=10.0, sigma=1.0)
    ewma = chart.primary
    # Montgomery Example 9.2: z1 = 9.945, UCL1 = 10.27, LCL1 = 9.73; z2 = 9.7495, UCL2 = 10.36.
    assert ewma.statistic[0] == pytest.approx(9.945, abs=1e-9)
    assert ewma.statistic[1] == pytest.approx(9.7495, abs=1e-9)
    assert ewma.ucl[0] == pytest.approx(10.27, abs=5e-3)
    assert ewma.lcl[0] == pytest.approx(9.73, abs=5e-3)
    assert ewma.ucl[1] == pytest.approx(10.36, abs=5e-3)
    # Closed form of the time-varying limits (Montgomery eq. 9.24).
    i = np.arange(1, 31)
    half = 2.7 * np.sqrt(0.1 / 1.9 * (1 - 0.9 ** (2 * i)))
    np.testing.assert_allclose(ewma.ucl, 10 + half)


def test_ewma_recursion_matches_loop() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(5, 2, 200)
    chart = ewma_chart(x, lam=0.25)
    z, out = chart.params.center, []
    for v in x:
        z = 0.25 * v + 0.75 * z
        out.append(z)
    np.testing.assert_allclose(chart.primary.statistic, out, rtol=1e-12)
    # Phase I sigma: MR-bar / d2(2) with d2(2) = 2 / sqrt(pi) (closed form).
    assert chart.params.sigma == pytest.approx(np.mean(np.abs(np.diff(x))) * np.sqrt(np.pi) / 2)


def test_cusum_montgomery_example_9_1() -> None:
    chart = cusum_chart(MONTGOMERY_91, k=0.5, h=5.0, center=10.0, sigma=1.0)
    upper, lower = chart.get("cusum_upper"), chart.get("cusum_lower")
    # Montgomery Example 9.1 / Table 9.2: C+ at period 29 is 5.28 > H = 5, the first signal;
    # C+ at periods 1-3 is 0, at period 4 1.16, at period 5 2.82.
    assert upper.statistic[28] == pytest.approx(5.28, abs=5e-3)
    assert np.flatnonzero(upper.beyond_limits)[0] == 28
    np.testing.assert_allclose(upper.statistic[:5], [0, 0, 0, 1.16, 2.82], atol=5e-3)
    # Table 9.2 C- at periods 1-3: 0.05, 1.56, 1.77.
    np.testing.assert_allclose(lower.statistic[:3], [0.05, 1.56, 1.77], atol=5e-3)
    assert not lower.beyond_limits.any()
    assert upper.ucl[0] == 5.0


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(-10, 10, allow_nan=False), min_size=2, max_size=50),
    st.floats(0, 3),
)
def test_cusum_matches_recursion(values: list[float], headstart: float) -> None:
    # Montgomery eq. 9.2-9.3 evaluated point by point.
    chart = cusum_chart(values, k=0.5, h=4.0, center=0.0, sigma=2.0, headstart=headstart)
    cp = cm = headstart * 2.0
    ups, downs = [], []
    for v in values:
        cp = max(0.0, cp + v - 1.0)
        cm = max(0.0, cm - 1.0 - v)
        ups.append(cp)
        downs.append(cm)
    np.testing.assert_allclose(chart.get("cusum_upper").statistic, ups, atol=1e-9)
    np.testing.assert_allclose(chart.get("cusum_lower").statistic, downs, atol=1e-9)


def test_p_chart_montgomery_orange_juice_with_revision() -> None:
    trial = p_chart(MONTGOMERY_OJ, 50)
    # Montgomery Example 7.1: p-bar = 0.2313, UCL = 0.4102, LCL = 0.0524; samples 15 and 23
    # are beyond the UCL.
    assert trial.params.center == pytest.approx(0.2313, abs=5e-5)
    assert trial.primary.ucl[0] == pytest.approx(0.4102, abs=5e-5)
    assert trial.primary.lcl[0] == pytest.approx(0.0524, abs=5e-5)
    assert (np.flatnonzero(trial.primary.beyond_limits) + 1).tolist() == [15, 23]
    revised = p_chart(MONTGOMERY_OJ, 50, exclude_out_of_control=True, max_iterations=1)
    # Revised limits after dropping 15 and 23: p-bar = 0.2150, UCL = 0.3893, LCL = 0.0407;
    # sample 21 (p = 0.40) then plots above the revised UCL.
    assert revised.params.center == pytest.approx(0.2150, abs=5e-5)
    assert revised.primary.ucl[0] == pytest.approx(0.3893, abs=5e-5)
    assert revised.primary.lcl[0] == pytest.approx(0.0407, abs=5e-5)
    assert (np.flatnonzero(revised.excluded) + 1).tolist() == [15, 23]
    assert revised.iterations == 1
    assert 21 - 1 in np.flatnonzero(revised.primary.beyond_limits)
    # Unlimited iteration goes on to drop sample 21: p-bar = (347 - 46 - 20) / (27 * 50).
    full = p_chart(MONTGOMERY_OJ, 50, exclude_out_of_control=True)
    assert full.params.center == pytest.approx(281 / 1350)
    assert (np.flatnonzero(full.excluded) + 1).tolist() == [15, 21, 23]


def test_p_chart_variable_sample_sizes() -> None:
    # Montgomery section 7.2.2: limits p-bar +/- 3 sqrt(p-bar (1 - p-bar) / n_i).
    d, n = np.array([5, 9, 4, 12]), np.array([100, 150, 80, 200])
    chart = p_chart(d, n)
    pbar = d.sum() / n.sum()
    np.testing.assert_allclose(chart.primary.ucl, pbar + 3 * np.sqrt(pbar * (1 - pbar) / n))
    np.testing.assert_allclose(chart.rules.z, (d / n - pbar) / np.sqrt(pbar * (1 - pbar) / n))


def test_u_chart_montgomery_example() -> None:
    chart = u_chart(MONTGOMERY_PC, 5)
    # Montgomery Example 7.3: u-bar = 1.93, UCL = 3.79, LCL = 0.07; process in control.
    assert chart.params.center == pytest.approx(1.93)
    assert chart.primary.ucl[0] == pytest.approx(3.79, abs=5e-3)
    assert chart.primary.lcl[0] == pytest.approx(0.07, abs=5e-3)
    assert not chart.primary.beyond_limits.any()


@pytest.mark.parametrize("n", [3, 5, 8])
def test_xbar_r_limits_from_published_factors(published: pd.DataFrame, n: int) -> None:
    rng = np.random.default_rng(n)
    data = rng.normal(74.0, 0.01, (25, n))
    chart = xbar_r_chart(data, rules=None)
    xbarbar = data.mean(axis=1).mean()
    rbar = np.ptp(data, axis=1).mean()
    row = published.loc[n]
    # Montgomery eq. 6.4-6.5 with Appendix VI factors (3 decimals, hence the tolerance).
    assert chart.get("xbar").ucl[0] == pytest.approx(xbarbar + row.A2 * rbar, abs=1e-3 * rbar)
    assert chart.get("xbar").lcl[0] == pytest.approx(xbarbar - row.A2 * rbar, abs=1e-3 * rbar)
    assert chart.get("range").ucl[0] == pytest.approx(row.D4 * rbar, abs=1.5e-3 * rbar)
    assert chart.get("range").lcl[0] == pytest.approx(row.D3 * rbar, abs=1.5e-3 * rbar)
    assert chart.get("range").center[0] == pytest.approx(rbar)
    assert chart.params.sigma == pytest.approx(rbar / row.d2, rel=5e-4)


@pytest.mark.parametrize("n", [4, 7, 10])
def test_xbar_s_limits_from_published_factors(published: pd.DataFrame, n: int) -> None:
    rng = np.random.default_rng(100 + n)
    data = rng.normal(10.0, 2.0, (30, n))
    chart = xbar_s_chart(data, rules=None)
    xbarbar = data.mean()
    sbar = data.std(axis=1, ddof=1).mean()
    row = published.loc[n]
    # Montgomery eq. 6.27-6.28 with Appendix VI factors A3, B3, B4.
    assert chart.get("xbar").ucl[0] == pytest.approx(xbarbar + row.A3 * sbar, abs=1e-3 * sbar)
    assert chart.get("std").ucl[0] == pytest.approx(row.B4 * sbar, abs=1e-3 * sbar)
    assert chart.get("std").lcl[0] == pytest.approx(row.B3 * sbar, abs=1e-3 * sbar)
    assert chart.params.sigma == pytest.approx(sbar / row.c4, rel=1e-4)


def test_phase_two_uses_fixed_params() -> None:
    base = individuals_chart(NIST_FLOW)
    new = individuals_chart([50.0, 60.0, 51.0], params=base.params)
    assert new.phase == "II"
    assert new.params == base.params
    assert new.primary.ucl[0] == pytest.approx(base.primary.ucl[0])
    assert np.flatnonzero(new.primary.beyond_limits).tolist() == [1]


def test_phase_two_subgroups_and_attributes() -> None:
    rng = np.random.default_rng(7)
    first = xbar_s_chart(rng.normal(0, 1, (20, 5)))
    second = xbar_s_chart(rng.normal(5, 1, (5, 5)), params=first.params)
    assert second.phase == "II"
    assert second.get("xbar").beyond_limits.all()
    pc = p_chart([1, 2, 30], 50, params=p_chart(MONTGOMERY_OJ, 50).params)
    assert pc.params.center == pytest.approx(347 / 1500)
    assert pc.phase == "II"


def test_individuals_exclusion_drops_moving_ranges_touching_excluded_points() -> None:
    x = np.array([10.0, 10.5, 9.8, 10.2, 30.0, 10.1, 9.9, 10.3, 10.0, 9.7])
    chart = individuals_chart(x, exclude_out_of_control=True, rules=None)
    assert np.flatnonzero(chart.excluded).tolist() == [4]
    kept = np.delete(x, 4)
    mrs = np.abs(np.diff(x))
    mrs = np.delete(mrs, [3, 4])  # |x4 - x3| and |x5 - x4| touch the excluded point
    assert chart.params.center == pytest.approx(kept.mean())
    assert chart.params.sigma == pytest.approx(mrs.mean() * np.sqrt(np.pi) / 2)


def test_rules_attached_to_primary_series() -> None:
    x = [0.1, -0.1] * 5 + [5.0]
    chart = individuals_chart(x, center=0.0, sigma=1.0, rules="we")
    assert chart.rules is not None
    assert chart.rules.indices(1).tolist() == [10]
    frame = chart.to_frame()
    row = frame[(frame.series == "individuals") & (frame["index"] == 10)].iloc[0]
    assert row.rules == "1"
    assert bool(row.beyond_limits)
    assert "rule 1 (beyond_3_sigma) at point 10" in chart.summary()
    assert individuals_chart(x, rules=None).rules is None


def test_to_frame_is_tidy() -> None:
    chart = xbar_r_chart(np.arange(12.0).reshape(4, 3) % 5)
    frame = chart.to_frame()
    assert list(frame.columns) == [
        "series",
        "index",
        "statistic",
        "center",
        "lcl",
        "ucl",
        "beyond_limits",
        "excluded",
        "rules",
    ]
    assert len(frame) == 8
    assert set(frame.series) == {"xbar", "range"}


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-100, 100, allow_nan=False), min_size=3, max_size=40).filter(
        lambda v: np.ptp(np.diff(v)) > 1e-3 if len(v) > 2 else False
    ),
    st.floats(0.1, 50),
    st.floats(-1000, 1000),
)
def test_individuals_limits_shift_and_scale(values: list[float], a: float, b: float) -> None:
    x = np.asarray(values)
    base = individuals_chart(x, rules=None).primary
    moved = individuals_chart(a * x + b, rules=None).primary
    scale = max(1.0, float(np.abs(a * x + b).max()))
    np.testing.assert_allclose(moved.ucl, a * base.ucl + b, rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(moved.lcl, a * base.lcl + b, rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(moved.center, a * base.center + b, rtol=1e-9, atol=1e-9 * scale)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.1, 20), st.floats(-500, 500))
def test_xbar_r_limits_shift_and_scale(seed: int, a: float, b: float) -> None:
    data = np.random.default_rng(seed).normal(0, 1, (8, 4))
    base, moved = xbar_r_chart(data, rules=None), xbar_r_chart(a * data + b, rules=None)
    for name, shift in (("xbar", b), ("range", 0.0)):
        np.testing.assert_allclose(
            moved.get(name).ucl, a * base.get(name).ucl + shift, rtol=1e-9, atol=1e-9 * (abs(b) + a)
        )


def test_invalid_inputs() -> None:
    with pytest.raises(
        ValidationFailed, match="The 'x' parameter of individuals_chart must hold finite"
    ):
        individuals_chart([1.0, np.nan, 2.0])
    with pytest.raises(ValidationFailed, match="at least 2 values"):
        individuals_chart([1.0])
    with pytest.raises(ValidationFailed, match="must vary: all moving ranges are 0"):
        individuals_chart([1.0, 1.0, 1.0])
    with pytest.raises(
        ValidationFailed, match="The 'subgroups' parameter of xbar_r_chart must be a 2-D"
    ):
        xbar_r_chart([1.0, 2.0, 3.0])
    with pytest.raises(ValidationFailed, match="must come from a individuals chart"):
        individuals_chart(NIST_FLOW, params=ChartParams("xbar_r", 0.0, 1.0, 5))
    with pytest.raises(
        ValidationFailed, match="The 'sigma' parameter of individuals_chart must be"
    ):
        individuals_chart(NIST_FLOW, sigma=-1.0)
    with pytest.raises(ValidationFailed, match="The 'max_iterations' parameter of p_chart"):
        p_chart([1, 2], 10, max_iterations=-1)
    with pytest.raises(ValidationFailed, match="counts between 0 and the sample size"):
        p_chart([1, 20], 10)
    with pytest.raises(
        ValidationFailed, match="The center line of p_chart must be strictly between"
    ):
        p_chart([0, 0, 0], 10)
    with pytest.raises(ValidationFailed, match="The 'units' parameter of u_chart must be"):
        u_chart([1, 2], [1, 0])
    with pytest.raises(ValidationFailed, match="The 'lam' parameter of ewma_chart must be a float"):
        ewma_chart(NIST_EWMA, lam=1.5)
    with pytest.raises(ValidationFailed, match="The 'limits' parameter of ewma_chart"):
        ewma_chart(NIST_EWMA, limits="steady")
    with pytest.raises(ValidationFailed, match="The 'sigma_method' parameter of cusum_chart"):
        cusum_chart(NIST_EWMA, sigma_method="iqr")
    with pytest.raises(ValidationFailed, match="The 'h' parameter of cusum_chart"):
        cusum_chart(NIST_EWMA, h=0)
    with pytest.raises(ValidationFailed, match=r"The 'name' parameter of ControlChartResult\.get"):
        individuals_chart(NIST_FLOW).get("ewma")
