"""Stored process definitions as documents: stages, parameters (class, target, NOR, PAR) and
quality attributes with their specifications, in the shape of the exchange format's
``process/*.yaml``."""

from __future__ import annotations

from typing import Any

from saisei.domain.audit import jsonable
from saisei.storage.repositories.process import all_processes, process_to_doc
from saisei.storage.store import Store

__all__ = ["list_processes"]


def list_processes(store: Store) -> list[dict[str, Any]]:
    """Every stored process definition and version, by name and version.

    Returns
    -------
    list of dict
        The ``process/*.yaml`` document of each (``name``, ``version``, ``product_type``,
        ``stages`` with ``parameters``, ``attributes`` with ``specifications``) plus
        ``created_at`` (UTC).
    """
    with store.reader() as session:
        return [
            {**process_to_doc(p), "created_at": jsonable(p.created_at)}
            for p in all_processes(session)
        ]
