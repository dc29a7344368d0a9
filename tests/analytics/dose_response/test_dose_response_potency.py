"""relative_potency: known ratios, coverage, parallelism by equivalence, suitability."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.optimize import curve_fit

from saisei.analytics.dose_response import (
    DoseResponseConvergenceWarning,
    ParallelismLimits,
    SuitabilityCriteria,
    relative_potency,
)
from saisei.errors import ValidationFailed

DOSES = np.repeat(2.0 ** np.arange(-4, 6), 3)


def four_pl(x, a, b, c, d):
    # USP <1032> form (docs/domain.md), independent of saisei.
    return d + (a - d) / (1.0 + (np.asarray(x, float) / c) ** b)


def five_pl(x, a, b, c, d, e):
    return d + (a - d) / (1.0 + (np.asarray(x, float) / c) ** b) ** e


@pytest.mark.parametrize("ratio", [0.5, 1.0, 1.7, 4.0])
def test_noise_free_parallel_4pl_returns_the_known_ratio(ratio):
    # Closed form: test curve = reference shifted by log(ratio), so RP = C_ref / C_test = ratio.
    ref = four_pl(DOSES, 1.0, 1.3, 2.0, 10.0)
    test = four_pl(DOSES, 1.0, 1.3, 2.0 / ratio, 10.0)
    res = relative_potency(DOSES, ref, DOSES, test)
    assert res.relative_potency == pytest.approx(ratio, abs=1e-6)
    assert res.parallel and res.reportable


def test_noise_free_parallel_5pl_returns_the_known_ratio():
    ref = five_pl(DOSES, 10.0, 1.1, 3.0, 0.5, 0.6)
    test = five_pl(DOSES, 10.0, 1.1, 3.0 / 2.5, 0.5, 0.6)
    res = relative_potency(DOSES, ref, DOSES, test, model="5pl")
    assert res.relative_potency == pytest.approx(2.5, abs=1e-6)
    assert res.params["E"] == pytest.approx(0.6, rel=1e-6)


def test_constrained_estimate_matches_an_independent_scipy_fit():
    rng = np.random.default_rng(11)
    y_r = four_pl(DOSES, 1.0, 1.3, 2.0, 10.0) + rng.normal(0, 0.3, DOSES.size)
    y_t = four_pl(DOSES, 1.0, 1.3, 1.0, 10.0) + rng.normal(0, 0.3, DOSES.size)
    res = relative_potency(DOSES, y_r, DOSES, y_t)
    # Independent: the parallel model as one scipy curve_fit with a group indicator.
    x = np.concatenate([DOSES, DOSES])
    g = np.repeat([1.0, 0.0], DOSES.size)

    def joint(xg, a, b, d, c_r, c_t):
        xx, gg = xg
        return four_pl(xx, a, b, np.where(gg == 1, c_r, c_t), d)

    p, _ = curve_fit(
        joint, (x, g), np.concatenate([y_r, y_t]), p0=[1, 1, 10, 2, 1], xtol=1e-14, ftol=1e-14
    )
    assert res.relative_potency == pytest.approx(p[3] / p[4], rel=1e-6)
    assert res.params["B"] == pytest.approx(p[1], rel=1e-6)


def test_swapping_reference_and_test_inverts_the_potency():
    rng = np.random.default_rng(5)
    y_r = four_pl(DOSES, 1.0, 1.3, 2.0, 10.0) + rng.normal(0, 0.3, DOSES.size)
    y_t = four_pl(DOSES, 1.0, 1.3, 1.2, 10.0) + rng.normal(0, 0.3, DOSES.size)
    forward = relative_potency(DOSES, y_r, DOSES, y_t)
    backward = relative_potency(DOSES, y_t, DOSES, y_r)
    assert backward.relative_potency == pytest.approx(1 / forward.relative_potency, rel=1e-6)
    assert backward.ci_low == pytest.approx(1 / forward.ci_high, rel=1e-6)


@pytest.mark.slow
def test_95_percent_interval_covers_the_true_ratio_at_the_nominal_rate():
    # Simulation over 200 seeds; binomial SD of the coverage is sqrt(.95 * .05 / 200) = 0.015,
    # so the observed rate should fall within about 3 SD of 0.95.
    true_ratio, covered, n = 1.7, 0, 200
    for seed in range(n):
        rng = np.random.default_rng(seed)
        y_r = four_pl(DOSES, 1.0, 1.3, 2.0, 10.0) + rng.normal(0, 0.3, DOSES.size)
        y_t = four_pl(DOSES, 1.0, 1.3, 2.0 / true_ratio, 10.0) + rng.normal(0, 0.3, DOSES.size)
        res = relative_potency(DOSES, y_r, DOSES, y_t)
        covered += res.ci_low <= true_ratio <= res.ci_high
    assert 0.905 <= covered / n <= 0.995


def test_non_parallel_pair_is_declared_non_parallel():
    rng = np.random.default_rng(2)
    y_r = four_pl(DOSES, 1.0, 1.3, 2.0, 10.0) + rng.normal(0, 0.3, DOSES.size)
    y_t = four_pl(DOSES, 1.0, 2.6, 2.0, 10.0) + rng.normal(0, 0.3, DOSES.size)  # slope doubled
    res = relative_potency(DOSES, y_r, DOSES, y_t)
    assert not res.parallel
    assert not res.sample_suitable and not res.reportable
    slope = next(c for c in res.parallelism if c.name == "slope_ratio")
    assert not slope.passed and slope.ci_low > 1.25
    assert "NOT reportable" in res.summary()


def test_different_upper_asymptote_fails_equivalence():
    rng = np.random.default_rng(4)
    y_r = four_pl(DOSES, 1.0, 1.3, 2.0, 10.0) + rng.normal(0, 0.2, DOSES.size)
    y_t = four_pl(DOSES, 1.0, 1.3, 2.0, 6.0) + rng.normal(0, 0.2, DOSES.size)
    res = relative_potency(DOSES, y_r, DOSES, y_t)
    d_check = next(c for c in res.parallelism if c.name == "D_difference")
    assert not d_check.passed and not res.parallel


def test_wider_limits_accept_what_narrow_limits_reject():
    rng = np.random.default_rng(2)
    y_r = four_pl(DOSES, 1.0, 1.3, 2.0, 10.0) + rng.normal(0, 0.3, DOSES.size)
    y_t = four_pl(DOSES, 1.0, 1.5, 2.0, 10.0) + rng.normal(0, 0.3, DOSES.size)
    narrow = relative_potency(
        DOSES, y_r, DOSES, y_t, parallelism_limits=ParallelismLimits(slope_ratio=(0.99, 1.01))
    )
    wide = relative_potency(
        DOSES, y_r, DOSES, y_t, parallelism_limits=ParallelismLimits(slope_ratio=(0.5, 2.0))
    )
    assert not narrow.parallel and wide.parallel


def test_flat_test_sample_fails_suitability_without_raising():
    rng = np.random.default_rng(8)
    y_r = four_pl(DOSES, 1.0, 1.3, 2.0, 10.0) + rng.normal(0, 0.3, DOSES.size)
    y_t = 5.0 + rng.normal(0, 0.3, DOSES.size)
    res = relative_potency(DOSES, y_r, DOSES, y_t)
    assert res.system_suitable
    assert not res.sample_suitable and not res.reportable


def test_ec50_outside_the_dose_range_fails_suitability():
    ref = four_pl(DOSES, 1.0, 1.3, 2.0, 10.0)
    test = four_pl(DOSES, 1.0, 1.3, 200.0, 10.0)  # EC50 far above the top dose (32)
    res = relative_potency(
        DOSES, ref, DOSES, test, suitability=SuitabilityCriteria(ec50_in_dose_range=True)
    )
    check = next(c for c in res.sample_suitability if c.name == "test_ec50_in_dose_range")
    assert not check.passed and not res.reportable


def test_result_frame_lists_every_check():
    res = relative_potency(
        DOSES, four_pl(DOSES, 1, 1.3, 2, 10), DOSES, four_pl(DOSES, 1, 1.3, 1, 10)
    )
    frame = res.to_frame()
    assert set(frame["group"]) == {
        "parallelism",
        "system_suitability",
        "sample_suitability",
        "potency",
    }
    assert frame.iloc[-1]["value"] == pytest.approx(2.0, abs=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model": "logit"}, r"'model' parameter of relative_potency"),
        ({"level": 95}, r"'level' parameter of relative_potency must be a float in \(0, 1\)"),
        ({"parallelism_limits": {"slope_ratio": (0.8, 1.25)}}, r"ParallelismLimits"),
    ],
)
def test_invalid_arguments_are_named(kwargs, match):
    y = four_pl(DOSES, 1, 1.3, 2, 10)
    with pytest.raises(ValidationFailed, match=match):
        relative_potency(DOSES, y, DOSES, y, **kwargs)


def test_test_sample_inputs_are_labelled():
    y = four_pl(DOSES, 1, 1.3, 2, 10)
    with pytest.raises(ValidationFailed, match=r"'test dose' and 'test response'"):
        relative_potency(DOSES, y, DOSES, y[:-1])


def test_flat_test_sample_is_not_reportable_instead_of_failing() -> None:
    # A flat test response (no dose effect): R^2 is undefined, so suitability fails cleanly.
    dose = np.repeat([0.1, 0.3, 1.0, 3.0, 10.0, 30.0], 3)
    reference = 10 + (100 - 10) / (1 + (dose / 2) ** 1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DoseResponseConvergenceWarning)
        result = relative_potency(dose, reference, dose, np.full(dose.size, 50.0))
    assert not result.reportable
    (check,) = [c for c in result.sample_suitability if c.name == "test_r_squared"]
    assert np.isnan(check.value) and not check.passed
