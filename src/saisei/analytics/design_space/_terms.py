"""Response-surface model matrices: linear, interaction and quadratic terms."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from saisei.errors import ValidationFailed

TERMS = ("linear", "interaction", "quadratic")


def check_terms(terms: str) -> str:
    """The terms option, validated."""
    if terms not in TERMS:
        raise ValidationFailed(
            f"The 'terms' parameter of BayesianDesignSpace must be one of {', '.join(TERMS)}. "
            f"Got {terms!r} instead."
        )
    return terms


def term_names(columns: list[str], terms: str) -> list[str]:
    """Names of the model columns, intercept first (``a:b`` interaction, ``a^2`` square)."""
    names = ["intercept", *columns]
    if terms in ("interaction", "quadratic"):
        names += [f"{a}:{b}" for a, b in combinations(columns, 2)]
    if terms == "quadratic":
        names += [f"{a}^2" for a in columns]
    return names


def model_matrix(z: np.ndarray, terms: str) -> np.ndarray:
    """Model matrix of standardised set-points ``z`` (n, k) -> (n, p), intercept first."""
    n, k = z.shape
    blocks = [np.ones((n, 1)), z]
    if terms in ("interaction", "quadratic"):
        pairs = list(combinations(range(k), 2))
        if pairs:
            blocks.append(np.column_stack([z[:, i] * z[:, j] for i, j in pairs]))
    if terms == "quadratic":
        blocks.append(z**2)
    return np.hstack(blocks)


def numeric_frame(data: object, what: str, columns: list[str] | None = None) -> pd.DataFrame:
    """A DataFrame of finite floats (with ``columns`` in that order when given)."""
    if not isinstance(data, pd.DataFrame):
        raise ValidationFailed(
            f"{what} must be a pandas DataFrame with one named column per variable. "
            f"Got {type(data).__name__} instead."
        )
    if columns is not None:
        missing = [c for c in columns if c not in data.columns]
        if missing:
            raise ValidationFailed(
                f"{what} lacks the column(s) {', '.join(map(str, missing))} the model was "
                f"fitted with ({', '.join(columns)})."
            )
        data = data[columns]
    try:
        frame = data.astype(float)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"{what} must hold numbers only: {exc}") from None
    if not np.isfinite(frame.to_numpy()).all():
        bad = [str(c) for c in frame.columns if not np.isfinite(frame[c].to_numpy()).all()]
        raise ValidationFailed(
            f"{what} has missing or infinite values in {', '.join(bad)}. Remove or impute "
            "those rows first."
        )
    return frame
