"""Exact TOST power and sample size: R PowerTOST output, statsmodels, and Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.power import TTestIndPower

from saisei.analytics.comparability import (
    equivalence_power,
    paired_tost_power,
    paired_tost_sample_size,
    tost_power,
    tost_power_estimated_margin,
    tost_sample_size,
)
from saisei.errors import ValidationFailed


def _sigma_from_cv(cv: float) -> float:
    """Log-scale SD of a log-normal with coefficient of variation cv (PowerTOST's CV2se)."""
    return math.sqrt(math.log1p(cv**2))


def test_parallel_power_matches_powertost_readme():
    # R PowerTOST README ("Parallel Design"): power.TOST(CV = 0.35, n = c(52, 49),
    # design = "parallel") -> 0.8011186 (theta0 0.95, limits 0.80-1.25 on the log scale).
    power = tost_power(
        margin=math.log(1.25),
        sigma=_sigma_from_cv(0.35),
        n_reference=52,
        n_test=49,
        true_difference=math.log(0.95),
    )
    assert power == pytest.approx(0.8011186, abs=5e-8)


@pytest.mark.parametrize(
    ("cv", "n", "theta0", "theta1", "expected"),
    [
        # R PowerTOST README, sampleN.TOST(CV = 0.20): 2x2 crossover, n 20, power 0.834680.
        (0.20, 20, 0.95, 0.80, 0.834680),
        # sampleN.TOST(CV = 0.125, theta0 = 0.975, theta1 = 0.90): n 32, power 0.800218.
        (0.125, 32, 0.975, 0.90, 0.800218),
        # pa.ABE(CV = 0.20, targetpower = 0.90): n 26, achieved power 0.9176333.
        (0.20, 26, 0.95, 0.80, 0.9176333),
        # "Speed comparisons", 2x2, CV 0.17, method owenq: n 14, power 0.80568.
        (0.17, 14, 0.95, 0.80, 0.80568),
    ],
)
def test_crossover_power_matches_powertost_readme(cv, n, theta0, theta1, expected):
    # A 2x2 crossover with n subjects estimates the difference with SE sigma_w sqrt(2/n) on
    # n - 2 dof (PowerTOST design constant bk = 2); equivalence_power is the general engine.
    digits = len(str(expected).split(".")[1])
    power = equivalence_power(
        lower=math.log(theta1),
        upper=-math.log(theta1),
        true_difference=math.log(theta0),
        std_error=_sigma_from_cv(cv) * math.sqrt(2.0 / n),
        dof=n - 2,
    )
    assert power == pytest.approx(expected, abs=0.5 * 10.0**-digits)


def test_crossover_sample_size_is_the_smallest_balanced_one():
    # PowerTOST sampleN.TOST(CV = 0.20) gives n = 20 (balanced: even n): 18 must fall short.
    power_18 = equivalence_power(
        lower=math.log(0.8),
        upper=math.log(1.25),
        true_difference=math.log(0.95),
        std_error=_sigma_from_cv(0.20) * math.sqrt(2.0 / 18),
        dof=16,
    )
    assert power_18 < 0.8


@pytest.mark.parametrize(("n1", "n2", "effect"), [(5, 5, 1.2), (8, 12, 0.9), (30, 20, 0.5)])
def test_one_sided_limit_matches_statsmodels_noncentral_t(n1, n2, effect):
    # With the lower limit far away the TOST reduces to one one-sided t-test, whose exact
    # power statsmodels computes from the noncentral t distribution.
    sigma, upper = 1.0, 1.0
    theta = upper - effect * sigma
    power = equivalence_power(
        lower=-1e4,
        upper=upper,
        true_difference=theta,
        std_error=sigma * math.sqrt(1 / n1 + 1 / n2),
        dof=n1 + n2 - 2,
    )
    expected = TTestIndPower().power(
        effect_size=effect, nobs1=n1, alpha=0.05, ratio=n2 / n1, alternative="larger"
    )
    assert power == pytest.approx(expected, abs=1e-8)


def _monte_carlo_pooled(n_r, n_t, sigma, margin, theta, seed, reps=20_000, alpha=0.05):
    """Share of simulated pooled-variance TOSTs that conclude equivalence (written here)."""
    gen = np.random.default_rng(seed)
    ref = gen.normal(0.0, sigma, size=(reps, n_r))
    new = gen.normal(theta, sigma, size=(reps, n_t))
    diff = new.mean(axis=1) - ref.mean(axis=1)
    dof = n_r + n_t - 2
    pooled = ((n_r - 1) * ref.var(axis=1, ddof=1) + (n_t - 1) * new.var(axis=1, ddof=1)) / dof
    se = np.sqrt(pooled * (1 / n_r + 1 / n_t))
    q = stats.t.ppf(1 - alpha, dof)
    return float(np.mean((diff - q * se > -margin) & (diff + q * se < margin)))


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    ("n_r", "n_t", "sigma", "margin", "theta"),
    [(6, 6, 1.0, 1.5, 0.0), (10, 4, 2.0, 3.0, 0.8), (3, 3, 1.0, 1.5, 0.0), (8, 8, 1.0, 1.5, 1.5)],
)
def test_power_agrees_with_monte_carlo_over_seeds(seed, n_r, n_t, sigma, margin, theta):
    exact = tost_power(
        margin=margin, sigma=sigma, n_reference=n_r, n_test=n_t, true_difference=theta
    )
    simulated = _monte_carlo_pooled(n_r, n_t, sigma, margin, theta, seed)
    binomial_se = math.sqrt(max(exact * (1 - exact), 1e-4) / 20_000)
    assert simulated == pytest.approx(exact, abs=4.5 * binomial_se)


