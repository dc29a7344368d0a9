"""The "intact custody chain" prerequisite of batch release, from what the store holds.

The chain is judged exactly as ``saisei custody verify`` judges it: by
:func:`saisei.storage.custody_records.assess_chain`, which applies the domain's
:func:`~saisei.domain.custody.verify_chain` (hash links, stored hashes, permitted order and
scans) to the stored rows. Imported chains are hash-linked on import, so they verify too.
"""

from __future__ import annotations

from saisei.storage.custody_records import assess_chain
from saisei.storage.models import Batch
from saisei.storage.repositories import custody as custody_repo
from saisei.storage.repositories import quality as repo

__all__ = ["custody_problems"]


def custody_problems(session: repo.Session, batch: Batch) -> list[str]:
    """Why the batch's custody chain is not intact; an empty list when it is.

    Checks that no deviation of category ``custody`` is open for the batch and that the
    custody events of the batch's chain of identity verify (every event hash-linked, links and
    hashes intact, each event permitted after the one before, scans matching the chain). A batch
    with a chain of identity but no custody events fails with "no custody events recorded"; a
    batch without a chain of identity (e.g. an allogeneic bank lot) has nothing to verify.
    """
    problems = [
        f"custody deviation {d.number} ({d.status.value}) is not closed"
        for d in repo.open_deviations(session, batch.id, category="custody")
    ]
    if batch.coi_id is None:
        return problems
    rows = custody_repo.chain_events(session, batch.coi_id)
    if not rows:
        return [*problems, "no custody events recorded for the batch's chain of identity"]
    chain = custody_repo.chain_by_id(session, batch.coi_id)
    parties = custody_repo.parties_by_id(session, (row.party_id for row in rows))
    assessed = assess_chain(chain, rows, parties)
    if assessed.status == "unlinked":
        problems.append(
            f"the custody events of chain {chain.coi} are not hash-linked, so the chain cannot "
            "be verified; 'saisei custody verify --strict' lists it"
        )
    problems += [f"chain {chain.coi}: {problem}" for problem in assessed.problems]
    return problems
