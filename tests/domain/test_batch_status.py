"""Batch life cycle: permitted and refused status changes."""

from __future__ import annotations

import pytest

from saisei.domain.batch import ALLOWED_TRANSITIONS, check_transition
from saisei.domain.enums import BatchStatus as S
from saisei.errors import Conflict

PERMITTED = [
    (S.PLANNED, S.IN_PROCESS),
    (S.IN_PROCESS, S.COMPLETED),
    (S.COMPLETED, S.QUARANTINE),
    (S.QUARANTINE, S.RELEASED),
    (S.QUARANTINE, S.REJECTED),
    (S.PLANNED, S.CANCELLED),
    (S.IN_PROCESS, S.CANCELLED),
]


@pytest.mark.parametrize(("current", "new"), PERMITTED)
def test_permitted_changes(current: S, new: S) -> None:
    check_transition("L1", current, new)


@pytest.mark.parametrize(
    ("current", "new"), [(a, b) for a in S for b in S if (a, b) not in PERMITTED]
)
def test_every_other_change_is_refused(current: S, new: S) -> None:
    with pytest.raises(Conflict, match=f"Batch 'L1' cannot go from status '{current.value}'"):
        check_transition("L1", current, new)


def test_release_only_from_quarantine() -> None:
    assert [s for s, nxt in ALLOWED_TRANSITIONS.items() if S.RELEASED in nxt] == [S.QUARANTINE]
