"""21 CFR Part 11 behaviours: passwords, lockout, ageing, sessions and e-signatures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from quality_helpers import PASSWORD, Plant, add_user, creds

from saisei.errors import (
    AuthenticationFailed,
    AuthenticationUnavailable,
    SignatureRequired,
    ValidationFailed,
)
from saisei.quality.esign import sign_record, signatures_of
from saisei.quality.specs import enter_qc_result
from saisei.quality.users import (
    AuthPolicy,
    authenticate,
    change_password,
    create_user,
    list_users,
    session_user,
    start_session,
    unlock_user,
)
from saisei.storage.audit import audit_events
from saisei.storage.models import QCResult, Signature, User
from saisei.storage.store import Store


def _now() -> datetime:
    return datetime.now(UTC)


def _result(store: Store, plant: Plant) -> str:
    entry = enter_qc_result(store, plant.analyst, plant.lot, "viability", value=88.0, unit="%")
    return str(entry.id)


# passwords, lockout, unavailability ---------------------------------------------------------


def test_password_is_stored_as_an_argon2id_hash(
    store: Store, plant: Plant, policy: AuthPolicy
) -> None:
    create_user(store, plant.admin, "op.abe", "Jun Abe", "Sakura-2026!", ["operator"], policy)
    with store.reader() as session:
        stored = session.query(User).filter_by(username="op.abe").one().password_hash
    assert stored is not None and stored.startswith("$argon2id$")
    assert "Sakura-2026!" not in stored
    assert authenticate(store, "op.abe", "Sakura-2026!", policy).full_name == "Jun Abe"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "at least 10 characters"),
        ("onlyletterspassword", "letters and at least one digit or symbol"),
        ("OP.ABE", "at least 10 characters"),
    ],
)
def test_password_policy(
    store: Store, plant: Plant, policy: AuthPolicy, password: str, message: str
) -> None:
    with pytest.raises(ValidationFailed, match=message):
        create_user(store, plant.admin, "op.abe", "Jun Abe", password, ["operator"], policy)


def test_lockout_after_threshold_with_alert_event(
    store: Store, plant: Plant, policy: AuthPolicy
) -> None:
    for attempt in range(1, 5):
        with pytest.raises(AuthenticationFailed, match=f"{5 - attempt} attempt\\(s\\) left"):
            authenticate(store, plant.analyst, "wrong-password-1", policy)
    with pytest.raises(AuthenticationFailed, match="is now locked after 5 failed attempts"):
        authenticate(store, plant.analyst, "wrong-password-1", policy)
    # the right password no longer opens a locked account, and does not count
    with pytest.raises(AuthenticationFailed, match="is locked after repeated failed sign-ins"):
        authenticate(store, plant.analyst, PASSWORD, policy)
    with store.reader() as session:
        alerts = [
            (e.entity_id, json.loads(e.new_values))
            for e in audit_events(session)
            if e.tag.endswith("security_alert:account_locked")
        ]
    assert alerts == [(plant.analyst, {"failed_logins": 5, "threshold": 5})]
    assert [u.locked for u in list_users(store) if u.username == plant.analyst] == [True]
    with pytest.raises(ValidationFailed, match="A reason is required to unlock"):
        unlock_user(store, plant.admin, plant.analyst, reason="")
    unlock_user(store, plant.admin, plant.analyst, reason="identity confirmed by phone")
    assert authenticate(store, plant.analyst, PASSWORD, policy).username == plant.analyst


def test_lockout_threshold_is_a_passed_in_value(
    store: Store, plant: Plant, policy: AuthPolicy
) -> None:
    strict = AuthPolicy(lockout_threshold=2, argon2_time_cost=1, argon2_memory_kib=64)
    with pytest.raises(AuthenticationFailed, match="1 attempt"):
        authenticate(store, plant.qa, "nope-nope-1", strict)
    with pytest.raises(AuthenticationFailed, match="now locked after 2 failed attempts"):
        authenticate(store, plant.qa, "nope-nope-1", strict)


def test_a_correct_password_resets_the_failure_count(
    store: Store, plant: Plant, policy: AuthPolicy
) -> None:
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            authenticate(store, plant.qa, "wrong-password-1", policy)
    authenticate(store, plant.qa, PASSWORD, policy)
    with pytest.raises(AuthenticationFailed, match="4 attempt"):
        authenticate(store, plant.qa, "wrong-password-1", policy)


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(
    store: Store, plant: Plant, policy: AuthPolicy
) -> None:
    with pytest.raises(AuthenticationFailed, match="^The user id or password is wrong.$"):
        authenticate(store, "nobody", PASSWORD, policy)
    with store.reader() as session:
        assert [e.tag for e in audit_events(session)][-1] == "app:user:login_failed"


def test_unreachable_user_store_is_unavailable_not_a_wrong_password(
    tmp_path: Path, policy: AuthPolicy
) -> None:
    down = Store.open("postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path / "ts")
    try:
        with pytest.raises(AuthenticationUnavailable, match="Authentication is unavailable"):
            authenticate(down, "qa.sato", PASSWORD, policy)
    finally:
        down.close()


def test_unreadable_stored_hash_is_unavailable_and_not_counted(
    store: Store, plant: Plant, policy: AuthPolicy
) -> None:
    with store.unit_of_work(actor="setup", source="test", reason="corrupt") as uow:
        uow.session.query(User).filter_by(username=plant.qa).one().password_hash = "garbage"
    with pytest.raises(AuthenticationUnavailable, match="stored credential of 'qa.sato'"):
        authenticate(store, plant.qa, PASSWORD, policy)
    assert [u.failed_logins for u in list_users(store) if u.username == plant.qa] == [0]


def test_password_ageing(store: Store, plant: Plant, policy: AuthPolicy) -> None:
    old = _now() - timedelta(days=91)
    add_user(store, "op.old", ["operator"], created_at=old)
    with pytest.raises(AuthenticationFailed, match="older than 90 days and has expired"):
        authenticate(store, "op.old", PASSWORD, policy)
    no_ageing = AuthPolicy(password_max_age_days=0, argon2_time_cost=1, argon2_memory_kib=64)
    assert authenticate(store, "op.old", PASSWORD, no_ageing).username == "op.old"
    change_password(store, "op.old", PASSWORD, "fresh-pass-2026", policy)
    assert authenticate(store, "op.old", "fresh-pass-2026", policy).username == "op.old"


def test_session_times_out_after_inactivity(store: Store, plant: Plant, policy: AuthPolicy) -> None:
    t0 = _now()
    session = start_session(store, plant.qa, PASSWORD, policy, now=t0)
    assert session_user(store, session.token, policy, now=t0 + timedelta(minutes=14)).roles == (
        "qa",
    )
    # activity restarted the clock at 14 min; 16 min of silence after that ends the session
    with pytest.raises(AuthenticationFailed, match="timed out after 15 minutes"):
        session_user(store, session.token, policy, now=t0 + timedelta(minutes=30, seconds=1))
    with pytest.raises(AuthenticationFailed, match="has ended"):
        session_user(store, session.token, policy, now=t0 + timedelta(minutes=31))


# e-signatures -------------------------------------------------------------------------------


def test_signature_shows_printed_name_utc_time_and_meaning(
    store: Store, plant: Plant, policy: AuthPolicy
) -> None:
    record = _result(store, plant)
    when = datetime(2026, 11, 20, 8, 15, 30, tzinfo=UTC)
    view = sign_record(
        store, "qc_result", record, "verification", creds(plant.qa), policy, now=when
    )
    assert (view.printed_name, view.meaning, view.signed_at) == ("Aiko Sato", "verification", when)
    assert view.line() == (
        "Signed by Aiko Sato (qa.sato) on 2026-11-20 08:15:30 UTC, meaning: verification [valid]"
    )
    (stored,) = signatures_of(store, "qc_result", record)
    assert stored == view and stored.valid


def test_an_edit_after_signing_invalidates_and_requires_signing_again(
    store: Store, plant: Plant, policy: AuthPolicy
) -> None:
    record = _result(store, plant)
    sign_record(store, "qc_result", record, "authorship", creds(plant.analyst), policy)
    with store.unit_of_work(actor=plant.analyst, source="test", reason="typo") as uow:
        uow.session.get(QCResult, int(record)).value = 89.0  # type: ignore[union-attr]
    assert [s.valid for s in signatures_of(store, "qc_result", record)] == [False]
    sign_record(store, "qc_result", record, "authorship", creds(plant.analyst), policy)
    assert [s.valid for s in signatures_of(store, "qc_result", record)] == [False, True]


def test_a_signature_copied_to_another_record_is_invalid(
    store: Store, plant: Plant, policy: AuthPolicy
) -> None:
    first, second = _result(store, plant), _result(store, plant)
    sign_record(store, "qc_result", first, "review", creds(plant.qa), policy)
    with store.unit_of_work(actor="intruder", source="test", reason="copy") as uow:
        original = uow.session.query(Signature).one()
        uow.session.add(
            Signature(
                record_type="qc_result",
                record_id=second,
                content_hash=original.content_hash,
                signer_id=original.signer_id,
                signer_name=original.signer_name,
                meaning=original.meaning,
                signed_at=original.signed_at,
            )
        )
    assert [s.valid for s in signatures_of(store, "qc_result", first)] == [True]
    assert [s.valid for s in signatures_of(store, "qc_result", second)] == [False]


def test_signing_without_a_session_needs_user_id_and_password(
    store: Store, plant: Plant, policy: AuthPolicy
) -> None:
    record = _result(store, plant)
    with pytest.raises(SignatureRequired, match="needs your user id and password"):
        sign_record(store, "qc_result", record, "review", creds(None), policy)
    with pytest.raises(AuthenticationFailed, match="user id or password is wrong"):
        sign_record(store, "qc_result", record, "review", creds(plant.qa, "bad-pw-123"), policy)
    assert signatures_of(store, "qc_result", record) == []


def test_first_signing_in_a_session_needs_both_later_ones_the_password(
    store: Store, plant: Plant, policy: AuthPolicy
) -> None:
    record = _result(store, plant)
    t0 = _now()
    token = start_session(store, plant.qa, PASSWORD, policy, now=t0).token
    with pytest.raises(SignatureRequired, match="first signing of the session"):
        sign_record(store, "qc_result", record, "review", creds(None, token=token), policy, now=t0)
    sign_record(store, "qc_result", record, "review", creds(plant.qa, token=token), policy, now=t0)
    later = t0 + timedelta(minutes=10)
    view = sign_record(
        store, "qc_result", record, "approval", creds(None, token=token), policy, now=later
    )
    assert view.printed_name == "Aiko Sato"
    with pytest.raises(AuthenticationFailed, match="user id or password is wrong"):
        sign_record(
            store,
            "qc_result",
            record,
            "approval",
            creds(None, "bad-pw-123", token=token),
            policy,
            now=later,
        )
    with pytest.raises(AuthenticationFailed, match="belongs to 'qa.sato'"):
        sign_record(store, "qc_result", record, "review", creds(plant.analyst, token=token), policy)


def test_after_the_session_timeout_both_components_are_needed_again(
    store: Store, plant: Plant, policy: AuthPolicy
) -> None:
    record = _result(store, plant)
    t0 = _now()
    token = start_session(store, plant.qa, PASSWORD, policy, now=t0).token
    sign_record(store, "qc_result", record, "review", creds(plant.qa, token=token), policy, now=t0)
    late = t0 + timedelta(minutes=16)
    with pytest.raises(SignatureRequired, match="inactive for more than 15 minutes"):
        sign_record(
            store, "qc_result", record, "approval", creds(None, token=token), policy, now=late
        )
    sign_record(
        store, "qc_result", record, "approval", creds(plant.qa, token=token), policy, now=late
    )
    # a new continuous period began: the password alone works again
    sign_record(
        store,
        "qc_result",
        record,
        "verification",
        creds(None, token=token),
        policy,
        now=late + timedelta(minutes=1),
    )
    assert len(signatures_of(store, "qc_result", record)) == 3


def test_release_meaning_and_dedicated_records_are_refused_by_generic_signing(
    store: Store, plant: Plant, policy: AuthPolicy
) -> None:
    record = _result(store, plant)
    with pytest.raises(ValidationFailed, match="meaning 'release' is used only by batch release"):
        sign_record(store, "qc_result", record, "release", creds(plant.qa), policy)
    with pytest.raises(ValidationFailed, match="cannot be signed here"):
        sign_record(store, "batch_release", plant.lot, "approval", creds(plant.qa), policy)
    with pytest.raises(ValidationFailed, match="meaning must be one of authorship"):
        sign_record(store, "qc_result", record, "ok", creds(plant.qa), policy)
