"""Password history, argon2 cost from the settings, quarantine of a completed lot, deviation
numbering."""

from __future__ import annotations

import pytest
from quality_helpers import CHEAP, PASSWORD, T0, Plant
from sqlalchemy import select

from saisei.app import auth_policy
from saisei.cli.users import policy_from
from saisei.config import load_settings
from saisei.domain.enums import BatchStatus, DeviationSeverity, DeviationStatus
from saisei.errors import ConfigurationError, Conflict, PermissionDenied, ValidationFailed
from saisei.quality.deviations import record_deviation
from saisei.quality.disposition import quarantine_batch
from saisei.quality.users import (
    AuthPolicy,
    authenticate,
    change_password,
    create_user,
    reset_password,
)
from saisei.storage.audit import audit_events
from saisei.storage.models import Deviation, PasswordHistory, User
from saisei.storage.repositories import batches as batch_repo
from saisei.storage.store import Store

# password history ---------------------------------------------------------------------------


def test_the_last_n_passwords_cannot_be_chosen_again(store: Store, plant: Plant) -> None:
    policy = AuthPolicy(password_history=3, **CHEAP)  # type: ignore[arg-type]
    change_password(store, plant.analyst, PASSWORD, "second-pass-02", policy)
    change_password(store, plant.analyst, "second-pass-02", "third-pass-003", policy)
    # the last 3 passwords are third (current), second and the first one
    for used in (PASSWORD, "second-pass-02"):
        with pytest.raises(ValidationFailed, match="was one of its last 3 passwords"):
            change_password(store, plant.analyst, "third-pass-003", used, policy)
    with pytest.raises(ValidationFailed, match="was one of its last 3 passwords"):
        reset_password(
            store, plant.admin, plant.analyst, PASSWORD, policy, reason="forgotten password"
        )
    change_password(store, plant.analyst, "third-pass-003", "fourth-pass-04", policy)
    # four passwords on, the first one has left the last three and may be chosen again
    change_password(store, plant.analyst, "fourth-pass-04", PASSWORD, policy)
    assert authenticate(store, plant.analyst, PASSWORD, policy).username == plant.analyst


def test_a_history_of_zero_turns_the_check_off(store: Store, plant: Plant) -> None:
    policy = AuthPolicy(password_history=0, **CHEAP)  # type: ignore[arg-type]
    change_password(store, plant.analyst, PASSWORD, "second-pass-02", policy)
    change_password(store, plant.analyst, "second-pass-02", PASSWORD, policy)
    with pytest.raises(ValidationFailed, match="password history must be 0"):
        AuthPolicy(password_history=-1)


def test_the_replaced_hash_is_kept_not_the_password(store: Store, plant: Plant) -> None:
    policy = AuthPolicy(**CHEAP)  # type: ignore[arg-type]
    with store.reader() as session:
        before = session.query(User).filter_by(username=plant.analyst).one().password_hash
    change_password(store, plant.analyst, PASSWORD, "second-pass-02", policy)
    with store.reader() as session:
        kept = list(session.scalars(select(PasswordHistory.password_hash)))
    assert kept == [before]
    assert all(PASSWORD not in h for h in kept)


# argon2 parameters from the settings ---------------------------------------------------------


def test_argon2_parameters_come_from_the_settings(store: Store, plant: Plant) -> None:
    settings = load_settings(
        argon2_time_cost=2, argon2_memory_kib=256, argon2_parallelism=2, password_history=7
    )
    for policy in (policy_from(settings), auth_policy(settings)):
        assert (policy.argon2_time_cost, policy.argon2_memory_kib) == (2, 256)
        assert (policy.argon2_parallelism, policy.password_history) == (2, 7)
        # PHC string format of argon2 (the reference implementation's encoding)
        assert policy.hasher().hash("x").startswith("$argon2id$v=19$m=256,t=2,p=2$")
    create_user(
        store,
        plant.admin,
        "op.new",
        "New Operator",
        "op-pass-0001",
        ["operator"],
        policy_from(settings),
        reason="new starter",
    )
    with store.reader() as session:
        stored = session.query(User).filter_by(username="op.new").one().password_hash
    assert stored is not None and stored.startswith("$argon2id$v=19$m=256,t=2,p=2$")


def test_argon2_memory_must_cover_the_lanes() -> None:
    # RFC 9106 section 3.1: at least 8 KiB of memory per lane
    with pytest.raises(ConfigurationError, match="'argon2_memory_kib' setting must be at least"):
        load_settings(argon2_memory_kib=64, argon2_parallelism=16)
    assert load_settings(argon2_memory_kib=128, argon2_parallelism=16).argon2_parallelism == 16


# quarantine ---------------------------------------------------------------------------------


def _completed(store: Store, lot: str) -> None:
    with store.unit_of_work(actor="setup", source="test", reason="setup") as uow:
        batch_repo.get_batch(uow.session, lot).status = BatchStatus.COMPLETED


def test_qa_quarantines_a_completed_lot_with_a_reason(store: Store, plant: Plant) -> None:
    _completed(store, plant.lot)
    with pytest.raises(ValidationFailed, match="reason"):
        quarantine_batch(store, plant.qa, plant.lot, reason=None)
    with pytest.raises(PermissionDenied, match="batches.dispose"):
        quarantine_batch(store, plant.analyst, plant.lot, reason="manufacturing complete")
    view = quarantine_batch(store, plant.qa, plant.lot, reason="manufacturing complete")
    assert view.status == "quarantine"
    with store.reader() as session:
        tags = [(e.tag, e.actor, e.reason) for e in audit_events(session)]
    assert ("app:batch:quarantine", plant.qa, "manufacturing complete") in tags
    with pytest.raises(Conflict, match="from status 'quarantine' to 'quarantine'"):
        quarantine_batch(store, plant.qa, plant.lot, reason="again")


# deviation numbering ------------------------------------------------------------------------


def test_deviation_numbers_follow_the_highest_taken(store: Store, plant: Plant) -> None:
    with store.unit_of_work(actor="setup", source="test", reason="imported deviations") as uow:
        for number in ("DEV-00007", "DEV-00002", "DEV-MSC-0042"):
            uow.session.add(
                Deviation(
                    number=number,
                    category="process",
                    severity=DeviationSeverity.MINOR,
                    description="imported",
                    status=DeviationStatus.CLOSED,
                    opened_at=T0,
                )
            )
    # three stored, so a count would give DEV-00004; the highest of the pattern is 7
    first = record_deviation(
        store, plant.analyst, description="a", category="process", severity="minor"
    )
    second = record_deviation(
        store, plant.analyst, description="b", category="process", severity="minor"
    )
    assert (first.number, second.number) == ("DEV-00008", "DEV-00009")