@pytest.mark.parametrize("seed", [11, 12])
def test_paired_power_agrees_with_monte_carlo(seed):
    n, sigma_d, margin, theta, reps = 6, 1.0, 1.2, 0.3, 20_000
    gen = np.random.default_rng(seed)
    d = gen.normal(theta, sigma_d, size=(reps, n))
    se = d.std(axis=1, ddof=1) / math.sqrt(n)
    q = stats.t.ppf(0.95, n - 1)
    simulated = np.mean((d.mean(axis=1) - q * se > -margin) & (d.mean(axis=1) + q * se < margin))
    exact = paired_tost_power(margin=margin, sigma_diff=sigma_d, n_pairs=n, true_difference=theta)
    assert simulated == pytest.approx(exact, abs=4.5 * math.sqrt(exact * (1 - exact) / reps))


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(2, 40),
    theta=st.floats(0.0, 2.0),
    sigma=st.floats(0.2, 3.0),
)
def test_power_properties(n, theta, sigma):
    margin = 1.0
    power = tost_power(margin=margin, sigma=sigma, n_reference=n, n_test=n, true_difference=theta)
    assert 0.0 <= power <= 1.0
    # Symmetric in the sign of the true difference.
    mirrored = tost_power(
        margin=margin, sigma=sigma, n_reference=n, n_test=n, true_difference=-theta
    )
    assert mirrored == pytest.approx(power, abs=1e-9)
    # More lots never hurt once power is of practical size. (With 2-3 lots per group and
    # sigma >> margin the exact power, below alpha anyway, can dip as n grows: the heavy
    # lower tail of the chi distribution with 2 dof; confirmed by simulation.)
    more = tost_power(
        margin=margin, sigma=sigma, n_reference=n + 1, n_test=n + 1, true_difference=theta
    )
    if power > 0.05:
        assert more >= power - 1e-9
    # At or beyond the margin the TOST is a level-alpha test (Schuirmann 1987).
    if theta >= margin:
        assert power <= 0.05 + 1e-9


