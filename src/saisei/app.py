"""Composition root: turns settings into the objects the services use.

Settings are read only here and in :mod:`saisei.cli`; everything below receives plain values.
"""

from __future__ import annotations

from saisei.config import Settings
from saisei.storage.store import Store

__all__ = ["build_store"]


def build_store(settings: Settings) -> Store:
    """Open the relational and time-series stores that ``settings`` name."""
    return Store.open(
        settings.resolved_database_url,
        settings.resolved_timeseries_path,
        echo=settings.sql_echo,
    )
