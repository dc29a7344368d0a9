"""Tier 2 quality range on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saisei.analytics.comparability import quality_range
from saisei.errors import ValidationFailed

REFERENCE = [9.0, 10.0, 11.0]  # by hand: mean 10, SD (ddof 1) 1, so 10 +/- 3 = [7, 13]


def test_range_bounds_and_count_by_hand():
    result = quality_range(REFERENCE, [10.5, 12.9, 7.1])
    assert (result.low, result.high) == (7.0, 13.0)
    assert (result.mean_reference, result.sd_reference) == (10.0, 1.0)
    assert (result.n_inside, result.n_test, result.fraction_inside) == (3, 3, 1.0)
    assert result.passed and result.outside == ()


def test_bounds_are_inclusive():
    # 7 and 13 are exactly on the range (hand computation above): inside.
    result = quality_range(REFERENCE, [7.0, 13.0])
    assert result.n_inside == 2 and result.passed


def test_ninety_percent_rule_with_ten_lots():
    inside = [10.0] * 9
    # 9 of 10 inside -> 0.9 >= 0.9: pass; the outside lot is reported by position.
    one_out = quality_range(REFERENCE, [*inside[:4], 13.5, *inside[4:]])
    assert one_out.fraction_inside == pytest.approx(0.9)
    assert one_out.passed and one_out.outside == (4,)
    # 8 of 10 inside -> 0.8 < 0.9: fail.
    two_out = quality_range(REFERENCE, [*inside[:8], 6.0, 14.0])
    assert two_out.n_inside == 8 and not two_out.passed and two_out.outside == (8, 9)


def test_with_fewer_than_ten_lots_one_outside_fails():
    # 4 of 5 inside = 0.8 < 0.9.
    assert not quality_range(REFERENCE, [10, 10, 10, 10, 20]).passed


def test_k_and_min_fraction_change_the_decision():
    # k = 2: [8, 12] by hand; 12.5 falls outside.
    narrow = quality_range(REFERENCE, [10.0, 12.5], k=2.0)
    assert (narrow.low, narrow.high) == (8.0, 12.0) and not narrow.passed
    # Requiring only half of the lots inside passes the same data.
    assert quality_range(REFERENCE, [10.0, 12.5], k=2.0, min_fraction=0.5).passed
    # min_fraction = 1 requires every lot.
    assert not quality_range(REFERENCE, [10.0, 13.5], min_fraction=1.0).passed


def test_single_test_lot_is_allowed():
    result = quality_range([1.0, 2.0, 3.0, 4.0], [2.5])
    # mean 2.5, SD sqrt(5/3): range 2.5 -/+ 3 * 1.2910 (hand computation)
    assert result.low == pytest.approx(2.5 - 3 * np.sqrt(5 / 3))
    assert result.passed


@settings(max_examples=50, deadline=None)
@given(
    reference=st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=15),
    test=st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=15),
    k=st.floats(0.5, 5.0),
)
def test_properties(reference, test, k):
    result = quality_range(reference, test, k=k)
    assert result.low <= result.high
    assert 0 <= result.n_inside <= result.n_test == len(test)
    assert len(result.outside) == result.n_test - result.n_inside
    # A wider range never holds fewer lots.
    assert quality_range(reference, test, k=k * 2).n_inside >= result.n_inside
    assert result.passed is (result.fraction_inside >= result.min_fraction)


def test_frame_and_summary():
    result = quality_range(REFERENCE, [10.0, 14.0])
    frame = result.to_frame()
    assert frame.loc[0, "n_inside"] == 1 and frame.loc[0, "outside"] == (1,)
    assert "1 of 2 test lots inside" in result.summary() and "FAIL" in result.summary()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": 0}, r"The 'k' parameter of quality_range must be a finite float > 0\. Got 0\.0"),
        ({"min_fraction": 1.5}, r"The 'min_fraction' parameter of quality_range must be a "
         r"float in \(0, 1\]\. Got 1\.5 instead\."),
        ({"min_fraction": 0}, r"must be a float in \(0, 1\]\. Got 0 instead"),
    ],
)  # fmt: skip
def test_invalid_parameters(kwargs, match):
    with pytest.raises(ValidationFailed, match=match):
        quality_range(REFERENCE, [10.0], **kwargs)


def test_empty_test_is_refused():
    with pytest.raises(ValidationFailed, match=r"The 'test' parameter of quality_range must "
                       r"hold at least 1 value\(s\)\. Got 0 instead\."):  # fmt: skip
        quality_range(REFERENCE, [])
