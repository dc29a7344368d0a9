"""Hash-linking of custody events per chain, and verification of a stored chain.

Each event's hash is the SHA-256 (hex) of the canonical JSON (the same
:func:`saisei.domain.audit.canonical_json` the audit trail uses: sorted keys, no whitespace,
UTF-8, datetimes as ISO 8601 UTC) of its fields, the chain's COI, its 1-based position ``seq``
and the previous event's hash (:data:`~saisei.domain.audit.GENESIS_HASH` for the first). So
editing, deleting, inserting or reordering any stored event breaks verification from that point.
Anyone can recompute a hash from the stored fields with a few lines of Python; the field list is
:func:`custody_event_fields`. Import from :mod:`saisei.domain.custody`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from saisei.domain.audit import GENESIS_HASH, canonical_json
from saisei.domain.custody_events import CustodyEvent
from saisei.domain.custody_rules import ChainState, apply_event
from saisei.domain.enums import DonorType
from saisei.domain.identity import ChainOfIdentityId
from saisei.errors import IntegrityViolation, SaiseiError, ValidationFailed

__all__ = [
    "GENESIS_HASH",
    "ChainProblem",
    "ChainProblemKind",
    "ChainVerification",
    "LinkedEvent",
    "custody_event_fields",
    "custody_event_hash",
    "link_event",
    "link_events",
    "verify_chain",
]

_HEX64 = re.compile(r"[0-9a-f]{64}")


def custody_event_fields(
    coi: ChainOfIdentityId | str, seq: int, event: CustodyEvent
) -> dict[str, Any]:
    """The fields of one event that its hash covers, as a plain mapping."""
    return {
        "coi": str(coi),
        "seq": seq,
        "event_type": event.event_type.value,
        "occurred_at": event.occurred_at,
        "recorded_at": event.recorded_at,
        "actor": event.actor,
        "party": event.party,
        "scans": [
            {"container_id": s.container_id, "identity_code": s.identity_code} for s in event.scans
        ],
        "din": event.din,
        "patient_coi": event.patient_coi,
        "qc_disposition": event.qc_disposition.value if event.qc_disposition else None,
        "deviation_ref": event.deviation_ref,
        "comment": event.comment,
        "details": dict(event.details),
    }


def custody_event_hash(
    coi: ChainOfIdentityId | str, seq: int, event: CustodyEvent, previous_hash: str
) -> str:
    """SHA-256 (hex) of the canonical JSON of the event's fields plus ``previous_hash``.

    Raises
    ------
    ValidationFailed
        If ``seq`` is not a positive int or ``previous_hash`` is not 64 lower-case hex digits.
    """
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise ValidationFailed(f"A custody event's seq is a positive int; got {seq!r}.")
    if not isinstance(previous_hash, str) or not _HEX64.fullmatch(previous_hash):
        raise ValidationFailed(
            "The previous hash must be 64 lower-case hex digits (GENESIS_HASH for the first "
            f"event of a chain); got {previous_hash!r}."
        )
    payload = {**custody_event_fields(coi, seq, event), "previous_hash": previous_hash}
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LinkedEvent:
    """A custody event at its place in its chain, with its hash link.

    Attributes
    ----------
    coi : str
        The chain.
    seq : int
        1-based position in the chain.
    event : CustodyEvent
        The event.
    previous_hash : str
        Hash of the event before (``GENESIS_HASH`` for seq 1).
    hash : str
        :func:`custody_event_hash` of the above.
    """

    coi: str
    seq: int
    event: CustodyEvent
    previous_hash: str
    hash: str


def link_event(
    coi: ChainOfIdentityId | str, seq: int, event: CustodyEvent, previous_hash: str
) -> LinkedEvent:
    """Link ``event`` into its chain after the event whose hash is ``previous_hash``."""
    return LinkedEvent(
        str(coi), seq, event, previous_hash, custody_event_hash(coi, seq, event, previous_hash)
    )


def link_events(
    coi: ChainOfIdentityId | str, events: Iterable[CustodyEvent]
) -> tuple[LinkedEvent, ...]:
    """Link a whole chain from its first event."""
    linked: list[LinkedEvent] = []
    previous = GENESIS_HASH
    for seq, event in enumerate(events, start=1):
        linked.append(link_event(coi, seq, event, previous))
        previous = linked[-1].hash
    return tuple(linked)


class ChainProblemKind(StrEnum):
    """What is wrong with a stored chain at one event."""

    WRONG_CHAIN = "wrong_chain"  # the event names another chain
    SEQUENCE = "sequence"  # seq is not 1, 2, 3, ...
    LINK = "link"  # previous_hash is not the hash of the event before
    HASH = "hash"  # the stored hash is not the hash of the stored fields
    CUSTODY = "custody"  # the state machine refuses the event


@dataclass(frozen=True)
class ChainProblem:
    """One problem found by :func:`verify_chain`."""

    seq: int
    kind: ChainProblemKind
    message: str


@dataclass(frozen=True)
class ChainVerification:
    """Result of verifying one stored chain.

    Attributes
    ----------
    coi : str
        The chain.
    events_checked : int
        Events examined.
    problems : tuple of ChainProblem
        Every problem found, in chain order.
    state : ChainState
        The state replayed up to (not including) the first event the state machine refused.
    """

    coi: str
    events_checked: int
    problems: tuple[ChainProblem, ...]
    state: ChainState

    @property
    def intact(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def raise_if_broken(self) -> None:
        """Raise when the chain does not verify.

        Raises
        ------
        IntegrityViolation
            Naming the chain and its first problem.
        """
        if self.problems:
            first = self.problems[0]
            raise IntegrityViolation(
                f"Custody chain {self.coi} does not verify at event {first.seq} "
                f"({first.kind.value}): {first.message}"
                + (f" ({len(self.problems) - 1} more problem(s))" if len(self.problems) > 1 else "")
            )


def _link_problems(
    coi: str, expected_seq: int, previous: str, item: LinkedEvent
) -> list[ChainProblem]:
    problems = []
    if item.coi != coi:
        problems.append(
            ChainProblem(
                item.seq,
                ChainProblemKind.WRONG_CHAIN,
                f"the event belongs to chain {item.coi}, not {coi}",
            )
        )
    if item.seq != expected_seq:
        problems.append(
            ChainProblem(
                item.seq,
                ChainProblemKind.SEQUENCE,
                f"expected seq {expected_seq}, found {item.seq}",
            )
        )
    if item.previous_hash != previous:
        problems.append(
            ChainProblem(
                item.seq,
                ChainProblemKind.LINK,
                f"previous hash {item.previous_hash} is not the hash "
                f"{previous} of the event before",
            )
        )
    try:
        recomputed = custody_event_hash(item.coi, item.seq, item.event, item.previous_hash)
    except ValidationFailed as exc:
        recomputed = f"(not computable: {exc.message})"
    if item.hash != recomputed:
        problems.append(
            ChainProblem(
                item.seq,
                ChainProblemKind.HASH,
                f"stored hash {item.hash} does not match the recomputed "
                f"hash {recomputed}: the stored fields were changed",
            )
        )
    return problems


def verify_chain(
    coi: ChainOfIdentityId | str,
    donor_type: DonorType | str,
    linked: Sequence[LinkedEvent],
    *,
    recipient_coi: ChainOfIdentityId | str | None = None,
) -> ChainVerification:
    """Check a stored chain: sequence, hash links, stored hashes and the permitted order.

    Never raises for a broken chain; the problems are in the result (see
    :meth:`ChainVerification.raise_if_broken`).
    """
    state = ChainState.new(coi, donor_type, recipient_coi=recipient_coi)
    chain = str(state.coi)
    problems: list[ChainProblem] = []
    previous = GENESIS_HASH
    replaying = True
    for expected_seq, item in enumerate(linked, start=1):
        problems += _link_problems(chain, expected_seq, previous, item)
        previous = item.hash
        if replaying:
            try:
                state = apply_event(state, item.event)
            except SaiseiError as exc:
                problems.append(ChainProblem(item.seq, ChainProblemKind.CUSTODY, exc.message))
                replaying = False
    return ChainVerification(chain, len(linked), tuple(problems), state)
