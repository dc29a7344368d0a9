"""Composition root: turns settings into the objects the services use.

Settings are read only here and in :mod:`saisei.cli`; everything below receives plain values.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from saisei import __version__
from saisei.config import Settings
from saisei.quality.users import AuthPolicy
from saisei.services.caching import ResultCache
from saisei.services.sessions import SessionGate
from saisei.storage.store import Store

__all__ = ["auth_policy", "build_store", "create_app", "create_app_from_environment"]


def auth_policy(settings: Settings) -> AuthPolicy:
    """Sign-in rules (lockout, password age and history, inactivity timeout, argon2 cost) from
    the settings."""
    return AuthPolicy(
        lockout_threshold=settings.lockout_threshold,
        password_max_age_days=settings.password_max_age_days,
        session_timeout_min=settings.session_timeout_min,
        password_history=settings.password_history,
        argon2_time_cost=settings.argon2_time_cost,
        argon2_memory_kib=settings.argon2_memory_kib,
        argon2_parallelism=settings.argon2_parallelism,
    )


def build_store(settings: Settings) -> Store:
    """Open the relational and time-series stores that ``settings`` name."""
    return Store.open(
        settings.resolved_database_url,
        settings.resolved_timeseries_path,
        echo=settings.sql_echo,
    )


def create_app(
    settings: Settings, *, store: Store | None = None, policy: AuthPolicy | None = None
) -> FastAPI:
    """The web application: JSON API under ``/api/v1`` and the pages, over one store.

    Parameters
    ----------
    settings : Settings
        Configuration (built by the caller: the CLI or a test).
    store : Store, optional
        An existing store (tests pass one on a rolled-back transaction); by default the one
        the settings name, closed when the application stops.
    policy : AuthPolicy, optional
        Sign-in rules; by default built from the settings (tests pass cheap hashing).
    """
    from saisei.api import create_api_router
    from saisei.api.errors import install_error_handlers
    from saisei.web import create_web_router, error_page, mount_static

    owned = store is None
    app_store = store if store is not None else build_store(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            app_store.close()

    app = FastAPI(
        title="saisei",
        version=__version__,
        lifespan=lifespan,
        description="Manufacturing data of cell and gene therapy products.",
    )
    app.state.store = app_store
    app.state.settings = settings
    app.state.policy = policy or auth_policy(settings)
    app.state.sessions = SessionGate(app_store, app.state.policy)
    app.state.secret_key = settings.secret_key
    app.state.secure_cookies = settings.environment == "production"
    app.state.cache = ResultCache()
    install_error_handlers(app, html_fallback=error_page)
    app.include_router(create_api_router(), prefix="/api/v1")
    app.include_router(create_web_router())
    mount_static(app)
    return app


def create_app_from_environment() -> FastAPI:
    """The web application of the home the ``SAISEI_*`` environment variables name.

    The factory ``saisei serve --workers N`` gives uvicorn (as the import string
    ``saisei.app:create_app_from_environment``): each worker process calls it and builds its
    own store, caches and session gate from the environment the command filled in.

    Raises
    ------
    ConfigurationError
        When a ``SAISEI_*`` variable is malformed; the message names it.
    """
    from saisei.config import load_settings

    return create_app(load_settings())
