"""LTTB downsampling against a hand-worked example and its invariants."""

from __future__ import annotations

import numpy as np
import pytest

from saisei.analytics.downsample import lttb, lttb_indices
from saisei.errors import ValidationFailed


def test_hand_worked_example() -> None:
    # Worked by hand with Steinarsson (2013), algorithm 4.2, n = 7 points kept to 4:
    # every = (7 - 2) / (4 - 2) = 2.5; buckets {1, 2} and {3, 4, 5}; last point 6.
    # Bucket 1: a = (0, 0), next-bucket mean = (4, -5/3);
    #   2*area(1) = |(0-4)(5-0) - (0-1)(-5/3-0)| = |-20 - 5/3| = 21.67,
    #   2*area(2) = |(0-4)(0-0) - (0-2)(-5/3-0)| = 3.33  -> keep 1.
    # Bucket 2: a = (1, 5), next = (6, 0);
    #   2*area(3) = |(1-6)(0-5) - (1-3)(0-5)| = 15, 2*area(4) = |25 - 15| = 10,
    #   2*area(5) = |(1-6)(-5-5) - (1-5)(0-5)| = |50 - 20| = 30 -> keep 5.
    x = np.arange(7.0)
    y = np.array([0.0, 5.0, 0.0, 0.0, 0.0, -5.0, 0.0])
    assert lttb_indices(x, y, 4).tolist() == [0, 1, 5, 6]
    kept_x, kept_y = lttb(x, y, 4)
    assert kept_x.tolist() == [0.0, 1.0, 5.0, 6.0]
    assert kept_y.tolist() == [0.0, 5.0, -5.0, 0.0]


def test_short_series_are_returned_whole() -> None:
    x = np.arange(5.0)
    assert lttb_indices(x, x**2, 10).tolist() == [0, 1, 2, 3, 4]


def test_a_single_spike_in_a_long_flat_series_survives() -> None:
    x = np.arange(200_000, dtype=float)
    y = np.zeros_like(x)
    y[123_457] = 40.0
    index = lttb_indices(x, y, 500)
    assert index.size == 500
    assert 123_457 in index
    assert index[0] == 0 and index[-1] == x.size - 1
    assert np.all(np.diff(index) > 0)


@pytest.mark.parametrize("n_out", [2, 0, 2.5])
def test_too_few_points_are_refused(n_out: object) -> None:
    with pytest.raises(ValidationFailed, match="at least 3 points"):
        lttb_indices(np.arange(10.0), np.arange(10.0), n_out)  # type: ignore[arg-type]


def test_mismatched_or_missing_values_are_refused() -> None:
    with pytest.raises(ValidationFailed, match="same 1-D shape"):
        lttb_indices(np.arange(10.0), np.arange(9.0), 4)
    y = np.arange(10.0)
    y[3] = np.nan
    with pytest.raises(ValidationFailed, match="finite"):
        lttb_indices(np.arange(10.0), y, 4)
