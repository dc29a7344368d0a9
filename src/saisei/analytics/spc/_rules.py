"""Run rules (Nelson 1984; Western Electric 1956), vectorised with numpy.

Each rule is evaluated over the whole series at once from run lengths and trailing window counts;
there is no per-point Python loop, so a million points take milliseconds.

Conventions (pinned down here and in ``docs/spc.md``):

- Points are standardised, ``z = (x - center) / sigma``; ``center`` and ``sigma`` may vary by
  point (p and u charts with unequal sample sizes).
- "Beyond k sigma" is strict: ``|z| > k``. A point exactly on a limit is not beyond it.
- "On one side" is strict: a point exactly on the center line belongs to neither side and ends a
  run. A NaN ends every run and is never beyond anything.
- "N in a row" counts points. Six points steadily increasing are five consecutive strict rises;
  fourteen points alternating are thirteen differences alternating in sign. A tie ends a trend or
  an alternation.
- "k of m" uses the trailing window of the last ``m`` points (fewer at the start of the series)
  and fires only when the current point is itself one of the ``k``: the flag marks a point that
  takes part in the pattern.
- A rule fires at the index of the point that completes the pattern, and again at every later
  point for which the pattern still holds (point 10 of a run of ten on one side fires rule 2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from saisei.errors import ValidationFailed

__all__ = ["RULE_NAMES", "RuleSet", "RuleViolation", "RunRulesResult", "run_rules"]

#: Short name of each Nelson rule, by number.
RULE_NAMES: dict[int, str] = {
    1: "beyond_3_sigma",
    2: "same_side_run",
    3: "trend",
    4: "alternating",
    5: "two_of_three_beyond_2_sigma",
    6: "four_of_five_beyond_1_sigma",
    7: "stratification_within_1_sigma",
    8: "mixture_beyond_1_sigma",
}

_ALL_RULES = frozenset(RULE_NAMES)
_N_RULES = len(RULE_NAMES)


@dataclass(frozen=True)
class RuleSet:
    """Which run rules to apply and the run lengths they use.

    Rules are numbered as in Nelson (1984), J. Qual. Technol. 16(4): 237-239. The Western
    Electric Handbook (1956) rules are Nelson's 1, 5, 6 and 2 (with 8 instead of 9 in a row).

    Parameters
    ----------
    enabled : frozenset of int, default all of 1..8
        Rule numbers to apply.
    same_side_run : int, default 9
        Rule 2: points in a row on one side of the center line.
    trend_run : int, default 6
        Rule 3: points in a row steadily increasing or decreasing.
    alternating_run : int, default 14
        Rule 4: points in a row alternating up and down.
    stratification_run : int, default 15
        Rule 7: points in a row within 1 sigma of the center line.
    mixture_run : int, default 8
        Rule 8: points in a row beyond 1 sigma, either side.
    name : str, default "custom"
        Label shown in summaries.
    """

    enabled: frozenset[int] = field(default=_ALL_RULES)
    same_side_run: int = 9
    trend_run: int = 6
    alternating_run: int = 14
    stratification_run: int = 15
    mixture_run: int = 8
    name: str = "custom"

    def __post_init__(self) -> None:
        enabled = frozenset(self.enabled)
        if not enabled <= _ALL_RULES:
            raise ValidationFailed(
                "The 'enabled' parameter of RuleSet must hold rule numbers 1 to 8. "
                f"Got {sorted(enabled)} instead."
            )
        object.__setattr__(self, "enabled", enabled)
        minimum = {"same_side_run": 2, "trend_run": 3, "alternating_run": 3}
        minimum |= {"stratification_run": 2, "mixture_run": 2}
        for attr, low in minimum.items():
            value = getattr(self, attr)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValidationFailed(
                    f"The '{attr}' parameter of RuleSet must be an integer >= {low}. "
                    f"Got {value!r} instead."
                )

    @classmethod
    def nelson(cls) -> RuleSet:
        """All eight Nelson (1984) rules with Nelson's run lengths (9, 6, 14, 15, 8)."""
        return cls(name="nelson")

    @classmethod
    def western_electric(cls) -> RuleSet:
        """Western Electric (1956) zone rules: Nelson 1, 5, 6 and 8 points on one side."""
        return cls(enabled=frozenset({1, 2, 5, 6}), same_side_run=8, name="western_electric")

    def with_rules(self, *rules: int) -> RuleSet:
        """A copy with ``rules`` switched on."""
        return replace(self, enabled=self.enabled | frozenset(rules), name="custom")

    def without(self, *rules: int) -> RuleSet:
        """A copy with ``rules`` switched off."""
        return replace(self, enabled=self.enabled - frozenset(rules), name="custom")


