"""Unit normalisation against closed-form conversions."""

from __future__ import annotations

import numpy as np
import pytest

from saisei.errors import ValidationFailed
from saisei.ingestion import units
from saisei.ingestion.units import (
    CANONICAL_UNITS,
    canonical_unit,
    canonical_unit_by_pint,
    convert,
)


@pytest.mark.parametrize(
    ("unit", "canonical", "value", "expected"),
    [
        # NIST SP 811 (2008), appendix B: t/degC = (t/degF - 32) / 1.8; T/K = t/degC + 273.15.
        ("degF", "degC", 98.6, (98.6 - 32) / 1.8),
        ("K", "degC", 310.15, 37.0),
        ("L", "mL", 0.25, 250.0),
        ("min", "h", 90.0, 1.5),
        ("d", "h", 2.0, 48.0),
        ("%", "percent", 95.0, 95.0),
        ("x10^6 cells/mL", "cell/mL", 1.5, 1.5e6),
        ("1e6 cell", "cell", 120.0, 1.2e8),
        ("mg/mL", "g/L", 2.0, 2.0),
        ("mM", "mmol/L", 5.5, 5.5),
        ("rpm", "rpm", 80.0, 80.0),
        ("1/d", "1/h", 0.48, 0.02),
        # Standard gravity g0 = 9.80665 m/s^2 (CGPM 1901).
        ("m/s^2", "g0", 9.80665, 1.0),
    ],
)
def test_conversion_to_canonical_unit(
    unit: str, canonical: str, value: float, expected: float
) -> None:
    assert canonical_unit(unit) == canonical
    np.testing.assert_allclose(convert([value], unit, canonical), [expected], rtol=1e-12)


def test_unknown_unit_is_named() -> None:
    with pytest.raises(ValidationFailed, match="Unknown unit 'furlongs per fortnight x'"):
        canonical_unit("furlongs per fortnight x")


def test_incompatible_units_are_refused() -> None:
    with pytest.raises(ValidationFailed, match="'h' cannot be converted to 'mL'"):
        convert([1.0], "h", "mL")


def test_canonical_units_are_fixed_points_of_pint() -> None:
    # The shortcut must agree with pint: each listed unit maps to itself through the registry.
    for unit in sorted(CANONICAL_UNITS):
        assert canonical_unit_by_pint(unit) == unit


def test_canonical_units_need_no_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise AssertionError("the pint registry was built for a canonical unit")

    monkeypatch.setattr(units, "unit_registry", refuse)
    assert units.canonical_unit.__wrapped__("degC") == "degC"
    np.testing.assert_array_equal(convert([37.0, 36.5], "degC", "degC"), [37.0, 36.5])
