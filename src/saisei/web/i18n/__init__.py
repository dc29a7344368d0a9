"""Message catalogues of the pages (``en.json``, ``ja.json``) and language negotiation.

The language is the user's preference cookie, then the browser's ``Accept-Language``, then
English. Japanese terms follow the project's domain glossary (shared/docs/domain.md).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

__all__ = ["LANGUAGES", "catalogue", "negotiate"]

#: Offered languages, the default first.
LANGUAGES = ("en", "ja")
_FOLDER = Path(__file__).parent


@cache
def catalogue(language: str) -> dict[str, str]:
    """Messages of ``language`` (English for an unknown one)."""
    name = language if language in LANGUAGES else LANGUAGES[0]
    messages: dict[str, str] = json.loads((_FOLDER / f"{name}.json").read_text("utf-8"))
    return messages


def negotiate(preference: str | None, accept_language: str | None) -> str:
    """The page language: the preference if offered, else the best Accept-Language match."""
    if preference in LANGUAGES:
        return str(preference)
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return sorted(ranked)[0][2] if ranked else LANGUAGES[0]
