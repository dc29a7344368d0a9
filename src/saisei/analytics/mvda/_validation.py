"""Parameter and input checks shared by the mvda estimators.

Messages follow the project form: the thing, what it must be, what was received, the fix.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import numpy as np

from saisei.errors import ValidationFailed

SCALINGS = ("autoscale", "pareto", "center", "none")


def check_alpha(alpha: object, owner: str) -> float:
    """Return ``alpha`` as a float in (0, 1) or raise ``ValidationFailed``."""
    if (
        not isinstance(alpha, numbers.Real)
        or isinstance(alpha, bool)
        or not 0.0 < float(alpha) < 1.0
    ):
        raise ValidationFailed(
            f"The 'alpha' parameter of {owner} must be a float in (0, 1). Got {alpha!r} instead."
        )
    return float(alpha)


def check_int(
    value: object, name: str, owner: str, *, minimum: int = 1, allow_none: bool = False
) -> int | None:
    """Return ``value`` as an int >= ``minimum`` (or None when allowed)."""
    if value is None and allow_none:
        return None
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or int(value) < minimum:
        extra = " or None" if allow_none else ""
        raise ValidationFailed(
            f"The '{name}' parameter of {owner} must be an int >= {minimum}{extra}. "
            f"Got {value!r} instead."
        )
    return int(value)


def check_choice(value: object, name: str, owner: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        raise ValidationFailed(
            f"The '{name}' parameter of {owner} must be one of {', '.join(map(repr, options))}. "
            f"Got {value!r} instead."
        )
    return value


def check_scale(scale: object, owner: str) -> str:
    """Validate the ``scale`` parameter."""
    return check_choice(scale, "scale", owner, SCALINGS)


def check_blocks(
    blocks: object, n_features: int, owner: str, feature_names: np.ndarray | None
) -> np.ndarray | None:
    """Turn the ``blocks`` parameter into one integer block label per column.

    ``blocks`` is None (no block scaling), a sequence of one label per column, or a mapping
    ``{block_name: [column, ...]}`` whose columns are names (when fitted on a DataFrame) or
    positions. Every column must fall in exactly one block.
    """
    if blocks is None:
        return None
    labels = np.full(n_features, -1, dtype=np.int64)
    if isinstance(blocks, dict):
        names = list(feature_names) if feature_names is not None else None
        for code, (block, columns) in enumerate(blocks.items()):
            for column in columns:
                if isinstance(column, numbers.Integral) and not isinstance(column, bool):
                    position = int(column)
                elif names is not None and column in names:
                    position = names.index(column)
                else:
                    raise ValidationFailed(
                        f"The 'blocks' parameter of {owner} names column {column!r} in block "
                        f"{block!r}, which is not a column of X. Use column names of the fitted "
                        "DataFrame or integer positions."
                    )
                if not 0 <= position < n_features or labels[position] != -1:
                    raise ValidationFailed(
                        f"The 'blocks' parameter of {owner} must put every column of X in exactly "
                        f"one block. Column {column!r} is out of range or listed twice."
                    )
                labels[position] = code
    else:
        raw = np.asarray(blocks, dtype=object)
        if raw.shape != (n_features,):
            raise ValidationFailed(
                f"The 'blocks' parameter of {owner} must be a mapping or one label per column "
                f"({n_features} labels). Got {raw.shape[0] if raw.ndim == 1 else raw.shape} "
                "labels instead."
            )
        _, labels = np.unique(raw.astype(str), return_inverse=True)
        labels = labels.astype(np.int64)
    if np.any(labels < 0):
        missing = np.flatnonzero(labels < 0)[:5].tolist()
        raise ValidationFailed(
            f"The 'blocks' parameter of {owner} must put every column of X in a block. "
            f"Columns at positions {missing} are in none; add them to a block."
        )
    return labels
