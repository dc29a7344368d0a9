"""Settings: environment prefix, derived defaults, safety checks, documentation."""

from __future__ import annotations

from pathlib import Path

import pytest

from saisei.config import DEFAULT_SECRET_KEY, Settings, load_settings, settings_reference
from saisei.errors import ConfigurationError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def test_settings_come_from_prefixed_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SAISEI_HOME", str(tmp_path))
    monkeypatch.setenv("SAISEI_LOCKOUT_THRESHOLD", "3")
    settings = load_settings()
    assert settings.home == tmp_path
    assert settings.lockout_threshold == 3


def test_defaults_derive_from_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'saisei.db'}"
    assert settings.resolved_timeseries_path == tmp_path / "timeseries"


def test_explicit_urls_win(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path, database_url="postgresql+psycopg://u@h/db", timeseries_uri=tmp_path / "ts"
    )
    assert settings.resolved_database_url == "postgresql+psycopg://u@h/db"
    assert settings.resolved_timeseries_path == tmp_path / "ts"


def test_default_secret_is_refused_outside_dev() -> None:
    with pytest.raises(ConfigurationError, match="'secret_key' setting must be changed"):
        load_settings(environment="production")
    assert (
        load_settings(environment="production", secret_key="x" * 32).secret_key
        != DEFAULT_SECRET_KEY
    )


def test_malformed_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAISEI_LOCKOUT_THRESHOLD", "many")
    with pytest.raises(ConfigurationError, match="SAISEI_LOCKOUT_THRESHOLD"):
        load_settings()


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="SAISEI_COLOUR"):
        load_settings(colour="blue")


def test_every_setting_has_a_description() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description and len(field.description) > 20, name


def test_settings_reference_page_is_current() -> None:
    assert DOCS.read_text(encoding="utf-8") == settings_reference(), (
        "docs/settings.md is stale; regenerate it with 'make docs'"
    )
    for name in Settings.model_fields:
        assert f"`SAISEI_{name.upper()}`" in DOCS.read_text(encoding="utf-8")
