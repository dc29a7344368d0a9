"""Parties of the supply chain and their qualification (issue 9, item 2).

A party (collection institution, intermediary, manufacturer, courier, clinical site) may send
or receive material only while it is qualified: status ``qualified`` and, when an expiry is
recorded, not past it on the day of the shipment. Changing a qualification needs a reason; the
unit of work writes the old and new values to the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from saisei.domain.audit import jsonable
from saisei.domain.enums import QualificationStatus
from saisei.errors import CustodyBreak, ValidationFailed
from saisei.storage.models import Party
from saisei.storage.repositories import custody as repo
from saisei.storage.store import Store

__all__ = [
    "PartyView",
    "check_party_qualified",
    "list_parties",
    "party_problem",
    "qualify_party",
]


@dataclass(frozen=True)
class PartyView:
    """A party with its qualification."""

    code: str
    name: str
    party_type: str
    country: str | None
    qualification_status: str
    qualified_until: date | None

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {k: jsonable(getattr(self, k)) for k in self.__dataclass_fields__}


def _view(party: Party) -> PartyView:
    return PartyView(
        code=party.code,
        name=party.name,
        party_type=party.party_type.value,
        country=party.country,
        qualification_status=party.qualification_status.value,
        qualified_until=party.qualified_until,
    )


def party_problem(party: Party, at: datetime) -> str | None:
    """Why ``party`` may not send or receive material at ``at``; None when it may."""
    if party.qualification_status is not QualificationStatus.QUALIFIED:
        return (
            f"party {party.code} ({party.name}) is not qualified: its qualification status is "
            f"'{party.qualification_status.value}'"
        )
    day = at.astimezone(UTC).date()
    if party.qualified_until is not None and day > party.qualified_until:
        return (
            f"the qualification of party {party.code} ({party.name}) expired on "
            f"{party.qualified_until.isoformat()}, before {day.isoformat()}"
        )
    return None


def check_party_qualified(party: Party, at: datetime, *, role: str) -> None:
    """Refuse a shipment ``role`` ("from" or "to") a party that is not qualified at ``at``.

    Raises
    ------
    CustodyBreak
        Naming the party, its status or expiry, and the fix.
    """
    problem = party_problem(party, at)
    if problem is not None:
        raise CustodyBreak(
            f"A shipment {role} party {party.code} on {at.astimezone(UTC).date().isoformat()} "
            f"is refused: {problem}. Qualify the party first ('saisei custody parties "
            f"qualify {party.code} --status qualified --until DATE --reason TEXT')."
        )


def list_parties(store: Store, *, party_type: str | None = None) -> list[PartyView]:
    """Every party with its qualification status and expiry."""
    with store.reader() as session:
        return [_view(p) for p in repo.list_parties(session, party_type=party_type)]


def qualify_party(
    store: Store,
    actor: str,
    code: str,
    *,
    status: str,
    reason: str | None,
    qualified_until: date | None = None,
    source: str = "app",
) -> PartyView:
    """Set a party's qualification status and expiry; a reason is required.

    Raises
    ------
    ValidationFailed
        For an unknown status, a missing reason, or ``qualified`` with an expiry in the past.
    NotFound
        For an unknown party.
    """
    try:
        parsed = QualificationStatus(status)
    except ValueError:
        options = ", ".join(s.value for s in QualificationStatus)
        raise ValidationFailed(
            f"The qualification status must be one of {options}. Got {status!r}."
        ) from None
    if reason is None or not reason.strip():
        raise ValidationFailed(
            f"Changing the qualification of party {code} needs a reason (--reason): say on "
            "what evidence (audit, agreement, requalification) it rests."
        )
    today = datetime.now(UTC).date()
    if parsed is QualificationStatus.QUALIFIED and qualified_until and qualified_until < today:
        raise ValidationFailed(
            f"A qualification of party {code} cannot be recorded as valid until "
            f"{qualified_until.isoformat()}: that date is in the past."
        )
    with store.unit_of_work(actor=actor, source=source, reason=reason.strip()) as uow:
        party = repo.get_party(uow.session, code)
        party.qualification_status = parsed
        party.qualified_until = qualified_until
        uow.flush()
        return _view(party)
