"""Stored design spaces: versions by name, the newest, lists."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saisei.storage.models import DesignSpace

__all__ = ["design_spaces", "find_design_space", "next_version"]


def next_version(session: Session, name: str) -> int:
    """The version number the next design space called ``name`` gets."""
    current = session.execute(
        select(func.max(DesignSpace.version)).where(DesignSpace.name == name)
    ).scalar_one()
    return 1 if current is None else int(current) + 1


def find_design_space(
    session: Session, name: str | None = None, version: int | None = None
) -> DesignSpace | None:
    """Design space ``name`` at ``version`` (newest when None); without a name the most
    recently stored one."""
    query = select(DesignSpace)
    if name is not None:
        query = query.where(DesignSpace.name == name)
    if version is not None:
        query = query.where(DesignSpace.version == version)
    query = query.order_by(DesignSpace.created_at.desc(), DesignSpace.id.desc()).limit(1)
    return session.execute(query).scalar_one_or_none()


def design_spaces(session: Session) -> list[DesignSpace]:
    """Every stored design space, by name and version."""
    return list(
        session.execute(select(DesignSpace).order_by(DesignSpace.name, DesignSpace.version))
        .scalars()
        .all()
    )
