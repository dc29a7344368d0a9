"""Scan matching and the bedside dispense check: typed outcomes, never silent.

At every hand-over the container id and the COI or DIN on its label are scanned and compared
with what the chain says. A mismatch is a hard stop: the outcome says a deviation must be opened
and the chain blocked, and :meth:`ScanOutcome.raise_for_outcome` turns it into
:class:`CustodyScanMismatch` (a :class:`~saisei.errors.CustodyBreak`). Text that cannot be read
as a COI or DIN at all (a typing slip, a damaged barcode) is *unreadable*: refused, to be
rescanned, without by itself opening a deviation. Import from :mod:`saisei.domain.custody`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from saisei.domain.custody_events import Scan
from saisei.domain.enums import DonorType
from saisei.domain.identity import (
    ChainOfIdentityId,
    Din,
    parse_identity_code,
    validate_coi,
)
from saisei.errors import CustodyBreak, FieldError, ValidationFailed

__all__ = [
    "CustodyScanMismatch",
    "ExpectedIdentity",
    "ScanDiscrepancy",
    "ScanOutcome",
    "ScanVerdict",
    "check_dispense",
    "check_scan",
    "check_scans",
]


class ScanVerdict(StrEnum):
    """Result of comparing scans with the chain."""

    MATCH = "match"
    MISMATCH = "mismatch"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class ScanDiscrepancy:
    """One way a scan disagrees with the chain.

    Attributes
    ----------
    field : str
        ``container_id``, ``identity_code`` or ``patient_coi``.
    scanned : str
        What was read.
    expected : tuple of str
        What the chain would have accepted there (sorted).
    message : str
        The discrepancy in words.
    """

    field: str
    scanned: str
    expected: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class ScanOutcome:
    """The typed result of a scan check.

    Attributes
    ----------
    verdict : ScanVerdict
        Match, mismatch (hard stop) or unreadable (rescan).
    message : str
        One paragraph for the person at the scanner.
    discrepancies : tuple of ScanDiscrepancy
        Every disagreement found (empty on a match).
    """

    verdict: ScanVerdict
    message: str
    discrepancies: tuple[ScanDiscrepancy, ...] = ()

    @property
    def matched(self) -> bool:
        """True when every scan agrees with the chain."""
        return self.verdict is ScanVerdict.MATCH

    @property
    def requires_deviation(self) -> bool:
        """True when a deviation must be opened (every mismatch)."""
        return self.verdict is ScanVerdict.MISMATCH

    @property
    def blocks_chain(self) -> bool:
        """True when the chain must be blocked until the deviation is resolved."""
        return self.verdict is ScanVerdict.MISMATCH

    def raise_for_outcome(self) -> None:
        """Raise unless the scans matched.

        Raises
        ------
        CustodyScanMismatch
            On a mismatch (open a deviation, block the chain).
        ValidationFailed
            When a code could not be read (rescan).
        """
        if self.verdict is ScanVerdict.MISMATCH:
            raise CustodyScanMismatch(self)
        if self.verdict is ScanVerdict.UNREADABLE:
            raise ValidationFailed(
                self.message,
                [FieldError(d.message, field=d.field, value=d.scanned) for d in self.discrepancies],
            )


class CustodyScanMismatch(CustodyBreak):
    """A scan disagreed with the chain: hard stop, open a deviation and block the chain.

    Attributes
    ----------
    outcome : ScanOutcome
        The outcome that was refused.
    """

    code = "custody_scan_mismatch"

    def __init__(self, outcome: ScanOutcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


def _no_containers() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True)
class ExpectedIdentity:
    """What scans on one chain must read.

    Attributes
    ----------
    coi : ChainOfIdentityId
        The chain.
    dins : frozenset of Din
        Donations collected into the chain.
    containers : Mapping[str, str]
        Active container id to the identity (COI or DIN value) recorded for its label. A scan
        of a known container must read that identity or the chain's COI.
    """

    coi: ChainOfIdentityId
    dins: frozenset[Din] = frozenset()
    containers: Mapping[str, str] = field(default_factory=_no_containers, hash=False)

    @property
    def identities(self) -> frozenset[str]:
        """Every identity value a label on this chain may carry."""
        return frozenset({self.coi.value} | {din.value for din in self.dins})


def _read_identity(code: str) -> tuple[str | None, str]:
    try:
        return parse_identity_code(code).value, ""
    except ValidationFailed as exc:
        detail = "; ".join(e.message for e in exc.errors) or exc.message
        return None, detail


def _scan_discrepancies(
    expected: ExpectedIdentity, scan: Scan, *, establishing: bool
) -> tuple[list[ScanDiscrepancy], list[ScanDiscrepancy]]:
    """(unreadable, mismatched) discrepancies of one scan."""
    identity, why = _read_identity(scan.identity_code)
    if identity is None:
        return [
            ScanDiscrepancy(
                "identity_code",
                scan.identity_code,
                (),
                f"{scan.identity_code!r} is not a COI or DIN ({why})",
            )
        ], []
    found: list[ScanDiscrepancy] = []
    allowed = tuple(sorted(expected.identities))
    if identity not in expected.identities:
        found.append(
            ScanDiscrepancy(
                "identity_code",
                identity,
                allowed,
                f"label identity {identity} does not belong to chain {expected.coi} "
                f"(expected one of {', '.join(allowed)})",
            )
        )
    on_label = expected.containers.get(scan.container_id)
    if on_label is None and not establishing:
        known = tuple(sorted(expected.containers))
        found.append(
            ScanDiscrepancy(
                "container_id",
                scan.container_id,
                known,
                f"container {scan.container_id!r} is not a container of chain {expected.coi} "
                f"(its containers: {', '.join(known) or 'none yet'})",
            )
        )
    elif on_label is not None and identity not in (on_label, expected.coi.value):
        # A container may carry the chain's COI besides the identity recorded for it; any other
        # identity of the chain (another donation's DIN) means bags were mixed up.
        found.append(
            ScanDiscrepancy(
                "identity_code",
                identity,
                (on_label,),
                f"container {scan.container_id!r} is labelled {on_label}, but its label was read "
                f"as {identity}",
            )
        )
    return [], found


def check_scans(
    expected: ExpectedIdentity, scans: Iterable[Scan], *, establishing: bool = False
) -> ScanOutcome:
    """Compare every scan of one event with the chain.

    Parameters
    ----------
    expected : ExpectedIdentity
        What the chain says (``ChainState.expected_identity``).
    scans : iterable of Scan
        What was read.
    establishing : bool
        True at labelling and fill, where containers new to the chain are read: a new container
        id is then accepted, but its label must still carry this chain's COI or one of its DINs.

    Returns
    -------
    ScanOutcome
        MISMATCH if anything disagrees (deviation, block); else UNREADABLE if a code could not
        be read; else MATCH.
    """
    scans = tuple(scans)
    if not scans:
        return ScanOutcome(
            ScanVerdict.UNREADABLE,
            f"No scan was given for chain {expected.coi}; scan the container and "
            "its COI/DIN label.",
        )
    unreadable: list[ScanDiscrepancy] = []
    mismatched: list[ScanDiscrepancy] = []
    for scan in scans:
        bad_read, bad_match = _scan_discrepancies(expected, scan, establishing=establishing)
        unreadable += bad_read
        mismatched += bad_match
    if mismatched:
        return ScanOutcome(
            ScanVerdict.MISMATCH,
            _mismatch_message(expected.coi, mismatched),
            tuple(mismatched + unreadable),
        )
    if unreadable:
        listing = "; ".join(d.message for d in unreadable)
        return ScanOutcome(
            ScanVerdict.UNREADABLE,
            f"Scan on chain {expected.coi} could not be read: {listing}. Rescan "
            "or re-enter from the label; if the label cannot be read, quarantine "
            "the container and open a deviation.",
            tuple(unreadable),
        )
    return ScanOutcome(ScanVerdict.MATCH, f"All {len(scans)} scan(s) match chain {expected.coi}.")


def check_scan(
    expected: ExpectedIdentity, scan: Scan, *, establishing: bool = False
) -> ScanOutcome:
    """Compare one scan with the chain; see :func:`check_scans`."""
    return check_scans(expected, (scan,), establishing=establishing)


def _mismatch_message(coi: ChainOfIdentityId, found: list[ScanDiscrepancy]) -> str:
    listing = "; ".join(d.message for d in found)
    return (
        f"Scan mismatch on chain {coi}: {listing}. Hard stop: do not hand over or use the "
        "material; open a deviation and block the chain until the deviation is resolved."
    )


def check_dispense(
    coi: ChainOfIdentityId,
    donor_type: DonorType,
    patient_coi: str,
    *,
    recipient_coi: ChainOfIdentityId | None = None,
) -> ScanOutcome:
    """Check that a product may be dispensed to (infused into) the patient scanned.

    An autologous product may only be dispensed against its own patient's COI, which is the
    chain's own COI. An allogeneic product may only be dispensed to its assigned recipient.

    Parameters
    ----------
    coi : ChainOfIdentityId
        The product's chain.
    donor_type : DonorType
        Autologous or allogeneic.
    patient_coi : str
        The COI read from the patient's wristband or order.
    recipient_coi : ChainOfIdentityId, optional
        The assigned recipient of an allogeneic product.

    Returns
    -------
    ScanOutcome
        MATCH, MISMATCH (wrong patient: deviation, block) or UNREADABLE.

    Raises
    ------
    CustodyBreak
        If an allogeneic product has no assigned recipient.
    """
    try:
        patient = validate_coi(patient_coi).value
    except ValidationFailed as exc:
        detail = "; ".join(e.message for e in exc.errors) or exc.message
        return ScanOutcome(
            ScanVerdict.UNREADABLE,
            f"The patient's COI {patient_coi!r} could not be read ({detail}). Rescan the "
            "wristband.",
            (ScanDiscrepancy("patient_coi", patient_coi, (), detail),),
        )
    if DonorType(donor_type) is DonorType.AUTOLOGOUS:
        wanted = coi
        rule = (
            f"an autologous product of chain {coi} may only be dispensed to its own patient "
            f"(COI {coi})"
        )
    elif recipient_coi is None:
        raise CustodyBreak(
            f"The allogeneic product of chain {coi} has no assigned recipient; assign the "
            "recipient before dispensing."
        )
    else:
        wanted = recipient_coi
        rule = f"the allogeneic product of chain {coi} is assigned to recipient {recipient_coi}"
    if patient == wanted.value:
        return ScanOutcome(
            ScanVerdict.MATCH, f"Patient {patient} matches the product of chain {coi}."
        )
    found = [
        ScanDiscrepancy(
            "patient_coi", patient, (wanted.value,), f"{rule}; the patient's COI reads {patient}"
        )
    ]
    return ScanOutcome(ScanVerdict.MISMATCH, _mismatch_message(coi, found), tuple(found))
