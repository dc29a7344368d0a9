"""Shipments, custody, monitoring, SPC, comparability, audit and users through the API."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from saisei_plant import COI, DIN, PASSWORD, USERS, Plant

Auth = Callable[[str], dict[str, str]]


def test_shipment_excursion_is_acknowledged(client: TestClient, plant: Plant, auth: Auth) -> None:
    qa = auth("qa.sato")
    listed = client.get("/api/v1/shipments?status=quarantined", headers=qa).json()
    assert [(s["code"], s["unacknowledged"]) for s in listed["items"]] == [(plant.shipment, 1)]
    detail = client.get(f"/api/v1/shipments/{plant.shipment}?max_points=10", headers=qa).json()
    (series,) = detail["series"]
    assert series["variable"] == "temperature" and series["n_points"] == 12
    assert len(series["value"]) == 10 and max(series["value"]) == 9.0
    (excursion,) = detail["evaluation"]["excursions"]
    # three 5-minute intervals above 8 C = 0.25 h (logger convention, tests/custody)
    assert excursion["duration_h"] == pytest.approx(0.25)
    url = f"/api/v1/shipments/{plant.shipment}/excursions/1/acknowledge"
    blank = client.post(url, json={"comment": "   "}, headers=qa)
    assert blank.status_code == 422 and "requires a comment" in blank.json()["error"]
    done = client.post(url, json={"comment": "door opened at hub, 15 min"}, headers=qa).json()
    assert done["status"] == "accepted" and done["evaluation"]["excursions"][0]["acknowledged"]
    again = client.post(url, json={"comment": "again"}, headers=qa)
    assert again.status_code == 409 and "already acknowledged by qa.sato" in again.json()["error"]
    missing = client.post(
        f"/api/v1/shipments/{plant.shipment}/excursions/2/acknowledge",
        json={"comment": "x"},
        headers=qa,
    )
    assert missing.status_code == 422
    evaluated = client.post(f"/api/v1/shipments/{plant.shipment}/evaluate", headers=qa).json()
    assert evaluated["decision"] == "accept"  # the acknowledgement carries over
    unknown = client.get("/api/v1/shipments/NOPE", headers=qa)
    assert unknown.status_code == 404


def test_custody_chain_parties_and_verification(
    client: TestClient, plant: Plant, auth: Auth
) -> None:
    headers = auth("view.abe")
    chain = client.get(f"/api/v1/custody/chains/{DIN}", headers=headers).json()
    assert chain["coi"] == COI and chain["dins"] == [DIN]
    assert [s["code"] for s in chain["shipments"]] == [plant.shipment]
    parties = client.get("/api/v1/custody/parties", headers=headers).json()["items"]
    assert [p["code"] for p in parties] == ["HOSP", "MFG"]
    assert client.get("/api/v1/custody/verify", headers=headers).json()["ok"] is True
    bad = client.get("/api/v1/custody/chains/XYZ", headers=headers)
    assert bad.status_code == 422


def test_monitoring_models_build_and_score(client: TestClient, plant: Plant, auth: Auth) -> None:
    headers = auth("ps.kimura")
    models = client.get("/api/v1/monitoring/models", headers=headers).json()["items"]
    assert [(m["name"], m["version"]) for m in models] == [(plant.model, 1)]
    built = client.post(
        "/api/v1/monitoring/models",
        json={
            "name": plant.model,
            "product": "MSC",
            "stage": plant.stage,
            "lots": list(plant.reference_lots),
            "n_components": 2,
        },
        headers=headers,
    )
    assert built.status_code == 201 and built.json()["version"] == 2
    scored = client.post(
        "/api/v1/monitoring/score",
        json={"lot": plant.lot, "model": plant.model, "version": 1},
        headers=headers,
    ).json()
    assert scored["new_alarms"] == 0 and scored["alarms"]  # stored once, at setup
    few = client.post(
        "/api/v1/monitoring/models",
        json={"name": "x", "product": "MSC", "stage": plant.stage, "lots": ["MSC-R01"]},
        headers=headers,
    )
    assert few.status_code == 422 and "at least 5 reference lots" in few.json()["error"]


def test_spc_chart_and_capability(client: TestClient, plant: Plant, auth: Auth) -> None:
    analyst = auth("qc.ito")
    values = [91.0, 92.5, 90.8, 93.1, 92.0, 91.7, 75.0]
    for lot, value in zip((*plant.reference_lots, plant.lot), values, strict=True):
        entered = client.post(
            f"/api/v1/batches/{lot}/qc",
            json={"attribute": "viability", "value": value, "unit": "%"},
            headers=analyst,
        )
        assert entered.status_code == 201, entered.text
    response = client.get("/api/v1/spc/chart?name=viability&chart=imr", headers=analyst)
    assert response.status_code == 200, response.text
    chart = response.json()
    assert (
        chart["chart"] == "imr"
        and len([p for p in chart["points"] if p["series"] == chart["limits"][0]["series"]]) == 7
    )
    # 75 % lies far below the others: the last lot is beyond the lower limit
    assert any(plant.lot in v["lots"] for v in chart["violations"])
    capability = client.get("/api/v1/spc/capability?name=viability", headers=analyst).json()
    assert capability["lsl"] == 70.0 and capability["limits_source"] == "specification"
    missing = client.get("/api/v1/spc/chart?name=nothing", headers=analyst)
    assert missing.status_code == 404
    bad = client.get("/api/v1/spc/chart?name=viability&chart=pie", headers=analyst)
    assert bad.status_code == 422


def test_comparability_studies(client: TestClient, auth: Auth) -> None:
    headers = auth("ps.kimura")
    assert client.get("/api/v1/comparability/studies", headers=headers).json() == {"items": []}
    assert client.get("/api/v1/comparability/studies/CS-1", headers=headers).status_code == 404
    result = client.get("/api/v1/comparability/studies/CS-1/result", headers=headers)
    assert result.status_code == 404


def test_audit_trail_and_integrity(client: TestClient, plant: Plant, auth: Auth) -> None:
    headers = auth("qa.sato")
    events = client.get("/api/v1/audit?limit=5", headers=headers).json()
    assert len(events["items"]) == 5
    seqs = [e["seq"] for e in events["items"]]
    assert seqs == sorted(seqs)
    alarms = client.get(
        "/api/v1/audit?entity_type=monitoring_alarm&limit=1000", headers=headers
    ).json()["items"]
    assert alarms and all(e["tag"] == "monitoring:monitoring_alarm:create" for e in alarms)
    verified = client.get("/api/v1/audit/verify", headers=headers).json()
    assert verified["ok"] is True


def test_users_are_managed_by_administrators(client: TestClient, auth: Auth) -> None:
    admin = auth("admin.kato")
    listed = client.get("/api/v1/users", headers=admin).json()["items"]
    assert {u["username"] for u in listed} == set(USERS)
    assert all("password_hash" not in u for u in listed)
    created = client.post(
        "/api/v1/users",
        json={
            "username": "qc.ueda",
            "full_name": "Sho Ueda",
            "password": "qc-pass-0003",
            "roles": ["qc_analyst"],
        },
        headers=admin,
    )
    assert created.status_code == 201 and created.json()["roles"] == ["qc_analyst"]
    granted = client.post(
        "/api/v1/users/qc.ueda/roles",
        json={"role": "operator", "reason": "cover night shift"},
        headers=admin,
    )
    assert granted.json()["roles"] == ["operator", "qc_analyst"]
    revoked = client.post(
        "/api/v1/users/qc.ueda/roles/operator/revoke", json={"reason": "shift over"}, headers=admin
    )
    assert revoked.json()["roles"] == ["qc_analyst"]
    reset = client.post(
        "/api/v1/users/qc.ueda/password",
        json={"new_password": "new-pass-0004", "reason": "forgotten"},
        headers=admin,
    )
    assert reset.status_code == 200
    unlocked = client.post(
        "/api/v1/users/qc.ueda/unlock", json={"reason": "checked"}, headers=admin
    )
    assert unlocked.json()["locked"] is False
    gone = client.post("/api/v1/users/qc.ueda/deactivate", json={"reason": "left"}, headers=admin)
    assert gone.json()["active"] is False
    login = client.post(
        "/api/v1/auth/login", json={"username": "qc.ueda", "password": "new-pass-0004"}
    )
    assert login.status_code == 401 and "is deactivated" in login.json()["error"]


@pytest.mark.parametrize("username", sorted(set(USERS) - {"admin.kato"}))
def test_only_administrators_manage_users(client: TestClient, auth: Auth, username: str) -> None:
    headers = auth(username)
    calls = [
        (
            "/api/v1/users",
            {"username": "x.y", "full_name": "X Y", "password": PASSWORD, "roles": ["viewer"]},
        ),
        ("/api/v1/users/view.abe/roles", {"role": "qa", "reason": "r"}),
        ("/api/v1/users/view.abe/roles/viewer/revoke", {"reason": "r"}),
        ("/api/v1/users/view.abe/deactivate", {"reason": "r"}),
        ("/api/v1/users/view.abe/unlock", {"reason": "r"}),
        ("/api/v1/users/view.abe/password", {"new_password": "another-pass-9", "reason": "r"}),
    ]
    for url, body in calls:
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == 403, (url, response.text)
        assert "users.manage" in response.json()["error"]
