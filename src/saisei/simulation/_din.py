"""ISBT 128 identifiers for simulated donations: DINs, their check character, COI content.

A DIN is ``αppppyynnnnnn``: facility identification number (5 characters, the first one of
A-N, P-Z or 1-9), two-digit nominal year, six-digit sequence (ICCBBA ST-001). The keyboard
check character is ISO/IEC 7064 Mod 37-2 over the 13 characters. The simulation layer may not
import :mod:`saisei.domain`, so this is a small private copy of the algorithm.
"""

from __future__ import annotations

from saisei.errors import ValidationFailed

_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
_VALUE = {c: v for v, c in enumerate(_CHARSET)}
_FIN_FIRST = "ABCDEFGHIJKLMNPQRSTUVWXYZ123456789"


def mod37_2(data: str) -> int:
    """ISO/IEC 7064 Mod 37-2 check value (0..36) of ``data`` (0-9, A-Z)."""
    p = 0
    for char in data:
        p = ((p + _VALUE[char]) * 2) % 37
    return (38 - p) % 37


def check_character(data: str) -> str:
    """Mod 37-2 check character of ``data``."""
    return _CHARSET[mod37_2(data)]


def make_din(facility: str, year: int, sequence: int) -> str:
    """A 13-character DIN for ``facility`` (5 characters), ``year`` and ``sequence``."""
    if len(facility) != 5 or facility[0] not in _FIN_FIRST or not facility[1:].isdigit():
        raise ValidationFailed(
            "A facility identification number has 5 characters, the first one of A-N, P-Z "
            f"or 1-9 and then four digits. Got {facility!r}."
        )
    if not 0 <= sequence <= 999_999:
        raise ValidationFailed(f"A DIN sequence number is 0..999999. Got {sequence}.")
    return f"{facility}{year % 100:02d}{sequence:06d}"


def din_barcode(din: str) -> str:
    """Barcode data of a DIN: ``=`` + DIN + check flag ``60 + check value``."""
    return f"={din}{60 + mod37_2(din):02d}"


def make_coi(facility: str, year: int, serial: int) -> str:
    """15-character Chain of Identity content: ``CH`` + facility + year + 6 base-36 chars."""
    digits = []
    for _ in range(6):
        serial, rem = divmod(serial, 36)
        digits.append(_CHARSET[rem])
    return f"CH{facility}{year % 100:02d}{''.join(reversed(digits))}"
