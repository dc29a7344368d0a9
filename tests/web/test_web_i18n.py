"""Message catalogues: the same keys in English and Japanese, every key the templates use
exists, Accept-Language negotiation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from saisei.web.i18n import LANGUAGES, catalogue, negotiate

TEMPLATES = Path(__file__).parents[2] / "src" / "saisei" / "web" / "templates"


def test_catalogues_have_the_same_keys() -> None:
    assert set(catalogue("en")) == set(catalogue("ja"))


def test_every_message_used_by_a_template_exists() -> None:
    used = set()
    for path in TEMPLATES.rglob("*.html"):
        used |= set(re.findall(r"t\('([a-z_0-9]+)'\)", path.read_text("utf-8")))
    assert used and used <= set(catalogue("en"))


def test_japanese_terms_follow_the_glossary() -> None:
    # shared/docs/domain.md, "Japanese terms"
    ja = catalogue("ja")
    assert ja["contributions"] == "寄与プロット"
    assert ja["nav_spc"] == "管理図"
    assert ja["audit_trail"] == "監査証跡"
    assert ja["signatures"] == "電子署名"
    assert ja["status_quarantine"] == "保留（隔離）"
    assert ja["excursions"] == "温度逸脱"


@pytest.mark.parametrize(
    ("preference", "header", "expected"),
    [
        ("ja", "en-US", "ja"),
        (None, "ja-JP,ja;q=0.9,en;q=0.8", "ja"),
        (None, "fr-FR, en;q=0.5, ja;q=0.7", "ja"),
        (None, "de-DE", "en"),
        ("xx", None, "en"),
        (None, "ja;q=0", "en"),
    ],
)
def test_language_negotiation(preference: str | None, header: str | None, expected: str) -> None:
    assert negotiate(preference, header) == expected
    assert expected in LANGUAGES
