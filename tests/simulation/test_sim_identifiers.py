"""DINs and COIs of simulated donations are valid ISBT 128 identifiers."""

from __future__ import annotations

import pytest

from saisei.domain.identity import parse_identity_code, validate_coi, validate_din
from saisei.errors import ValidationFailed
from saisei.simulation import SimulationResult, check_character, din_barcode, make_din


@pytest.mark.parametrize(
    ("din", "expected"),
    [
        ("A999921123456", "3"),  # ICCBBA ST-001, figure 2 (domain.md)
        ("G123498654321", "H"),  # UK Red Book, annex 2 (domain.md)
    ],
)
def test_check_character_matches_the_worked_examples(din: str, expected: str) -> None:
    assert check_character(din) == expected


def test_barcode_carries_the_check_flag() -> None:
    # domain.md: A999921123456 has check value 3, flag 63.
    assert din_barcode("A999921123456") == "=A99992112345663"


def test_make_din_refuses_a_facility_starting_with_o() -> None:
    with pytest.raises(ValidationFailed, match="first one of A-N, P-Z or 1-9"):
        make_din("O1234", 26, 1)


def test_every_din_and_coi_is_valid(
    msc_result: SimulationResult, cart_result: SimulationResult
) -> None:
    for result in (msc_result, cart_result):
        collections = result.tables["collections"]
        for din in collections["din"]:
            assert validate_din(din).value == din
            assert parse_identity_code(din_barcode(din)).value == din
        for coi in collections["coi"]:
            assert validate_coi(coi).value == coi
        assert collections["din"].is_unique