def test_sample_size_balanced_is_smallest_reaching_target():
    result = tost_sample_size(margin=1.5, sigma=1.0, target_power=0.8)
    n = result.n_test
    assert result.n_reference == n and result.design == "parallel"
    assert result.power >= 0.8
    assert tost_power(margin=1.5, sigma=1.0, n_reference=n - 1, n_test=n - 1) < 0.8
    assert result.power == pytest.approx(tost_power(margin=1.5, sigma=1.0, n_reference=n, n_test=n))


def test_sample_size_reproduces_powertost_parallel_power():
    # For the README's parallel case the balanced design with 52 lots per group has power
    # above 0.80 (unbalanced 52/49 gives 0.8011186), so the search must stop at or below 52.
    result = tost_sample_size(
        margin=math.log(1.25), sigma=_sigma_from_cv(0.35), true_difference=math.log(0.95)
    )
    assert result.n_test <= 52 and result.power >= 0.8


def test_sample_size_with_fixed_reference_lots():
    result = tost_sample_size(margin=1.5, sigma=1.0, target_power=0.8, n_reference=8)
    assert result.n_reference == 8
    m = result.n_test
    assert tost_power(margin=1.5, sigma=1.0, n_reference=8, n_test=m) >= 0.8
    assert tost_power(margin=1.5, sigma=1.0, n_reference=8, n_test=m - 1) < 0.8


def test_paired_sample_size():
    result = paired_tost_sample_size(margin=1.0, sigma_diff=1.0, true_difference=0.2)
    n = result.n_test
    assert result.design == "paired" and result.n_reference == n
    assert paired_tost_power(margin=1.0, sigma_diff=1.0, n_pairs=n, true_difference=0.2) >= 0.8
    assert paired_tost_power(margin=1.0, sigma_diff=1.0, n_pairs=n - 1, true_difference=0.2) < 0.8
    assert "pairs" in result.summary() and result.to_frame().loc[0, "n_test"] == n


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: tost_sample_size(margin=1.0, sigma=1.0, true_difference=1.0),
         r"The 'true_difference' parameter of tost_sample_size must lie inside \(-margin, "
         r"\+margin\)"),
        (lambda: tost_sample_size(margin=0.5, sigma=1.0, n_reference=3, max_lots=50),
         r"The 'target_power' of tost_sample_size cannot be reached with at most 50 lots"),
        (lambda: tost_sample_size(margin=1.0, sigma=1.0, target_power=1.0),
         r"The 'target_power' parameter of tost_sample_size must be a float in \(0, 1\)\. "
         r"Got 1\.0 instead\."),
        (lambda: tost_power(margin=1.0, sigma=1.0, n_reference=1, n_test=5),
         r"The 'n_reference' parameter of tost_power must be an integer >= 2\. Got 1 instead\."),
        (lambda: tost_power(margin=1.0, sigma=0.0, n_reference=3, n_test=5),
         r"The 'sigma' parameter of tost_power must be a finite float > 0\. Got 0\.0"),
        (lambda: equivalence_power(lower=1.0, upper=-1.0, true_difference=0.0, std_error=1.0,
                                   dof=5.0), r"The 'lower' parameter of equivalence_power must "
         r"be below 'upper'"),
        (lambda: equivalence_power(lower=-1.0, upper=1.0, true_difference=0.0, std_error=1.0,
                                   dof=0.5), r"The 'dof' parameter of equivalence_power must "
         r"be a float >= 1\. Got 0\.5 instead\."),
        (lambda: paired_tost_power(margin=1.0, sigma_diff=1.0, n_pairs=2.5),
         r"The 'n_pairs' parameter of paired_tost_power must be an integer >= 2\. Got 2\.5"),
    ],
)  # fmt: skip
def test_invalid_inputs(call, match):
    with pytest.raises(ValidationFailed, match=match):
        call()