@dataclass(frozen=True)
class RuleViolation:
    """One rule firing at one point: ``rule`` (Nelson number), ``name``, 0-based ``index``."""

    index: int
    rule: int
    name: str


@dataclass(frozen=True, eq=False)
class RunRulesResult:
    """Which rule fired at which point.

    Attributes
    ----------
    rules : RuleSet
        The rules applied.
    fired : numpy.ndarray of bool, shape (m, 8)
        ``fired[i, r - 1]`` is True when Nelson rule ``r`` fires at point ``i``. Columns of rules
        that were not enabled are all False.
    z : numpy.ndarray of float, shape (m,)
        The standardised points ``(x - center) / sigma`` the rules were applied to.
    """

    rules: RuleSet
    fired: np.ndarray
    z: np.ndarray

    @property
    def any(self) -> np.ndarray:
        """Boolean array, shape (m,): some enabled rule fired at the point."""
        return np.asarray(self.fired.any(axis=1))

    def indices(self, rule: int) -> np.ndarray:
        """0-based indices at which Nelson rule ``rule`` fired."""
        if rule not in RULE_NAMES:
            raise ValidationFailed(
                f"The 'rule' parameter of RunRulesResult.indices must be 1 to 8. Got {rule!r}."
            )
        return np.flatnonzero(self.fired[:, rule - 1])

    @property
    def violations(self) -> tuple[RuleViolation, ...]:
        """Every (point, rule) firing, ordered by index then rule."""
        points, cols = np.nonzero(self.fired)
        return tuple(
            RuleViolation(index=int(i), rule=int(c) + 1, name=RULE_NAMES[int(c) + 1])
            for i, c in zip(points, cols, strict=True)
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per violation: ``index``, ``rule``, ``name``."""
        points, cols = np.nonzero(self.fired)
        return pd.DataFrame(
            {
                "index": points.astype(np.int64),
                "rule": (cols + 1).astype(np.int64),
                "name": [RULE_NAMES[int(c) + 1] for c in cols],
            }
        )

    def summary(self) -> str:
        """Plain-text account of the rules applied and where each fired."""
        lines = [f"Run rules ({self.rules.name}): {len(self.z)} points"]
        for rule in sorted(self.rules.enabled):
            where = self.indices(rule)
            shown = ", ".join(str(i) for i in where[:20])
            more = f", ... ({len(where)} in all)" if len(where) > 20 else ""
            lines.append(f"  rule {rule} {RULE_NAMES[rule]}: {shown or 'none'}{more}")
        return "\n".join(lines)


def run_length(mask: np.ndarray) -> np.ndarray:
    """Length of the run of True values ending at each position (0 where False)."""
    idx = np.arange(mask.size)
    last_false = np.where(mask, -1, idx)
    np.maximum.accumulate(last_false, out=last_false)
    return idx - last_false


def _trailing_count(mask: np.ndarray, window: int) -> np.ndarray:
    # Number of True values among the last `window` points (fewer at the start).
    csum = np.cumsum(mask, dtype=np.int64)
    shifted = np.zeros_like(csum)
    shifted[window:] = csum[:-window]
    return csum - shifted


def _k_of_m(z: np.ndarray, k: int, m: int, threshold: float) -> np.ndarray:
    above = z > threshold
    below = z < -threshold
    return ((_trailing_count(above, m) >= k) & above) | ((_trailing_count(below, m) >= k) & below)


def _trend(z: np.ndarray, points: int) -> np.ndarray:
    out = np.zeros(z.size, dtype=bool)
    if z.size < 2:
        return out
    step = np.diff(z)
    rising = run_length(step > 0) >= points - 1
    falling = run_length(step < 0) >= points - 1
    out[1:] = rising | falling
    return out


def _alternating(z: np.ndarray, points: int) -> np.ndarray:
    out = np.zeros(z.size, dtype=bool)
    if z.size < 3:
        return out
    sign = np.sign(np.diff(z))
    flips = (sign[1:] * sign[:-1]) < 0
    out[2:] = run_length(flips) >= points - 2
    return out


def _apply(z: np.ndarray, rules: RuleSet) -> np.ndarray:
    fired = np.zeros((z.size, _N_RULES), dtype=bool)
    with np.errstate(invalid="ignore"):
        absz = np.abs(z)
        checks: dict[int, Callable[[], np.ndarray]] = {
            1: lambda: absz > 3.0,
            2: lambda: (
                (run_length(z > 0) >= rules.same_side_run)
                | (run_length(z < 0) >= rules.same_side_run)
            ),
            3: lambda: _trend(z, rules.trend_run),
            4: lambda: _alternating(z, rules.alternating_run),
            5: lambda: _k_of_m(z, 2, 3, 2.0),
            6: lambda: _k_of_m(z, 4, 5, 1.0),
            7: lambda: run_length(absz < 1.0) >= rules.stratification_run,
            8: lambda: run_length(absz > 1.0) >= rules.mixture_run,
        }
        for rule in sorted(rules.enabled):
            fired[:, rule - 1] = checks[rule]()
    return fired


def resolve_rules(rules: str | RuleSet | Iterable[int], where: str) -> RuleSet:
    """Turn a preset name, a RuleSet or rule numbers into a RuleSet."""
    if isinstance(rules, RuleSet):
        return rules
    if isinstance(rules, str):
        key = rules.strip().lower().replace("-", "_").replace(" ", "_")
        if key == "nelson":
            return RuleSet.nelson()
        if key in {"we", "western_electric", "weco"}:
            return RuleSet.western_electric()
        raise ValidationFailed(
            f"The 'rules' parameter of {where} must be 'nelson', 'we', a RuleSet or rule numbers "
            f"1 to 8. Got {rules!r} instead."
        )
    try:
        numbers = frozenset(int(r) for r in rules)
    except (TypeError, ValueError):
        raise ValidationFailed(
            f"The 'rules' parameter of {where} must be 'nelson', 'we', a RuleSet or rule numbers "
            f"1 to 8. Got {rules!r} instead."
        ) from None
    return RuleSet(enabled=numbers)


def run_rules(
    x: np.ndarray | Iterable[float],
    *,
    center: float | np.ndarray,
    sigma: float | np.ndarray,
    rules: str | RuleSet | Iterable[int] = "nelson",
) -> RunRulesResult:
    """Apply run rules to a series of plotted points.

    Parameters
    ----------
    x : array_like of float, shape (m,)
        Plotted statistic in time order (individual values, subgroup means, proportions).
        NaN is allowed and ends every run.
    center : float or array_like, shape (m,)
        Center line, same units as ``x``.
    sigma : float or array_like, shape (m,)
        Standard deviation of the plotted statistic (for X-bar: sigma / sqrt(n)), same units as
        ``x``; must be positive.
    rules : {"nelson", "we"} or RuleSet or iterable of int, default "nelson"
        A preset (all eight Nelson rules; the four Western Electric rules), a ``RuleSet``, or the
        Nelson numbers of the rules to apply with Nelson's run lengths.

    Returns
    -------
    RunRulesResult
        ``fired`` (m, 8) boolean matrix and the list of violations.

    Raises
    ------
    ValidationFailed
        If ``x`` is not 1-D, ``center``/``sigma`` do not broadcast to it, ``sigma`` is not
        positive, or ``rules`` is not recognised.

    Examples
    --------
    >>> result = run_rules([0.0, 0.5, 3.5, 0.1], center=0.0, sigma=1.0, rules="we")
    >>> result.indices(1).tolist()
    [2]
    """
    rule_set = resolve_rules(rules, "run_rules")
    values = np.asarray(x, dtype=float)
    if values.ndim != 1:
        raise ValidationFailed(
            f"The 'x' parameter of run_rules must be a 1-D array. Got shape {values.shape} instead."
        )
    try:
        center_arr = np.broadcast_to(np.asarray(center, dtype=float), values.shape)
        sigma_arr = np.broadcast_to(np.asarray(sigma, dtype=float), values.shape)
    except ValueError:
        raise ValidationFailed(
            "The 'center' and 'sigma' parameters of run_rules must be scalars or arrays of the "
            f"same length as x ({values.size}). Got shapes {np.shape(center)} and "
            f"{np.shape(sigma)} instead."
        ) from None
    if not np.all(sigma_arr > 0):
        raise ValidationFailed(
            "The 'sigma' parameter of run_rules must be positive. "
            f"Got minimum {np.nanmin(sigma_arr) if sigma_arr.size else sigma!r} instead."
        )
    z = (values - center_arr) / sigma_arr
    return RunRulesResult(rules=rule_set, fired=_apply(z, rule_set), z=z)
