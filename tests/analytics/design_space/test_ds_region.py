"""Design-space regions, the largest operable box and proven acceptable ranges."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from saisei.analytics.design_space import BayesianDesignSpace, largest_box
from saisei.errors import ValidationFailed


def test_largest_box_two_dimensions() -> None:
    mask = np.array(
        [
            [0, 1, 1, 0, 0],
            [0, 1, 1, 1, 1],
            [1, 1, 1, 1, 1],
            [0, 0, 1, 1, 0],
        ],
        dtype=bool,
    )
    # By hand: rows 1-2 x columns 1-4 is the largest all-True rectangle (8 cells).
    assert largest_box(mask, np.zeros(mask.shape)) == ((1, 2), (1, 4))
    assert largest_box(np.array([0, 1, 1, 0, 1, 1, 1], bool), np.zeros(7)) == ((4, 6),)
    assert largest_box(np.zeros((3, 3), bool), np.zeros((3, 3))) is None


def test_largest_box_three_dimensions_grows_inside_the_mask() -> None:
    mask = np.zeros((5, 5, 5), bool)
    mask[1:4, 0:5, 2:5] = True
    score = np.zeros(mask.shape)
    score[2, 2, 3] = 1
    assert largest_box(mask, score) == ((1, 3), (0, 4), (2, 4))


@pytest.fixture
def linear_model() -> tuple[BayesianDesignSpace, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(2)
    n = 40
    X = pd.DataFrame({"x": rng.uniform(0, 10, n), "z": rng.uniform(0, 1, n)})
    Y = pd.DataFrame({"y": 10 - 0.8 * X["x"] + rng.normal(0, 0.5, n)})
    return BayesianDesignSpace(random_state=0).fit(X, Y), X, Y


def test_par_ends_where_the_closed_form_probability_crosses_the_reliability(linear_model) -> None:
    ds, X, Y = linear_model
    spec = {"y": (4.0, None)}
    pars = ds.proven_acceptable_ranges(
        spec, reliability=0.9, target={"x": 3.0, "z": 0.5}, points=2001
    )
    row = pars.set_index("parameter").loc["x"]

    # Independent: OLS prediction t-probability as a function of x, root at 0.9.
    M = np.column_stack([np.ones(len(X)), X.to_numpy()])
    beta, *_ = np.linalg.lstsq(M, Y["y"].to_numpy(), rcond=None)
    resid = Y["y"].to_numpy() - M @ beta
    dof = len(X) - 3
    s2 = resid @ resid / dof
    V = np.linalg.inv(M.T @ M)

    def prob(x: float) -> float:
        m = np.array([1.0, x, 0.5])
        se = np.sqrt(s2 * (1 + m @ V @ m))
        return float(1 - stats.t.cdf((4.0 - m @ beta) / se, dof))

    edge = optimize.brentq(lambda x: prob(x) - 0.9, 3.0, X["x"].max())
    step = (X["x"].max() - X["x"].min()) / 2000
    assert row["high"] == pytest.approx(edge, abs=step)
    assert row["low"] == pytest.approx(X["x"].min())
    assert bool(row["open_low"]) and not bool(row["open_high"])
    # z has no effect: its PAR is the whole searched range.
    zrow = pars.set_index("parameter").loc["z"]
    assert bool(zrow["open_low"]) and bool(zrow["open_high"])


def test_region_box_lies_inside_the_design_space(linear_model) -> None:
    ds, _, _ = linear_model
    region = ds.region({"y": (4.0, None)}, reliability=0.9, points=30)
    assert region.varied == ("x", "z")
    inside = region.grid[region.grid["inside"]]
    assert region.box is not None
    xlo, xhi = region.box["x"]
    # The boundary runs across z (no effect): the box spans every z and x up to the edge.
    assert region.box["z"] == pytest.approx(region.grid["z"].agg(["min", "max"]).tolist())
    assert xhi == pytest.approx(inside["x"].max())
    assert region.box_probability_min >= 0.9
    assert 0 < region.fraction_inside < 1
    assert region.probability_array().shape == (30, 30)
    assert region.to_dict()["box"]["x"] == [xlo, xhi]


def test_region_errors(linear_model) -> None:
    ds, _, _ = linear_model
    with pytest.raises(ValidationFailed, match="'reliability' must be a probability"):
        ds.region({"y": (4.0, None)}, reliability=1.5)
    with pytest.raises(ValidationFailed, match="not a parameter of the model"):
        ds.region({"y": (4.0, None)}, ranges={"w": (0, 1)})
    with pytest.raises(ValidationFailed, match="low < high"):
        ds.region({"y": (4.0, None)}, ranges={"x": (3, 1)})
    with pytest.raises(ValidationFailed, match="grid 'points'"):
        ds.region({"y": (4.0, None)}, points=1)
