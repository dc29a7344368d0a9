"""Identity codes: ISBT 128 DIN and flags, Mod 37-2, Chain of Identity identifier, SEC, and the
loader for user-supplied reference tables.

Expected check characters come from published examples (``shared/docs/domain.md``) or from
``_iso7064_oracle`` below, an independent transcription of the ISO/IEC 7064 pure-system check
(the weighted sum of all characters, check included, is 1 modulo 37), never from saisei.
"""

from __future__ import annotations

import doctest
import string
from datetime import UTC, date, datetime, timedelta, timezone
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saisei.domain import (
    identity,
    identity_coi,
    identity_din,
    identity_reference,
    identity_sec,
)
from saisei.domain.identity import (
    ChainOfIdentityId,
    CodingSystem,
    Din,
    DinFlags,
    DinForm,
    FlagKind,
    ReferenceCodeTable,
    allocate_coi,
    build_sec,
    check_character,
    check_value,
    din_problems,
    has_valid_check_character,
    is_valid_din,
    parse_din,
    parse_identity_code,
    parse_sec,
    validate_coi,
    validate_din,
)
from saisei.errors import ValidationFailed

CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
DATA_CHARS = CHARSET[:36]
FIN_FIRST = "ABCDEFGHIJKLMNPQRSTUVWXYZ123456789"


def _iso7064_oracle(with_check: str) -> bool:
    """ISO/IEC 7064 pure system, modulus 37, radix 2: sum(v_i * 2^(n-i)) == 1 (mod 37)."""
    n = len(with_check)
    total = sum(CHARSET.index(c) * pow(2, n - 1 - i, 37) for i, c in enumerate(with_check))
    return total % 37 == 1


def _oracle_check_character(data: str) -> str:
    matches = [c for c in CHARSET if _iso7064_oracle(data + c)]
    assert len(matches) == 1
    return matches[0]


# --------------------------------------------------------------------------------------------
# Reference vectors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("din", "expected_char", "expected_flag"),
    [
        # ICCBBA ST-001, figure 2 (shared/docs/domain.md): A999921123456 -> '3', flag 63.
        ("A999921123456", "3", "63"),
        # UK Red Book, annex 2 (shared/docs/domain.md): G123498654321 -> 'H' (17), flag 77.
        ("G123498654321", "H", "77"),
    ],
)
def test_reference_check_characters(din: str, expected_char: str, expected_flag: str) -> None:
    assert check_character(din) == expected_char
    assert Din(din).check_character == expected_char
    assert Din(din).check_flag.code == expected_flag
    assert check_value(din) == int(expected_flag) - 60
    assert _iso7064_oracle(din + expected_char)


def test_eye_readable_and_barcode_forms() -> None:
    din = Din("A999921123456")
    assert (din.facility_id, din.year, din.sequence) == ("A9999", "21", "123456")
    assert din.eye_readable == "A9999 21 123456 3"
    assert din.barcode_data() == "=A99992112345663"
    assert din.barcode_data(DinFlags("01")) == "=A99992112345601"


def test_check_value_refuses_characters_outside_the_data_set() -> None:
    with pytest.raises(ValidationFailed, match="Cannot compute a Mod 37-2 check character"):
        check_character("a999921123456")
    with pytest.raises(ValidationFailed) as info:
        check_character("A99*92112345-")
    assert [e.value for e in info.value.errors] == ["*", "-"]
    with pytest.raises(ValidationFailed, match="at least one character"):
        check_character("")


def test_has_valid_check_character_never_raises() -> None:
    assert has_valid_check_character("A9999211234563")
    assert not has_valid_check_character("A9999211234564")
    assert not has_valid_check_character("3")
    assert not has_valid_check_character("a9999211234563")


# --------------------------------------------------------------------------------------------
# Property tests: every single substitution and adjacent transposition is caught
# --------------------------------------------------------------------------------------------

dins = st.builds(
    lambda first, rest: first + "".join(rest),
    st.sampled_from(FIN_FIRST),
    st.lists(st.sampled_from(string.digits), min_size=12, max_size=12),
)


