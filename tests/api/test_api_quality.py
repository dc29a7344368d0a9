"""QC, deviations, signatures, audit-trail review and release through the API, with the
services' refusals for each role."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from saisei_plant import PASSWORD, USERS, Plant

Auth = Callable[[str], dict[str, str]]


def enter_release_results(client: TestClient, headers: dict[str, str], lot: str) -> list[int]:
    """Viability, CD73 and sterility in specification; the result ids."""
    ids = []
    for body in (
        {"attribute": "viability", "value": 92.5, "unit": "%"},
        {"attribute": "CD73", "value": 97.1, "unit": "%"},
        {"attribute": "sterility", "value_text": "No growth"},
    ):
        response = client.post(f"/api/v1/batches/{lot}/qc", json=body, headers=headers)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def test_qc_entry_evaluates_against_the_specification(
    client: TestClient, plant: Plant, auth: Auth
) -> None:
    analyst = auth("qc.ito")
    url = f"/api/v1/batches/{plant.lot}/qc"
    passed = client.post(
        url, json={"attribute": "viability", "value": 92.5, "unit": "%"}, headers=analyst
    ).json()
    assert passed["outcome"] == "pass" and passed["deviation"] is None
    # 65 % is below the 70 % release limit: OOS, and a deviation is opened
    oos = client.post(
        url, json={"attribute": "CD73", "value": 65.0, "unit": "%"}, headers=analyst
    ).json()
    assert oos["outcome"] == "oos" and oos["deviation"].startswith("DEV-")
    listed = client.get(url, headers=analyst).json()["items"]
    assert [(r["attribute"], r["outcome"]) for r in listed] == [
        ("viability", "pass"),
        ("CD73", "oos"),
    ]
    invalid = client.post(
        f"/api/v1/qc/{oos['id']}/invalidate",
        json={"reason": "pipette error"},
        headers=auth("qa.sato"),
    )
    assert invalid.status_code == 200 and invalid.json()["status"] == "invalidated"


@pytest.mark.parametrize("username", sorted(set(USERS) - {"qc.ito"}))
def test_only_qc_analysts_enter_results(
    client: TestClient, plant: Plant, auth: Auth, username: str
) -> None:
    response = client.post(
        f"/api/v1/batches/{plant.lot}/qc",
        json={"attribute": "viability", "value": 90.0, "unit": "%"},
        headers=auth(username),
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert f"User {username!r}" in response.json()["error"]
    assert "may not run specs.enter_qc_result" in response.json()["error"]


def test_deviation_life_cycle_with_a_qa_signature(
    client: TestClient, plant: Plant, auth: Auth
) -> None:
    qa = auth("qa.sato")
    opened = client.post(
        "/api/v1/deviations",
        json={
            "description": "incubator door left open 5 min",
            "category": "process",
            "severity": "minor",
            "lot": plant.lot,
        },
        headers=auth("op.mori"),
    )
    assert opened.status_code == 201
    number = opened.json()["number"]
    assert opened.json()["status"] == "open" and opened.json()["recorded_by"] == "op.mori"
    refused = client.post(
        f"/api/v1/deviations/{number}/classify",
        json={"severity": "major", "reason": "x"},
        headers=auth("op.mori"),
    )
    assert refused.status_code == 403
    classified = client.post(
        f"/api/v1/deviations/{number}/classify",
        json={"severity": "major", "reason": "door open > 2 min"},
        headers=qa,
    )
    assert classified.json()["severity"] == "major"
    investigated = client.post(
        f"/api/v1/deviations/{number}/investigation",
        json={"root_cause": "door latch worn"},
        headers=auth("qc.ito"),
    )
    assert investigated.json()["status"] == "investigation"
    early = client.post(
        f"/api/v1/deviations/{number}/close",
        json={"password": PASSWORD, "username": "qa.sato"},
        headers=qa,
    )
    assert early.status_code == 409
    assert "record its CAPA" in early.json()["error"]
    capa = client.post(
        f"/api/v1/deviations/{number}/capa",
        json={"capa": "latch replaced; weekly check"},
        headers=auth("ps.kimura"),
    )
    assert capa.json()["status"] == "capa"
    # the first signing of a session needs the user id too (21 CFR 11.200(a)(1))
    no_id = client.post(
        f"/api/v1/deviations/{number}/close", json={"password": PASSWORD}, headers=qa
    )
    assert no_id.status_code == 428 and no_id.json()["code"] == "signature_required"
    closed = client.post(
        f"/api/v1/deviations/{number}/close",
        json={"password": PASSWORD, "username": "qa.sato", "conclusion": "no impact"},
        headers=qa,
    ).json()
    assert closed["status"] == "closed"
    (signature,) = closed["signatures"]
    assert (signature["printed_name"], signature["meaning"], signature["valid"]) == (
        "Aiko Sato",
        "approval",
        True,
    )
    shown = client.get(f"/api/v1/deviations/{number}", headers=qa).json()
    assert shown["capa"] == "latch replaced; weekly check"
    listed = client.get(f"/api/v1/deviations?lot={plant.lot}&status=closed", headers=qa).json()
    assert [d["number"] for d in listed["items"]] == [number]
    bad = client.get("/api/v1/deviations?status=shut", headers=qa)
    assert bad.status_code == 422 and "The status filter must be one of" in bad.json()["error"]


def test_signatures_of_records(client: TestClient, plant: Plant, auth: Auth) -> None:
    analyst = auth("qc.ito")
    (result_id, *_) = enter_release_results(client, analyst, plant.lot)
    body = {
        "record_type": "qc_result",
        "record_id": str(result_id),
        "meaning": "authorship",
        "password": PASSWORD,
        "username": "qc.ito",
    }
    signed = client.post("/api/v1/signatures", json=body, headers=analyst)
    assert signed.status_code == 201 and signed.json()["printed_name"] == "Ken Ito"
    listed = client.get(
        f"/api/v1/signatures?record_type=qc_result&record_id={result_id}", headers=analyst
    ).json()["items"]
    assert [(s["signer"], s["meaning"], s["valid"]) for s in listed] == [
        ("qc.ito", "authorship", True)
    ]
    viewer = auth("view.abe")
    denied = client.post(
        "/api/v1/signatures", json={**body, "username": "view.abe"}, headers=viewer
    )
    assert denied.status_code == 403 and "records.sign" in denied.json()["error"]
    wrong = client.post(
        "/api/v1/signatures", json={**body, "password": "nope-nope-1"}, headers=analyst
    )
    assert wrong.status_code == 401
    release = client.post(
        "/api/v1/signatures", json={**body, "meaning": "release"}, headers=analyst
    )
    assert release.status_code == 422
    assert "used only by batch release" in release.json()["error"]


def test_review_and_release_with_a_signature(client: TestClient, plant: Plant, auth: Auth) -> None:
    qa = auth("qa.sato")
    blocked = client.get(f"/api/v1/batches/{plant.lot}/release", headers=qa).json()
    assert blocked["ready"] is False
    names = {p["name"]: p["ok"] for p in blocked["prerequisites"]}
    assert names["QC results"] is False and names["audit-trail review"] is False
    enter_release_results(client, auth("qc.ito"), plant.lot)
    refused = client.post(
        f"/api/v1/batches/{plant.lot}/release",
        json={"password": PASSWORD, "username": "qa.sato"},
        headers=qa,
    )
    assert refused.status_code == 409 and refused.json()["code"] == "release_blocked"
    assert "no audit-trail review is recorded" in refused.json()["error"]
    trail = client.get(f"/api/v1/batches/{plant.lot}/audit-trail", headers=qa).json()["items"]
    assert sum(e["tag"] == "api:qc_result:create" for e in trail) == 3
    reviewed = client.post(
        f"/api/v1/batches/{plant.lot}/review",
        json={"password": PASSWORD, "username": "qa.sato", "comment": "complete"},
        headers=qa,
    )
    assert reviewed.status_code == 201 and reviewed.json()["current"] is True
    # inside the session, after its first signing, the password alone suffices
    released = client.post(
        f"/api/v1/batches/{plant.lot}/release", json={"password": PASSWORD}, headers=qa
    )
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "released"
    disposition = client.get(f"/api/v1/batches/{plant.lot}/disposition", headers=qa).json()
    (signature,) = disposition["signatures"]
    assert (signature["meaning"], signature["signer"], signature["valid"]) == (
        "release",
        "qa.sato",
        True,
    )


@pytest.mark.parametrize("username", sorted(set(USERS) - {"qa.sato"}))
def test_only_qa_reviews_releases_and_rejects(
    client: TestClient, plant: Plant, auth: Auth, username: str
) -> None:
    headers = auth(username)
    sign = {"password": PASSWORD, "username": username}
    for action, extra in (("review", {}), ("release", {}), ("reject", {"reason": "failed QC"})):
        response = client.post(
            f"/api/v1/batches/{plant.lot}/{action}", json={**sign, **extra}, headers=headers
        )
        assert response.status_code == 403, (action, response.text)
        assert response.json()["code"] == "permission_denied"


def test_rejection_needs_a_current_review(client: TestClient, plant: Plant, auth: Auth) -> None:
    qa = auth("qa.sato")
    sign = {"password": PASSWORD, "username": "qa.sato"}
    early = client.post(
        f"/api/v1/batches/{plant.lot}/reject", json={**sign, "reason": "viability OOS"}, headers=qa
    )
    assert early.status_code == 409 and "cannot be rejected" in early.json()["error"]
    client.post(f"/api/v1/batches/{plant.lot}/review", json=sign, headers=qa)
    rejected = client.post(
        f"/api/v1/batches/{plant.lot}/reject",
        json={"password": PASSWORD, "reason": "viability OOS"},
        headers=qa,
    )
    assert rejected.json()["status"] == "rejected"
