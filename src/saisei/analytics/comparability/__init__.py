"""Comparability of pre- and post-change product (ICH Q5E): tiered statistics and study plans.

Tier 1 equivalence of means by two one-sided tests (:func:`tost`, :func:`paired_tost` for
split-source designs) against a margin (:func:`equivalence_margin`); tier 2 quality range
(:func:`quality_range`); exact power and sample size of the TOST (:func:`tost_power`,
:func:`tost_sample_size`, their paired forms, and :func:`tost_power_estimated_margin` for a
margin taken from the same reference lots); multivariate supporting evidence
(:func:`hotelling_t2`, :func:`pca_overlay`); degradation slopes by ANCOVA
(:func:`compare_stability`); and a pure study-plan value (:class:`ComparabilityPlan`) run by
:func:`evaluate_plan`. Pure: no I/O, no storage; locking and signatures live above this layer.
"""

from saisei.analytics.comparability._evaluate import (
    ComparabilityResult,
    CqaOutcome,
    Verdict,
    evaluate_plan,
)
from saisei.analytics.comparability._multivariate import (
    HotellingResult,
    PcaOverlay,
    hotelling_t2,
    pca_overlay,
)
from saisei.analytics.comparability._plan import (
    ComparabilityPlan,
    CqaCriterion,
    LotSelection,
    Tier,
)
from saisei.analytics.comparability._power import (
    SampleSizeResult,
    equivalence_power,
    paired_tost_power,
    paired_tost_sample_size,
    tost_power,
    tost_sample_size,
)
from saisei.analytics.comparability._power_margin import tost_power_estimated_margin
from saisei.analytics.comparability._ranges import QualityRangeResult, quality_range
from saisei.analytics.comparability._stability import StabilityComparison, compare_stability
from saisei.analytics.comparability._tost import (
    TostResult,
    equivalence_margin,
    paired_tost,
    tost,
)

__all__ = [
    "ComparabilityPlan",
    "ComparabilityResult",
    "CqaCriterion",
    "CqaOutcome",
    "HotellingResult",
    "LotSelection",
    "PcaOverlay",
    "QualityRangeResult",
    "SampleSizeResult",
    "StabilityComparison",
    "Tier",
    "TostResult",
    "Verdict",
    "compare_stability",
    "equivalence_margin",
    "equivalence_power",
    "evaluate_plan",
    "hotelling_t2",
    "paired_tost",
    "paired_tost_power",
    "paired_tost_sample_size",
    "pca_overlay",
    "quality_range",
    "tost",
    "tost_power",
    "tost_power_estimated_margin",
    "tost_sample_size",
]
