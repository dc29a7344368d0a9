"""JSON twins of results: plain, JSON-ready documents built from analytics result objects.

Numbers are not rounded; NaN and infinities become ``None`` (strict JSON, and storable in
PostgreSQL JSON columns); numpy values become Python ones; enums their value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, fields, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

import numpy as np

from saisei.analytics.comparability import ComparabilityResult, CqaOutcome, PcaOverlay

__all__ = ["comparability_document", "plain"]


def plain(value: Any) -> Any:
    """``value`` as JSON-ready data: NaN/inf -> None, numpy -> Python, tuples -> lists."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    return str(value)


def _outcome(outcome: CqaOutcome) -> dict[str, Any]:
    document: dict[str, Any] = plain(asdict(outcome))
    document["tier"] = int(outcome.tier)
    document["verdict"] = outcome.verdict.value
    return document


def _pca(pca: PcaOverlay) -> dict[str, Any]:
    return {
        "fit_on": pca.fit_on,
        "feature_names": list(pca.feature_names),
        "explained_variance_ratio": plain(pca.explained_variance_ratio),
        "eigenvalues": plain(pca.eigenvalues),
        "loadings": plain(pca.loadings),
        "t2_limit": plain(pca.t2_limit),
        "lots": [
            {"lot": lot, "group": group, "scores": plain(scores), "t2": plain(t2)}
            for lot, group, scores, t2 in zip(pca.lot, pca.group, pca.scores, pca.t2, strict=True)
        ],
    }


def comparability_document(result: ComparabilityResult) -> dict[str, Any]:
    """The whole result of a comparability plan as a JSON-ready document.

    Keys: ``plan`` (``ComparabilityPlan.to_dict()``), ``passed``, ``outcomes`` (one per CQA:
    every field of ``CqaOutcome`` with ``tost`` and ``quality_range`` as nested objects),
    ``hotelling``, ``pca`` and ``notes``.
    """
    return {
        "plan": result.plan.to_dict(),
        "passed": bool(result.passed),
        "outcomes": [_outcome(o) for o in result.outcomes],
        "hotelling": plain(result.hotelling) if result.hotelling is not None else None,
        "pca": _pca(result.pca) if result.pca is not None else None,
        "notes": list(result.notes),
    }
