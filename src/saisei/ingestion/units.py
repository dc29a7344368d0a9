"""Unit normalisation with pint: every quantity is stored in one canonical unit.

The registry is built on first use (never at import) and extended with the count units of
cell and gene therapy: ``cell``, ``vg`` (vector genomes), ``TU`` (transducing units), ``EU``
(endotoxin units) and ``IU``. Building it takes most of a second, so a unit that is already
canonical (``degC``, ``h``, ``mL``, ...) is recognised without it: an import whose values
are all in canonical units never builds the registry.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pint

from saisei.errors import ValidationFailed

__all__ = ["CANONICAL_UNITS", "canonical_unit", "convert", "parse_unit", "unit_registry"]

_EXTRA_UNITS = (
    "cell = [cell_count] = cells",
    "vector_genome = [vector_genome] = vg",
    "capsid = [capsid] = cp",
    "transducing_unit = [transducing_unit] = TU",
    "endotoxin_unit = [endotoxin_unit] = EU",
    "international_unit_count = [international_unit] = IU",
)

#: Canonical unit of each dimensionality (pint's dimensionality string).
_CANONICAL = {
    "[temperature]": "degC",
    "[time]": "h",
    "[length] ** 3": "mL",
    "[mass]": "g",
    "[substance]": "mmol",
    "[mass] / [length] ** 3": "g/L",
    "[substance] / [length] ** 3": "mmol/L",
    "[cell_count]": "cell",
    "[cell_count] / [length] ** 3": "cell/mL",
    "[vector_genome]": "vg",
    "[vector_genome] / [length] ** 3": "vg/mL",
    "[capsid] / [length] ** 3": "cp/mL",
    "[transducing_unit] / [length] ** 3": "TU/mL",
    "[endotoxin_unit] / [length] ** 3": "EU/mL",
    "[length] / [time] ** 2": "g0",
    "[mass] / [length] / [time] ** 2": "kPa",
    "1 / [time]": "1/h",
    "[length] ** 3 / [time]": "mL/min",
}

#: Units that are their own canonical unit (pint agrees; ``tests/ingestion/test_units.py``).
CANONICAL_UNITS = frozenset({*_CANONICAL.values(), "rpm", "percent", "deg", "1"})


@lru_cache(maxsize=1)
def unit_registry() -> pint.UnitRegistry:
    """The saisei unit registry (built once, on first use)."""
    import pint  # imported here: importing pint alone takes most of a second

    registry: pint.UnitRegistry = pint.UnitRegistry(autoconvert_offset_to_baseunit=False)
    for definition in _EXTRA_UNITS:
        registry.define(definition)
    return registry


def _clean(text: str) -> str:
    # "x10^6 cells/mL" and "×10^6" are how assay sheets write scaled counts.
    text = text.strip().replace("×", "x").replace("µ", "u").replace("μ", "u")
    text = re.sub(r"^x\s*(?=10)", "", text)
    return {"%": "percent", "C": "degC", "°C": "degC", "rpm": "rpm", "g": "g"}.get(text, text)


@lru_cache(maxsize=4096)
def parse_unit(text: str) -> tuple[float, Any]:
    """Parse a unit string into (scale factor, unit); ``1e6 cell/mL`` -> (1e6, cell/mL).

    Raises
    ------
    ValidationFailed
        When pint does not know the unit.
    """
    import pint

    registry = unit_registry()
    cleaned = _clean(text)
    try:
        parsed = registry.parse_expression(cleaned) if cleaned else registry.dimensionless
    except (
        pint.errors.UndefinedUnitError,
        pint.errors.DefinitionSyntaxError,
        AttributeError,
        TypeError,
        ValueError,
        SyntaxError,
    ) as exc:
        raise ValidationFailed(
            f"Unknown unit {text!r}. Use a unit such as degC, h, mL, cell/mL, rpm, percent, "
            f"mmol/L ({exc})."
        ) from None
    if isinstance(parsed, pint.Quantity):
        return float(parsed.magnitude), parsed.units
    return 1.0, registry.Unit(parsed) if not isinstance(parsed, pint.Unit) else parsed


@lru_cache(maxsize=4096)
def canonical_unit(text: str) -> str:
    """The canonical unit for values given in ``text``.

    Rotational speed stays in rpm and dimensionless ratios keep their unit (``percent``,
    ``1``); quantities without a canonical unit keep theirs. A unit of
    :data:`CANONICAL_UNITS` is returned as it is, without building the registry.
    """
    if text in CANONICAL_UNITS:
        return text
    return canonical_unit_by_pint(text)


def canonical_unit_by_pint(text: str) -> str:
    """:func:`canonical_unit` computed through the pint registry (no shortcut)."""
    _, unit = parse_unit(text)
    name = str(unit)
    if "revolution" in name:
        return "rpm"
    dimensionality = str(unit.dimensionality)
    if dimensionality == "dimensionless":
        return (
            "percent"
            if name == "percent"
            else ("deg" if name == "degree" else (name if name != "dimensionless" else "1"))
        )
    return _CANONICAL.get(dimensionality, name)


def convert(values: Any, from_unit: str, to_unit: str) -> np.ndarray:
    """Convert an array of magnitudes from ``from_unit`` to ``to_unit``.

    Raises
    ------
    ValidationFailed
        When the units measure different quantities.
    """
    if from_unit == to_unit:
        return np.array(values, dtype="float64")
    import pint

    registry = unit_registry()
    scale, source = parse_unit(from_unit)
    target_scale, target = parse_unit(to_unit)
    array = np.asarray(values, dtype="float64") * scale
    if source == target:
        return array / target_scale
    try:
        result = registry.Quantity(array, source).to(target).magnitude
    except pint.errors.DimensionalityError:
        raise ValidationFailed(
            f"Unit {from_unit!r} cannot be converted to {to_unit!r}: they measure different "
            "quantities."
        ) from None
    return np.asarray(result, dtype="float64") / target_scale
