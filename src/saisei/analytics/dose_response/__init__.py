"""Dose-response analytics: 4PL/5PL fits, relative potency, plates and in-vitro safety.

Pure code (numpy, scipy, pandas, scikit-learn's ``BaseEstimator``); formulas, methods and
sources are in ``docs/dose-response.md``.
"""

from ._fit import (
    DoseResponseConvergenceWarning,
    DoseResponseFit,
    DoseResponseModel,
    EffectiveDose,
)
from ._plate import flag_outliers, plate_wells, read_plate, summarize_replicates
from ._potency import (
    AssayCheck,
    ParallelismLimits,
    RelativePotencyResult,
    SuitabilityCriteria,
    relative_potency,
)
from ._safety import (
    DEFAULT_HAZARD_BANDS,
    HazardBand,
    SafetyMargin,
    SafetyResult,
    classify,
    safety_margins,
)

__all__ = [
    "DEFAULT_HAZARD_BANDS",
    "AssayCheck",
    "DoseResponseConvergenceWarning",
    "DoseResponseFit",
    "DoseResponseModel",
    "EffectiveDose",
    "HazardBand",
    "ParallelismLimits",
    "RelativePotencyResult",
    "SafetyMargin",
    "SafetyResult",
    "SuitabilityCriteria",
    "classify",
    "flag_outliers",
    "plate_wells",
    "read_plate",
    "relative_potency",
    "safety_margins",
    "summarize_replicates",
]
