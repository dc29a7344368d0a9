"""BayesianDesignSpace against independent calculations (Peterson 2008 predictive)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from saisei.analytics.design_space import BayesianDesignSpace
from saisei.errors import NotFittedError, ValidationFailed


@pytest.fixture
def one_cqa() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(11)
    n = 25
    X = pd.DataFrame({"temp": rng.uniform(36, 38, n), "rate": rng.uniform(0.5, 2.0, n)})
    y = 80 + 2.5 * (X["temp"] - 37) - 4 * (X["rate"] - 1) ** 2 + rng.normal(0, 1.2, n)
    return X, pd.DataFrame({"viability": y})


@pytest.fixture
def three_cqas() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(5)
    n = 30
    X = pd.DataFrame({"a": rng.uniform(-1, 1, n), "b": rng.uniform(-1, 1, n)})
    cov = np.array([[1.0, 0.6, -0.3], [0.6, 1.5, 0.2], [-0.3, 0.2, 0.8]]) * 0.2
    e = rng.multivariate_normal(np.zeros(3), cov, n)
    Y = pd.DataFrame(
        {
            "y1": 1 + X["a"] + 0.5 * X["b"] + e[:, 0],
            "y2": 2 - X["a"] + e[:, 1],
            "y3": 0.5 * X["a"] * X["b"] + e[:, 2],
        }
    )
    return X, Y


@pytest.mark.parametrize("terms", ["linear", "quadratic"])
def test_one_attribute_matches_closed_form_t(one_cqa, terms: str) -> None:
    X, Y = one_cqa
    new = pd.DataFrame({"temp": [36.2, 37.0, 37.9], "rate": [0.6, 1.0, 1.9]})

    # Independent closed form: statsmodels OLS prediction, se_obs = s * sqrt(1 + h), t(n - p).
    def design(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        if terms == "quadratic":
            out["temp:rate"] = frame["temp"] * frame["rate"]
            out["temp^2"] = frame["temp"] ** 2
            out["rate^2"] = frame["rate"] ** 2
        return sm.add_constant(out, has_constant="add")

    fit = sm.OLS(Y["viability"], design(X)).fit()
    pred = fit.get_prediction(design(new))
    mean, se = pred.predicted_mean, np.sqrt(pred.se_mean**2 + fit.scale)
    low, high = 78.0, 84.0
    expected = stats.t.cdf((high - mean) / se, fit.df_resid) - stats.t.cdf(
        (low - mean) / se, fit.df_resid
    )

    ds = BayesianDesignSpace(terms, random_state=0).fit(X, Y)
    got = ds.probability(new, {"viability": (low, high)})
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert ds.dof_ == fit.df_resid
    # One-sided: the open side contributes nothing.
    one_sided = ds.probability(new, {"viability": (low, None)})
    np.testing.assert_allclose(
        one_sided, 1 - stats.t.cdf((low - mean) / se, fit.df_resid), atol=1e-6
    )


def _reference_monte_carlo(X, Y, new, specs, n=500_000, seed=123):
    """Posterior composition sampling, written independently of saisei: Sigma from the
    inverse Wishart (n - p df, scale S), B | Sigma matrix normal, then a new observation
    (Box & Tiao 1973, 8.4; Peterson 2004)."""
    M = np.column_stack([np.ones(len(X)), X.to_numpy()])
    m_new = np.column_stack([np.ones(len(new)), new.to_numpy()])
    y = Y.to_numpy()
    B_hat, *_ = np.linalg.lstsq(M, y, rcond=None)
    resid = y - M @ B_hat
    S = resid.T @ resid
    nobs, p = M.shape
    q = y.shape[1]
    rng = np.random.default_rng(seed)
    sig = stats.invwishart(df=nobs - p, scale=S).rvs(size=n, random_state=rng)
    L = np.linalg.cholesky(sig)
    V = np.linalg.inv(M.T @ M)
    out = []
    for x in m_new:
        # B'x | Sigma ~ N(B_hat'x, x'Vx Sigma); new y = B'x + e: N(B_hat'x, (1 + x'Vx) Sigma).
        c = 1 + x @ V @ x
        z = rng.standard_normal((n, q))
        ynew = x @ B_hat + np.sqrt(c) * np.einsum("nij,nj->ni", L, z)
        ok = np.ones(n, dtype=bool)
        for j, name in enumerate(Y.columns):
            lo, hi = specs.get(name, (None, None))
            if lo is not None:
                ok &= ynew[:, j] >= lo
            if hi is not None:
                ok &= ynew[:, j] <= hi
        out.append(ok.mean())
    return np.array(out)


@pytest.mark.slow
def test_several_attributes_agree_with_large_monte_carlo(three_cqas) -> None:
    X, Y = three_cqas
    new = pd.DataFrame({"a": [0.0, 0.5, -0.8], "b": [0.0, -0.5, 0.9]})
    specs = {"y1": (0.2, None), "y2": (1.0, 3.2), "y3": (None, 0.6)}
    reference = _reference_monte_carlo(X, Y, new, specs)
    ds = BayesianDesignSpace("linear", n_draws=1_000_000, random_state=7).fit(X, Y)
    # Reference MC SE <= 0.5 / sqrt(5e5) = 7e-4; agreement to the third decimal.
    np.testing.assert_allclose(ds.probability(new, specs, method="exact"), reference, atol=2e-3)
    np.testing.assert_allclose(ds.probability(new, specs), reference, atol=2.5e-3)
    assert ds.dof_ == 30 - 3 - 3 + 1


def test_posterior_of_the_probability_centres_on_the_predictive(three_cqas) -> None:
    X, Y = three_cqas
    new = pd.DataFrame({"a": [0.0], "b": [0.0]})
    specs = {"y1": (0.2, None), "y2": (1.0, 3.2)}
    ds = BayesianDesignSpace(random_state=3).fit(X, Y)
    summary = ds.probability_interval(new, specs, n_posterior=2000)
    row = summary.iloc[0]
    assert row["ci_low"] < row["probability"] < row["ci_high"]
    assert abs(row["posterior_mean"] - ds.probability(new, specs, method="exact")[0]) < 0.01


def test_tiny_measurement_sd_reproduces_the_predictive(three_cqas) -> None:
    X, Y = three_cqas
    new = pd.DataFrame({"a": [0.3, -0.4], "b": [0.1, 0.6]})
    specs = {"y1": (0.2, None), "y2": (1.0, 3.2), "y3": (None, 0.6)}
    exact = BayesianDesignSpace().fit(X, Y).probability(new, specs, method="exact")
    ds = BayesianDesignSpace(n_draws=50_000, random_state=1, measurement_sd={"y1": 1e-9})
    # Composition sampling (posterior draws) vs the closed-form multivariate t: MC SE 2.2e-3.
    np.testing.assert_allclose(ds.fit(X, Y).probability(new, specs), exact, atol=8e-3)


def test_removing_assay_error_raises_probability_inside_specs(one_cqa) -> None:
    X, Y = one_cqa
    new = pd.DataFrame({"temp": [37.0], "rate": [1.0]})
    specs = {"viability": (78.0, None)}
    with_error = BayesianDesignSpace("quadratic").fit(X, Y).probability(new, specs)[0]
    true_value = (
        BayesianDesignSpace("quadratic", random_state=0, measurement_sd={"viability": 1.0})
        .fit(X, Y)
        .probability(new, specs)[0]
    )
    assert true_value > with_error


def test_errors_are_named(one_cqa) -> None:
    X, Y = one_cqa
    with pytest.raises(NotFittedError, match="not fitted yet"):
        BayesianDesignSpace().probability(X, {"viability": (1, 2)})
    with pytest.raises(ValidationFailed, match="'terms' parameter of BayesianDesignSpace"):
        BayesianDesignSpace("cubic").fit(X, Y)
    with pytest.raises(ValidationFailed, match="'n_draws' parameter"):
        BayesianDesignSpace(n_draws=5).fit(X, Y)
    with pytest.raises(ValidationFailed, match="too few"):
        BayesianDesignSpace("quadratic").fit(X.iloc[:6], Y.iloc[:6])
    with pytest.raises(ValidationFailed, match="never vary"):
        BayesianDesignSpace().fit(X.assign(rate=1.0), Y)
    ds = BayesianDesignSpace().fit(X, Y)
    with pytest.raises(ValidationFailed, match="not fitted with"):
        ds.probability(X, {"potency": (1, None)})
    with pytest.raises(ValidationFailed, match="low < high"):
        ds.probability(X, {"viability": (5, 1)})
    with pytest.raises(ValidationFailed, match="lacks the column"):
        ds.probability(X[["temp"]], {"viability": (1, None)})
    with pytest.raises(ValidationFailed, match="missing or infinite"):
        BayesianDesignSpace().fit(X.assign(temp=np.nan), Y)
    with pytest.raises(ValidationFailed, match="'method' must be"):
        ds.probability(X, {"viability": (1, None)}, method="guess")
