"""Identity codes: ISBT 128 DIN, the Chain of Identity identifier and the Single European Code.

This module is the public face of the identity rules; the implementation is split by code in
:mod:`~saisei.domain.identity_din` (DIN, flags, ISO/IEC 7064 Mod 37-2),
:mod:`~saisei.domain.identity_coi` (Chain of Identity identifier),
:mod:`~saisei.domain.identity_sec` (Single European Code) and
:mod:`~saisei.domain.identity_reference` (loader for user-supplied, licensed ISBT 128 code
tables, which saisei never ships).

Everything is a pure function or a frozen value type. A :class:`Din` is the 13-character
identity only: flags and check characters are decoration, kept apart (:class:`ParsedDin`).
Worked examples and sources: ``docs/identity-and-custody.md``.

Examples
--------
>>> check_character("A999921123456")
'3'
>>> validate_din("a9999 21 123456 3") == validate_din("=A99992112345663")
True
"""

from __future__ import annotations

from saisei.domain.identity_coi import (
    COI_DATA_IDENTIFIER,
    COI_PREFIX,
    ChainOfIdentityId,
    allocate_coi,
    coi_problems,
    validate_coi,
)
from saisei.domain.identity_din import (
    DIN_DATA_IDENTIFIER,
    MOD37_2_CHARSET,
    Din,
    DinFlags,
    DinForm,
    FlagKind,
    ParsedDin,
    check_character,
    check_value,
    din_problems,
    has_valid_check_character,
    is_valid_din,
    normalise_code,
    parse_din,
    validate_din,
)
from saisei.domain.identity_reference import CodeTableEntry, ReferenceCodeTable
from saisei.domain.identity_sec import (
    SEC_LENGTH,
    CodingSystem,
    SingleEuropeanCode,
    build_sec,
    parse_sec,
)

__all__ = [
    "COI_DATA_IDENTIFIER",
    "COI_PREFIX",
    "DIN_DATA_IDENTIFIER",
    "MOD37_2_CHARSET",
    "SEC_LENGTH",
    "ChainOfIdentityId",
    "CodeTableEntry",
    "CodingSystem",
    "Din",
    "DinFlags",
    "DinForm",
    "FlagKind",
    "ParsedDin",
    "ReferenceCodeTable",
    "SingleEuropeanCode",
    "allocate_coi",
    "build_sec",
    "check_character",
    "check_value",
    "coi_problems",
    "din_problems",
    "has_valid_check_character",
    "is_valid_din",
    "parse_din",
    "parse_identity_code",
    "parse_sec",
    "validate_coi",
    "validate_din",
]


def parse_identity_code(text: str) -> Din | ChainOfIdentityId:
    """Read a scanned or keyed identity code that may be a DIN or a COI identifier.

    The forms do not overlap: a COI starts with ``&/``, or with ``CH`` and has 15 or 16
    characters (content, or content plus check character); everything else is read as a DIN.

    Raises
    ------
    ValidationFailed
        If the text is neither.

    Examples
    --------
    >>> parse_identity_code("&/CHA999925000011")
    ChainOfIdentityId(value='CHA999925000011')
    >>> parse_identity_code("=A99992112345663")
    Din(value='A999921123456')
    """
    raw = normalise_code(text)
    if raw.startswith(COI_DATA_IDENTIFIER) or (raw.startswith(COI_PREFIX) and len(raw) in (15, 16)):
        return validate_coi(raw)
    return validate_din(raw)
