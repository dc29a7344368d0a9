"""Input checks shared by the dose-response estimators and functions."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from saisei.errors import ValidationFailed

from ._models import PARAM_NAMES, FloatArray


def check_model(model: object, owner: str) -> str:
    if not isinstance(model, str) or model.lower() not in PARAM_NAMES:
        raise ValidationFailed(
            f"The 'model' parameter of {owner} must be '4pl' or '5pl'. Got {model!r} instead."
        )
    return model.lower()


def check_level(level: object, name: str, owner: str) -> float:
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        raise ValidationFailed(
            f"The '{name}' parameter of {owner} must be a float in (0, 1). Got {level!r} instead."
        )
    return float(level)


def check_dose_response(
    dose: object, response: object, *, n_params: int, owner: str, label: str = ""
) -> tuple[FloatArray, FloatArray]:
    """1-D float arrays of equal length, finite, doses >= 0, more points than parameters."""
    x = _as_vector(dose, f"{label}dose", owner)
    y = _as_vector(response, f"{label}response", owner)
    if x.size != y.size:
        raise ValidationFailed(
            f"'{label}dose' and '{label}response' of {owner} must have the same length. "
            f"Got {x.size} doses and {y.size} responses instead."
        )
    if np.any(x < 0):
        raise ValidationFailed(
            f"'{label}dose' of {owner} must be >= 0 (concentrations, not log concentrations). "
            f"Got minimum {x.min()!r} instead."
        )
    levels = np.unique(x[x > 0]).size
    if x.size <= n_params or levels < 3:
        raise ValidationFailed(
            f"{owner} needs more than {n_params} observations at 3 or more positive dose levels "
            f"to fit this model. Got {x.size} observations at {levels} positive dose levels."
        )
    return x, y


def _as_vector(values: object, name: str, owner: str) -> FloatArray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(
            f"'{name}' of {owner} must be numeric. Got {type(values).__name__}: {exc}."
        ) from exc
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValidationFailed(
            f"'{name}' of {owner} must be 1-D (or one column). Got shape {arr.shape} instead."
        )
    if not np.all(np.isfinite(arr)):
        raise ValidationFailed(
            f"'{name}' of {owner} must be finite; remove or impute missing values. "
            f"Got {int((~np.isfinite(arr)).sum())} non-finite value(s)."
        )
    return arr


def check_weights(weights: object, response: FloatArray, owner: str) -> FloatArray:
    """Per-observation weights: None (equal), '1/y', '1/y^2' or an array of positive numbers."""
    if weights is None:
        return np.ones_like(response)
    if isinstance(weights, str):
        if weights not in ("1/y", "1/y^2"):
            raise ValidationFailed(
                f"The 'weights' parameter of {owner} must be None, '1/y', '1/y^2' or an array of "
                f"positive numbers. Got {weights!r} instead."
            )
        if np.any(response == 0):
            raise ValidationFailed(
                f"The 'weights' scheme {weights!r} of {owner} needs non-zero responses. "
                "Got a response of 0; use array weights instead."
            )
        power = 1.0 if weights == "1/y" else 2.0
        return np.abs(response) ** -power
    w = _as_vector(weights, "weights", owner)
    if w.size != response.size or np.any(w <= 0):
        raise ValidationFailed(
            f"The 'weights' parameter of {owner} must hold one positive weight per observation "
            f"({response.size}). Got {w.size} weights with minimum {w.min()!r}."
        )
    return w


def check_bounds(bounds: object, model: str, owner: str) -> tuple[FloatArray, FloatArray]:
    """Natural-scale bounds per parameter name to theta-scale (lower, upper) arrays."""
    names = PARAM_NAMES[model]
    lower = np.full(len(names), -np.inf)
    upper = np.full(len(names), np.inf)
    lower[1] = 0.0  # slope B > 0 (see _models)
    if bounds is None:
        return lower, upper
    if not isinstance(bounds, Mapping) or not set(bounds) <= set(names):
        raise ValidationFailed(
            f"The 'bounds' parameter of {owner} must map parameter names {names} to "
            f"(low, high) pairs. Got {bounds!r} instead."
        )
    for name, pair in bounds.items():
        i = names.index(name)
        try:
            low, high = (float(v) for v in pair)
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(
                f"bounds[{name!r}] of {owner} must be a (low, high) pair of numbers. "
                f"Got {pair!r} instead."
            ) from exc
        floor = 0.0 if name in ("B", "C", "E") else -np.inf
        if not floor <= low < high:
            raise ValidationFailed(
                f"bounds[{name!r}] of {owner} must satisfy {floor} <= low < high. "
                f"Got ({low!r}, {high!r}) instead."
            )
        with np.errstate(divide="ignore"):
            lower[i], upper[i] = (np.log(low), np.log(high)) if name in ("C", "E") else (low, high)
    return lower, upper
