"""Dependencies shared by the API routers."""

from __future__ import annotations

from fastapi import Request

from saisei.storage.store import Store

__all__ = ["get_store"]


def get_store(request: Request) -> Store:
    """The store the application was built with."""
    store: Store = request.app.state.store
    return store
