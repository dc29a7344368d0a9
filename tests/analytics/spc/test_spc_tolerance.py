"""Tolerance factors against ISO 16269-6, NIST e-Handbook 7.2.6.3 and Montgomery & Runger."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from saisei.analytics.spc import tolerance_factor, tolerance_interval
from saisei.errors import ValidationFailed

REFERENCE = Path(__file__).parents[2] / "reference" / "spc"
ISO = pd.read_csv(REFERENCE / "iso16269_6_two_sided.csv")
ONE_SIDED = pd.read_csv(REFERENCE / "one_sided_k.csv")


@pytest.mark.parametrize(
    "row", list(ISO.itertuples(index=False)), ids=lambda r: f"{r.table}-n{r.n}"
)
def test_two_sided_exact_matches_iso_16269_6(row: tuple) -> None:
    # ISO 16269-6:2014 Annex F prints k rounded up at the 4th decimal: k in (table - 1e-4, table].
    k = tolerance_factor(int(row.n), coverage=row.coverage, confidence=row.confidence)
    assert row.k - 1e-4 < k <= row.k + 1e-9


@pytest.mark.parametrize("row", list(ONE_SIDED.itertuples(index=False)), ids=lambda r: f"n{r.n}")
def test_one_sided_exact_matches_montgomery_runger(row: tuple) -> None:
    # Montgomery & Runger, Applied Statistics and Probability for Engineers, Table XII.
    k = tolerance_factor(int(row.n), coverage=row.coverage, confidence=row.confidence, sides=1)
    assert k == pytest.approx(row.k, abs=1e-3)


def test_nist_example_7_2_6_3() -> None:
    # NIST/SEMATECH e-Handbook 7.2.6.3: n = 43, mean 97.07, s = 0.0268, p = 0.90, gamma = 0.99:
    # k2 = 2.2173 (Howe), two-sided interval 97.0106 to 97.1294; k1 = 1.8752 (Natrella),
    # upper one-sided limit 97.1203, lower 97.0197.
    z = stats.norm.ppf((np.arange(1, 44) - 0.375) / 43.25)
    x = 97.07 + 0.0268 * (z - z.mean()) / z.std(ddof=1)
    two = tolerance_interval(x, coverage=0.90, confidence=0.99, method="howe")
    assert two.k == pytest.approx(2.2173, abs=5e-5)
    assert two.lower == pytest.approx(97.0106, abs=5e-5)
    assert two.upper == pytest.approx(97.1294, abs=5e-5)
    one = tolerance_interval(x, coverage=0.90, confidence=0.99, sides=1, method="natrella")
    assert one.k == pytest.approx(1.8752, abs=5e-5)
    assert one.upper == pytest.approx(97.1203, abs=5e-5)
    assert one.lower == pytest.approx(97.0197, abs=5e-5)


def test_exact_one_sided_is_noncentral_t() -> None:
    # Owen (1963): k1 = t'_{gamma}(n - 1, z_p sqrt(n)) / sqrt(n), from scipy directly.
    expected = stats.nct.ppf(0.99, 42, stats.norm.ppf(0.90) * np.sqrt(43)) / np.sqrt(43)
    assert tolerance_factor(43, coverage=0.90, confidence=0.99, sides=1) == pytest.approx(expected)


def test_howe_differs_from_exact_in_third_digit() -> None:
    # domain.md: exact two-sided factors differ from Howe's approximation in the 3rd digit.
    exact = tolerance_factor(10, coverage=0.95, confidence=0.95)
    howe = tolerance_factor(10, coverage=0.95, confidence=0.95, method="howe")
    assert exact == pytest.approx(3.3935, abs=1e-4)  # ISO 16269-6 Table F.5
    assert 1e-4 < abs(howe - exact) < 0.02


def test_exact_two_sided_coverage_by_simulation() -> None:
    # Defining property (Odeh & Owen 1980): with probability gamma the interval covers >= p.
    rng = np.random.default_rng(42)
    n, p, g = 12, 0.90, 0.95
    k = tolerance_factor(n, coverage=p, confidence=g)
    samples = rng.standard_normal((40_000, n))
    m, s = samples.mean(axis=1), samples.std(axis=1, ddof=1)
    covered = stats.norm.cdf(m + k * s) - stats.norm.cdf(m - k * s)
    assert np.mean(covered >= p) == pytest.approx(g, abs=0.004)


def test_result_fields_and_text() -> None:
    x = [9.8, 10.1, 10.0, 10.4, 9.7, 10.2, 9.9, 10.3]
    ti = tolerance_interval(x)
    assert ti.mean == pytest.approx(np.mean(x))
    assert ti.sd == pytest.approx(np.std(x, ddof=1))
    assert ti.lower == pytest.approx(ti.mean - ti.k * ti.sd)
    assert ti.to_frame().shape == (1, 10)
    assert "between" in ti.summary()
    assert "lower limit" in tolerance_interval(x, sides=1).summary()


def test_invalid_inputs() -> None:
    with pytest.raises(ValidationFailed, match="The 'coverage' parameter of tolerance_interval"):
        tolerance_interval([1.0, 2.0, 3.0], coverage=1.0)
    with pytest.raises(ValidationFailed, match="The 'sides' parameter of tolerance_factor"):
        tolerance_factor(10, sides=3)
    with pytest.raises(
        ValidationFailed, match=r"with sides=1 must be one of \['exact', 'natrella'\]"
    ):
        tolerance_factor(10, sides=1, method="howe")
    with pytest.raises(ValidationFailed, match="The 'n' parameter of tolerance_factor must be"):
        tolerance_factor(1)
    with pytest.raises(ValidationFailed, match="at least 2 values"):
        tolerance_interval([1.0])
