"""Designs against pyDOE3 and the NIST/SEMATECH e-Handbook design tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from saisei.analytics.doe import Factor, analyse_effects, make_design
from saisei.errors import ValidationFailed

FACTORS = [
    {"name": "temperature", "low": 36.0, "high": 38.0, "unit": "degC"},
    {"name": "agitation", "low": 60.0, "high": 80.0, "unit": "rpm"},
    {"name": "seeding_density", "low": 2000.0, "high": 4000.0},
]


def _rows(a: np.ndarray) -> list[tuple[float, ...]]:
    return sorted(tuple(np.round(r, 3)) for r in a)


def test_ccd_matches_nist_table_for_two_factors() -> None:
    # NIST e-Handbook 5.3.3.6.1, CCC design for 2 factors: factorial points (+-1, +-1),
    # axial points at alpha = 1.414, and a centre point.
    d = make_design("ccd", FACTORS[:2], center_points=1, randomize=False)
    expected = [
        (-1, -1),
        (1, -1),
        (-1, 1),
        (1, 1),
        (-1.414, 0),
        (1.414, 0),
        (0, -1.414),
        (0, 1.414),
        (0, 0),
    ]
    assert _rows(d.coded.to_numpy()) == sorted(expected)
    assert d.info["alpha"] == pytest.approx(2**0.5)
    # Actual levels: centre 37 C / 70 rpm, axial temperature 37 +- 1.414 C.
    assert d.runs["temperature"].max() == pytest.approx(37 + 2**0.5)


def test_face_centred_ccd_stays_in_the_cube() -> None:
    d = make_design("ccd", FACTORS, center_points=2, face="faced", randomize=False)
    assert np.abs(d.coded.to_numpy()).max() == 1
    assert len(d.runs) == 8 + 6 + 2


def test_box_behnken_matches_nist_table_for_three_factors() -> None:
    # NIST e-Handbook 5.3.3.6.2, Box-Behnken design for 3 factors: the 12 edge midpoints
    # (+-1, +-1, 0), (+-1, 0, +-1), (0, +-1, +-1) and 3 centre points.
    d = make_design("box-behnken", FACTORS, center_points=3, randomize=False)
    edges = [(a, b, 0) for a in (-1, 1) for b in (-1, 1)]
    edges += [(a, 0, b) for a in (-1, 1) for b in (-1, 1)]
    edges += [(0, a, b) for a in (-1, 1) for b in (-1, 1)]
    assert _rows(d.coded.to_numpy()) == sorted(edges + [(0, 0, 0)] * 3)


def test_fractional_factorial_resolution_and_generators() -> None:
    # NIST e-Handbook 5.3.3.4.4: a 2^(5-2) design is resolution III (e.g. D = AB, E = AC);
    # 2^(4-1) with D = ABC is resolution IV.
    five = [{"name": n, "low": 0, "high": 1} for n in "pqrst"]
    d = make_design("fractional-factorial", five, resolution=3, randomize=False)
    assert len(d.runs) == 8 and d.resolution == 3
    assert len(d.generators) == 2
    four = [{"name": n, "low": 0, "high": 1} for n in "pqrs"]
    d4 = make_design("fractional-factorial", four, resolution=4, randomize=False)
    assert len(d4.runs) == 8 and d4.resolution == 4 and d4.generators == ("d = abc",)
    coded = d4.coded.to_numpy()
    assert np.array_equal(coded[:, 3], coded[:, 0] * coded[:, 1] * coded[:, 2])


def test_full_factorial_with_centre_points_and_blocks() -> None:
    d = make_design("full-factorial", FACTORS, center_points=2, blocks=2, seed=4)
    assert len(d.runs) == 10
    assert d.runs["centre_point"].sum() == 2
    assert sorted(d.runs["block"].unique()) == [1, 2]
    # Randomised within blocks: blocks are run one after the other.
    assert d.runs["block"].is_monotonic_increasing
    assert sorted(d.runs["std_order"]) == list(range(1, 11))
    again = make_design("full-factorial", FACTORS, center_points=2, blocks=2, seed=4)
    pd.testing.assert_frame_equal(d.runs, again.runs)


def test_d_optimal_respects_the_constraint() -> None:
    def allowed(x: pd.DataFrame) -> np.ndarray:
        # e.g. high temperature and high agitation together stress the cells.
        return ~((x["temperature"] > 37.5) & (x["agitation"] > 75))

    d = make_design("d-optimal", FACTORS, n_runs=14, model="quadratic", constraint=allowed, seed=1)
    assert len(d.runs) == 14
    assert allowed(d.runs).all()
    assert 0 < d.info["d_efficiency"] <= 100 + 1e-9
    # A quadratic model in 3 factors is estimable from the design (full column rank).
    c = d.coded.to_numpy()
    X = np.column_stack(
        [np.ones(len(c)), c, c**2, c[:, 0] * c[:, 1], c[:, 0] * c[:, 2], c[:, 1] * c[:, 2]]
    )
    assert np.linalg.matrix_rank(X) == 10


def test_effects_and_anova_follow_the_two_level_closed_form() -> None:
    d = make_design("full-factorial", FACTORS, randomize=False)
    c = d.coded
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.5, len(c))
    y = 10 + 3 * c["temperature"] - 1 * c["agitation"] + 0.5 * c["temperature"] * c["agitation"]
    y = y + noise
    res = analyse_effects(pd.concat([c, c]), np.concatenate([y, y + noise[::-1]]), name="vcd")
    # Effect of a two-level factor = mean(high) - mean(low) (Box, Hunter & Hunter 2005, 5.6).
    yy = np.concatenate([y, y + noise[::-1]])
    cc = pd.concat([c, c])
    for term in ("temperature", "agitation"):
        expected = yy[cc[term].to_numpy() > 0].mean() - yy[cc[term].to_numpy() < 0].mean()
        assert res.effects.loc[term, "effect"] == pytest.approx(expected)
        # SS of a two-level effect = N * effect^2 / 4.
        assert res.anova.loc[term, "sum_sq"] == pytest.approx(len(yy) * expected**2 / 4)
    assert res.effects.loc["temperature", "p_value"] < 0.001
    assert res.residual_df == 16 - 7


def test_errors() -> None:
    with pytest.raises(ValidationFailed, match="must have low < high"):
        Factor("t", 2, 1)
    with pytest.raises(ValidationFailed, match="resolution of at least 3"):
        make_design("fractional-factorial", FACTORS)
    with pytest.raises(ValidationFailed, match="at least 3 factors"):
        make_design("box-behnken", FACTORS[:2])
    with pytest.raises(ValidationFailed, match="design must be one of"):
        make_design("latin", FACTORS)
    with pytest.raises(ValidationFailed, match="needs at least 10 runs"):
        make_design("d-optimal", FACTORS, n_runs=5)
    with pytest.raises(ValidationFailed, match="unique"):
        make_design("ccd", [FACTORS[0], FACTORS[0]])
