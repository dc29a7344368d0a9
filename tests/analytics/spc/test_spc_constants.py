"""Chart constants computed from their definitions against the published table."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from saisei.analytics.spc import chart_constants, constants_table
from saisei.errors import ValidationFailed

REFERENCE = Path(__file__).parents[2] / "reference" / "spc" / "chart_constants.csv"
# Decimals printed in Montgomery Appendix VI (d3: ASTM E2587 Table 2).
DECIMALS = {
    "A2": 3,
    "A3": 3,
    "c4": 4,
    "B3": 3,
    "B4": 3,
    "d2": 3,
    "d3": 4,
    "D3": 3,
    "D4": 3,
    "E2": 3,
}


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    return pd.read_csv(REFERENCE, dtype={"n": int}).set_index("n")


@pytest.mark.parametrize("column", sorted(DECIMALS))
def test_constants_match_published_table(published: pd.DataFrame, column: str) -> None:
    # Montgomery, Introduction to SQC (6th ed.), Appendix VI; ASTM E2587 Table 2 (d3, E2).
    # 1.5 units in the last printed decimal: the table rounds, and some entries were computed
    # from rounded d2/d3 (D4 at n = 3 is printed 2.574; the exact value is 2.5746).
    computed = constants_table(25)
    tol = 1.5 * 10.0 ** -DECIMALS[column]
    diff = (computed[column] - published[column]).abs()
    assert diff.max() <= tol, diff[diff > tol]


def test_d2_n2_closed_form() -> None:
    # E|X1 - X2| = 2 / sqrt(pi) for standard normals (closed form).
    assert chart_constants(2).d2 == pytest.approx(2 / math.sqrt(math.pi), abs=1e-10)


def test_d3_n2_closed_form() -> None:
    # |X1 - X2| ~ half-normal with scale sqrt(2): var = 2 (1 - 2/pi) (closed form).
    assert chart_constants(2).d3 == pytest.approx(math.sqrt(2 * (1 - 2 / math.pi)), abs=1e-8)


def test_d2_d3_against_monte_carlo() -> None:
    # Independent check by simulation of ranges of n = 5 standard normals.
    rng = np.random.default_rng(20240501)
    ranges = np.ptp(rng.standard_normal((400_000, 5)), axis=1)
    c = chart_constants(5)
    assert c.d2 == pytest.approx(ranges.mean(), abs=4e-3)
    assert c.d3 == pytest.approx(ranges.std(), abs=4e-3)


def test_c4_matches_chi_distribution_mean() -> None:
    # E[s / sigma] = E[chi_{n-1}] / sqrt(n - 1), from scipy's chi distribution.
    for n in (2, 7, 25):
        expected = stats.chi(n - 1).mean() / math.sqrt(n - 1)
        assert chart_constants(n).c4 == pytest.approx(expected, rel=1e-12)


def test_derived_factors_identities() -> None:
    # A2 R-bar = 3 sigma / sqrt(n) with R-bar = d2 sigma; D4 R-bar = (d2 + 3 d3) sigma.
    c = chart_constants(6)
    assert c.A2 * c.d2 == pytest.approx(3 / math.sqrt(6))
    assert c.D4 * c.d2 == pytest.approx(c.D2)
    assert c.B4 * c.c4 == pytest.approx(c.B6)


@pytest.mark.parametrize("bad", [1, 101, 2.5, True, "5"])
def test_invalid_subgroup_size_rejected(bad: object) -> None:
    with pytest.raises(ValidationFailed, match=r"The 'n' parameter of chart_constants must be"):
        chart_constants(bad)  # type: ignore[arg-type]