def _monte_carlo_estimated_margin(n_r, n_t, k, effect, ratio, equal_var, seed, reps=40_000):
    """Share of simulated TOSTs passing when margin = k * SD of the same reference lots."""
    gen = np.random.default_rng(seed)
    ref = gen.normal(0.0, 1.0, size=(reps, n_r))
    new = gen.normal(effect, ratio, size=(reps, n_t))
    v_r, v_t = ref.var(axis=1, ddof=1), new.var(axis=1, ddof=1)
    if equal_var:
        dof = n_r + n_t - 2
        se = np.sqrt(((n_r - 1) * v_r + (n_t - 1) * v_t) / dof * (1 / n_r + 1 / n_t))
    else:
        a, b = v_r / n_r, v_t / n_t
        se = np.sqrt(a + b)
        dof = (a + b) ** 2 / (a**2 / (n_r - 1) + b**2 / (n_t - 1))
    half = stats.t.ppf(0.95, dof) * se
    diff = new.mean(axis=1) - ref.mean(axis=1)
    margin = k * np.sqrt(v_r)
    return float(np.mean((diff - half > -margin) & (diff + half < margin)))


@pytest.mark.parametrize("seed", [21, 22])
@pytest.mark.parametrize(
    ("n_r", "n_t", "k", "effect", "ratio", "equal_var"),
    [
        (10, 10, 1.5, 0.0, 1.0, False),
        (10, 5, 1.5, 0.3, 1.0, False),
        (6, 6, 1.5, 0.0, 1.0, True),
        (8, 4, 2.0, -0.5, 1.5, False),
        (3, 3, 1.5, 0.0, 1.0, True),
    ],
)
def test_estimated_margin_power_agrees_with_monte_carlo(
    seed, n_r, n_t, k, effect, ratio, equal_var
):
    exact = tost_power_estimated_margin(
        n_reference=n_r,
        n_test=n_t,
        k=k,
        effect_size=effect,
        sd_ratio=ratio,
        equal_var=equal_var,
    )
    simulated = _monte_carlo_estimated_margin(n_r, n_t, k, effect, ratio, equal_var, seed)
    se = math.sqrt(max(exact * (1 - exact), 1e-4) / 40_000)
    assert simulated == pytest.approx(exact, abs=4.5 * se)


def test_estimated_margin_costs_power_against_a_known_margin():
    # The random margin makes passing less likely than the fixed-margin power suggests.
    fixed = tost_power(margin=1.5, sigma=1.0, n_reference=10, n_test=10)
    estimated = tost_power_estimated_margin(n_reference=10, n_test=10, equal_var=True)
    assert estimated < fixed - 0.05


def test_welch_with_three_lots_each_can_never_pass_a_one_and_a_half_sd_margin():
    # Written out here: the Welch half-width t_{0.95, dof} sqrt(s_R^2/3 + s_T^2/3) in units of
    # s_R, over a fine grid of s_T / s_R, never drops below 1.5 (its minimum is about 1.529
    # near s_T = 0.55 s_R): the procedure cannot pass whatever the data.
    ratio = np.linspace(0.0, 5.0, 50_001)
    a, b = 1 / 3, ratio**2 / 3
    dof = (a + b) ** 2 / (a**2 / 2 + b**2 / 2)
    assert np.min(stats.t.ppf(0.95, dof) * np.sqrt(a + b)) > 1.52
    assert tost_power_estimated_margin(n_reference=3, n_test=3) == 0.0
    assert _monte_carlo_estimated_margin(3, 3, 1.5, 0.0, 1.0, False, seed=5) == 0.0


def test_estimated_margin_power_validates_inputs():
    with pytest.raises(
        ValidationFailed,
        match=r"The 'sd_ratio' parameter of tost_power_estimated_margin must be a finite "
        r"float > 0\. Got -1\.0 instead\.",
    ):
        tost_power_estimated_margin(n_reference=5, n_test=5, sd_ratio=-1.0)
