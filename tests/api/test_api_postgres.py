"""The API over PostgreSQL (the production database): sign in, read, release a lot."""

from __future__ import annotations

from pathlib import Path

import pytest
from saisei_plant import PASSWORD, Plant, build_plant, login, make_client

from saisei.storage.store import Store


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_release_flow_on_postgresql(store: Store, tmp_path: Path) -> None:
    plant: Plant = build_plant(store)
    client = make_client(store, tmp_path)
    analyst, qa = login(client, "qc.ito"), login(client, "qa.sato")
    page = client.get("/api/v1/batches?limit=3", headers=qa).json()
    assert page["total"] == 7 and len(page["items"]) == 3
    monitoring = client.get(f"/api/v1/batches/{plant.lot}/monitoring", headers=qa).json()
    assert any(monitoring["points"]["alarm"])
    for body in (
        {"attribute": "viability", "value": 92.5, "unit": "%"},
        {"attribute": "CD73", "value": 97.1, "unit": "%"},
        {"attribute": "sterility", "value_text": "No growth"},
    ):
        assert (
            client.post(f"/api/v1/batches/{plant.lot}/qc", json=body, headers=analyst).status_code
            == 201
        )
    sign = {"password": PASSWORD, "username": "qa.sato"}
    assert (
        client.post(f"/api/v1/batches/{plant.lot}/review", json=sign, headers=qa).status_code == 201
    )
    released = client.post(f"/api/v1/batches/{plant.lot}/release", json=sign, headers=qa)
    assert released.status_code == 200 and released.json()["status"] == "released"
