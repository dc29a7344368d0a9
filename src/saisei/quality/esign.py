"""Electronic signatures (21 CFR 11.50, 11.70, 11.100, 11.200).

A signature shows the signer's printed name, the UTC date and time and its meaning, and is
bound to its record by a SHA-256 over the record's current content, the record type and id,
the meaning, the signer and the time (:func:`binding_hash`). Any later edit of the record (or
of the signature row, or a copy onto another record) makes the recomputed hash differ, and
the signature is shown as no longer valid; the record must then be signed again.

Signing needs both components (user id and password) unless the signer is inside a
continuous session (:func:`saisei.quality.users.start_session`) and has already signed in it;
then the password alone suffices. After ``session_timeout_min`` minutes of inactivity the
continuous period ends and both components are needed again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from saisei.domain.audit import canonical_json, jsonable
from saisei.domain.enums import SignatureMeaning
from saisei.errors import AuthenticationFailed, NotFound, SignatureRequired, ValidationFailed
from saisei.quality.access import utc_now
from saisei.quality.permissions import check_permission
from saisei.quality.records import RECORD_TYPES, record_content
from saisei.quality.users import (
    AuthPolicy,
    _auth_store,
    _live_session,
    verify_password,
)
from saisei.storage.models import Signature, User, UserSession
from saisei.storage.repositories import quality as repo
from saisei.storage.store import Store
from saisei.storage.unit_of_work import UnitOfWork

__all__ = [
    "Credentials",
    "SignatureView",
    "Signer",
    "apply_signature",
    "binding_hash",
    "parse_meaning",
    "sign_record",
    "signature_views",
    "signatures_of",
    "verify_signer",
]

#: Record types signed only through their own operation (review, release, rejection).
_DEDICATED = frozenset({"batch_release", "batch_rejection", "audit_review"})


@dataclass(frozen=True)
class Credentials:
    """What a signer presents: the password, plus the user id and/or a session token.

    The password never appears in ``repr``.
    """

    password: str = field(repr=False)
    username: str | None = None
    session_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Signer:
    """A verified signer; ``session_id`` is set when signing inside a continuous session."""

    user_id: int
    username: str
    full_name: str
    roles: tuple[str, ...]
    session_id: int | None = None
    restarts_period: bool = False


@dataclass(frozen=True)
class SignatureView:
    """A signature as shown with its record: printed name, UTC time, meaning, validity."""

    id: int
    record_type: str
    record_id: str
    signer: str
    printed_name: str
    meaning: str
    signed_at: datetime
    content_hash: str
    valid: bool

    def line(self) -> str:
        """One line for people, e.g. ``Signed by Aiko Sato (qa.sato) 2026-...Z UTC: release``."""
        state = "valid" if self.valid else "NO LONGER VALID: the record changed after signing"
        when = self.signed_at.strftime("%Y-%m-%d %H:%M:%S")
        return (
            f"Signed by {self.printed_name} ({self.signer}) on {when} UTC, "
            f"meaning: {self.meaning} [{state}]"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {k: jsonable(getattr(self, k)) for k in self.__dataclass_fields__}


def parse_meaning(meaning: str | SignatureMeaning) -> SignatureMeaning:
    """The signature meaning of ``meaning``; names the options when unknown."""
    try:
        return SignatureMeaning(meaning)
    except ValueError:
        options = ", ".join(m.value for m in SignatureMeaning)
        raise ValidationFailed(
            f"The signature meaning must be one of {options}. Got {meaning!r}."
        ) from None


def binding_hash(
    *,
    record_type: str,
    record_id: str,
    meaning: SignatureMeaning,
    signer_id: int,
    signer_name: str,
    signed_at: datetime,
    content: Mapping[str, Any],
) -> str:
    """SHA-256 (hex) binding a signature to its record's content (11.70)."""
    payload = canonical_json(
        {
            "record_type": record_type,
            "record_id": record_id,
            "meaning": meaning,
            "signer_id": signer_id,
            "signer_name": signer_name,
            "signed_at": signed_at,
            "content": content,
        }
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def verify_signer(
    store: Store,
    credentials: Credentials,
    policy: AuthPolicy,
    *,
    source: str = "app",
    now: datetime | None = None,
) -> Signer:
    """Check the signature components (11.200(a)); failed attempts count towards lockout.

    Raises
    ------
    SignatureRequired
        When the user id is missing but needed: no session, the first signing of a session,
        or a session that timed out.
    AuthenticationFailed, AuthenticationUnavailable
        As :func:`saisei.quality.users.authenticate`.
    """
    moment = utc_now(now)
    if credentials.session_token is None:
        if not credentials.username:
            raise SignatureRequired(
                "An electronic signature needs your user id and password (no session is open)."
            )
        user = verify_password(
            store, credentials.username, credentials.password, policy, source=source, now=moment
        )
        return Signer(user.user_id, user.username, user.full_name, user.roles)
    with _auth_store(), store.reader() as session:
        found, alive = _live_session(session, credentials.session_token, policy, moment)
        owner = session.get(User, found.user_id)
        session_username = owner.username if owner is not None else ""
        first = found.signings == 0
        session_id = found.id
    if credentials.username and credentials.username != session_username:
        raise AuthenticationFailed(
            f"The session belongs to {session_username!r}; {credentials.username!r} cannot sign "
            "in it. Sign in as yourself."
        )
    if not credentials.username and (first or not alive):
        why = (
            f"the session was inactive for more than {policy.session_timeout_min} minutes"
            if not alive
            else "this is the first signing of the session"
        )
        raise SignatureRequired(
            f"Sign with your user id and password: {why} (21 CFR 11.200(a)(1))."
        )
    user = verify_password(
        store, session_username, credentials.password, policy, source=source, now=moment
    )
    return Signer(user.user_id, user.username, user.full_name, user.roles, session_id, not alive)


def apply_signature(
    uow: UnitOfWork,
    signer: Signer,
    *,
    record_type: str,
    record_id: str,
    meaning: SignatureMeaning,
    content: Mapping[str, Any],
    now: datetime,
) -> Signature:
    """Write the signature row (in the caller's transaction) and advance the session."""
    signature = Signature(
        record_type=record_type,
        record_id=record_id,
        signer_id=signer.user_id,
        signer_name=signer.full_name,
        meaning=meaning,
        signed_at=now,
        content_hash=binding_hash(
            record_type=record_type,
            record_id=record_id,
            meaning=meaning,
            signer_id=signer.user_id,
            signer_name=signer.full_name,
            signed_at=now,
            content=content,
        ),
    )
    uow.session.add(signature)
    if signer.session_id is not None:
        live = uow.session.get(UserSession, signer.session_id)
        if live is not None:
            live.signings = 1 if signer.restarts_period else live.signings + 1
            live.last_activity_at = now
    uow.flush()
    return signature


def _view(session: repo.Session, signature: Signature) -> SignatureView:
    content = record_content(session, signature.record_type, signature.record_id)
    signer = session.get(User, signature.signer_id)
    valid = content is not None and signature.content_hash == binding_hash(
        record_type=signature.record_type,
        record_id=signature.record_id,
        meaning=signature.meaning,
        signer_id=signature.signer_id,
        signer_name=signature.signer_name,
        signed_at=signature.signed_at,
        content=content,
    )
    return SignatureView(
        id=signature.id,
        record_type=signature.record_type,
        record_id=signature.record_id,
        signer=signer.username if signer is not None else "?",
        printed_name=signature.signer_name,
        meaning=signature.meaning.value,
        signed_at=signature.signed_at,
        content_hash=signature.content_hash,
        valid=valid,
    )


def signature_views(session: repo.Session, record_type: str, record_id: str) -> list[SignatureView]:
    """Signatures of a record with their validity recomputed now (inside a session)."""
    return [_view(session, s) for s in repo.signatures_for(session, record_type, record_id)]


def signatures_of(store: Store, record_type: str, record_id: str) -> list[SignatureView]:
    """Signatures of a record, each with printed name, UTC time, meaning and validity."""
    with store.reader() as session:
        return signature_views(session, record_type, record_id)


def sign_record(
    store: Store,
    record_type: str,
    record_id: str,
    meaning: str,
    credentials: Credentials,
    policy: AuthPolicy,
    *,
    source: str = "app",
    now: datetime | None = None,
) -> SignatureView:
    """Sign a QC result or a deviation as it is now (authorship, review, verification, ...).

    Batch release and rejection and audit-trail reviews are signed by their own operations.

    Raises
    ------
    ValidationFailed
        For an unknown record type or meaning, or ``release`` (only batch release uses it).
    NotFound
        When the record does not exist.
    """
    parsed = parse_meaning(meaning)
    if record_type not in RECORD_TYPES or record_type in _DEDICATED:
        options = ", ".join(sorted(set(RECORD_TYPES) - _DEDICATED))
        raise ValidationFailed(
            f"Records of type {record_type!r} cannot be signed here; one of {options}. "
            "Batch release and audit-trail reviews have their own commands."
        )
    if parsed == SignatureMeaning.RELEASE:
        raise ValidationFailed(
            "The meaning 'release' is used only by batch release ('saisei release LOT')."
        )
    moment = utc_now(now)
    with store.reader() as session:
        if record_content(session, record_type, record_id) is None:
            raise NotFound(f"No {record_type.replace('_', ' ')} {record_id!r} to sign.")
    signer = verify_signer(store, credentials, policy, source=source, now=moment)
    check_permission(signer.username, signer.roles, "esign.sign_record")
    with store.unit_of_work(
        actor=signer.username, source=source, reason=f"e-signature: {parsed.value}"
    ) as uow:
        signature = apply_signature(
            uow,
            signer,
            record_type=record_type,
            record_id=record_id,
            meaning=parsed,
            content=record_content(uow.session, record_type, record_id) or {},
            now=moment,
        )
        return _view(uow.session, signature)
