"""Associations between factors, so that confounded factors are flagged, not split."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats


def is_numeric(series: pd.Series) -> bool:
    """Numeric and not boolean."""
    return bool(pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))


def _cramers_v(a: pd.Series, b: pd.Series) -> float:
    table = pd.crosstab(a, b)
    if min(table.shape) < 2:
        return 0.0
    chi2 = stats.chi2_contingency(table, correction=False)[0]
    n = table.to_numpy().sum()
    return float(np.sqrt(chi2 / (n * (min(table.shape) - 1))))


def _determines(a: pd.Series, b: pd.Series) -> bool:
    """Every level of ``a`` occurs with a single level of ``b`` (and ``a`` has replicates)."""
    pairs = pd.DataFrame({"a": a, "b": b}).dropna()
    if pairs["a"].nunique() < 2 or pairs["a"].nunique() == len(pairs):
        return False
    return bool((pairs.groupby("a")["b"].nunique() <= 1).all())


def _eta(category: pd.Series, value: pd.Series) -> float:
    """Correlation ratio: share of the variance of ``value`` explained by ``category``."""
    frame = pd.DataFrame({"c": category, "v": value}).dropna()
    if frame["c"].nunique() < 2 or frame["v"].var() == 0:
        return 0.0
    means = frame.groupby("c")["v"].transform("mean")
    between = ((means - frame["v"].mean()) ** 2).sum()
    total = ((frame["v"] - frame["v"].mean()) ** 2).sum()
    # Few replicates per level inflate eta; only levels seen at least twice count.
    if frame["c"].nunique() > len(frame) / 2:
        return 0.0
    return float(np.sqrt(between / total))


def association(a: pd.Series, b: pd.Series) -> tuple[float, str]:
    """Strength (0..1) and kind of the association of two factors."""
    na, nb = is_numeric(a), is_numeric(b)
    if na and nb:
        frame = pd.DataFrame({"a": a, "b": b}).dropna()
        if len(frame) < 3 or frame["a"].nunique() < 2 or frame["b"].nunique() < 2:
            return 0.0, "spearman"
        rho = stats.spearmanr(frame["a"], frame["b"]).statistic
        return float(abs(rho)), "spearman"
    if not na and not nb:
        if _determines(a, b) or _determines(b, a):
            return 1.0, "nested"
        frame = pd.DataFrame({"a": a, "b": b}).dropna()
        return _cramers_v(frame["a"], frame["b"]), "cramers_v"
    cat, num = (a, b) if not na else (b, a)
    return _eta(cat, num), "correlation_ratio"


def confounded_pairs(
    frame: pd.DataFrame, threshold: float = 0.9
) -> list[tuple[str, str, float, str]]:
    """Pairs of columns whose association reaches ``threshold``: (a, b, strength, kind)."""
    out = []
    for a, b in combinations(frame.columns, 2):
        strength, kind = association(frame[a], frame[b])
        if strength >= threshold:
            out.append((str(a), str(b), strength, kind))
    return out