@given(din=dins, position=st.integers(0, 12), replacement=st.sampled_from(DATA_CHARS))
def test_every_single_substitution_in_a_din_changes_its_check_character(
    din: str, position: int, replacement: str
) -> None:
    if replacement == din[position]:
        return
    mutated = din[:position] + replacement + din[position + 1 :]
    assert check_character(mutated) != check_character(din)


@given(din=dins, position=st.integers(0, 11))
def test_every_adjacent_transposition_in_a_din_changes_its_check_character(
    din: str, position: int
) -> None:
    a, b = din[position], din[position + 1]
    if a == b:
        return
    mutated = din[:position] + b + a + din[position + 2 :]
    assert check_character(mutated) != check_character(din)


@given(din=dins, position=st.integers(0, 13), replacement=st.sampled_from(CHARSET))
def test_every_substitution_in_the_keyed_form_is_refused(
    din: str, position: int, replacement: str
) -> None:
    keyed = din + check_character(din)
    if replacement == keyed[position]:
        return
    mutated = keyed[:position] + replacement + keyed[position + 1 :]
    assert not has_valid_check_character(mutated)
    assert not is_valid_din(mutated)


@given(din=dins, position=st.integers(0, 12))
def test_every_adjacent_transposition_in_the_keyed_form_is_refused(din: str, position: int) -> None:
    keyed = din + check_character(din)
    a, b = keyed[position], keyed[position + 1]
    if a == b:
        return
    mutated = keyed[:position] + b + a + keyed[position + 2 :]
    assert not has_valid_check_character(mutated)


@pytest.mark.parametrize("din", ["A999921123456", "G123498654321"])
def test_substitutions_and_transpositions_exhaustively_for_the_reference_dins(din: str) -> None:
    original = check_character(din)
    for i in range(13):
        for char in DATA_CHARS.replace(din[i], ""):
            assert check_character(din[:i] + char + din[i + 1 :]) != original
        if i < 12 and din[i] != din[i + 1]:
            assert check_character(din[:i] + din[i + 1] + din[i] + din[i + 2 :]) != original


@given(din=dins)
def test_check_character_agrees_with_the_iso7064_oracle(din: str) -> None:
    assert check_character(din) == _oracle_check_character(din)


# --------------------------------------------------------------------------------------------
# DIN structure, forms and flags
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "form", "flags", "check"),
    [
        ("A999921123456", DinForm.BARE, None, None),
        ("a9999 21 123456 3", DinForm.KEYED, None, "3"),
        ("A99992112345663", DinForm.FLAGGED, "63", None),
        ("=A99992112345663", DinForm.BARCODE, "63", None),
        ("=A99992112345602", DinForm.BARCODE, "02", None),
        (" =A999921123456 00 ", DinForm.BARCODE, "00", None),
    ],
)
def test_parse_din_reads_every_form(
    text: str, form: DinForm, flags: str | None, check: str | None
) -> None:
    parsed = parse_din(text)
    assert parsed.din == Din("A999921123456")
    assert parsed.form is form
    assert (parsed.flags.code if parsed.flags else None) == flags
    assert parsed.check_character == check


def test_flags_are_not_part_of_the_identity() -> None:
    bag1 = validate_din("=A99992112345601")
    bag2 = validate_din("=A99992112345602")
    assert bag1 == bag2 == validate_din("A999921123456")
    assert len({bag1, bag2}) == 1


def test_wrong_keyed_check_character_is_refused() -> None:
    with pytest.raises(
        ValidationFailed,
        match=r"check character of DIN A999921123456 must be "
        r"'3'; '4' was entered",
    ):
        parse_din("A9999211234564")


def test_wrong_check_flag_is_refused() -> None:
    with pytest.raises(ValidationFailed, match=r"check flags 64 .* check value is 3 \(flags 63\)"):
        parse_din("=A99992112345664")


