"""DoseResponseModel: published drc results, closed forms, invariants and error messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq, curve_fit
from scipy.stats import t as t_dist
from sklearn.base import clone

from saisei.analytics.dose_response import DoseResponseConvergenceWarning, DoseResponseModel
from saisei.errors import NotFittedError, ValidationFailed

REFERENCE = Path(__file__).parents[2] / "reference" / "dose_response"


def four_pl(x, a, b, c, d):
    # USP <1032> / docs/domain.md form, written out independently of saisei.
    return d + (a - d) / (1.0 + (np.asarray(x, float) / c) ** b)


def five_pl(x, a, b, c, d, e):
    return d + (a - d) / (1.0 + (np.asarray(x, float) / c) ** b) ** e


@pytest.fixture(scope="module")
def ryegrass() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "ryegrass.csv", comment="#")


@pytest.fixture(scope="module")
def ryegrass_fit(ryegrass: pd.DataFrame) -> DoseResponseModel:
    return DoseResponseModel("4pl").fit(ryegrass["conc"], ryegrass["rootl"])


DOSES = np.repeat(2.0 ** np.arange(-4, 7), 3)


# --- published results: R drc, LL.4 on the ryegrass data (Ritz et al. 2015, PLoS ONE) -------


def test_ryegrass_ll4_estimates_and_standard_errors_match_drc(ryegrass_fit):
    # R drc: summary(drm(rootl ~ conc, data = ryegrass, fct = LL.4())), printed in the drc
    # reference manual, help page 'ryegrass' (also Ritz et al. 2015, PLoS ONE 10: e0146021).
    # drc b, c, d, e = saisei B, D, A, C.
    expected = {  # name: (estimate, std. error)
        "B": (2.98222, 0.46506),
        "D": (0.48141, 0.21219),
        "A": (7.79296, 0.18857),
        "C": (3.05795, 0.18573),
    }
    for name, (estimate, se) in expected.items():
        assert ryegrass_fit.params_[name] == pytest.approx(estimate, abs=2e-5)
        assert ryegrass_fit.standard_errors_[name] == pytest.approx(se, abs=2e-5)
    # drc: "Residual standard error: 0.5196256 (20 degrees of freedom)"
    assert ryegrass_fit.residual_se_ == pytest.approx(0.5196256, abs=1e-6)
    assert ryegrass_fit.dof_ == 20
    assert ryegrass_fit.converged_


@pytest.mark.parametrize(
    ("percent", "estimate", "se", "low", "high"),
    [
        # R drc: ED(ryegrass.m1, c(10, 50, 90), interval = "delta"), help page 'ED.drc'.
        (10, 1.46371, 0.18677, 1.07411, 1.85330),
        (50, 3.05795, 0.18573, 2.67053, 3.44538),
        (90, 6.38864, 0.84510, 4.62580, 8.15148),
    ],
)
def test_ryegrass_effective_doses_match_drc_delta_intervals(
    ryegrass_fit, percent, estimate, se, low, high
):
    ed = ryegrass_fit.effective_dose(percent)
    assert ed.estimate == pytest.approx(estimate, abs=2e-5)
    assert ed.se == pytest.approx(se, abs=2e-5)
    assert (ed.ci_low, ed.ci_high) == pytest.approx((low, high), abs=2e-5)
    assert ed.method == "delta"


def test_ec50_attributes_are_the_ed50(ryegrass_fit):
    # R drc ED.drc help page: e:50 3.05795 (2.67053, 3.44538).
    assert ryegrass_fit.ec50_ == pytest.approx(3.05795, abs=2e-5)
    assert ryegrass_fit.ec50_ci_ == pytest.approx((2.67053, 3.44538), abs=2e-5)


def test_profile_interval_matches_an_independent_scipy_profile(ryegrass):
    x, y = ryegrass["conc"].to_numpy(), ryegrass["rootl"].to_numpy()
    fit = DoseResponseModel(ci_method="profile").fit(x, y)
    # Independent profile: fix C, refit A, B, D with scipy's curve_fit, and solve
    # SSE(C) - SSE_min = s^2 t(0.975, 20)^2 on each side (Bates & Watts 1988, sec. 6.1).
    full, _ = curve_fit(four_pl, x, y, p0=[7.8, 3.0, 3.0, 0.5])
    sse_min = np.sum((four_pl(x, *full) - y) ** 2)
    critical = sse_min / 20 * t_dist.ppf(0.975, 20) ** 2

    def excess(c):
        p, _ = curve_fit(lambda xx, a, b, d: four_pl(xx, a, b, c, d), x, y, p0=full[[0, 1, 3]])
        return np.sum((four_pl(x, p[0], p[1], c, p[2]) - y) ** 2) - sse_min - critical

    low, high = brentq(excess, 2.0, full[2]), brentq(excess, full[2], 5.0)
    assert fit.ec50_ci_ == pytest.approx((low, high), rel=1e-4)
    assert fit.effective_dose(50).method == "profile"


# --- closed-form noise-free cases -------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [(1.0, 1.3, 2.0, 10.0), (100.0, 0.8, 0.05, 5.0), (0.0, 4.0, 8.0, 1.0)],
)
def test_noise_free_4pl_recovers_parameters(params):
    fit = DoseResponseModel().fit(DOSES, four_pl(DOSES, *params))
    assert [fit.params_[k] for k in "ABCD"] == pytest.approx(params, rel=1e-6)
    assert fit.ec50_ == pytest.approx(params[2], rel=1e-6)


def test_noise_free_5pl_recovers_parameters_and_closed_form_ec50():
    a, b, c, d, e = 1.0, 1.5, 2.0, 10.0, 0.4
    fit = DoseResponseModel("5pl").fit(DOSES, five_pl(DOSES, a, b, c, d, e))
    assert [fit.params_[k] for k in "ABCDE"] == pytest.approx([a, b, c, d, e], rel=1e-6)
    # Closed form: (1 + (x/C)^B)^E = 2  =>  x = C (2^(1/E) - 1)^(1/B).
    assert fit.ec50_ == pytest.approx(c * (2 ** (1 / e) - 1) ** (1 / b), rel=1e-6)


def test_effective_dose_closed_form_4pl():
    fit = DoseResponseModel().fit(DOSES, four_pl(DOSES, 0.0, 2.0, 3.0, 1.0))
    # 4PL: ED_p = C (p / (100 - p))^(1/B).
    assert fit.effective_dose(20).estimate == pytest.approx(3.0 * 0.25**0.5, rel=1e-6)


def test_predict_matches_the_formula():
    fit = DoseResponseModel().fit(DOSES, four_pl(DOSES, 1.0, 1.3, 2.0, 10.0))
    grid = np.array([0.0, 0.5, 2.0, 1e3])
    assert fit.predict(grid) == pytest.approx(four_pl(grid, 1.0, 1.3, 2.0, 10.0), rel=1e-6)
    assert fit.predict(grid.reshape(-1, 1)).shape == (4,)


@settings(max_examples=25, deadline=None)
@given(
    a=st.floats(-5, 5),
    span=st.floats(1, 100),
    b=st.floats(0.5, 4),
    log2_c=st.floats(-2, 4),
    rising=st.booleans(),
)
def test_noise_free_ec50_is_recovered_for_any_reasonable_curve(a, span, b, log2_c, rising):
    d = a + span if rising else a - span
    fit = DoseResponseModel().fit(DOSES, four_pl(DOSES, a, b, 2.0**log2_c, d))
    assert fit.converged_
    assert fit.ec50_ == pytest.approx(2.0**log2_c, rel=1e-5)


# --- invariants -----------------------------------------------------------------------------


def test_scaling_doses_scales_ec50_and_not_the_rest(ryegrass, ryegrass_fit):
    fit = DoseResponseModel().fit(ryegrass["conc"] * 1000.0, ryegrass["rootl"])
    assert fit.ec50_ == pytest.approx(1000.0 * ryegrass_fit.ec50_, rel=1e-6)
    assert fit.params_["B"] == pytest.approx(ryegrass_fit.params_["B"], rel=1e-6)


def test_affine_response_transform_moves_asymptotes_only(ryegrass, ryegrass_fit):
    fit = DoseResponseModel().fit(ryegrass["conc"], 10.0 + 2.0 * ryegrass["rootl"])
    assert fit.params_["A"] == pytest.approx(10.0 + 2.0 * ryegrass_fit.params_["A"], rel=1e-6)
    assert fit.ec50_ == pytest.approx(ryegrass_fit.ec50_, rel=1e-6)
    assert fit.ec50_ci_ == pytest.approx(ryegrass_fit.ec50_ci_, rel=1e-5)


def test_weighted_fit_matches_scipy_and_is_scale_free(ryegrass):
    x, y = ryegrass["conc"].to_numpy(), ryegrass["rootl"].to_numpy()
    w = 1.0 / (0.1 + y)
    fit = DoseResponseModel(weights=w).fit(x, y)
    # Independent: scipy curve_fit minimises sum(((f - y) / sigma)^2) with sigma = 1/sqrt(w).
    expected, _ = curve_fit(
        four_pl, x, y, p0=[7.8, 3.0, 3.0, 0.5], sigma=1 / np.sqrt(w), xtol=1e-14, ftol=1e-14
    )
    assert [fit.params_[k] for k in "ABCD"] == pytest.approx(expected, rel=1e-5)
    scaled = DoseResponseModel(weights=7.0 * w).fit(x, y)
    assert scaled.ec50_ci_ == pytest.approx(fit.ec50_ci_, rel=1e-6)


def test_string_weights_weight_by_observed_response():
    y = four_pl(DOSES, 1.0, 1.3, 2.0, 10.0) * (1 + 0.01 * np.sin(np.arange(DOSES.size)))
    by_name = DoseResponseModel(weights="1/y^2").fit(DOSES, y)
    by_array = DoseResponseModel(weights=1.0 / y**2).fit(DOSES, y)
    assert by_name.params_ == pytest.approx(by_array.params_, rel=1e-7)


def test_robust_start_converges_on_noisy_plates_with_an_outlier():
    true = (2.0, 1.2, 5.0, 100.0)
    for seed in range(20):
        rng = np.random.default_rng(seed)
        y = four_pl(DOSES, *true) + rng.normal(0, 3.0, DOSES.size)
        y[rng.integers(DOSES.size)] += 40.0  # one gross outlier per plate
        fit = DoseResponseModel().fit(DOSES, y)
        assert fit.converged_
        assert 2.0 < fit.ec50_ < 12.0


def test_bounds_constrain_a_parameter(ryegrass):
    fit = DoseResponseModel(bounds={"D": (0.6, 5.0)})
    with pytest.warns(DoseResponseConvergenceWarning, match="ended on its bound"):
        fit.fit(ryegrass["conc"], ryegrass["rootl"])
    assert fit.params_["D"] == pytest.approx(0.6, abs=1e-5)


# --- convergence failures say so ---------------------------------------------------------------


def test_iteration_limit_warns_clearly(ryegrass):
    model = DoseResponseModel(max_iter=1)
    with pytest.warns(DoseResponseConvergenceWarning, match=r"4PL fit did not converge.*max_iter"):
        model.fit(ryegrass["conc"], ryegrass["rootl"])
    assert not model.converged_
    assert np.isnan(model.ec50_ci_).all()
    assert "NOT CONVERGED" in model.summary()


def test_flat_response_is_not_identifiable():
    rng = np.random.default_rng(3)
    model = DoseResponseModel()
    with pytest.warns(DoseResponseConvergenceWarning, match="did not converge"):
        model.fit(DOSES, 5.0 + rng.normal(0, 0.1, DOSES.size))
    assert not model.converged_
    assert np.isnan(model.standard_errors_["C"])


# --- estimator contract and messages ----------------------------------------------------------


def test_clone_and_params_follow_sklearn():
    model = DoseResponseModel("5pl", ci_level=0.9)
    copy = clone(model)
    assert copy.get_params()["model"] == "5pl"
    assert copy.get_params()["ci_level"] == 0.9


def test_result_table_and_summary(ryegrass_fit):
    frame = ryegrass_fit.to_frame()
    assert list(frame.index) == ["A", "B", "C", "D"]
    assert frame.loc["C", "t_value"] == pytest.approx(16.4644, abs=1e-3)  # drc t-value
    assert "EC50" in ryegrass_fit.summary()


def test_predict_before_fit_raises():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        DoseResponseModel().predict([1.0])


@pytest.mark.parametrize(
    ("kwargs", "dose", "response", "match"),
    [
        ({"model": "3pl"}, DOSES, DOSES, r"'model' parameter .* must be '4pl' or '5pl'"),
        ({"ci_level": 1.5}, DOSES, DOSES, r"'ci_level' .* float in \(0, 1\). Got 1.5"),
        ({"ci_method": "boot"}, DOSES, DOSES, r"'ci_method' .* 'delta' or 'profile'"),
        ({"max_iter": 0}, DOSES, DOSES, r"'max_iter' .* positive int"),
        ({}, DOSES, DOSES[:-1], r"same length"),
        ({}, -DOSES, DOSES, r"must be >= 0"),
        ({}, [1, 2, 3, 4], [1, 2, 3, 4], r"more than 4 observations"),
        ({}, [0, 0, 0, 1, 1, 2, 2], [1, 2, 3, 4, 5, 6, 7], r"3 or more positive dose levels"),
        ({}, DOSES, np.where(DOSES > 1, np.nan, 1.0), r"must be finite"),
        ({"weights": "1/x"}, DOSES, DOSES, r"'weights' parameter .* '1/y'"),
        ({"weights": [1.0, 2.0]}, DOSES, DOSES, r"one positive weight per observation"),
        ({"bounds": {"Z": (0, 1)}}, DOSES, DOSES, r"'bounds' parameter .* map parameter"),
        ({"bounds": {"C": (2, 1)}}, DOSES, DOSES, r"bounds\['C'\] .* low < high"),
    ],
)
def test_invalid_inputs_are_named(kwargs, dose, response, match):
    with pytest.raises(ValidationFailed, match=match):
        DoseResponseModel(**kwargs).fit(dose, response)


def test_effective_dose_percent_is_checked(ryegrass_fit):
    with pytest.raises(ValidationFailed, match=r"'percent' .* in \(0, 100\). Got 100"):
        ryegrass_fit.effective_dose(100)
