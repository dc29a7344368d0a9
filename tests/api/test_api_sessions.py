"""The session gate: re-checks a token only after its interval, forgets it on sign-out."""

from __future__ import annotations

from saisei_plant import PASSWORD, policy

from saisei.errors import AuthenticationFailed
from saisei.services.sessions import SessionGate, csrf_token, csrf_valid
from saisei.storage.store import Store


def test_gate_rechecks_after_the_interval_and_forgets_on_sign_out(plant_store: Store) -> None:
    now = [0.0]
    gate = SessionGate(plant_store, policy(), recheck_s=30.0, clock=lambda: now[0])
    session = gate.sign_in("qa.sato", PASSWORD, source="test")
    assert gate.user(session.token, source="test").username == "qa.sato"
    gate.store = None  # type: ignore[assignment]  # within the interval the store is not asked
    now[0] = 29.0
    assert gate.user(session.token, source="test").roles == ("qa",)
    gate.store = plant_store
    now[0] = 31.0
    assert gate.user(session.token, source="test").username == "qa.sato"
    gate.sign_out(session.token, source="test")
    try:
        gate.user(session.token, source="test")
    except AuthenticationFailed as exc:
        assert "The session has ended or is unknown" in str(exc)
    else:
        raise AssertionError("a signed-out token was accepted")


def test_csrf_tokens_are_bound_to_their_seed() -> None:
    token = csrf_token("secret", "session-a")
    assert len(token) == 64
    assert csrf_valid("secret", "session-a", token)
    assert not csrf_valid("secret", "session-b", token)
    assert not csrf_valid("other-secret", "session-a", token)
    assert not csrf_valid("secret", None, token)
    assert not csrf_valid("secret", "session-a", None)


def test_a_session_counts_as_verified_when_it_signs_in(plant_store: Store) -> None:
    now = [0.0]
    gate = SessionGate(plant_store, policy(), recheck_s=30.0, clock=lambda: now[0])
    session = gate.sign_in("qa.sato", PASSWORD, source="test")
    gate.store = None  # type: ignore[assignment]  # the first pages do not ask the store again
    now[0] = 29.0
    recent = gate.recent_user(session.token)
    assert recent is not None and recent.username == "qa.sato" and recent.roles == ("qa",)
    assert gate.user(session.token, source="test") == recent
    now[0] = 31.0
    assert gate.recent_user(session.token) is None  # past the interval: ask the store
    assert gate.recent_user("not-a-token") is None
