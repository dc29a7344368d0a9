"""Sign-in through the API: tokens, lockout, sign-out, cookie requests and CSRF."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from saisei_plant import PASSWORD, Plant

from saisei.services.sessions import SESSION_COOKIE


def test_login_returns_a_bearer_token_with_the_roles(client: TestClient, plant: Plant) -> None:
    response = client.post("/api/v1/auth/login", json={"username": "qa.sato", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "qa.sato" and body["roles"] == ["qa"]
    assert body["token_type"] == "bearer" and body["session_timeout_min"] == 15
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json() == {"username": "qa.sato", "full_name": "Aiko Sato", "roles": ["qa"]}


def test_wrong_password_counts_towards_lockout(client: TestClient, plant: Plant) -> None:
    bad = {"username": "op.mori", "password": "wrong-password-1"}
    first = client.post("/api/v1/auth/login", json=bad)
    assert first.status_code == 401
    assert first.json() == {
        "ok": False,
        "error": "The user id or password is wrong (4 attempt(s) left before the account is "
        "locked).",
        "errors": [],
        "status": 401,
        "code": "authentication_failed",
    }
    for _ in range(4):
        last = client.post("/api/v1/auth/login", json=bad)
    assert "is now locked after 5 failed attempts" in last.json()["error"]
    good = client.post("/api/v1/auth/login", json={"username": "op.mori", "password": PASSWORD})
    assert good.status_code == 401
    assert "is locked after repeated failed sign-ins" in good.json()["error"]


def test_requests_without_or_with_a_bad_token_are_refused(client: TestClient, plant: Plant) -> None:
    missing = client.get("/api/v1/batches")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["error"].startswith("Sign in first")
    bad = client.get("/api/v1/batches", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401
    assert bad.json()["error"] == "The session has ended or is unknown; sign in again."


def test_logout_ends_the_session(client: TestClient, auth: Callable[[str], dict[str, str]]) -> None:
    headers = auth("view.abe")
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    after = client.get("/api/v1/auth/me", headers=headers)
    assert after.status_code == 401


def test_session_cookie_reads_but_needs_the_csrf_header_to_write(
    client: TestClient, plant: Plant, auth: Callable[[str], dict[str, str]]
) -> None:
    token = auth("op.mori")["Authorization"].removeprefix("Bearer ")
    client.cookies.set(SESSION_COOKIE, token)
    assert client.get("/api/v1/auth/me").json()["username"] == "op.mori"
    refused = client.post(
        "/api/v1/deviations",
        json={"description": "spill", "category": "process", "severity": "minor"},
    )
    assert refused.status_code == 403
    assert "must send the X-CSRF-Token header" in refused.json()["error"]


def test_malformed_body_uses_the_error_shape(client: TestClient, plant: Plant) -> None:
    response = client.post("/api/v1/auth/login", json={"username": "qa.sato"})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "The request is not valid."
    assert body["errors"][0]["field"] == "body.password"