@pytest.mark.parametrize(
    ("code", "kind", "container", "check"),
    [
        ("00", FlagKind.NOT_USED, None, None),
        ("01", FlagKind.CONTAINER, 1, None),
        ("04", FlagKind.CONTAINER, 4, None),
        ("07", FlagKind.STANDARD, None, None),
        ("15", FlagKind.CONTAINER, 5, None),
        ("19", FlagKind.CONTAINER, 9, None),
        ("20", FlagKind.LOCAL, None, None),
        ("59", FlagKind.LOCAL, None, None),
        ("60", FlagKind.CHECK, None, 0),
        ("96", FlagKind.CHECK, None, 36),
        ("97", FlagKind.RESERVED, None, None),
    ],
)
def test_flag_ranges(code: str, kind: FlagKind, container: int | None, check: int | None) -> None:
    # Ranges from shared/docs/domain.md: 60-96 = 60 + check value; 01-04, 15-19 containers;
    # 20-59 locally defined.
    flags = DinFlags(code)
    assert (flags.kind, flags.container_number, flags.check_value) == (kind, container, check)


def test_flags_must_be_two_digits() -> None:
    with pytest.raises(ValidationFailed, match="DIN flags are two digits"):
        DinFlags("6A")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("O999921123456", "never O or 0"),
        ("0999921123456", "never O or 0"),
        ("A9A9921123456", "characters 2-5 of the facility"),
        ("A9999X1123456", "nominal year"),
        ("A99992112345Z", "sequence number"),
        ("A99992112345", "13 characters"),
    ],
)
def test_din_structure_problems(text: str, problem: str) -> None:
    assert any(problem in e.message for e in din_problems(text))
    with pytest.raises(ValidationFailed, match="is not an ISBT 128 DIN"):
        Din(text)


def test_every_din_problem_is_listed_at_once() -> None:
    fields = {e.field for e in din_problems("OXXXXYYZZZZZZ")}
    assert fields == {"din.facility", "din.year", "din.sequence"}


def test_parse_din_refuses_wrong_lengths() -> None:
    with pytest.raises(ValidationFailed, match="got 12 characters"):
        parse_din("A99992112345")
    with pytest.raises(ValidationFailed, match="16 in all"):
        parse_din("=A999921123456")
    with pytest.raises(ValidationFailed, match="given as text"):
        parse_din(12345)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Chain of Identity identifier
# --------------------------------------------------------------------------------------------

AT = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("serial", "written"),
    [(0, "000000"), (35, "00000Z"), (36, "000010"), (36**6 - 1, "ZZZZZZ"), ("ab12cd", "AB12CD")],
)
def test_allocate_coi(serial: int | str, written: str) -> None:
    coi = allocate_coi("A9999", at=AT, serial=serial)
    assert coi.value == f"CHA999925{written}"
    assert (coi.facility_id, coi.year, coi.serial) == ("A9999", "25", written)
    assert coi.barcode_data == f"&/CHA999925{written}"
    assert coi.keyed == coi.value + _oracle_check_character(coi.value)


def test_allocation_year_is_the_utc_year() -> None:
    late_new_year_eve_in_new_york = datetime(
        2025, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5))
    )
    assert allocate_coi("A9999", at=late_new_year_eve_in_new_york, serial=1).year == "26"


def test_allocation_needs_an_aware_time_and_a_serial_in_range() -> None:
    with pytest.raises(ValidationFailed, match="timezone-aware"):
        allocate_coi("A9999", at=datetime(2025, 3, 1), serial=1)
    with pytest.raises(ValidationFailed, match=r"0\.\.2176782335"):
        allocate_coi("A9999", at=AT, serial=36**6)
    with pytest.raises(ValidationFailed, match="serial must be six characters"):
        allocate_coi("A9999", at=AT, serial="AB-12C")
    with pytest.raises(ValidationFailed, match="facility identification number"):
        allocate_coi("O9999", at=AT, serial=1)


