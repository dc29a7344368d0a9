"""Storage types that layers above may name in annotations without importing SQLAlchemy."""

from __future__ import annotations

from sqlalchemy.orm import Session

__all__ = ["Session"]
