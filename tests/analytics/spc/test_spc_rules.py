"""Run rules: each rule fires on its own sequence and on no other rule's sequence."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saisei.analytics.spc import RULE_NAMES, RuleSet, run_rules
from saisei.errors import ValidationFailed

# Sequences in sigma units (center 0, sigma 1), each built to trigger exactly one Nelson rule
# (Nelson 1984, J. Qual. Technol. 16(4)), with the index where the pattern completes.
SEQUENCES: dict[int, tuple[list[float], list[int]]] = {
    1: ([0.5, -0.5, 0.5, 3.5, 0.5, -0.5], [3]),
    2: ([0.5, 0.3, 0.6, 0.2, 0.4, 0.7, 0.1, 0.5, 0.3], [8]),
    3: ([-0.5, -0.3, -0.1, 0.1, 0.3, 0.5], [5]),
    4: ([0.5, -0.5] * 7, [13]),
    5: ([0.0, 2.5, 0.5, 2.5, 0.0], [3]),
    6: ([0.0, 1.5, 1.5, 0.5, 1.5, 1.5, 0.0], [5]),
    7: (
        [0.5, 0.3, -0.2, -0.4, 0.1, 0.6, -0.3, -0.1, 0.2, 0.4, -0.5, -0.2, 0.3, 0.1, -0.6],
        [14],
    ),
    8: ([1.5, 1.2, -1.5, -1.2, 1.5, -1.5, 1.2, -1.2], [7]),
}


@pytest.mark.parametrize("rule", sorted(SEQUENCES))
def test_rule_fires_on_its_sequence_only(rule: int) -> None:
    seq, where = SEQUENCES[rule]
    result = run_rules(seq, center=0.0, sigma=1.0, rules="nelson")
    assert result.indices(rule).tolist() == where
    fired_rules = {v.rule for v in result.violations}
    assert fired_rules == {rule}


@pytest.mark.parametrize("rule", sorted(SEQUENCES))
def test_sequence_with_scaled_units(rule: int) -> None:
    # Same sequences in data units: x = 100 + 2.5 z.
    seq, where = SEQUENCES[rule]
    result = run_rules(100 + 2.5 * np.asarray(seq), center=100.0, sigma=2.5)
    assert result.indices(rule).tolist() == where


def test_western_electric_uses_eight_in_a_row() -> None:
    # Western Electric Handbook (1956): 8 successive points on one side; Nelson: 9.
    seq = [0.5, 0.3, 0.6, 0.2, 0.4, 0.7, 0.1, 0.5]
    assert run_rules(seq, center=0, sigma=1, rules="we").indices(2).tolist() == [7]
    assert run_rules(seq, center=0, sigma=1, rules="nelson").indices(2).tolist() == []


def test_western_electric_preset_has_four_zone_rules() -> None:
    we = RuleSet.western_electric()
    assert we.enabled == frozenset({1, 2, 5, 6})
    # The trend sequence fires nothing under Western Electric.
    assert not run_rules(SEQUENCES[3][0], center=0, sigma=1, rules="we").any.any()


def test_rules_can_be_switched_off_and_on() -> None:
    seq = SEQUENCES[3][0]
    assert run_rules(seq, center=0, sigma=1, rules=RuleSet.nelson().without(3)).violations == ()
    only3 = run_rules(seq, center=0, sigma=1, rules=[3])
    assert only3.rules.enabled == frozenset({3})
    assert only3.indices(3).tolist() == [5]
    assert RuleSet.western_electric().with_rules(3).enabled == frozenset({1, 2, 3, 5, 6})


def test_long_run_fires_at_every_point_after_completion() -> None:
    result = run_rules([0.5] * 11, center=0, sigma=1)
    assert result.indices(2).tolist() == [8, 9, 10]


def test_point_on_center_line_breaks_a_run() -> None:
    seq = [0.5] * 4 + [0.0] + [0.5] * 8
    assert run_rules(seq, center=0, sigma=1).indices(2).tolist() == []


def test_point_on_limit_is_not_beyond() -> None:
    assert run_rules([3.0, -3.0, 3.0001], center=0, sigma=1).indices(1).tolist() == [2]


def test_tie_breaks_a_trend() -> None:
    seq = [0.1, 0.2, 0.3, 0.3, 0.4, 0.5, 0.6]
    assert run_rules(seq, center=0, sigma=1).indices(3).tolist() == []


def test_k_of_m_flags_only_points_that_take_part() -> None:
    # Window [2.5, 2.5, 0.5] satisfies "2 of 3" but its last point is not beyond 2 sigma.
    result = run_rules([0.0, 2.5, 2.5, 0.5], center=0, sigma=1)
    assert result.indices(5).tolist() == [2]


def test_opposite_sides_do_not_count_together() -> None:
    assert run_rules([2.5, -2.5, 2.1 - 4.2], center=0, sigma=1).indices(5).tolist() == [2]
    assert run_rules([2.5, -2.5, 0.0], center=0, sigma=1).indices(5).tolist() == []


def test_nan_breaks_runs() -> None:
    seq = [0.5] * 5 + [np.nan] + [0.5] * 5
    assert run_rules(seq, center=0, sigma=1).indices(2).tolist() == []


def test_per_point_sigma() -> None:
    # Variable sigma (p chart with unequal n): 0.3 is beyond 3 sigma only where sigma = 0.05.
    result = run_rules([0.3, 0.3], center=0.0, sigma=[0.2, 0.05])
    assert result.indices(1).tolist() == [1]


def test_result_frame_and_summary() -> None:
    result = run_rules(SEQUENCES[1][0], center=0, sigma=1)
    frame = result.to_frame()
    assert frame.to_dict("records") == [{"index": 3, "rule": 1, "name": RULE_NAMES[1]}]
    assert "rule 1 beyond_3_sigma: 3" in result.summary()


def test_invalid_inputs() -> None:
    with pytest.raises(ValidationFailed, match="The 'rules' parameter of run_rules must be"):
        run_rules([0, 1], center=0, sigma=1, rules="shewhart")
    with pytest.raises(
        ValidationFailed, match="The 'sigma' parameter of run_rules must be positive"
    ):
        run_rules([0, 1], center=0, sigma=0)
    with pytest.raises(ValidationFailed, match="must be a 1-D array"):
        run_rules([[0, 1]], center=0, sigma=1)
    with pytest.raises(ValidationFailed, match="must be scalars or arrays of the same length"):
        run_rules([0, 1, 2], center=[0, 1], sigma=1)
    with pytest.raises(ValidationFailed, match="must hold rule numbers 1 to 8"):
        RuleSet(enabled=frozenset({9}))
    with pytest.raises(ValidationFailed, match="The 'same_side_run' parameter of RuleSet"):
        RuleSet(same_side_run=1)
    with pytest.raises(ValidationFailed, match=r"The 'rule' parameter of RunRulesResult\.indices"):
        run_rules([0, 1], center=0, sigma=1).indices(9)


# Independent reference: a plain per-point loop written from Nelson's wording and the
# conventions in docs/spc.md.
def _naive(z: list[float]) -> np.ndarray:
    m = len(z)
    out = np.zeros((m, 8), dtype=bool)
    for i in range(m):
        out[i, 0] = abs(z[i]) > 3
        if i >= 8:
            w = z[i - 8 : i + 1]
            out[i, 1] = all(v > 0 for v in w) or all(v < 0 for v in w)
        if i >= 5:
            w = z[i - 5 : i + 1]
            d = [b - a for a, b in itertools.pairwise(w)]
            out[i, 2] = all(v > 0 for v in d) or all(v < 0 for v in d)
        if i >= 13:
            w = z[i - 13 : i + 1]
            d = [b - a for a, b in itertools.pairwise(w)]
            out[i, 3] = all(d[j] * d[j + 1] < 0 for j in range(len(d) - 1))
        for col, k, span, thr in ((4, 2, 3, 2.0), (5, 4, 5, 1.0)):
            w = z[max(0, i - span + 1) : i + 1]
            up = z[i] > thr and sum(v > thr for v in w) >= k
            down = z[i] < -thr and sum(v < -thr for v in w) >= k
            out[i, col] = up or down
        if i >= 14:
            out[i, 6] = all(abs(v) < 1 for v in z[i - 14 : i + 1])
        if i >= 7:
            out[i, 7] = all(abs(v) > 1 for v in z[i - 7 : i + 1])
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-7, 7).map(lambda v: v / 2.0), min_size=1, max_size=60))
def test_vectorised_rules_match_naive_loop(values: list[float]) -> None:
    # Half-sigma steps produce ties, points on the center line and on the 1, 2, 3 sigma lines.
    result = run_rules(values, center=0.0, sigma=1.0)
    np.testing.assert_array_equal(result.fired, _naive(values))
