"""PLSMonitor: agreement with scikit-learn's PLSRegression, R2/Q2/VIP, missing data."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression

from saisei.analytics.mvda import PLSMonitor
from saisei.errors import ValidationFailed


def _regression_data(rng, n=200, k=10, m=3, noise=0.3):
    X = rng.normal(size=(n, k)) @ rng.normal(size=(k, k)) + rng.normal(scale=4, size=k)
    B = np.zeros((k, m))
    B[:4] = rng.normal(size=(4, m))
    Y = X @ B + noise * rng.normal(size=(n, m)) + 10
    return X, Y


@pytest.mark.parametrize("m", [1, 3])
def test_complete_data_equals_sklearn_pls_regression(rng, m):
    X, Y = _regression_data(rng, m=m)
    y = Y[:, 0] if m == 1 else Y
    ours = PLSMonitor(n_components=4).fit(X, y)
    # The reference is sklearn's NIPALS run to convergence (its default tol=1e-6 stops the
    # power iteration early for several responses; for one response it is exact).
    ref = PLSRegression(n_components=4, tol=1e-30, max_iter=100_000).fit(X, y)
    s = np.sign(np.sum(ours.x_weights_ * ref.x_weights_, axis=0))
    for name in ("x_weights_", "x_loadings_", "x_rotations_"):
        np.testing.assert_allclose(getattr(ours, name) * s, getattr(ref, name), atol=1e-8)
    np.testing.assert_allclose(ours.y_loadings_ * s, ref.y_loadings_, atol=1e-8)
    np.testing.assert_allclose(ours.transform(X) * s, ref.transform(X), atol=1e-8)
    np.testing.assert_allclose(ours.x_scores_ * s, ref.transform(X), atol=1e-8)
    np.testing.assert_allclose(ours.y_scores_ * s, ref._y_scores, atol=1e-8)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-8)


def test_r2_and_vip_against_independent_formulas(rng):
    X, Y = _regression_data(rng, m=2)
    model = PLSMonitor(n_components=3).fit(X, Y)
    ref = PLSRegression(n_components=3, tol=1e-30, max_iter=100_000).fit(X, Y)
    Ys = (Y - Y.mean(axis=0)) / Y.std(axis=0, ddof=1)
    Xs = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)
    fitted_y = (ref.predict(X) - Y.mean(axis=0)) / Y.std(axis=0, ddof=1)
    assert model.r2y_cum_[-1] == pytest.approx(1 - np.sum((Ys - fitted_y) ** 2) / np.sum(Ys**2))
    T, P = ref.transform(X), ref.x_loadings_
    assert model.r2x_cum_[-1] == pytest.approx(1 - np.sum((Xs - T @ P.T) ** 2) / np.sum(Xs**2))
    # VIP (Wold, Johansson & Cocchi 1993), from sklearn's weights and scores.
    ssy = np.sum(T**2, axis=0) * np.sum(ref.y_loadings_**2, axis=0)
    w = ref.x_weights_ / np.linalg.norm(ref.x_weights_, axis=0)
    vip = np.sqrt(X.shape[1] * (w**2 @ ssy) / ssy.sum())
    np.testing.assert_allclose(model.vip_, vip, rtol=1e-8)
    assert np.mean(model.vip_**2) == pytest.approx(1.0)


def test_q2_is_cross_validated_and_selects_components(rng):
    X, Y = _regression_data(rng, n=300, m=1, noise=0.5)
    model = PLSMonitor().fit(X, Y[:, 0])
    assert 1 <= model.n_components_ <= 6
    assert model.q2_[model.n_components_ - 1] > 0
    if model.q2_.size > model.n_components_:
        assert model.q2_[model.n_components_] <= 0
    assert np.all(model.q2_cum_[: model.n_components_] <= model.r2y_cum_[-1] + 1e-9)
    fixed = PLSMonitor(n_components=2, cv_folds=None).fit(X, Y[:, 0])
    assert fixed.q2_ is None


def test_missing_values_in_x_and_y(rng):
    X, Y = _regression_data(rng, n=400, m=2, noise=0.3)
    complete = PLSMonitor(n_components=4).fit(X, Y)
    Xm, Ym = X.copy(), Y.copy()
    Xm[rng.random(X.shape) < 0.1] = np.nan
    Ym[rng.random(Y.shape) < 0.1] = np.nan
    holed = PLSMonitor(n_components=4).fit(Xm, Ym)
    assert holed.score(X, Y) > complete.score(X, Y) - 0.05
    # Rows with missing X are projected by TSR; predictions stay close.
    pred = holed.predict(Xm)
    assert np.all(np.isfinite(pred))
    assert np.corrcoef(pred[:, 0], Y[:, 0])[0, 1] > 0.9


def test_tsr_of_complete_rows_is_x_times_rotation(rng):
    X, Y = _regression_data(rng)
    model = PLSMonitor(n_components=3).fit(X, Y)
    np.testing.assert_allclose(
        model.transform(X), (X - model.mean_) / model.scale_ @ model.x_rotations_, atol=1e-10
    )


def test_monitoring_statistics_of_pls(rng):
    X, Y = _regression_data(rng, n=500)
    model = PLSMonitor(n_components=3).fit(X, Y)
    result = model.diagnose(X)
    np.testing.assert_allclose(result.t2_contributions.sum(axis=1), result.t2, rtol=1e-8)
    np.testing.assert_allclose(result.spe, model.spe_train_, rtol=1e-8, atol=1e-10)
    assert result.alarm.mean() < 0.05


def test_pickle_and_errors(rng):
    X, Y = _regression_data(rng)
    model = PLSMonitor(n_components=2).fit(X, Y)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    with pytest.raises(ValidationFailed, match="one row of y per row of X"):
        PLSMonitor(2).fit(X, Y[:-1])
    with pytest.raises(ValidationFailed, match="'cv_folds' must be an int >= 2"):
        PLSMonitor(cv_folds=None).fit(X, Y)
    with pytest.raises(ValidationFailed, match="a column is entirely missing"):
        PLSMonitor(2).fit(X, np.full(len(X), np.nan))
