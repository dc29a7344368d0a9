"""Settings of a saisei installation, read from the environment (prefix ``SAISEI_``).

Settings are built only at the edges (``saisei.app`` and ``saisei.cli``) and passed down as
plain values; nothing below them reads the environment. Every field's description is the
reference text of ``docs/settings.md`` (a test checks that page against this class).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from saisei.errors import ConfigurationError

__all__ = ["DEFAULT_SECRET_KEY", "Settings", "load_settings", "settings_reference"]

#: The development placeholder; refused outside ``environment="dev"``.
DEFAULT_SECRET_KEY = "dev-insecure-change-me"


class Settings(BaseSettings):
    """Configuration of one saisei home.

    Every field can be set as an environment variable ``SAISEI_<FIELD>`` (e.g.
    ``SAISEI_DATABASE_URL``) or passed as a keyword argument.
    """

    model_config = SettingsConfigDict(env_prefix="SAISEI_", extra="forbid", frozen=True)

    environment: Literal["dev", "test", "production"] = Field(
        default="dev",
        description=(
            "Deployment environment: `dev`, `test` or `production`. Outside `dev` the "
            "secret key must be changed from its default."
        ),
    )
    home: Path = Field(
        default=Path("saisei-data"),
        description=(
            "Data folder of this installation. Holds the embedded SQLite database and the "
            "time-series store unless `database_url` and `timeseries_uri` say otherwise."
        ),
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the relational store. Default: SQLite file `saisei.db` in "
            "`home`. PostgreSQL (production): `postgresql+psycopg://user@host:5432/dbname`."
        ),
    )
    timeseries_uri: Path | None = Field(
        default=None,
        description=("Folder of the Parquet time-series store. Default: `timeseries` in `home`."),
    )
    secret_key: str = Field(
        default=DEFAULT_SECRET_KEY,
        description=(
            "Secret used to sign sessions and tokens. Refused if left at its default outside "
            "the `dev` environment."
        ),
    )
    session_timeout_min: int = Field(
        default=15,
        ge=1,
        le=24 * 60,
        description="Minutes of inactivity after which an interactive session ends (Part 11).",
    )
    lockout_threshold: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Consecutive failed logins after which an account is locked.",
    )
    password_max_age_days: int = Field(
        default=90,
        ge=0,
        description="Days after which a password must be changed; 0 turns ageing off.",
    )
    password_history: int = Field(
        default=5,
        ge=0,
        le=50,
        description=(
            "How many of a user's last passwords (the current one included) may not be chosen "
            "again (password history; see docs/quality.md); 0 turns the check off."
        ),
    )
    argon2_time_cost: int = Field(
        default=3,
        ge=1,
        le=100,
        description=(
            "argon2id passes over memory for new password hashes (RFC 9106 section 4, second "
            "recommended option: 3)."
        ),
    )
    argon2_memory_kib: int = Field(
        default=65536,
        ge=64,
        le=4 * 1024 * 1024,
        description=(
            "argon2id memory per password hash in KiB (RFC 9106 section 4: 64 MiB = 65536); "
            "at least 8 x `argon2_parallelism`."
        ),
    )
    argon2_parallelism: int = Field(
        default=4,
        ge=1,
        le=64,
        description="argon2id lanes (threads) per password hash (RFC 9106 section 4: 4).",
    )
    sql_echo: bool = Field(
        default=False,
        description="Log every SQL statement (diagnostics only; never in production).",
    )

    @model_validator(mode="after")
    def _argon2_memory_covers_lanes(self) -> Settings:
        # argon2 needs at least 8 KiB per lane (RFC 9106 section 3.1).
        if self.argon2_memory_kib < 8 * self.argon2_parallelism:
            raise ValueError(
                "The 'argon2_memory_kib' setting must be at least 8 x 'argon2_parallelism' "
                f"(RFC 9106). Got {self.argon2_memory_kib} KiB for {self.argon2_parallelism} "
                "lanes; raise SAISEI_ARGON2_MEMORY_KIB or lower SAISEI_ARGON2_PARALLELISM."
            )
        return self

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment != "dev" and self.secret_key == DEFAULT_SECRET_KEY:
            raise ValueError(
                "The 'secret_key' setting must be changed from its default outside the 'dev' "
                f"environment. Got the default with environment={self.environment!r}; set "
                "SAISEI_SECRET_KEY to a long random string."
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL in force: `database_url`, or SQLite in `home`."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'saisei.db').resolve()}"

    @property
    def resolved_timeseries_path(self) -> Path:
        """The time-series folder in force: `timeseries_uri`, or `home/timeseries`."""
        return self.timeseries_uri if self.timeseries_uri is not None else self.home / "timeseries"


def settings_reference() -> str:
    """The settings reference page (``docs/settings.md``) as Markdown, built from the fields."""
    lines = [
        "# Settings reference",
        "",
        "<!-- Generated from saisei.config.Settings by `make docs`; a test keeps it current. -->",
        "",
        "Every setting is read from an environment variable `SAISEI_<NAME>` (upper case) or "
        "passed to `saisei.config.Settings`. The CLI options `--home` and `--database-url` "
        "override the environment.",
        "",
        "| variable | type | default | meaning |",
        "|---|---|---|---|",
    ]
    for name, info in Settings.model_fields.items():
        annotation = getattr(info.annotation, "__name__", None) or str(info.annotation)
        annotation = (
            annotation.replace("typing.", "").replace("pathlib.", "").replace(" | ", " or ")
        )
        default = "(derived)" if info.default is None else f"`{info.default}`"
        lines.append(f"| `SAISEI_{name.upper()}` | {annotation} | {default} | {info.description} |")
    return "\n".join(lines) + "\n"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment plus explicit overrides.

    Raises
    ------
    ConfigurationError
        When a value is malformed or unsafe; the message names the setting.
    """
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"SAISEI_{'_'.join(str(p) for p in err['loc']).upper() or 'SETTINGS'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigurationError(f"Invalid saisei settings: {problems}") from exc
