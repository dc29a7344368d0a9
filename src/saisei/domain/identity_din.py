"""ISBT 128 Donation Identification Number and the ISO/IEC 7064 Mod 37-2 check character.

Identity and barcode decoration are kept apart: a :class:`Din` is the 13-character identity
only; the two flag characters that follow it on a barcode are a separate :class:`DinFlags`
value that never takes part in comparisons, and the keyboard check character is derived.

Sources: ICCBBA ST-001 (ISBT 128 Standard Technical Specification) for the DIN structure, its
flags and the keyboard-entry check character; ISO/IEC 7064 for the Mod 37-2 algorithm.
Import from :mod:`saisei.domain.identity`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from saisei.errors import FieldError, ValidationFailed

__all__ = [
    "DIN_DATA_IDENTIFIER",
    "MOD37_2_CHARSET",
    "Din",
    "DinFlags",
    "DinForm",
    "FlagKind",
    "ParsedDin",
    "check_character",
    "check_value",
    "din_problems",
    "has_valid_check_character",
    "is_valid_din",
    "normalise_code",
    "parse_din",
    "require_aware",
    "validate_din",
]

#: ISO/IEC 7064 Mod 37-2 character set; the position of a character is its value (0..36).
#: ``*`` (36) only ever appears as a check character, never in data.
MOD37_2_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
_VALUE_OF = {char: value for value, char in enumerate(MOD37_2_CHARSET)}

#: Data identifier that precedes a DIN on a barcode (ISBT 128 data structure 001).
DIN_DATA_IDENTIFIER = "="

FIN_FIRST_CHARACTERS = "ABCDEFGHIJKLMNPQRSTUVWXYZ123456789"  # never O or 0
DIGITS4 = re.compile(r"[0-9]{4}")
DIGITS2 = re.compile(r"[0-9]{2}")
_DIGITS6 = re.compile(r"[0-9]{6}")
ALNUM = re.compile(r"[0-9A-Z]+")


def require_aware(moment: datetime, name: str) -> None:
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationFailed(
            f"'{name}' must be a timezone-aware datetime (UTC); got {moment!r}. "
            "Attach a timezone, e.g. datetime(..., tzinfo=timezone.utc)."
        )


def normalise_code(text: str) -> str:
    """Upper-case and drop all whitespace: keyboard entries arrive as ``a9999 21 123456 3``."""
    if not isinstance(text, str):
        raise ValidationFailed(
            f"An identity code must be given as text; got {type(text).__name__}."
        )
    return "".join(text.split()).upper()


# --------------------------------------------------------------------------------------------
# ISO/IEC 7064 Mod 37-2
# --------------------------------------------------------------------------------------------


def check_value(data: str) -> int:
    """Compute the ISO/IEC 7064 Mod 37-2 check value (0..36) of ``data``.

    Parameters
    ----------
    data : str
        One or more characters of ``0-9`` and ``A-Z`` (upper case), e.g. a 13-character DIN.

    Returns
    -------
    int
        The check value; ``MOD37_2_CHARSET[value]`` is the check character and ``60 + value``
        the ISBT 128 check flag.

    Raises
    ------
    ValidationFailed
        If ``data`` is empty or holds a character outside ``0-9A-Z``.
    """
    if not isinstance(data, str) or not data:
        raise ValidationFailed(
            f"The Mod 37-2 check value needs at least one character of 0-9 or A-Z; got {data!r}."
        )
    errors = [
        FieldError(
            f"character {char!r} at position {pos} is not one of 0-9, A-Z (upper case)",
            value=char,
        )
        for pos, char in enumerate(data, start=1)
        if char not in _VALUE_OF or char == "*"
    ]
    if errors:
        raise ValidationFailed(f"Cannot compute a Mod 37-2 check character for {data!r}.", errors)
    # ISO/IEC 7064 pure system, modulus 37, radix 2 (ICCBBA ST-001, keyboard entry check).
    p = 0
    for char in data:
        p = ((p + _VALUE_OF[char]) * 2) % 37
    return (38 - p) % 37


def check_character(data: str) -> str:
    """Return the ISO/IEC 7064 Mod 37-2 check character of ``data``.

    Parameters
    ----------
    data : str
        Characters of ``0-9A-Z``; for a DIN, its 13 characters (never the flags).

    Returns
    -------
    str
        One character of ``0-9A-Z*``.

    Examples
    --------
    >>> check_character("A999921123456")
    '3'
    >>> check_character("G123498654321")
    'H'
    """
    return MOD37_2_CHARSET[check_value(data)]


def has_valid_check_character(data_with_check: str) -> bool:
    """Tell whether the last character of ``data_with_check`` is the check of the others.

    Never raises: text that cannot carry a check character (too short, foreign characters)
    is simply not valid.
    """
    if not isinstance(data_with_check, str) or len(data_with_check) < 2:
        return False
    data, given = data_with_check[:-1], data_with_check[-1]
    try:
        return check_character(data) == given
    except ValidationFailed:
        return False


# --------------------------------------------------------------------------------------------
# Donation Identification Number
# --------------------------------------------------------------------------------------------


def din_problems(value: str) -> tuple[FieldError, ...]:
    """List every way ``value`` fails to be a 13-character ISBT 128 DIN (empty when valid).

    The structure is ``αppppyynnnnnn``: facility identification number (``α`` one of A-N,
    P-Z, 1-9, then four digits), two-digit nominal year, six-digit sequence number.
    """
    if not isinstance(value, str) or len(value) != 13:
        got = f"{len(value)} characters" if isinstance(value, str) else type(value).__name__
        return (
            FieldError(
                "a DIN has 13 characters: facility (5), year (2), sequence (6); "
                f"got {got} in {value!r}",
                field="din",
                value=value,
            ),
        )
    errors: list[FieldError] = []
    if value[0] not in FIN_FIRST_CHARACTERS:
        errors.append(
            FieldError(
                "the facility identification number must start with A-N, P-Z or 1-9 "
                f"(never O or 0); got {value[0]!r}",
                field="din.facility",
                value=value[:5],
            )
        )
    if not DIGITS4.fullmatch(value[1:5]):
        errors.append(
            FieldError(
                f"characters 2-5 of the facility identification number must be digits; "
                f"got {value[1:5]!r}",
                field="din.facility",
                value=value[:5],
            )
        )
    if not DIGITS2.fullmatch(value[5:7]):
        errors.append(
            FieldError(
                f"the nominal year (characters 6-7) must be two digits; got {value[5:7]!r}",
                field="din.year",
                value=value[5:7],
            )
        )
    if not _DIGITS6.fullmatch(value[7:13]):
        errors.append(
            FieldError(
                f"the sequence number (characters 8-13) must be six digits; got {value[7:13]!r}",
                field="din.sequence",
                value=value[7:13],
            )
        )
    return tuple(errors)


@dataclass(frozen=True, order=True)
class Din:
    """An ISBT 128 Donation Identification Number: the 13-character identity, nothing more.

    Flags and the keyboard check character are not part of the identity; two DINs are equal
    when their 13 characters are. Build one with :func:`validate_din` or :func:`parse_din` to
    accept the barcode and keyboard forms.

    Attributes
    ----------
    value : str
        The 13 characters, e.g. ``"A999921123456"``.
    """

    value: str

    def __post_init__(self) -> None:
        problems = din_problems(self.value)
        if problems:
            raise ValidationFailed(f"{self.value!r} is not an ISBT 128 DIN.", problems)

    def __str__(self) -> str:
        return self.value

    @property
    def facility_id(self) -> str:
        """Facility identification number (FIN), 5 characters."""
        return self.value[:5]

    @property
    def year(self) -> str:
        """Two-digit nominal year, as printed (``"21"``)."""
        return self.value[5:7]

    @property
    def sequence(self) -> str:
        """Six-digit sequence number within facility and year."""
        return self.value[7:]

    @property
    def check_character(self) -> str:
        """Keyboard-entry check character (Mod 37-2 over the 13 characters)."""
        return check_character(self.value)

    @property
    def check_flag(self) -> DinFlags:
        """The flag pair that encodes the check value (``60 + value``)."""
        return DinFlags(f"{60 + check_value(self.value):02d}")

    @property
    def eye_readable(self) -> str:
        """Printed form ``A9999 21 123456 3`` (FIN, year, sequence, check character)."""
        return f"{self.facility_id} {self.year} {self.sequence} {self.check_character}"

    def barcode_data(self, flags: DinFlags | None = None) -> str:
        """Barcode data content ``=`` + DIN + flags (check flag unless other flags given)."""
        return f"{DIN_DATA_IDENTIFIER}{self.value}{(flags or self.check_flag).code}"


class FlagKind(StrEnum):
    """What a pair of DIN flag characters means (ICCBBA ST-001, flag characters)."""

    NOT_USED = "not_used"  # 00
    CONTAINER = "container"  # 01-04, 15-19: container of a set
    STANDARD = "standard"  # 05-14: meanings fixed by the ISBT 128 flag table
    LOCAL = "local"  # 20-59: defined locally by the facility
    CHECK = "check"  # 60-96: 60 + Mod 37-2 check value
    RESERVED = "reserved"  # 97-99


@dataclass(frozen=True)
class DinFlags:
    """The two flag characters that follow a DIN on a barcode; never part of its identity.

    Attributes
    ----------
    code : str
        Two digits, ``"00"`` to ``"99"``.
    """

    code: str

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not DIGITS2.fullmatch(self.code):
            raise ValidationFailed(
                f"DIN flags are two digits 00-99; got {self.code!r}.",
                [FieldError("flags must be two digits", field="din.flags", value=self.code)],
            )

    @property
    def value(self) -> int:
        """The flags as a number 0..99."""
        return int(self.code)

    @property
    def kind(self) -> FlagKind:
        """Which range of the flag table the value falls in."""
        v = self.value
        if v == 0:
            return FlagKind.NOT_USED
        if 1 <= v <= 4 or 15 <= v <= 19:
            return FlagKind.CONTAINER
        if 5 <= v <= 14:
            return FlagKind.STANDARD
        if 20 <= v <= 59:
            return FlagKind.LOCAL
        if 60 <= v <= 96:
            return FlagKind.CHECK
        return FlagKind.RESERVED

    @property
    def container_number(self) -> int | None:
        """Container of a set: 1-4 for flags 01-04, 5-9 for flags 15-19; else None."""
        v = self.value
        if 1 <= v <= 4:
            return v
        if 15 <= v <= 19:
            return v - 10
        return None

    @property
    def check_value(self) -> int | None:
        """The Mod 37-2 check value carried by a check flag (60-96); else None."""
        return self.value - 60 if self.kind is FlagKind.CHECK else None


class DinForm(StrEnum):
    """The form a DIN was entered or scanned in."""

    BARE = "bare"  # 13 characters
    KEYED = "keyed"  # 13 characters + check character (keyboard entry, eye-readable)
    FLAGGED = "flagged"  # 13 characters + 2 flag digits, without the data identifier
    BARCODE = "barcode"  # '=' + 13 characters + 2 flag digits


@dataclass(frozen=True)
class ParsedDin:
    """A DIN as read from a barcode or keyboard: the identity and, apart, its decoration.

    Attributes
    ----------
    din : Din
        The identity.
    flags : DinFlags or None
        Flag characters when the form carried them.
    check_character : str or None
        The check character as entered (keyboard form), already verified.
    form : DinForm
        Which form was read.
    """

    din: Din
    flags: DinFlags | None
    check_character: str | None
    form: DinForm


def parse_din(text: str) -> ParsedDin:
    """Read a DIN in any of its forms, verifying what can be verified.

    Accepted (whitespace ignored, letters upper-cased): 13 characters; 13 plus the keyboard
    check character (``A9999 21 123456 3``); 13 plus two flag digits; and the barcode data
    content ``=`` + 13 + flags. A check character, or flags in the check range 60-96, must agree
    with the DIN.

    Raises
    ------
    ValidationFailed
        Naming each problem: length, structure, check character or check flag.

    Examples
    --------
    >>> parsed = parse_din("=A99992112345663")
    >>> parsed.din.value, parsed.flags.check_value
    ('A999921123456', 3)
    """
    raw = normalise_code(text)
    body = raw[1:] if raw.startswith(DIN_DATA_IDENTIFIER) else raw
    if raw.startswith(DIN_DATA_IDENTIFIER) and len(body) != 15:
        raise ValidationFailed(
            f"A DIN barcode is '=' followed by 13 characters and 2 flag digits (16 in all); "
            f"got {len(raw)} characters in {text!r}."
        )
    if len(body) not in (13, 14, 15):
        raise ValidationFailed(
            f"A DIN has 13 characters, 14 with its check character, 15 with its flags or 16 "
            f"as barcode data; got {len(body)} characters in {text!r}.",
            din_problems(body[:13]) if len(body) > 13 else (),
        )
    din = Din(body[:13])
    if len(body) == 13:
        return ParsedDin(din, None, None, DinForm.BARE)
    if len(body) == 14:
        entered = body[13]
        if entered != din.check_character:
            raise ValidationFailed(
                f"The check character of DIN {din} must be {din.check_character!r}; "
                f"{entered!r} was entered. Re-enter the DIN from the label.",
                [FieldError("check character does not match", field="din.check", value=entered)],
            )
        return ParsedDin(din, None, entered, DinForm.KEYED)
    flags = DinFlags(body[13:])
    if flags.kind is FlagKind.CHECK and flags.check_value != check_value(din.value):
        raise ValidationFailed(
            f"The check flags {flags.code} of DIN {din} say check value {flags.check_value}, "
            f"but the DIN's check value is {check_value(din.value)} (flags "
            f"{din.check_flag.code}). Rescan; if it persists the label is wrong.",
            [FieldError("check flag does not match", field="din.flags", value=flags.code)],
        )
    form = DinForm.BARCODE if raw.startswith(DIN_DATA_IDENTIFIER) else DinForm.FLAGGED
    return ParsedDin(din, flags, None, form)


def validate_din(text: str) -> Din:
    """Return the :class:`Din` identity of ``text`` in any form :func:`parse_din` reads.

    Raises
    ------
    ValidationFailed
        If the text is not a DIN or its check character or check flags disagree.
    """
    return parse_din(text).din


def is_valid_din(text: str) -> bool:
    """Tell whether :func:`validate_din` would accept ``text``; never raises."""
    try:
        validate_din(text)
    except ValidationFailed:
        return False
    return True
