"""Permission matrix, process definitions, drivers and design spaces through the API, and the
refusals of shipment receipt and monitoring per role."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from saisei_plant import PASSWORD, USERS, Plant

Auth = Callable[[str], dict[str, str]]


def test_permission_matrix(client: TestClient, auth: Auth) -> None:
    matrix = client.get("/api/v1/roles", headers=auth("view.abe")).json()
    assert set(matrix["roles"]) == {
        "admin",
        "qa",
        "qc_analyst",
        "operator",
        "process_scientist",
        "viewer",
        "collection_site_user",
        "intermediary_user",
    }
    assert matrix["matrix"]["viewer"] == []
    assert "shipments.acknowledge" in matrix["matrix"]["qa"]
    assert "shipments.acknowledge" not in matrix["matrix"]["operator"]
    assert matrix["operations"]["monitoring.score_lot"] == "monitoring.score"
    assert client.get("/api/v1/roles").status_code == 401


def test_process_definitions(client: TestClient, auth: Auth) -> None:
    (process,) = client.get("/api/v1/processes", headers=auth("op.mori")).json()["items"]
    assert (process["name"], process["version"], process["product_type"]) == (
        "MSC-BM",
        "2.1",
        "MSC",
    )
    specs = {a["name"]: a.get("specifications") for a in process["attributes"]}
    # the plant's release specification: viability >= 70 % (domain.md)
    assert specs["viability"] == [{"purpose": "release", "lower": 70.0}]


def test_drivers_and_design_spaces_refuse_what_is_not_there(client: TestClient, auth: Auth) -> None:
    headers = auth("ps.kimura")
    # the plant has no QC result: no attribute can be analysed
    drivers = client.get("/api/v1/drivers?attribute=viability", headers=headers)
    assert drivers.status_code == 422 and "not a QC attribute" in drivers.json()["error"]
    assert client.get("/api/v1/drivers", headers=headers).status_code == 422
    assert client.get("/api/v1/design-spaces", headers=headers).json() == {"items": []}
    missing = client.get("/api/v1/design-spaces/msc-ds/map", headers=headers)
    assert missing.status_code == 404 and "No design space 'msc-ds'" in missing.json()["error"]
    points = client.get("/api/v1/design-spaces/msc-ds/map?points=200", headers=headers)
    assert points.status_code == 422


def test_the_system_user_id_is_reserved(client: TestClient, auth: Auth) -> None:
    response = client.post(
        "/api/v1/users",
        json={"username": "system", "full_name": "S", "password": PASSWORD, "roles": ["qa"]},
        headers=auth("admin.kato"),
    )
    assert response.status_code == 422 and "is reserved" in response.json()["error"]


#: role of each plant user -> may it (evaluate, acknowledge, build, score)?
ALLOWED = {
    "qa.sato": (True, True, False, True),
    "qc.ito": (False, False, False, False),
    "op.mori": (True, False, False, True),
    "ps.kimura": (False, False, True, True),
    "view.abe": (False, False, False, False),
    "admin.kato": (False, False, True, False),
}


@pytest.mark.parametrize("username", sorted(USERS))
def test_receipt_and_monitoring_are_refused_per_role(
    client: TestClient, auth: Auth, plant: Plant, username: str
) -> None:
    headers = auth(username)
    calls = [
        ("shipments.evaluate", f"/api/v1/shipments/{plant.shipment}/evaluate", None),
        (
            "shipments.acknowledge",
            f"/api/v1/shipments/{plant.shipment}/excursions/1/acknowledge",
            {"comment": "door opened at hub"},
        ),
        (
            "monitoring.build",
            "/api/v1/monitoring/models",
            {"name": "m", "product": "MSC", "stage": plant.stage, "lots": ["MSC-R01"]},
        ),
        ("monitoring.score", "/api/v1/monitoring/score", {"lot": plant.lot, "model": plant.model}),
    ]
    for (permission, url, body), allowed in zip(calls, ALLOWED[username], strict=True):
        response = client.post(url, json=body, headers=headers)
        if allowed:
            # permitted: the call goes on (a build on one lot stops at the lot count)
            assert response.status_code in (200, 201, 422), (url, response.text)
            assert "may not run" not in response.text
        else:
            assert response.status_code == 403, (url, response.text)
            assert permission in response.json()["error"]
    # reading stays open to every role
    assert client.get(f"/api/v1/shipments/{plant.shipment}", headers=headers).status_code == 200
    assert client.get("/api/v1/monitoring/alarms", headers=headers).status_code == 200


def test_the_store_revision_follows_every_change(client: TestClient, auth: Auth) -> None:
    from saisei.services.audit import store_revision

    store = client.app.state.store  # type: ignore[attr-defined]
    before = store_revision(store)
    assert before > 0  # the plant's changes are audited
    assert store_revision(store) == before  # reading changes nothing
    headers = auth("qc.ito")  # sign-in bookkeeping is audited but changes no data
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert store_revision(store) == before
    entered = client.post(
        "/api/v1/batches/MSC-0001/qc",
        json={"attribute": "viability", "value": 91.0, "unit": "%"},
        headers=headers,
    )
    assert entered.status_code == 201
    assert store_revision(store) > before
