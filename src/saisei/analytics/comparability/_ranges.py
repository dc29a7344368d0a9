"""Tier 2 quality range: the share of post-change lots inside mean_R +/- k sigma_R.

The quality-range approach (FDA statistical review of analytical similarity; Tsong et al. 2017,
J. Biopharm. Stat. 27(2), 197-205) builds the range from the reference lots only, with the sample
standard deviation (ddof = 1), and passes when at least a set fraction (typically 90 %) of the
new lots fall inside it. Bounds are inclusive.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from saisei.analytics.comparability._validation import as_values, check_positive
from saisei.errors import ValidationFailed

__all__ = ["QualityRangeResult", "quality_range"]


@dataclass(frozen=True)
class QualityRangeResult:
    """Result of a tier 2 quality-range comparison.

    Attributes
    ----------
    low, high : float
        Range ``mean_reference -/+ k * sd_reference`` (unit of the attribute), inclusive.
    mean_reference, sd_reference : float
        Mean and sample SD (ddof = 1) of the reference lots.
    k : float
        Multiplier of the reference SD.
    n_reference, n_test : int
        Number of reference and test lots.
    n_inside : int
        Test lots with ``low <= value <= high``.
    fraction_inside : float
        ``n_inside / n_test``, in [0, 1].
    min_fraction : float
        Fraction of test lots required inside for a pass.
    passed : bool
        ``fraction_inside >= min_fraction``.
    outside : tuple of int
        0-based positions, in the ``test`` input, of the lots outside the range.
    """

    low: float
    high: float
    mean_reference: float
    sd_reference: float
    k: float
    n_reference: int
    n_test: int
    n_inside: int
    fraction_inside: float
    min_fraction: float
    passed: bool
    outside: tuple[int, ...]

    def to_frame(self) -> pd.DataFrame:
        """Return the result as a one-row DataFrame (``outside`` as a tuple in one cell)."""
        return pd.DataFrame([asdict(self)])

    def summary(self) -> str:
        """Return a short human-readable account of the comparison."""
        verdict = "pass" if self.passed else "FAIL"
        return (
            f"Quality range mean_R +/- {self.k:g} SD_R = [{self.low:.4g}, {self.high:.4g}] "
            f"from {self.n_reference} reference lots: {self.n_inside} of {self.n_test} test "
            f"lots inside ({100.0 * self.fraction_inside:.4g} %, required "
            f"{100.0 * self.min_fraction:.4g} %): {verdict}."
        )


def quality_range(
    reference: object,
    test: object,
    *,
    k: float = 3.0,
    min_fraction: float = 0.9,
) -> QualityRangeResult:
    """Check that enough post-change lots fall inside the reference quality range.

    Parameters
    ----------
    reference : array-like of shape (n_reference,)
        Attribute values of the pre-change lots, n_reference >= 2.
    test : array-like of shape (n_test,)
        Attribute values of the post-change lots, n_test >= 1.
    k : float, default 3.0
        Multiplier of the reference SD (> 0).
    min_fraction : float, default 0.9
        Fraction of test lots that must lie inside, in (0, 1]. With fewer than 10 test lots
        and 0.9, every lot must be inside.

    Returns
    -------
    QualityRangeResult

    Examples
    --------
    >>> result = quality_range([9.0, 10.0, 11.0], [10.5, 12.9, 7.1], k=3.0)
    >>> (result.low, result.high, result.n_inside)
    (7.0, 13.0, 3)
    """
    owner = "quality_range"
    ref = as_values(reference, "reference", owner)
    new = as_values(test, "test", owner, min_size=1)
    k = check_positive(k, "k", owner)
    min_fraction = _check_fraction(min_fraction, owner)
    mean = float(np.mean(ref))
    sd = float(np.std(ref, ddof=1))
    low, high = mean - k * sd, mean + k * sd
    inside = (new >= low) & (new <= high)
    n_inside = int(np.count_nonzero(inside))
    fraction = n_inside / new.size
    return QualityRangeResult(
        low=low,
        high=high,
        mean_reference=mean,
        sd_reference=sd,
        k=k,
        n_reference=ref.size,
        n_test=new.size,
        n_inside=n_inside,
        fraction_inside=fraction,
        min_fraction=min_fraction,
        passed=bool(fraction >= min_fraction),
        outside=tuple(int(i) for i in np.flatnonzero(~inside)),
    )


def _check_fraction(value: object, owner: str) -> float:
    """Accept a fraction in (0, 1]; 1.0 means every test lot must be inside."""
    ok = not isinstance(value, bool) and isinstance(value, int | float | np.floating)
    if not ok or not 0.0 < float(value) <= 1.0:  # type: ignore[arg-type]
        raise ValidationFailed(
            f"The 'min_fraction' parameter of {owner} must be a float in (0, 1]. "
            f"Got {value!r} instead."
        )
    return float(value)  # type: ignore[arg-type]
