"""Run a comparability plan on the values of its lots: the right test for each CQA's tier."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from saisei.analytics.comparability._multivariate import (
    HotellingResult,
    PcaOverlay,
    hotelling_t2,
    pca_overlay,
)
from saisei.analytics.comparability._plan import ComparabilityPlan, CqaCriterion, Tier
from saisei.analytics.comparability._power import paired_tost_power, tost_power
from saisei.analytics.comparability._power_margin import tost_power_estimated_margin
from saisei.analytics.comparability._ranges import QualityRangeResult, quality_range
from saisei.analytics.comparability._tost import TostResult, paired_tost, tost
from saisei.errors import ValidationFailed

__all__ = ["ComparabilityResult", "CqaOutcome", "Verdict", "evaluate_plan"]


class Verdict(StrEnum):
    """Outcome of one CQA."""

    #: Tier 1 equivalent, or tier 2 enough lots inside the quality range.
    PASS = "pass"
    #: The criterion was not met.
    FAIL = "fail"
    #: The criterion could not be evaluated (too few lots, no variation); not a pass.
    INCONCLUSIVE = "inconclusive"
    #: Tier 3: graphical comparison only, judged by a person.
    DESCRIPTIVE = "descriptive"


@dataclass(frozen=True)
class CqaOutcome:
    """Result for one CQA of a plan.

    Attributes
    ----------
    name : str
        CQA name.
    tier : Tier
        Tier from the plan.
    verdict : Verdict
        pass, fail, inconclusive or descriptive (tier 3).
    n_reference, n_test : int
        Lots (or pairs) with a value, after missing values were left out.
    mean_reference, sd_reference, mean_test, sd_test : float
        Descriptive statistics (SD with ddof = 1; ``nan`` with fewer than two lots).
    margin : float or None
        Tier 1 margin used.
    margin_source : str
        ``"plan"`` (fixed) or ``"k x SD_R"`` (from the study's reference lots), or ``""``.
    power : float or None
        Tier 1: probability that the procedure as planned concludes equivalence at the plan's
        assumed difference, taking the observed SD_R (paired: SD of the differences) as the
        true SD and the lots actually used. For a ``k x SD_R`` margin in an independent design
        the margin's own randomness is included (:func:`tost_power_estimated_margin`, equal
        SDs assumed); otherwise the fixed-margin power (:func:`tost_power`).
    tost : TostResult or None
        Tier 1 test.
    quality_range : QualityRangeResult or None
        Tier 2 comparison.
    note : str
        Why a CQA is inconclusive, or other remarks.
    """

    name: str
    tier: Tier
    verdict: Verdict
    n_reference: int
    n_test: int
    mean_reference: float
    sd_reference: float
    mean_test: float
    sd_test: float
    margin: float | None = None
    margin_source: str = ""
    power: float | None = None
    tost: TostResult | None = None
    quality_range: QualityRangeResult | None = None
    note: str = ""


@dataclass(frozen=True, eq=False)
class ComparabilityResult:
    """Result of a whole comparability plan.

    Attributes
    ----------
    plan : ComparabilityPlan
        The plan that was run.
    outcomes : tuple of CqaOutcome
        One per CQA, in plan order.
    passed : bool
        True when every tier 1 and tier 2 CQA passed (tier 3 never decides).
    hotelling : HotellingResult or None
        Supporting two-sample Hotelling T2 on the plan's multivariate CQAs.
    pca : PcaOverlay or None
        Supporting PCA overlay on the same CQAs.
    notes : tuple of str
        Data handling remarks (rows left out, multivariate view not computed).
    """

    plan: ComparabilityPlan
    outcomes: tuple[CqaOutcome, ...]
    passed: bool
    hotelling: HotellingResult | None
    pca: PcaOverlay | None
    notes: tuple[str, ...]

    def outcome(self, name: str) -> CqaOutcome:
        """Return the outcome of the CQA called ``name``."""
        for outcome in self.outcomes:
            if outcome.name == name:
                return outcome
        raise ValidationFailed(f"The result has no CQA {name!r}.")

    def to_frame(self) -> pd.DataFrame:
        """Return one row per CQA with verdict, intervals, margins, power and ranges."""
        rows = []
        for o in self.outcomes:
            t, q = o.tost, o.quality_range
            rows.append(
                {
                    "cqa": o.name,
                    "tier": int(o.tier),
                    "verdict": str(o.verdict),
                    "n_reference": o.n_reference,
                    "n_test": o.n_test,
                    "mean_reference": o.mean_reference,
                    "sd_reference": o.sd_reference,
                    "mean_test": o.mean_test,
                    "sd_test": o.sd_test,
                    "margin": o.margin,
                    "difference": t.difference if t else None,
                    "ci_low": t.ci_low if t else None,
                    "ci_high": t.ci_high if t else None,
                    "pvalue": t.pvalue if t else None,
                    "power": o.power,
                    "range_low": q.low if q else None,
                    "range_high": q.high if q else None,
                    "fraction_inside": q.fraction_inside if q else None,
                    "note": o.note,
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """Return a multi-line account: overall verdict, then one line per CQA."""
        head = f"Comparability study '{self.plan.name}' ({self.plan.design}): " + (
            "all tier 1 and tier 2 criteria met." if self.passed else "criteria NOT all met."
        )
        lines = [head]
        for o in self.outcomes:
            detail = (
                o.tost.summary()
                if o.tost
                else o.quality_range.summary()
                if o.quality_range
                else f"mean R {o.mean_reference:.4g}, mean T {o.mean_test:.4g}"
            )
            power = f" Power {o.power:.3f}." if o.power is not None else ""
            note = f" ({o.note})" if o.note else ""
            lines.append(f"- {o.name} [tier {int(o.tier)}] {o.verdict}: {detail}{power}{note}")
        if self.hotelling is not None:
            lines.append("Supporting: " + self.hotelling.summary())
        lines.extend(f"Note: {n}" for n in self.notes)
        return "\n".join(lines)


def evaluate_plan(
    plan: ComparabilityPlan,
    reference_values: pd.DataFrame | Mapping[str, object],
    test_values: pd.DataFrame | Mapping[str, object],
) -> ComparabilityResult:
    """Run each CQA's test as the plan states and collect typed outcomes.

    Parameters
    ----------
    plan : ComparabilityPlan
        The (locked) study plan. Locking is checked by the caller, not here.
    reference_values, test_values : DataFrame or mapping of str to array-like
        Values of the selected pre- and post-change lots: one column (or key) per CQA, one
        row per lot. Missing values (NaN) are left out per CQA and the counts reported. For a
        paired plan, rows are matched by their index label (split starting material).

    Returns
    -------
    ComparabilityResult

    Raises
    ------
    ValidationFailed
        A CQA of the plan has no column in either table.
    """
    reference = _as_table(reference_values, "reference_values")
    test = _as_table(test_values, "test_values")
    for label, table in (("reference_values", reference), ("test_values", test)):
        missing = [c.name for c in plan.cqas if c.name not in table.columns]
        if missing:
            raise ValidationFailed(
                f"The '{label}' given to evaluate_plan must have a column for every CQA of the "
                f"plan '{plan.name}'. Got no column for {missing}."
            )
    notes: list[str] = []
    if plan.design == "paired":
        reference, test = _match_pairs(reference, test, notes)
    outcomes = tuple(
        _evaluate_cqa(c, reference[c.name], test[c.name], plan.design) for c in plan.cqas
    )
    hotelling, pca = _multivariate(plan, reference, test, notes)
    passed = all(o.verdict == Verdict.PASS for o in outcomes if o.tier != Tier.GRAPHICAL)
    return ComparabilityResult(plan, outcomes, passed, hotelling, pca, tuple(notes))


def _as_table(values: object, label: str) -> pd.DataFrame:
    if isinstance(values, pd.DataFrame):
        table = values.copy()
    elif isinstance(values, Mapping):
        table = pd.DataFrame(
            {str(k): pd.Series(np.asarray(v, dtype=float)) for k, v in values.items()}
        )
    else:
        raise ValidationFailed(
            f"The '{label}' parameter of evaluate_plan must be a DataFrame or a mapping of CQA "
            f"name to values. Got {type(values).__name__} instead."
        )
    table.columns = [str(c) for c in table.columns]
    return table


def _match_pairs(
    reference: pd.DataFrame, test: pd.DataFrame, notes: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    common = reference.index.intersection(test.index, sort=False)
    unmatched_r, unmatched_t = len(reference) - len(common), len(test) - len(common)
    if unmatched_r or unmatched_t:
        notes.append(
            f"{unmatched_r} reference and {unmatched_t} test rows had no partner with "
            "the same label and were left out of the paired analysis."
        )
    return reference.loc[common], test.loc[common]


def _evaluate_cqa(
    criterion: CqaCriterion, reference: pd.Series, test: pd.Series, design: str
) -> CqaOutcome:
    values = pd.concat([reference.rename("r"), test.rename("t")], axis=1)
    if design == "paired":
        values = values.dropna()
        ref, new = values["r"].to_numpy(float), values["t"].to_numpy(float)
    else:
        ref = reference.dropna().to_numpy(float)
        new = test.dropna().to_numpy(float)
    base: dict[str, Any] = {
        "name": criterion.name,
        "tier": criterion.tier,
        "n_reference": ref.size,
        "n_test": new.size,
        "mean_reference": _mean(ref),
        "sd_reference": _sd(ref),
        "mean_test": _mean(new),
        "sd_test": _sd(new),
    }
    try:
        if criterion.tier == Tier.EQUIVALENCE:
            return _tier1(criterion, ref, new, design, base)
        if criterion.tier == Tier.QUALITY_RANGE:
            result = quality_range(
                ref, new, k=criterion.range_k, min_fraction=criterion.min_fraction
            )
            verdict = Verdict.PASS if result.passed else Verdict.FAIL
            return CqaOutcome(**base, verdict=verdict, quality_range=result)
    except ValidationFailed as exc:
        return CqaOutcome(**base, verdict=Verdict.INCONCLUSIVE, note=exc.message)
    return CqaOutcome(**base, verdict=Verdict.DESCRIPTIVE)


def _tier1(
    criterion: CqaCriterion,
    ref: np.ndarray,
    new: np.ndarray,
    design: str,
    base: dict[str, Any],
) -> CqaOutcome:
    if criterion.margin is not None:
        margin, source = float(criterion.margin), "plan"
    else:
        margin, source = criterion.margin_k * _sd(ref), f"{criterion.margin_k:g} x SD_R"
        if not margin > 0.0:
            raise ValidationFailed(
                f"The margin of CQA '{criterion.name}' is {criterion.margin_k:g} x SD_R, and "
                f"SD_R cannot be estimated (>0) from {ref.size} reference lot(s); fix the margin "
                "in the plan or add reference lots."
            )
    theta = criterion.assumed_difference
    power: float | None
    if design == "paired":
        result = paired_tost(ref, new, margin=margin, alpha=criterion.alpha)
        power = paired_tost_power(
            margin=margin,
            sigma_diff=_sd(new - ref),
            n_pairs=ref.size,
            true_difference=theta,
            alpha=criterion.alpha,
        )
    else:
        result = tost(ref, new, margin=margin, alpha=criterion.alpha, equal_var=criterion.equal_var)
        power = _independent_power(criterion, margin, ref, new.size)
    verdict = Verdict.PASS if result.equivalent else Verdict.FAIL
    return CqaOutcome(
        **base, verdict=verdict, margin=margin, margin_source=source, power=power, tost=result
    )


def _independent_power(
    criterion: CqaCriterion, margin: float, ref: np.ndarray, n_test: int
) -> float | None:
    sd_r = _sd(ref)
    if not sd_r > 0.0:
        return None
    if criterion.margin is None:
        return tost_power_estimated_margin(
            n_reference=ref.size,
            n_test=n_test,
            k=criterion.margin_k,
            effect_size=criterion.assumed_difference / sd_r,
            alpha=criterion.alpha,
            equal_var=criterion.equal_var,
        )
    return tost_power(
        margin=margin,
        sigma=sd_r,
        n_reference=ref.size,
        n_test=n_test,
        true_difference=criterion.assumed_difference,
        alpha=criterion.alpha,
    )


def _multivariate(
    plan: ComparabilityPlan, reference: pd.DataFrame, test: pd.DataFrame, notes: list[str]
) -> tuple[HotellingResult | None, PcaOverlay | None]:
    if not plan.multivariate:
        return None, None
    columns = list(plan.multivariate)
    ref = reference[columns].dropna()
    new = test[columns].dropna()
    try:
        return hotelling_t2(ref, new), pca_overlay(ref, new, n_components=2)
    except ValidationFailed as exc:
        notes.append(f"Multivariate view not computed: {exc.message}")
        return None, None


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if values.size else float("nan")


def _sd(values: np.ndarray) -> float:
    return float(np.std(values, ddof=1)) if values.size > 1 else float("nan")
