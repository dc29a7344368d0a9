"""The ISBT 128 Chain of Identity (COI) identifier: allocate and validate.

Structure (ICCBBA ST-028, data structure 040, as summarised in ``shared/docs/domain.md``):
data identifier ``&/``, then 15 characters of content: ``CH`` + facility identification number
(5) + two-digit nominal year + six characters of 0-9/A-Z. The keyboard check character is
Mod 37-2 over those 15 content characters (the data identifier excluded); domain.md marks this
"(check)", so it is one place here: :attr:`ChainOfIdentityId.check_character`.
Import from :mod:`saisei.domain.identity`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from saisei.domain.identity_din import (
    ALNUM,
    DIGITS2,
    DIGITS4,
    FIN_FIRST_CHARACTERS,
    MOD37_2_CHARSET,
    check_character,
    normalise_code,
    require_aware,
)
from saisei.errors import FieldError, ValidationFailed

__all__ = [
    "COI_DATA_IDENTIFIER",
    "COI_PREFIX",
    "ChainOfIdentityId",
    "allocate_coi",
    "coi_problems",
    "validate_coi",
]

#: Data identifier of the Chain of Identity identifier (ISBT 128 ST-028).
COI_DATA_IDENTIFIER = "&/"
#: Fixed first two characters of the Chain of Identity content.
COI_PREFIX = "CH"

_BASE36 = MOD37_2_CHARSET[:36]
_COI_SERIAL_LENGTH = 6
_COI_SERIAL_MAX = 36**_COI_SERIAL_LENGTH - 1


def coi_problems(content: str) -> tuple[FieldError, ...]:
    """List every way ``content`` fails to be the 15-character Chain of Identity content.

    The content is ``CH`` + facility identification number (5) + nominal year (2) + six
    characters of 0-9/A-Z; the data identifier ``&/`` and the check character are not part of
    it.
    """
    if not isinstance(content, str) or len(content) != 15:
        got = f"{len(content)} characters" if isinstance(content, str) else type(content).__name__
        return (
            FieldError(
                "a Chain of Identity identifier has 15 characters: 'CH', facility (5), year (2), "
                f"serial (6); got {got} in {content!r}",
                field="coi",
                value=content,
            ),
        )
    errors: list[FieldError] = []
    if content[:2] != COI_PREFIX:
        errors.append(
            FieldError(f"must start with 'CH'; got {content[:2]!r}", field="coi", value=content)
        )
    fin = content[2:7]
    if fin[0] not in FIN_FIRST_CHARACTERS or not DIGITS4.fullmatch(fin[1:]):
        errors.append(
            FieldError(
                "the facility identification number must be one of A-N, P-Z, 1-9 followed by four "
                f"digits; got {fin!r}",
                field="coi.facility",
                value=fin,
            )
        )
    if not DIGITS2.fullmatch(content[7:9]):
        errors.append(
            FieldError(
                f"the nominal year must be two digits; got {content[7:9]!r}",
                field="coi.year",
                value=content[7:9],
            )
        )
    if not ALNUM.fullmatch(content[9:]):
        errors.append(
            FieldError(
                f"the serial must be six characters of 0-9, A-Z; got {content[9:]!r}",
                field="coi.serial",
                value=content[9:],
            )
        )
    return tuple(errors)


@dataclass(frozen=True, order=True)
class ChainOfIdentityId:
    """The ISBT 128 Chain of Identity identifier that links all donations and products of one
    therapy.

    Attributes
    ----------
    value : str
        The 15-character content ``CH`` + FIN + year + serial, e.g. ``"CHA999925000001"``.
        The check character is computed over these 15 characters (see the module docs).
    """

    value: str

    def __post_init__(self) -> None:
        problems = coi_problems(self.value)
        if problems:
            raise ValidationFailed(
                f"{self.value!r} is not a Chain of Identity identifier.", problems
            )

    def __str__(self) -> str:
        return self.value

    @property
    def facility_id(self) -> str:
        """Facility identification number of the allocating facility."""
        return self.value[2:7]

    @property
    def year(self) -> str:
        """Two-digit nominal year of allocation."""
        return self.value[7:9]

    @property
    def serial(self) -> str:
        """Six-character serial within facility and year."""
        return self.value[9:]

    @property
    def check_character(self) -> str:
        """Mod 37-2 check character over the 15-character content."""
        return check_character(self.value)

    @property
    def keyed(self) -> str:
        """Keyboard-entry form: content + check character (16 characters)."""
        return self.value + self.check_character

    @property
    def barcode_data(self) -> str:
        """Barcode data content: ``&/`` + content."""
        return COI_DATA_IDENTIFIER + self.value


def _coi_serial(serial: int | str) -> str:
    if isinstance(serial, bool) or not isinstance(serial, int | str):
        raise ValidationFailed(f"A COI serial is an int or 6 characters; got {serial!r}.")
    if isinstance(serial, int):
        if not 0 <= serial <= _COI_SERIAL_MAX:
            raise ValidationFailed(
                f"A COI serial number must be in 0..{_COI_SERIAL_MAX} (six base-36 characters); "
                f"got {serial}."
            )
        digits = []
        for _ in range(_COI_SERIAL_LENGTH):
            serial, rem = divmod(serial, 36)
            digits.append(_BASE36[rem])
        return "".join(reversed(digits))
    return serial.strip().upper()


def allocate_coi(facility_id: str, *, at: datetime, serial: int | str) -> ChainOfIdentityId:
    """Allocate the Chain of Identity identifier for a new therapy.

    Allocation is pure: the caller supplies the next serial (from a database sequence), and
    uniqueness within facility and year is the caller's to guarantee.

    Parameters
    ----------
    facility_id : str
        The allocating facility's identification number (5 characters).
    at : datetime
        Timezone-aware allocation time; its UTC year gives the two-digit nominal year.
    serial : int or str
        An int in ``0..36**6 - 1`` (written as six base-36 characters, ``0-9A-Z``, zero-padded,
        so order is kept) or six characters of ``0-9A-Z`` taken as they are.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> allocate_coi("A9999", at=datetime(2025, 3, 1, tzinfo=timezone.utc), serial=37).value
    'CHA999925000011'
    """
    require_aware(at, "at")
    year = at.astimezone(UTC).year % 100
    return ChainOfIdentityId(
        f"{COI_PREFIX}{normalise_code(facility_id)}{year:02d}{_coi_serial(serial)}"
    )


def validate_coi(text: str) -> ChainOfIdentityId:
    """Return the :class:`ChainOfIdentityId` in ``text``.

    Accepted (whitespace ignored, upper-cased): the 15-character content, the content plus its
    check character (verified), and either of them preceded by the data identifier ``&/``.

    Raises
    ------
    ValidationFailed
        If the structure is wrong or the check character disagrees.
    """
    raw = normalise_code(text)
    body = raw[len(COI_DATA_IDENTIFIER) :] if raw.startswith(COI_DATA_IDENTIFIER) else raw
    if len(body) == 16:
        coi = ChainOfIdentityId(body[:15])
        if body[15] != coi.check_character:
            raise ValidationFailed(
                f"The check character of Chain of Identity identifier {coi} must be "
                f"{coi.check_character!r}; {body[15]!r} was entered. Re-enter it from the label.",
                [FieldError("check character does not match", field="coi.check", value=body[15])],
            )
        return coi
    return ChainOfIdentityId(body)
