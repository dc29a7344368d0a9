"""Input checks shared by the comparability statistics.

Every message names the parameter, the function, what it must be and what was received, in the
form the project uses everywhere: ``The 'alpha' parameter of tost must be a float in (0, 1).
Got 1.5 instead.``
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from saisei.errors import ValidationFailed

FloatArray = npt.NDArray[np.float64]


def as_values(values: object, name: str, owner: str, *, min_size: int = 2) -> FloatArray:
    """Return ``values`` as a new 1-D float array of finite numbers, at least ``min_size`` long.

    Parameters
    ----------
    values : array-like of shape (n,)
        One value per lot.
    name, owner : str
        Parameter and function names used in error messages.
    min_size : int
        Fewest values accepted.

    Returns
    -------
    ndarray of shape (n,)
        A copy; the caller's object is never mutated.
    """
    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(
            f"The '{name}' parameter of {owner} must be a 1-D sequence of numbers. "
            f"Got {type(values).__name__} that cannot be read as numbers ({exc})."
        ) from exc
    if array.ndim != 1:
        raise ValidationFailed(
            f"The '{name}' parameter of {owner} must be 1-D (one value per lot). "
            f"Got an array of shape {array.shape} instead."
        )
    bad = int(np.count_nonzero(~np.isfinite(array)))
    if bad:
        raise ValidationFailed(
            f"The '{name}' parameter of {owner} must contain only finite numbers. "
            f"Got {bad} NaN or infinite value(s) instead; remove the lots without a result."
        )
    if array.size < min_size:
        raise ValidationFailed(
            f"The '{name}' parameter of {owner} must hold at least {min_size} value(s). "
            f"Got {array.size} instead."
        )
    return array


def as_matrix(values: object, name: str, owner: str, *, min_rows: int = 2) -> FloatArray:
    """Return ``values`` as a new 2-D float array (lots x attributes) of finite numbers."""
    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(
            f"The '{name}' parameter of {owner} must be a 2-D table of numbers "
            f"(lots x attributes). Got {type(values).__name__} that cannot be read as numbers."
        ) from exc
    if array.ndim != 2:
        raise ValidationFailed(
            f"The '{name}' parameter of {owner} must be 2-D (lots x attributes). "
            f"Got an array of shape {array.shape} instead."
        )
    bad = int(np.count_nonzero(~np.isfinite(array)))
    if bad:
        raise ValidationFailed(
            f"The '{name}' parameter of {owner} must contain only finite numbers. "
            f"Got {bad} NaN or infinite value(s) instead; use lots with complete results."
        )
    if array.shape[0] < min_rows:
        raise ValidationFailed(
            f"The '{name}' parameter of {owner} must hold at least {min_rows} lots (rows). "
            f"Got {array.shape[0]} instead."
        )
    return array


def check_probability(value: object, name: str, owner: str, *, upper: float = 1.0) -> float:
    """Return ``value`` as a float strictly inside (0, ``upper``)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ValidationFailed(
            f"The '{name}' parameter of {owner} must be a float in (0, {upper:g}). "
            f"Got {value!r} instead."
        )
    number = float(value)
    if not 0.0 < number < upper:
        raise ValidationFailed(
            f"The '{name}' parameter of {owner} must be a float in (0, {upper:g}). "
            f"Got {number!r} instead."
        )
    return number


def check_positive(value: object, name: str, owner: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite float > 0 (or >= 0 when ``allow_zero``)."""
    what = "a finite float >= 0" if allow_zero else "a finite float > 0"
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ValidationFailed(f"The '{name}' parameter of {owner} must be {what}. Got {value!r}.")
    number = float(value)
    ok = math.isfinite(number) and (number >= 0.0 if allow_zero else number > 0.0)
    if not ok:
        raise ValidationFailed(
            f"The '{name}' parameter of {owner} must be {what}. Got {number!r} instead."
        )
    return number


def check_finite(value: object, name: str, owner: str) -> float:
    """Return ``value`` as a finite float."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ValidationFailed(
            f"The '{name}' parameter of {owner} must be a finite float. Got {value!r} instead."
        )
    number = float(value)
    if not math.isfinite(number):
        raise ValidationFailed(
            f"The '{name}' parameter of {owner} must be a finite float. Got {number!r} instead."
        )
    return number


def check_count(value: object, name: str, owner: str, *, minimum: int) -> int:
    """Return ``value`` as an int >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValidationFailed(
            f"The '{name}' parameter of {owner} must be an integer >= {minimum}. "
            f"Got {value!r} instead."
        )
    return int(value)


def check_choice(value: object, name: str, owner: str, choices: Iterable[str]) -> str:
    """Return ``value`` when it is one of ``choices``."""
    allowed = tuple(choices)
    if value not in allowed:
        listed = ", ".join(repr(c) for c in allowed)
        raise ValidationFailed(
            f"The '{name}' parameter of {owner} must be one of {listed}. Got {value!r} instead."
        )
    return str(value)
