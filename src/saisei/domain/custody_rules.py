"""The custody state machine: which event may follow which, as pure functions.

The state of a chain is a fold of its events (:func:`replay`). :func:`check_transition` says
whether an event type is permitted now; :func:`apply_event` checks everything about one event
(order, time, scans, dispense, hold) and returns the next state, raising
:class:`~saisei.errors.CustodyBreak` with a message that names the rule when it is refused.

The permitted order (:data:`TRANSITIONS`): collection -> labelling -> packing -> hand-over(s)
-> receipt (at an intermediary: packing and hand-over again) -> accessioning -> processing
start -> fill -> freeze -> storage -> QC disposition -> release (only when QC approved) ->
shipment to clinic -> hand-over(s) -> receipt at clinic -> infusion (only against the right
patient). A scan mismatch blocks the chain; while blocked only the unblocking event is
permitted. Import from :mod:`saisei.domain.custody`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

from saisei.domain.custody_events import (
    ESTABLISHING_EVENTS,
    CustodyEvent,
    CustodyEventType,
    CustodyStage,
    QcDisposition,
)
from saisei.domain.custody_scan import ExpectedIdentity, check_dispense, check_scans
from saisei.domain.enums import DonorType
from saisei.domain.identity import (
    ChainOfIdentityId,
    Din,
    parse_identity_code,
    validate_coi,
    validate_din,
)
from saisei.errors import CustodyBreak, ValidationFailed

__all__ = [
    "TRANSITIONS",
    "ChainState",
    "apply_event",
    "check_transition",
    "permitted_events",
    "replay",
]

_E = CustodyEventType
_S = CustodyStage
_PRODUCT_STAGES = (_S.FILLED, _S.FROZEN, _S.STORED)


def _every_stage_stays() -> Mapping[CustodyStage, CustodyStage]:
    return MappingProxyType({stage: stage for stage in CustodyStage})


#: For each event type, the stages it is permitted at and the stage it leads to.
TRANSITIONS: Mapping[CustodyEventType, Mapping[CustodyStage, CustodyStage]] = MappingProxyType(
    {
        _E.COLLECTION: MappingProxyType(
            {_S.NEW: _S.COLLECTED, _S.COLLECTED: _S.COLLECTED, _S.LABELLED: _S.COLLECTED}
        ),
        _E.LABELLING: MappingProxyType({_S.COLLECTED: _S.LABELLED, _S.LABELLED: _S.LABELLED}),
        _E.PACKING: MappingProxyType({_S.LABELLED: _S.PACKED, _S.RECEIVED: _S.PACKED}),
        _E.HAND_OVER: MappingProxyType(
            {
                _S.PACKED: _S.IN_TRANSIT,
                _S.IN_TRANSIT: _S.IN_TRANSIT,
                _S.SHIPPED_TO_CLINIC: _S.SHIPPED_TO_CLINIC,
                _S.RECEIVED_AT_CLINIC: _S.RECEIVED_AT_CLINIC,
            }
        ),
        _E.RECEIPT: MappingProxyType({_S.IN_TRANSIT: _S.RECEIVED}),
        _E.ACCESSIONING: MappingProxyType({_S.RECEIVED: _S.ACCESSIONED}),
        _E.PROCESSING_START: MappingProxyType({_S.ACCESSIONED: _S.PROCESSING}),
        _E.FILL: MappingProxyType({_S.PROCESSING: _S.FILLED, _S.FILLED: _S.FILLED}),
        _E.FREEZE: MappingProxyType({_S.FILLED: _S.FROZEN}),
        _E.STORAGE: MappingProxyType(
            {_S.FILLED: _S.STORED, _S.FROZEN: _S.STORED, _S.STORED: _S.STORED}
        ),
        _E.QC_DISPOSITION: MappingProxyType({stage: stage for stage in _PRODUCT_STAGES}),
        _E.RELEASE: MappingProxyType({stage: _S.RELEASED for stage in _PRODUCT_STAGES}),
        _E.SHIPMENT_TO_CLINIC: MappingProxyType({_S.RELEASED: _S.SHIPPED_TO_CLINIC}),
        _E.RECEIPT_AT_CLINIC: MappingProxyType({_S.SHIPPED_TO_CLINIC: _S.RECEIVED_AT_CLINIC}),
        _E.INFUSION: MappingProxyType({_S.RECEIVED_AT_CLINIC: _S.INFUSED}),
        _E.CHAIN_BLOCKED: _every_stage_stays(),
        _E.CHAIN_UNBLOCKED: _every_stage_stays(),
    }
)


def _no_containers() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True)
class ChainState:
    """Where one chain stands, folded from its events.

    Attributes
    ----------
    coi : ChainOfIdentityId
        The chain.
    donor_type : DonorType
        Autologous (the patient is the donor) or allogeneic.
    recipient_coi : ChainOfIdentityId or None
        Assigned recipient of an allogeneic product (None for autologous: the patient is the
        chain itself).
    stage : CustodyStage
        Stage after the last event.
    dins : frozenset of Din
        Donations collected into the chain.
    containers : Mapping[str, str]
        Active containers (source containers until the first fill, product containers after)
        to the identity value on their label.
    qc_disposition : QcDisposition or None
        QC disposition, once recorded.
    blocked_by : str or None
        Deviation that holds the chain, if any.
    event_count : int
        Events applied.
    last_event_at : datetime or None
        Time of the last event (UTC).
    """

    coi: ChainOfIdentityId
    donor_type: DonorType
    recipient_coi: ChainOfIdentityId | None = None
    stage: CustodyStage = CustodyStage.NEW
    dins: frozenset[Din] = frozenset()
    containers: Mapping[str, str] = field(default_factory=_no_containers, hash=False)
    qc_disposition: QcDisposition | None = None
    blocked_by: str | None = None
    event_count: int = 0
    last_event_at: datetime | None = None

    @classmethod
    def new(
        cls,
        coi: ChainOfIdentityId | str,
        donor_type: DonorType | str,
        *,
        recipient_coi: ChainOfIdentityId | str | None = None,
    ) -> ChainState:
        """The state of a chain that has no events yet.

        Raises
        ------
        ValidationFailed
            If a COI is malformed, the donor type unknown, or an autologous chain is given a
            recipient other than itself.
        """
        chain = coi if isinstance(coi, ChainOfIdentityId) else validate_coi(coi)
        try:
            kind = DonorType(donor_type)
        except ValueError:
            raise ValidationFailed(
                f"The donor type must be 'autologous' or 'allogeneic'; got {donor_type!r}."
            ) from None
        recipient = (
            recipient_coi
            if isinstance(recipient_coi, ChainOfIdentityId | None)
            else validate_coi(recipient_coi)
        )
        if kind is DonorType.AUTOLOGOUS and recipient not in (None, chain):
            raise ValidationFailed(
                f"An autologous chain's recipient is its own patient ({chain}); got {recipient}."
            )
        return cls(
            coi=chain,
            donor_type=kind,
            recipient_coi=None if kind is DonorType.AUTOLOGOUS else recipient,
        )

    @property
    def blocked(self) -> bool:
        """True while a deviation holds the chain."""
        return self.blocked_by is not None

    @property
    def expected_identity(self) -> ExpectedIdentity:
        """What scans on this chain must read now."""
        return ExpectedIdentity(self.coi, self.dins, self.containers)


def permitted_events(state: ChainState) -> frozenset[CustodyEventType]:
    """Every event type that :func:`check_transition` would accept now."""
    return frozenset(kind for kind in CustodyEventType if _refusal(state, kind) is None)


def _refusal(state: ChainState, kind: CustodyEventType) -> str | None:
    """Why ``kind`` is refused now, or None when it is permitted."""
    if state.blocked_by is not None and kind is not _E.CHAIN_UNBLOCKED:
        return (
            f"Chain {state.coi} is blocked by deviation {state.blocked_by}: no "
            f"'{kind.label}' event may be recorded until the deviation is resolved and the "
            "chain unblocked."
        )
    if kind is _E.CHAIN_UNBLOCKED and state.blocked_by is None:
        return f"Chain {state.coi} is not blocked; there is nothing to unblock."
    if state.stage not in TRANSITIONS[kind]:
        allowed = sorted(TRANSITIONS[kind], key=list(CustodyStage).index)
        where = ", ".join(f"'{stage.label}'" for stage in allowed)
        return (
            f"Custody event '{kind.label}' is not permitted for chain {state.coi} at stage "
            f"'{state.stage.label}': it is permitted only at stage {where}."
        )
    if kind is _E.QC_DISPOSITION and state.qc_disposition is not None:
        return (
            f"The QC disposition of chain {state.coi} is already recorded as "
            f"'{state.qc_disposition.value}'; it cannot be recorded twice. Correct it "
            "through a deviation."
        )
    if kind is _E.RELEASE and state.qc_disposition is not QcDisposition.APPROVED:
        status = (
            "none is recorded"
            if state.qc_disposition is None
            else f"it is '{state.qc_disposition.value}'"
        )
        return (
            f"Chain {state.coi} cannot be released before an approved QC disposition; "
            f"{status}. Record the QC disposition first."
        )
    return None


def check_transition(state: ChainState, event_type: CustodyEventType | str) -> CustodyStage:
    """Refuse an event type the chain's state does not permit; return the stage it leads to.

    Raises
    ------
    CustodyBreak
        When the chain is blocked, the stage does not permit the event, the release has no
        approved QC disposition, a QC disposition is already recorded, or there is nothing to
        unblock. The message names the rule and lists the events permitted now.
    """
    kind = CustodyEventType(event_type)
    refusal = _refusal(state, kind)
    if refusal is not None:
        now = sorted(permitted_events(state), key=list(CustodyEventType).index)
        hint = ", ".join(f"'{e.label}'" for e in now) or "none"
        raise CustodyBreak(f"{refusal} Permitted now: {hint}.")
    return TRANSITIONS[kind][state.stage]


def _check_event_content(state: ChainState, event: CustodyEvent) -> None:
    """The rules that depend on the event's content, not only on its type."""
    kind = event.event_type
    if kind is _E.COLLECTION and event.din is not None:
        din = validate_din(event.din)
        if din in state.dins:
            raise CustodyBreak(
                f"DIN {din} is already collected into chain {state.coi}; every "
                "donation has its own DIN."
            )
    if kind is _E.CHAIN_UNBLOCKED and event.deviation_ref != state.blocked_by:
        raise CustodyBreak(
            f"Chain {state.coi} is blocked by deviation {state.blocked_by}; the unblocking "
            f"event names deviation {event.deviation_ref}."
        )
    if event.scans:
        expected = state.expected_identity
        if kind is _E.COLLECTION and event.din is not None:
            expected = replace(expected, dins=expected.dins | {validate_din(event.din)})
        check_scans(
            expected, event.scans, establishing=kind in ESTABLISHING_EVENTS
        ).raise_for_outcome()
    if kind is _E.INFUSION and event.patient_coi is not None:
        check_dispense(
            state.coi, state.donor_type, event.patient_coi, recipient_coi=state.recipient_coi
        ).raise_for_outcome()


