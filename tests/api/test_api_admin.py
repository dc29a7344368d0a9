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


#: A process definition in the exchange format of docs/exchange-format.md (process/*.yaml).
PROCESS_YAML = b"""
name: MSC-BM
version: "2.2"
product_type: MSC
description: expansion at 5 % O2
stages:
  - name: expansion
    parameters:
      - {name: temperature, unit: degC, class: CPP, target: 37.0, nor: [36.5, 37.5]}
attributes:
  - name: viability
    unit: "%"
    specifications:
      - {purpose: release, lower: 70.0}
"""


def _upload(client: TestClient, headers: dict[str, str], content: bytes, name: str) -> object:
    return client.post(
        "/api/v1/processes",
        files={"file": (name, content, "application/yaml")},
        data={"reason": "process change PC-12"},
        headers=headers,
    )


def test_a_process_definition_is_imported_once(client: TestClient, auth: Auth) -> None:
    headers = auth("ps.kimura")
    first = _upload(client, headers, PROCESS_YAML, "MSC-BM-2.2.yaml")
    assert first.status_code == 201, first.text  # type: ignore[attr-defined]
    assert first.json() == {"name": "MSC-BM", "version": "2.2", "created": True}  # type: ignore[attr-defined]
    listed = client.get("/api/v1/processes", headers=headers).json()["items"]
    assert [(p["name"], p["version"]) for p in listed] == [("MSC-BM", "2.1"), ("MSC-BM", "2.2")]
    (new,) = [p for p in listed if p["version"] == "2.2"]
    assert new["stages"][0]["parameters"][0]["nor"] == [36.5, 37.5]
    again = _upload(client, headers, PROCESS_YAML, "MSC-BM-2.2.yaml")
    assert again.json()["created"] is False  # type: ignore[attr-defined]
    # a stored version never changes: other content under 2.2 is refused
    changed = PROCESS_YAML.replace(b"lower: 70.0", b"lower: 80.0")
    refused = _upload(client, headers, changed, "MSC-BM-2.2.yaml")
    assert refused.status_code == 409  # type: ignore[attr-defined]
    assert "already stored with different content" in refused.json()["error"]  # type: ignore[attr-defined]
    audit = client.get("/api/v1/audit?entity_type=process_definition", headers=auth("qa.sato"))
    assert audit.status_code == 200


def test_a_bad_process_definition_names_the_file_and_field(client: TestClient, auth: Auth) -> None:
    bad = PROCESS_YAML.replace(b"class: CPP", b"class: critical")
    response = _upload(client, auth("admin.kato"), bad, "MSC-BM-2.2.yaml")
    assert response.status_code == 422  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert "MSC-BM-2.2.yaml was refused" in body["error"]
    assert "field 'stages.expansion.temperature.class'" in body["error"]
    assert body["errors"] == [
        {
            "file": "MSC-BM-2.2.yaml",
            "row": None,
            "field": "stages.expansion.temperature.class",
            "value": "critical",
            "message": "must be one of CPP, KPP, non-critical",
        }
    ]
    missing = _upload(client, auth("admin.kato"), b"name: X\nversion: '1'\n", "x.yaml")
    fields = [(e["field"], e["message"]) for e in missing.json()["errors"]]  # type: ignore[attr-defined]
    assert fields == [
        ("product_type", "required key 'product_type' is missing"),
        ("stages", "required key 'stages' is missing"),
    ]
    binary = _upload(client, auth("admin.kato"), b"\xff\xfe name", "x.yaml")
    assert binary.status_code == 422 and "is not UTF-8 text" in binary.json()["error"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("username", sorted(USERS))
def test_process_import_is_refused_per_role(client: TestClient, auth: Auth, username: str) -> None:
    response = _upload(client, auth(username), PROCESS_YAML, "MSC-BM-2.2.yaml")
    # administrators and process scientists keep the process definitions
    if username in ("admin.kato", "ps.kimura"):
        assert response.status_code == 201, response.text  # type: ignore[attr-defined]
    else:
        assert response.status_code == 403  # type: ignore[attr-defined]
        assert "processes.import" in response.json()["error"]  # type: ignore[attr-defined]
