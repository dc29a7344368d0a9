"""Two-sample Hotelling T2 and the PCA overlay against closed forms, statsmodels and sklearn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.decomposition import PCA
from statsmodels.stats import multivariate as sm_multivariate

from saisei.analytics.comparability import hotelling_t2, pca_overlay
from saisei.errors import ValidationFailed


def _closed_form_t2(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Johnson & Wichern (6th ed.) result 6.2, written out here: T2, F and p-value."""
    n1, n2, p = len(x), len(y), x.shape[1]
    s_pooled = ((n1 - 1) * np.cov(x.T) + (n2 - 1) * np.cov(y.T)) / (n1 + n2 - 2)
    d = y.mean(axis=0) - x.mean(axis=0)
    t2 = float(d @ np.linalg.inv(s_pooled * (1 / n1 + 1 / n2)) @ d)
    f = t2 * (n1 + n2 - p - 1) / (p * (n1 + n2 - 2))
    return t2, f, float(stats.f.sf(f, p, n1 + n2 - p - 1))


@pytest.fixture
def lots(rng):
    cov = np.array([[1.0, 0.6, 0.2], [0.6, 2.0, 0.3], [0.2, 0.3, 0.5]])
    reference = rng.multivariate_normal([10.0, 50.0, 3.0], cov, size=9)
    test = rng.multivariate_normal([10.5, 49.0, 3.2], cov, size=7)
    return reference, test


def test_hotelling_matches_closed_form_and_statsmodels(lots):
    reference, test = lots
    result = hotelling_t2(reference, test)
    t2, f, p = _closed_form_t2(reference, test)
    assert result.t2 == pytest.approx(t2, rel=1e-10)
    assert result.f_statistic == pytest.approx(f, rel=1e-10)
    assert result.pvalue == pytest.approx(p, rel=1e-9)
    assert (result.dof1, result.dof2) == (3, 9 + 7 - 3 - 1)
    # statsmodels.stats.multivariate.test_mvmean_2indep: an independent implementation.
    sm = sm_multivariate.test_mvmean_2indep(reference, test)
    assert result.t2 == pytest.approx(sm.t2, rel=1e-10)
    assert result.pvalue == pytest.approx(sm.pvalue, rel=1e-9)
    assert result.mean_difference == pytest.approx(tuple(test.mean(0) - reference.mean(0)))


def test_hotelling_with_one_attribute_is_the_squared_pooled_t(rng):
    reference, test = rng.normal(0, 1, (6, 1)), rng.normal(0.7, 1, (5, 1))
    # Closed form: for p = 1, T2 = t^2 of the pooled two-sample t-test and the p-values agree.
    t = stats.ttest_ind(test[:, 0], reference[:, 0], equal_var=True)
    result = hotelling_t2(reference, test)
    assert result.t2 == pytest.approx(t.statistic**2, rel=1e-10)
    assert result.pvalue == pytest.approx(t.pvalue, rel=1e-9)


def test_hotelling_is_invariant_to_affine_changes_of_units(lots, rng):
    reference, test = lots
    transform = rng.normal(size=(3, 3)) + 3 * np.eye(3)
    shift = np.array([100.0, -5.0, 2.0])
    moved = hotelling_t2(reference @ transform + shift, test @ transform + shift)
    assert moved.t2 == pytest.approx(hotelling_t2(reference, test).t2, rel=1e-8)


def test_hotelling_detects_a_large_shift(rng):
    reference = rng.normal(0, 1, (10, 2))
    test = rng.normal(0, 1, (10, 2)) + np.array([3.0, 0.0])
    result = hotelling_t2(reference, test)
    assert result.different and result.pvalue < 0.001
    assert "means differ" in result.summary()
    assert result.to_frame().loc[0, "dof2"] == 17


def test_hotelling_dataframes_are_matched_by_column_name(lots):
    reference, test = lots
    ref_frame = pd.DataFrame(reference, columns=["viability", "cd73", "vcn"])
    test_frame = pd.DataFrame(test, columns=["viability", "cd73", "vcn"])[
        ["vcn", "viability", "cd73"]
    ]
    result = hotelling_t2(ref_frame, test_frame)
    assert result.feature_names == ("viability", "cd73", "vcn")
    assert result.t2 == pytest.approx(_closed_form_t2(reference, test)[0], rel=1e-10)


