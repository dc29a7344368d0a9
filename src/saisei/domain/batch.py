"""Batch status machine: which status changes are permitted."""

from __future__ import annotations

from saisei.domain.enums import BatchStatus
from saisei.errors import Conflict

__all__ = ["ALLOWED_TRANSITIONS", "check_transition"]

ALLOWED_TRANSITIONS: dict[BatchStatus, frozenset[BatchStatus]] = {
    BatchStatus.PLANNED: frozenset({BatchStatus.IN_PROCESS, BatchStatus.CANCELLED}),
    BatchStatus.IN_PROCESS: frozenset({BatchStatus.COMPLETED, BatchStatus.CANCELLED}),
    BatchStatus.COMPLETED: frozenset({BatchStatus.QUARANTINE}),
    BatchStatus.QUARANTINE: frozenset({BatchStatus.RELEASED, BatchStatus.REJECTED}),
    BatchStatus.RELEASED: frozenset(),
    BatchStatus.REJECTED: frozenset(),
    BatchStatus.CANCELLED: frozenset(),
}


def check_transition(lot: str, current: BatchStatus, new: BatchStatus) -> None:
    """Refuse a status change the batch life cycle does not permit.

    Raises
    ------
    Conflict
        Naming the lot, both statuses and the permitted next statuses.

    Examples
    --------
    >>> check_transition("L1", BatchStatus.PLANNED, BatchStatus.IN_PROCESS)
    """
    allowed = ALLOWED_TRANSITIONS[current]
    if new not in allowed:
        options = ", ".join(sorted(s.value for s in allowed)) or "none (final status)"
        raise Conflict(
            f"Batch {lot!r} cannot go from status {current.value!r} to {new.value!r}. "
            f"Permitted next statuses: {options}."
        )
