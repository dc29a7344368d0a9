"""The Single European Code (SEC) for tissues and cells distributed in the EU.

Structure (Commission Directive (EU) 2015/565, Annex VII): 40 characters. Donation
identification sequence (21) = country (2) + tissue establishment code (6) + unique donation
number (13); product identification sequence (19) = coding system (1: E = EUTC, A = ISBT 128,
B = Eurocode) + product number (7) + split number (3) + expiry ``YYYYMMDD`` (8, ``00000000``
when none). Import from :mod:`saisei.domain.identity`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from saisei.domain.identity_din import din_problems, normalise_code
from saisei.errors import FieldError, ValidationFailed

__all__ = ["SEC_LENGTH", "CodingSystem", "SingleEuropeanCode", "build_sec", "parse_sec"]


class CodingSystem(StrEnum):
    """Product coding system letter of the Single European Code."""

    EUTC = "E"
    ISBT128 = "A"
    EUROCODE = "B"


_SEC_FIELDS = (
    # name, length, pattern, description
    ("country_code", 2, re.compile(r"[A-Z]{2}"), "two letters (ISO 3166-1 alpha-2)"),
    ("te_code", 6, re.compile(r"[0-9A-Z]{6}"), "six characters of 0-9, A-Z"),
    ("donation_number", 13, re.compile(r"[0-9A-Z]{13}"), "13 characters of 0-9, A-Z"),
    ("product_number", 7, re.compile(r"[0-9A-Z]{7}"), "seven characters of 0-9, A-Z"),
    ("split_number", 3, re.compile(r"[0-9A-Z]{3}"), "three characters of 0-9, A-Z"),
)
SEC_LENGTH = 40
_NO_EXPIRY = "00000000"


@dataclass(frozen=True)
class SingleEuropeanCode:
    """The Single European Code of a tissue or cell product distributed in the EU.

    Donation identification sequence (21): country (2) + tissue establishment code (6) +
    unique donation number (13). Product identification sequence (19): coding system (1) +
    product number (7) + split number (3) + expiry date ``YYYYMMDD`` (8; ``00000000`` when
    the product has none).

    Attributes
    ----------
    country_code, te_code, donation_number, product_number, split_number : str
        Upper-case fields of the lengths above.
    coding_system : CodingSystem
        E (EUTC), A (ISBT 128; the donation number is then a DIN) or B (Eurocode).
    expiry : date or None
        Expiry date, None when the product has none.
    """

    country_code: str
    te_code: str
    donation_number: str
    coding_system: CodingSystem
    product_number: str
    split_number: str
    expiry: date | None

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        for name, _length, pattern, description in _SEC_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, str) or not pattern.fullmatch(value):
                errors.append(
                    FieldError(
                        f"must be {description}; got {value!r}", field=f"sec.{name}", value=value
                    )
                )
        if not isinstance(self.coding_system, CodingSystem):
            errors.append(
                FieldError(
                    "must be a CodingSystem (E, A or B)",
                    field="sec.coding_system",
                    value=self.coding_system,
                )
            )
        elif self.coding_system is CodingSystem.ISBT128 and isinstance(self.donation_number, str):
            errors.extend(
                FieldError(
                    f"with coding system A (ISBT 128) the donation number is a DIN: {e.message}",
                    field="sec.donation_number",
                    value=e.value,
                )
                for e in din_problems(self.donation_number)
            )
        if self.expiry is not None and (
            not isinstance(self.expiry, date) or isinstance(self.expiry, datetime)
        ):
            errors.append(
                FieldError("must be a date or None", field="sec.expiry", value=self.expiry)
            )
        if errors:
            raise ValidationFailed("The fields do not make a Single European Code.", errors)

    def __str__(self) -> str:
        return self.code

    @property
    def donation_identification_sequence(self) -> str:
        """Country + tissue establishment code + unique donation number (21 characters)."""
        return f"{self.country_code}{self.te_code}{self.donation_number}"

    @property
    def product_identification_sequence(self) -> str:
        """Coding system + product number + split number + expiry (19 characters)."""
        expiry = self.expiry.strftime("%Y%m%d") if self.expiry else _NO_EXPIRY
        return f"{self.coding_system.value}{self.product_number}{self.split_number}{expiry}"

    @property
    def code(self) -> str:
        """The 40-character code."""
        return self.donation_identification_sequence + self.product_identification_sequence

    @property
    def eye_readable(self) -> str:
        """The two sequences separated by a space, as printed on labels."""
        return f"{self.donation_identification_sequence} {self.product_identification_sequence}"


def _coding_system(value: CodingSystem | str) -> CodingSystem:
    if isinstance(value, CodingSystem):
        return value
    try:
        return CodingSystem(str(value).strip().upper())
    except ValueError:
        raise ValidationFailed(
            f"The SEC coding system must be E (EUTC), A (ISBT 128) or B (Eurocode); got {value!r}.",
            [FieldError("unknown coding system", field="sec.coding_system", value=value)],
        ) from None


def build_sec(
    *,
    country_code: str,
    te_code: str,
    donation_number: str,
    coding_system: CodingSystem | str,
    product_number: str,
    split_number: str,
    expiry: date | None,
) -> SingleEuropeanCode:
    """Build a Single European Code from its fields (upper-cased, whitespace stripped).

    Raises
    ------
    ValidationFailed
        Listing every field that is wrong.

    Examples
    --------
    >>> from datetime import date
    >>> build_sec(country_code="NL", te_code="000123", donation_number="A999921123456",
    ...           coding_system="A", product_number="S1234A0", split_number="000",
    ...           expiry=date(2026, 12, 31)).eye_readable
    'NL000123A999921123456 AS1234A000020261231'
    """

    def clean(value: str) -> str:
        return normalise_code(value) if isinstance(value, str) else value

    return SingleEuropeanCode(
        country_code=clean(country_code),
        te_code=clean(te_code),
        donation_number=clean(donation_number),
        coding_system=_coding_system(coding_system),
        product_number=clean(product_number),
        split_number=clean(split_number),
        expiry=expiry,
    )


def parse_sec(text: str) -> SingleEuropeanCode:
    """Read a 40-character Single European Code (whitespace, e.g. between the sequences,
    ignored).

    Raises
    ------
    ValidationFailed
        If the length, a field or the expiry date is wrong.
    """
    raw = normalise_code(text)
    if len(raw) != SEC_LENGTH:
        raise ValidationFailed(
            f"A Single European Code has {SEC_LENGTH} characters (21 donation + 19 product "
            f"identification); got {len(raw)} in {text!r}."
        )
    expiry_text = raw[32:40]
    expiry: date | None = None
    if expiry_text != _NO_EXPIRY:
        try:
            expiry = datetime.strptime(expiry_text, "%Y%m%d").date()
        except ValueError:
            raise ValidationFailed(
                f"The SEC expiry date must be YYYYMMDD or 00000000; got {expiry_text!r}.",
                [FieldError("not a calendar date", field="sec.expiry", value=expiry_text)],
            ) from None
    return build_sec(
        country_code=raw[0:2],
        te_code=raw[2:8],
        donation_number=raw[8:21],
        coding_system=raw[21],
        product_number=raw[22:29],
        split_number=raw[29:32],
        expiry=expiry,
    )
