"""Receipt of shipments with the permission checks of the quality system.

:mod:`saisei.custody.shipments` evaluates logger readings and records acknowledgements; it
sits beside :mod:`saisei.quality` and knows no roles. The API, the pages and the CLI call
these functions instead, which refuse a user without the permission first:
``shipments.evaluate`` (QA, operators, collection-site and intermediary users) and
``shipments.acknowledge`` (QA, collection-site and intermediary users). Listing and viewing
shipments stays open to every signed-in user.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from saisei.custody import shipments as custody_shipments
from saisei.custody.shipments import ShipmentEvaluation
from saisei.domain.transport import TransportSpec
from saisei.quality.access import authorize
from saisei.storage.store import Store

__all__ = ["acknowledge_excursion", "evaluate_shipment"]


def _authorize(store: Store, actor: str, operation: str) -> None:
    with store.reader() as session:
        authorize(session, actor, operation)


def evaluate_shipment(
    store: Store,
    actor: str,
    code: str,
    *,
    specs: Mapping[str, TransportSpec] | None = None,
    now: datetime | None = None,
    source: str = "app",
) -> ShipmentEvaluation:
    """Evaluate a shipment's logger readings and decide receipt (see
    :func:`saisei.custody.shipments.evaluate_shipment`).

    Raises
    ------
    AuthenticationFailed, PermissionDenied
        Unless ``actor`` is an active user allowed ``shipments.evaluate_shipment``.
    NotFound, ValidationFailed
        As the custody function.
    """
    _authorize(store, actor, "shipments.evaluate_shipment")
    return custody_shipments.evaluate_shipment(
        store, actor, code, specs=specs, now=now, source=source
    )


def acknowledge_excursion(
    store: Store,
    actor: str,
    code: str,
    excursion: int,
    comment: str,
    *,
    now: datetime | None = None,
    source: str = "app",
) -> ShipmentEvaluation:
    """Acknowledge excursion number ``excursion`` (from 1) with a comment; receipt is decided
    again (see :func:`saisei.custody.shipments.acknowledge_shipment_excursion`).

    Raises
    ------
    AuthenticationFailed, PermissionDenied
        Unless ``actor`` is an active user allowed ``shipments.acknowledge_excursion``.
    ValidationFailed, Conflict
        As the custody function.
    """
    _authorize(store, actor, "shipments.acknowledge_excursion")
    return custody_shipments.acknowledge_shipment_excursion(
        store, actor, code, excursion, comment, now=now, source=source
    )