def _next_containers(state: ChainState, event: CustodyEvent) -> Mapping[str, str]:
    if event.event_type not in ESTABLISHING_EVENTS:
        return state.containers
    # The first fill turns source material into product: the product containers replace the
    # source containers as what later scans must find.
    first_fill = event.event_type is _E.FILL and state.stage is _S.PROCESSING
    containers = {} if first_fill else dict(state.containers)
    for scan in event.scans:
        containers[scan.container_id] = parse_identity_code(scan.identity_code).value
    return MappingProxyType(containers)


def apply_event(state: ChainState, event: CustodyEvent) -> ChainState:
    """Check one event against the chain and return the chain's next state.

    Raises
    ------
    CustodyBreak
        When the event is not permitted now (see :func:`check_transition`), happened before the
        previous event, repeats a DIN, or unblocks with the wrong deviation.
    CustodyScanMismatch
        When a scan or the patient's COI disagrees with the chain: open a deviation and block
        the chain (record a ``chain_blocked`` event).
    ValidationFailed
        When a scanned code cannot be read (rescan).
    """
    stage = check_transition(state, event.event_type)
    if state.last_event_at is not None and event.occurred_at < state.last_event_at:
        raise CustodyBreak(
            f"The '{event.event_type.label}' event on chain {state.coi} is dated "
            f"{event.occurred_at.isoformat()}, before the previous event at "
            f"{state.last_event_at.isoformat()}; custody events are recorded in the order they "
            "happened."
        )
    _check_event_content(state, event)
    kind = event.event_type
    dins = (state.dins | {validate_din(event.din)}) if event.din is not None else state.dins
    blocked_by = state.blocked_by
    if kind is _E.CHAIN_BLOCKED:
        blocked_by = event.deviation_ref
    elif kind is _E.CHAIN_UNBLOCKED:
        blocked_by = None
    return replace(
        state,
        stage=stage,
        dins=dins,
        containers=_next_containers(state, event),
        qc_disposition=event.qc_disposition or state.qc_disposition,
        blocked_by=blocked_by,
        event_count=state.event_count + 1,
        last_event_at=event.occurred_at,
    )


def replay(
    coi: ChainOfIdentityId | str,
    donor_type: DonorType | str,
    events: Iterable[CustodyEvent],
    *,
    recipient_coi: ChainOfIdentityId | str | None = None,
) -> ChainState:
    """Fold a chain's events, in order, into its state; refuses the first bad event.

    Raises
    ------
    CustodyBreak, ValidationFailed
        As :func:`apply_event`, for the first event that is refused.
    """
    state = ChainState.new(coi, donor_type, recipient_coi=recipient_coi)
    for event in events:
        state = apply_event(state, event)
    return state