@pytest.mark.parametrize(
    ("reference", "test", "match"),
    [
        (np.ones((2, 3)), np.ones((2, 3)), r"hotelling_t2 needs more lots than attributes: "
         r"n_reference \+ n_test - n_features - 1 must be >= 1\. Got 2 \+ 2 - 3 - 1 = 0"),
        (np.column_stack([np.arange(6.0), 2 * np.arange(6.0)]),
         np.column_stack([np.arange(4.0), 2 * np.arange(4.0)]), r"pooled covariance .* is "
         r"singular"),
        (np.ones((4, 2)), np.ones((4, 3)), r"must have the same number of attributes"),
        (np.ones(4), np.ones((4, 3)), r"The 'reference' parameter of hotelling_t2 must be 2-D"),
    ],
)  # fmt: skip
def test_hotelling_refuses_unusable_data(reference, test, match):
    with pytest.raises(ValidationFailed, match=match):
        hotelling_t2(reference, test)


def test_hotelling_missing_column_is_named():
    ref = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, 0.0, 2.0]})
    with pytest.raises(ValidationFailed, match=r"Got no column\(s\) \['b'\]"):
        hotelling_t2(ref, ref[["a"]])


def _sklearn_scores(fit: np.ndarray, every: np.ndarray, k: int):
    """Reference implementation: sklearn PCA on data autoscaled with the fitted lots' SD."""
    center, scale = fit.mean(axis=0), fit.std(axis=0, ddof=1)
    model = PCA(n_components=k).fit((fit - center) / scale)
    return model, model.transform((every - center) / scale)


@pytest.mark.parametrize("fit_on", ["reference", "pooled"])
def test_pca_overlay_matches_sklearn(lots, fit_on):
    reference, test = lots
    every = np.vstack([reference, test])
    overlay = pca_overlay(reference, test, n_components=2, fit_on=fit_on)
    model, scores = _sklearn_scores(reference if fit_on == "reference" else every, every, 2)
    # Component signs are arbitrary: compare after aligning each column's sign.
    signs = np.sign(np.sum(overlay.scores * scores, axis=0))
    np.testing.assert_allclose(overlay.scores, scores * signs, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(overlay.eigenvalues, model.explained_variance_, rtol=1e-9)
    np.testing.assert_allclose(
        overlay.explained_variance_ratio, model.explained_variance_ratio_, rtol=1e-9
    )
    np.testing.assert_allclose(
        overlay.t2, np.sum(scores**2 / model.explained_variance_, axis=1), rtol=1e-9
    )
    assert overlay.group == ("reference",) * 9 + ("test",) * 7
    assert overlay.fit_on == fit_on


def test_pca_t2_limit_is_the_phase_two_formula(lots):
    reference, test = lots
    overlay = pca_overlay(reference, test, n_components=2, alpha=0.01)
    # domain.md / Tracy, Young & Mason (1992): A (n^2 - 1) / (n (n - A)) F(1 - alpha; A, n - A)
    n, a = 9, 2
    expected = a * (n**2 - 1) / (n * (n - a)) * stats.f.ppf(0.99, a, n - a)
    assert overlay.t2_limit == pytest.approx(expected, rel=1e-12)


def test_pca_loadings_are_unit_length_with_deterministic_signs(lots):
    overlay = pca_overlay(*lots, n_components=2)
    np.testing.assert_allclose(np.linalg.norm(overlay.loadings, axis=0), 1.0, rtol=1e-12)
    top = overlay.loadings[np.argmax(np.abs(overlay.loadings), axis=0), [0, 1]]
    assert np.all(top > 0)


def test_pca_frame_and_lot_labels(lots):
    reference, test = lots
    ref = pd.DataFrame(reference, columns=["a", "b", "c"], index=[f"R{i}" for i in range(9)])
    new = pd.DataFrame(test, columns=["a", "b", "c"], index=[f"T{i}" for i in range(7)])
    frame = pca_overlay(ref, new).to_frame()
    assert list(frame.columns) == ["lot", "group", "PC1", "PC2", "t2"]
    assert frame["lot"].iloc[0] == "R0" and frame["lot"].iloc[-1] == "T6"
    assert "test lots beyond the T2 limit" in pca_overlay(ref, new).summary()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_components": 4}, r"The 'n_components' parameter of pca_overlay must be <= "
         r"min\(n_fitted_lots - 1, n_features\) = 3\. Got 4 instead\."),
        ({"fit_on": "test"}, r"The 'fit_on' parameter of pca_overlay must be one of "
         r"'reference', 'pooled'\. Got 'test' instead\."),
        ({"n_components": 0}, r"must be an integer >= 1\. Got 0 instead"),
    ],
)  # fmt: skip
def test_pca_refuses_bad_parameters(lots, kwargs, match):
    with pytest.raises(ValidationFailed, match=match):
        pca_overlay(*lots, **kwargs)


def test_pca_refuses_constant_attribute():
    ref = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [5.0, 5.0, 5.0]})
    with pytest.raises(ValidationFailed, match=r"Got constant attribute\(s\) \['b'\]"):
        pca_overlay(ref, ref, n_components=1)
