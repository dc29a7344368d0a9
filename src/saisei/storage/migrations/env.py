"""Alembic environment: runs on the connection handed over in ``config.attributes``."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection, create_engine

from saisei.storage import models  # noqa: F401  (registers every table on the metadata)
from saisei.storage.base import Base

config = context.config
target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Migrations must not import application types: render saisei's decorators as their
    # portable implementation types.
    if type_ == "type" and hasattr(obj, "impl") and type(obj).__module__.startswith("saisei."):
        return f"sa.{obj.impl!r}"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=_render_item,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("Run migrations through saisei.storage.migrations.upgrade().")
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)
