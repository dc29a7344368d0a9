"""Versioned reference code tables supplied by the user (licensed ISBT 128 tables).

ICCBBA licenses the ISBT 128 product-description and facility tables; saisei must never ship
them. A licensee loads its own copy as a :class:`ReferenceCodeTable`, built from a plain mapping
(parsed from JSON, YAML or CSV by the caller) and carrying the table's name, version and source
so that every lookup can say which edition it used. Import from :mod:`saisei.domain.identity`.

The mapping shape::

    {
        "name": "isbt128-product-description-codes",
        "version": "7.80",
        "source": "ICCBBA, licensed to <licensee>",
        "code_pattern": "[A-Z][0-9]{4}",          # optional regular expression
        "entries": {                             # or a list of {"code": ..., "description": ...}
            "X0001": {"description": "...", "any": "other attribute"},
            "X0002": "description only",
        },
    }
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from saisei.errors import FieldError, ValidationFailed

__all__ = ["CodeTableEntry", "ReferenceCodeTable"]


def _no_attributes() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True)
class CodeTableEntry:
    """One code of a reference table.

    Attributes
    ----------
    code : str
        The code as the table writes it.
    description : str
        Its meaning.
    attributes : Mapping[str, str]
        Any further columns of the table, read-only.
    """

    code: str
    description: str
    attributes: Mapping[str, str] = field(default_factory=_no_attributes, hash=False)


@dataclass(frozen=True)
class ReferenceCodeTable:
    """A versioned, read-only code table supplied by its licensee.

    Build one with :meth:`from_mapping`. Lookups name the table and version in their errors.

    Attributes
    ----------
    name : str
        What the table is, e.g. ``"isbt128-product-description-codes"``.
    version : str
        The edition as published by the table's owner.
    source : str
        Who supplied the table (the licence holder); empty when not stated.
    entries : Mapping[str, CodeTableEntry]
        Code to entry, read-only.
    code_pattern : str or None
        Regular expression every code matches, checked when the table is built.
    """

    name: str
    version: str
    entries: Mapping[str, CodeTableEntry] = field(hash=False)
    source: str = ""
    code_pattern: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ReferenceCodeTable:
        """Build a table from a plain mapping (see the module docs for its shape).

        Raises
        ------
        ValidationFailed
            Listing every problem: missing name or version, a bad pattern, an entry without
            description, a code that does not match the pattern, or a duplicate code.
        """
        if not isinstance(data, Mapping):
            raise ValidationFailed(
                f"A reference code table must be a mapping; got {type(data).__name__}."
            )
        errors: list[FieldError] = []
        name, version = data.get("name"), data.get("version")
        for key, value in (("name", name), ("version", version)):
            if not isinstance(value, str) or not value.strip():
                errors.append(
                    FieldError(f"'{key}' must be a non-empty string", field=key, value=value)
                )
        pattern = _compile_pattern(data.get("code_pattern"), errors)
        entries = _read_entries(data.get("entries"), pattern, errors)
        if errors:
            raise ValidationFailed(
                f"Reference code table {name!r} version {version!r} cannot be loaded.", errors
            )
        return cls(
            name=str(name).strip(),
            version=str(version).strip(),
            entries=MappingProxyType(entries),
            source=str(data.get("source") or ""),
            code_pattern=pattern.pattern if pattern else None,
        )

    def lookup(self, code: str) -> CodeTableEntry:
        """Return the entry for ``code``.

        Raises
        ------
        ValidationFailed
            If the code is not in this edition of the table.
        """
        entry = self.entries.get(code)
        if entry is None:
            raise ValidationFailed(
                f"Code {code!r} is not in reference table '{self.name}' version {self.version}. "
                "Check the code, or load the edition of the table that defines it.",
                [FieldError("unknown code", field=self.name, value=code)],
            )
        return entry

    def describe(self, code: str) -> str:
        """The description of ``code`` (see :meth:`lookup`)."""
        return self.lookup(code).description

    def __contains__(self, code: object) -> bool:
        return code in self.entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)


def _compile_pattern(raw: object, errors: list[FieldError]) -> re.Pattern[str] | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        errors.append(
            FieldError("'code_pattern' must be a string", field="code_pattern", value=raw)
        )
        return None
    try:
        return re.compile(raw)
    except re.error as exc:
        errors.append(
            FieldError(
                f"'code_pattern' is not a regular expression: {exc}",
                field="code_pattern",
                value=raw,
            )
        )
        return None


def _entry_items(raw: object, errors: list[FieldError]) -> list[tuple[str, object, object]]:
    """Normalise both accepted shapes to (where, code, body) triples."""
    if isinstance(raw, Mapping):
        return [(f"entries[{code!r}]", code, body) for code, body in raw.items()]
    if isinstance(raw, list | tuple):
        items: list[tuple[str, object, object]] = []
        for i, row in enumerate(raw):
            if not isinstance(row, Mapping):
                errors.append(
                    FieldError(
                        "each entry must be a mapping with 'code' and 'description'",
                        field=f"entries[{i}]",
                        value=row,
                    )
                )
                continue
            body = {k: v for k, v in row.items() if k != "code"}
            items.append((f"entries[{i}]", row.get("code"), body))
        return items
    errors.append(
        FieldError(
            "'entries' must be a mapping of code to description, or a list of {code, description}",
            field="entries",
            value=raw,
        )
    )
    return []


def _read_entries(
    raw: object, pattern: re.Pattern[str] | None, errors: list[FieldError]
) -> dict[str, CodeTableEntry]:
    entries: dict[str, CodeTableEntry] = {}
    for where, code, body in _entry_items(raw, errors):
        if not isinstance(code, str) or not code:
            errors.append(FieldError("code must be a non-empty string", field=where, value=code))
            continue
        if pattern is not None and not pattern.fullmatch(code):
            errors.append(
                FieldError(
                    f"code does not match pattern {pattern.pattern!r}", field=where, value=code
                )
            )
            continue
        if code in entries:
            errors.append(FieldError("duplicate code", field=where, value=code))
            continue
        attributes: dict[str, str] = {}
        if isinstance(body, Mapping):
            description = body.get("description")
            attributes = {str(k): str(v) for k, v in body.items() if k != "description"}
        else:
            description = body
        if not isinstance(description, str) or not description.strip():
            errors.append(
                FieldError("description must be a non-empty string", field=where, value=description)
            )
            continue
        entries[code] = CodeTableEntry(code, description.strip(), MappingProxyType(attributes))
    return entries
