"""Integrity checks of a home: the audit hash chain and every time-series segment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from saisei.storage.audit import verify_chain
from saisei.storage.store import Store

__all__ = ["IntegrityReport", "verify_integrity"]


@dataclass(frozen=True)
class IntegrityReport:
    """Outcome of :func:`verify_integrity`.

    Attributes
    ----------
    ok : bool
        True when the audit chain and every segment verify.
    audit_events_checked : int
        Audit rows read.
    first_broken_seq : int or None
        Sequence number of the first audit row that fails.
    audit_problem : str or None
        What is wrong with the audit chain.
    segments_checked : int
        Time-series segments whose files were hashed.
    segment_problems : tuple of str
        One sentence per missing or changed segment file.
    head_hash : str or None
        Hash of the last audit event when the chain verifies.
    """

    ok: bool
    audit_events_checked: int
    first_broken_seq: int | None
    audit_problem: str | None
    segments_checked: int
    segment_problems: tuple[str, ...]
    head_hash: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {
            "ok": self.ok,
            "audit_events_checked": self.audit_events_checked,
            "first_broken_seq": self.first_broken_seq,
            "audit_problem": self.audit_problem,
            "segments_checked": self.segments_checked,
            "segment_problems": list(self.segment_problems),
            "head_hash": self.head_hash,
        }

    def problems(self) -> list[str]:
        """Every problem found, audit chain first."""
        found = [f"audit trail: {self.audit_problem}"] if self.audit_problem else []
        return found + list(self.segment_problems)


def verify_integrity(store: Store) -> IntegrityReport:
    """Recompute the audit chain and the SHA-256 of every time-series segment."""
    with store.reader() as session:
        chain = verify_chain(session)
        segments_checked, segment_problems = store.timeseries.verify(session)
    return IntegrityReport(
        ok=chain.ok and not segment_problems,
        audit_events_checked=chain.events_checked,
        first_broken_seq=chain.first_broken_seq,
        audit_problem=chain.problem,
        segments_checked=segments_checked,
        segment_problems=tuple(str(p) for p in segment_problems),
        head_hash=chain.head_hash,
    )