def test_validate_coi_forms() -> None:
    coi = ChainOfIdentityId("CHA999925000011")
    check = _oracle_check_character("CHA999925000011")
    for text in (
        "CHA999925000011",
        "&/CHA999925000011",
        f"CHA999925000011{check}",
        f"&/chA999925000011{check}",
    ):
        assert validate_coi(text) == coi
    wrong = CHARSET[(CHARSET.index(check) + 1) % 36]
    with pytest.raises(ValidationFailed, match=f"must be '{check}'; '{wrong}' was entered"):
        validate_coi(f"CHA999925000011{wrong}")
    with pytest.raises(ValidationFailed, match="must start with 'CH'"):
        validate_coi("XXA999925000011")


def test_parse_identity_code_tells_coi_from_din() -> None:
    assert parse_identity_code("&/CHA999925000011") == ChainOfIdentityId("CHA999925000011")
    assert parse_identity_code("=A99992112345663") == Din("A999921123456")
    with pytest.raises(ValidationFailed):
        parse_identity_code("hello")


# --------------------------------------------------------------------------------------------
# Single European Code
# --------------------------------------------------------------------------------------------

SEC_FIELDS = dict(
    country_code="NL",
    te_code="000123",
    donation_number="A999921123456",
    coding_system="A",
    product_number="S1234A0",
    split_number="001",
    expiry=date(2026, 12, 31),
)
# Assembled by hand from Directive (EU) 2015/565 Annex VII: 2 + 6 + 13 | 1 + 7 + 3 + 8.
SEC_TEXT = "NL000123A999921123456AS1234A000120261231"


def test_build_sec() -> None:
    sec = build_sec(**SEC_FIELDS)  # type: ignore[arg-type]
    assert sec.code == SEC_TEXT and len(sec.code) == 40
    assert sec.donation_identification_sequence == "NL000123A999921123456"
    assert sec.product_identification_sequence == "AS1234A000120261231"
    assert sec.eye_readable == "NL000123A999921123456 AS1234A000120261231"
    assert sec.coding_system is CodingSystem.ISBT128


def test_parse_sec_reads_both_forms_and_no_expiry() -> None:
    assert parse_sec(SEC_TEXT) == build_sec(**SEC_FIELDS)  # type: ignore[arg-type]
    assert parse_sec("NL000123A999921123456 AS1234A000120261231").expiry == date(2026, 12, 31)
    no_expiry = parse_sec("DE00ABCDX000000000001E123456700000000000")
    assert no_expiry.expiry is None and no_expiry.code.endswith("00000000")


def test_parse_sec_refuses_bad_codes() -> None:
    with pytest.raises(ValidationFailed, match="has 40 characters"):
        parse_sec(SEC_TEXT[:-1])
    with pytest.raises(ValidationFailed, match="YYYYMMDD or 00000000"):
        parse_sec(SEC_TEXT[:32] + "20261341")
    with pytest.raises(ValidationFailed, match="E \\(EUTC\\), A \\(ISBT 128\\) or B"):
        parse_sec(SEC_TEXT[:21] + "X" + SEC_TEXT[22:])


def test_isbt_coded_sec_needs_a_din_as_donation_number() -> None:
    with pytest.raises(ValidationFailed) as info:
        build_sec(**{**SEC_FIELDS, "donation_number": "O999921123456"})  # type: ignore[arg-type]
    assert "donation number is a DIN" in str(info.value)
    eutc = build_sec(
        **{
            **SEC_FIELDS,
            "donation_number": "O999921123456",  # type: ignore[arg-type]
            "coding_system": "E",
        }
    )
    assert eutc.donation_number == "O999921123456"


def test_every_bad_sec_field_is_listed() -> None:
    with pytest.raises(ValidationFailed) as info:
        build_sec(
            country_code="N1",
            te_code="12",
            donation_number="A999921123456",
            coding_system=CodingSystem.EUTC,
            product_number="?",
            split_number="1",
            expiry=None,
        )
    assert {e.field for e in info.value.errors} == {
        "sec.country_code",
        "sec.te_code",
        "sec.product_number",
        "sec.split_number",
    }


