"""Control limits against closed forms written out here with scipy.stats."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from saisei.analytics.mvda._limits import (
    dmodx_limit,
    spe_limit_from_eigenvalues,
    spe_limit_from_moments,
    t2_limit,
)


@pytest.mark.parametrize(("a", "n", "alpha"), [(1, 10, 0.05), (3, 50, 0.01), (5, 20000, 0.01)])
def test_t2_phase2_is_the_f_form_of_tracy_young_mason(a, n, alpha):
    # Tracy, Young & Mason (1992), eq. for a future observation.
    expected = a * (n - 1) * (n + 1) / (n * (n - a)) * stats.f.ppf(1 - alpha, a, n - a)
    assert t2_limit(a, n, alpha, "II") == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("a", "n", "alpha"), [(1, 10, 0.05), (3, 50, 0.01), (2, 200, 0.001)])
def test_t2_phase1_is_the_beta_form(a, n, alpha):
    # Tracy, Young & Mason (1992): (n-1)^2/n * Beta_{1-alpha}(A/2, (n-A-1)/2).
    expected = (n - 1) ** 2 / n * stats.beta.ppf(1 - alpha, a / 2, (n - a - 1) / 2)
    assert t2_limit(a, n, alpha, "I") == pytest.approx(expected, rel=1e-12)


def test_t2_phase1_is_below_phase2_and_both_tend_to_chi2():
    assert t2_limit(3, 30, 0.01, "I") < t2_limit(3, 30, 0.01, "II")
    assert t2_limit(3, 10**7, 0.01, "II") == pytest.approx(stats.chi2.ppf(0.99, 3), rel=1e-4)


def test_t2_limit_is_infinite_without_degrees_of_freedom():
    assert t2_limit(5, 5, 0.01, "II") == float("inf")
    assert t2_limit(4, 5, 0.01, "I") == float("inf")


def test_jackson_mudholkar_closed_form():
    lam = np.array([0.9, 0.5, 0.3, 0.2, 0.1, 0.05])
    alpha = 0.01
    t1, t2, t3 = lam.sum(), (lam**2).sum(), (lam**3).sum()
    h0 = 1 - 2 * t1 * t3 / (3 * t2**2)
    z = stats.norm.ppf(1 - alpha)
    expected = t1 * (z * np.sqrt(2 * t2 * h0**2) / t1 + 1 + t2 * h0 * (h0 - 1) / t1**2) ** (1 / h0)
    assert spe_limit_from_eigenvalues(lam, alpha, "jackson-mudholkar") == pytest.approx(
        expected, rel=1e-12
    )


def test_box_closed_form_and_exact_for_equal_eigenvalues():
    lam = np.array([0.9, 0.5, 0.3, 0.2])
    t1, t2 = lam.sum(), (lam**2).sum()
    expected = t2 / t1 * stats.chi2.ppf(0.95, t1**2 / t2)
    assert spe_limit_from_eigenvalues(lam, 0.05, "box") == pytest.approx(expected, rel=1e-12)
    # With k equal eigenvalues l, SPE is exactly l * chi2(k): Box's form is then exact.
    equal = np.full(7, 0.4)
    assert spe_limit_from_eigenvalues(equal, 0.01, "box") == pytest.approx(
        0.4 * stats.chi2.ppf(0.99, 7), rel=1e-12
    )


def test_jackson_mudholkar_matches_simulated_quadratic_form(rng):
    # SPE of a Gaussian residual with covariance diag(lam) is sum lam_j z_j^2; JM is an
    # approximation, close when the residual spectrum is spread over many eigenvalues.
    lam = np.linspace(0.5, 0.05, 30)
    draws = (rng.normal(size=(200_000, lam.size)) ** 2) @ lam
    empirical = np.quantile(draws, 0.99)
    assert spe_limit_from_eigenvalues(lam, 0.01) == pytest.approx(empirical, rel=0.02)


def test_moment_matched_limit_closed_form(rng):
    values = rng.chisquare(4, size=500) * 0.3
    m, v = values.mean(), values.var(ddof=1)
    expected = v / (2 * m) * stats.chi2.ppf(0.99, 2 * m * m / v)
    assert spe_limit_from_moments(values, 0.01) == pytest.approx(expected, rel=1e-12)


def test_dmodx_limit_closed_form():
    # SIMCA: sqrt(F(1-alpha; K-A, (N-A-A0)(K-A))).
    n, k, a = 40, 10, 3
    expected = np.sqrt(stats.f.ppf(0.95, k - a, (n - a - 1) * (k - a)))
    assert dmodx_limit(a, n, k, 0.05) == pytest.approx(expected, rel=1e-12)
