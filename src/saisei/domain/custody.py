"""Chain-of-custody rules: event types, the permitted order, scan matching, hash links, clocks.

This module is the public face of the custody rules; the implementation is split by concern:
:mod:`~saisei.domain.custody_events` (event types, stages, the event value),
:mod:`~saisei.domain.custody_rules` (the state machine), :mod:`~saisei.domain.custody_scan`
(scan matching and the dispense check, with typed outcomes),
:mod:`~saisei.domain.custody_links` (hash-linking and verification per chain) and
:mod:`~saisei.domain.custody_clocks` (limits between events, with early warning).

Everything is pure: the custody services persist events and open deviations; these functions
decide. A typical recording step::

    state = replay(coi, donor_type, stored_events)
    outcome = check_scans(state.expected_identity, scans)
    if outcome.requires_deviation:     # hard stop: open a deviation, record chain_blocked
        ...
    state = apply_event(state, event)  # raises CustodyBreak when refused
    linked = link_event(coi, state.event_count, event, previous_hash)

See ``docs/identity-and-custody.md``.
"""

from __future__ import annotations

from saisei.domain.custody_clocks import (
    ClockReading,
    ClockRule,
    ClockStatus,
    evaluate_clock,
    evaluate_clocks,
)
from saisei.domain.custody_events import (
    ESTABLISHING_EVENTS,
    SCAN_REQUIRED_EVENTS,
    CustodyEvent,
    CustodyEventType,
    CustodyStage,
    DetailValue,
    QcDisposition,
    Scan,
)
from saisei.domain.custody_links import (
    GENESIS_HASH,
    ChainProblem,
    ChainProblemKind,
    ChainVerification,
    LinkedEvent,
    custody_event_fields,
    custody_event_hash,
    link_event,
    link_events,
    verify_chain,
)
from saisei.domain.custody_rules import (
    TRANSITIONS,
    ChainState,
    apply_event,
    check_transition,
    permitted_events,
    replay,
)
from saisei.domain.custody_scan import (
    CustodyScanMismatch,
    ExpectedIdentity,
    ScanDiscrepancy,
    ScanOutcome,
    ScanVerdict,
    check_dispense,
    check_scan,
    check_scans,
)
from saisei.domain.enums import DonorType

__all__ = [
    "ESTABLISHING_EVENTS",
    "GENESIS_HASH",
    "SCAN_REQUIRED_EVENTS",
    "TRANSITIONS",
    "ChainProblem",
    "ChainProblemKind",
    "ChainState",
    "ChainVerification",
    "ClockReading",
    "ClockRule",
    "ClockStatus",
    "CustodyEvent",
    "CustodyEventType",
    "CustodyScanMismatch",
    "CustodyStage",
    "DetailValue",
    "DonorType",
    "ExpectedIdentity",
    "LinkedEvent",
    "QcDisposition",
    "Scan",
    "ScanDiscrepancy",
    "ScanOutcome",
    "ScanVerdict",
    "apply_event",
    "check_dispense",
    "check_scan",
    "check_scans",
    "check_transition",
    "custody_event_fields",
    "custody_event_hash",
    "evaluate_clock",
    "evaluate_clocks",
    "link_event",
    "link_events",
    "permitted_events",
    "replay",
    "verify_chain",
]