alnum = st.text(alphabet=DATA_CHARS, min_size=1, max_size=1)


@given(
    country=st.text(alphabet=string.ascii_uppercase, min_size=2, max_size=2),
    te=st.text(alphabet=DATA_CHARS, min_size=6, max_size=6),
    donation=st.text(alphabet=DATA_CHARS, min_size=13, max_size=13),
    system=st.sampled_from(["E", "B"]),
    product=st.text(alphabet=DATA_CHARS, min_size=7, max_size=7),
    split=st.text(alphabet=DATA_CHARS, min_size=3, max_size=3),
    expiry=st.none() | st.dates(min_value=date(1000, 1, 1)),
)
def test_sec_round_trip(
    country: str, te: str, donation: str, system: str, product: str, split: str, expiry: date | None
) -> None:
    sec = build_sec(
        country_code=country,
        te_code=te,
        donation_number=donation,
        coding_system=system,
        product_number=product,
        split_number=split,
        expiry=expiry,
    )
    assert len(sec.code) == 40
    assert parse_sec(sec.code) == sec
    assert parse_sec(sec.eye_readable) == sec


# --------------------------------------------------------------------------------------------
# User-supplied reference tables (made-up codes only: ISBT 128 tables are licensed)
# --------------------------------------------------------------------------------------------

MADE_UP_TABLE = {
    "name": "test-product-codes",
    "version": "0.1-test",
    "source": "made up for the test suite",
    "code_pattern": "Z[0-9]{4}",
    "entries": {
        "Z0001": {"description": "Made-up cell product, fresh", "class": "cellular"},
        "Z0002": "Made-up cell product, cryopreserved",
    },
}


def test_reference_table_from_mapping() -> None:
    table = ReferenceCodeTable.from_mapping(MADE_UP_TABLE)
    assert (table.name, table.version, len(table)) == ("test-product-codes", "0.1-test", 2)
    assert "Z0001" in table and "Z9999" not in table
    assert table.describe("Z0002") == "Made-up cell product, cryopreserved"
    assert table.lookup("Z0001").attributes == {"class": "cellular"}
    assert sorted(table) == ["Z0001", "Z0002"]
    with pytest.raises(TypeError):
        table.entries["Z0003"] = table.lookup("Z0001")  # type: ignore[index]


def test_reference_table_lookup_names_table_and_version() -> None:
    table = ReferenceCodeTable.from_mapping(MADE_UP_TABLE)
    with pytest.raises(
        ValidationFailed,
        match=r"'Z9999' is not in reference table 'test-product-codes' version "
        r"0\.1-test",
    ):
        table.lookup("Z9999")


def test_reference_table_list_form_and_its_problems() -> None:
    rows = {
        "name": "t",
        "version": "1",
        "code_pattern": "Z[0-9]{4}",
        "entries": [
            {"code": "Z0001", "description": "one"},
            {"code": "Z0001", "description": "again"},
            {"code": "X0001", "description": "wrong pattern"},
            {"code": "Z0003", "description": " "},
            "not a mapping",
        ],
    }
    with pytest.raises(ValidationFailed) as info:
        ReferenceCodeTable.from_mapping(rows)
    messages = [e.message for e in info.value.errors]
    assert "duplicate code" in messages
    assert any("does not match pattern" in m for m in messages)
    assert any("description must be" in m for m in messages)
    assert any("each entry must be a mapping" in m for m in messages)


def test_reference_table_needs_name_version_and_a_valid_pattern() -> None:
    with pytest.raises(ValidationFailed, match="cannot be loaded") as info:
        ReferenceCodeTable.from_mapping({"name": "", "code_pattern": "(", "entries": {}})
    assert {e.field for e in info.value.errors} == {"name", "version", "code_pattern"}


# --------------------------------------------------------------------------------------------
# Docstring examples
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "module", [identity, identity_din, identity_coi, identity_sec, identity_reference]
)
def test_docstring_examples(module: ModuleType) -> None:
    result = doctest.testmod(module)
    assert result.failed == 0
