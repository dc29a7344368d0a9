"""The "intact custody chain" prerequisite of batch release, from what the store holds.

The custody services (issue 9) will own chains of custody; until then release asks this one
function, and it is the one to replace when they arrive.
"""

from __future__ import annotations

import itertools

from saisei.storage.models import Batch
from saisei.storage.repositories import quality as repo

__all__ = ["custody_problems"]


def custody_problems(session: repo.Session, batch: Batch) -> list[str]:
    """Why the batch's custody chain is not intact; an empty list when it is.

    Checks that no deviation of category ``custody`` is open for the batch and that the
    custody events of the batch's chain of identity link up: in stored order, each event's
    ``hash`` equals the next one's ``prev_hash``. A batch with a chain of identity but no
    custody events fails with "no custody events recorded"; a batch without a chain of
    identity (e.g. an allogeneic bank lot) has nothing to link.
    """
    problems = [
        f"custody deviation {d.number} ({d.status.value}) is not closed"
        for d in repo.open_deviations(session, batch.id, category="custody")
    ]
    if batch.coi_id is None:
        return problems
    events = repo.custody_events_of_chain(session, batch.coi_id)
    if not events:
        return [*problems, "no custody events recorded for the batch's chain of identity"]
    for event in events:
        if not event.hash:
            problems.append(f"custody event {event.id} ({event.event_type}) has no hash")
    for before, after in itertools.pairwise(events):
        if before.hash and after.prev_hash != before.hash:
            problems.append(
                f"custody event {after.id} ({after.event_type}) does not link to event "
                f"{before.id} ({before.event_type}): the chain is broken"
            )
    return problems
