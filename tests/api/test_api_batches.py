"""Batches, time series (LTTB on the server), monitoring view, dashboard, alarms."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from saisei_plant import Plant

Auth = Callable[[str], dict[str, str]]


def test_batch_list_filters_and_pages(client: TestClient, plant: Plant, auth: Auth) -> None:
    headers = auth("view.abe")
    page = client.get("/api/v1/batches?limit=2&offset=1", headers=headers).json()
    assert page["total"] == 7 and page["limit"] == 2 and page["offset"] == 1
    # newest first: the quarantined lot was created last, then R06, R05
    assert [b["lot_number"] for b in page["items"]] == ["MSC-R06", "MSC-R05"]
    held = client.get("/api/v1/batches?status=quarantine", headers=headers).json()
    assert [b["lot_number"] for b in held["items"]] == [plant.lot] and held["total"] == 1
    none = client.get("/api/v1/batches?product=AAV", headers=headers).json()
    assert none == {"items": [], "total": 0, "limit": 50, "offset": 0}
    bad = client.get("/api/v1/batches?status=lost", headers=headers)
    assert bad.status_code == 422
    assert bad.json()["error"].startswith("The 'status' filter must be one of planned")


def test_batch_detail_and_unknown_lot(client: TestClient, plant: Plant, auth: Auth) -> None:
    headers = auth("view.abe")
    detail = client.get(f"/api/v1/batches/{plant.lot}", headers=headers).json()
    assert detail["status"] == "quarantine" and detail["timeseries_segments"] == 1
    missing = client.get("/api/v1/batches/NOPE-1", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


def test_time_series_are_downsampled_on_the_server(
    client: TestClient, plant: Plant, auth: Auth
) -> None:
    headers = auth("view.abe")
    url = f"/api/v1/batches/{plant.lot}/timeseries?max_points=50&variable=temperature"
    body = client.get(url, headers=headers).json()
    (series,) = body["series"]
    # 48 h every 15 min = 192 stored points; LTTB keeps 50 with the first and last.
    assert series["n_points"] == 192 and len(series["t"]) == 50
    assert series["t"][0] == 0.0 and series["t"][-1] == 47.75
    assert series["unit"] == "degC"
    whole = client.get(f"/api/v1/batches/{plant.lot}/timeseries", headers=headers).json()
    assert whole["stored_points"] == 3 * 192
    assert {s["variable"] for s in whole["series"]} == {"temperature", "pH", "DO"}
    too_few = client.get(f"/api/v1/batches/{plant.lot}/timeseries?max_points=5", headers=headers)
    assert too_few.status_code == 422


def test_monitoring_view_shows_limits_envelope_and_contributions(
    client: TestClient, plant: Plant, auth: Auth
) -> None:
    headers = auth("ps.kimura")
    body = client.get(f"/api/v1/batches/{plant.lot}/monitoring", headers=headers).json()
    assert (body["model"], body["version"], body["stage"]) == (plant.model, 1, "expansion")
    points = body["points"]
    alarmed = [t for t, a in zip(points["t"], points["alarm"], strict=True) if a]
    # the temperature drift starts at 30 h (0.15 C/h); the last hours must be in alarm
    assert {45.0, 46.0, 47.0} <= set(alarmed)
    contributions = body["contributions"]
    assert contributions["alarm"] is True and contributions["t"] >= 30.0
    t2 = dict(zip(contributions["variables"], contributions["t2"], strict=True))
    assert max(t2, key=lambda v: abs(t2[v])) == "temperature"
    envelope = {e["variable"]: e for e in body["envelope"]}
    temperature = envelope["temperature"]
    assert all(
        lo < m < hi
        for lo, m, hi in zip(
            temperature["low"], temperature["mean"], temperature["high"], strict=True
        )
    )
    at = client.get(f"/api/v1/batches/{plant.lot}/monitoring?at_h=2", headers=headers).json()
    assert at["contributions"]["t"] == 2.0


def test_monitoring_of_a_lot_without_a_model(client: TestClient, plant: Plant, auth: Auth) -> None:
    headers = auth("ps.kimura")
    body = client.get(
        f"/api/v1/batches/{plant.lot}/monitoring?model=no-such-model", headers=headers
    )
    assert body.status_code == 404
    assert "No monitoring model called 'no-such-model'" in body.json()["error"]


def test_dashboard_and_alarms(client: TestClient, plant: Plant, auth: Auth) -> None:
    headers = auth("op.mori")
    board = client.get("/api/v1/dashboard", headers=headers).json()
    assert [b["lot_number"] for b in board["awaiting_release"]] == [plant.lot]
    assert board["counts"] == {"quarantine": 1, "completed": 6}
    assert len(board["in_progress"]) == 6
    assert [s["code"] for s in board["shipments"]] == [plant.shipment]
    assert board["alarms"] and all(a["lot"] == plant.lot for a in board["alarms"])
    alarms = client.get(f"/api/v1/monitoring/alarms?lot={plant.lot}", headers=headers).json()
    assert len(alarms["items"]) >= 3
    assert alarms["items"][0]["top_variables"][0] == "temperature"
    other = client.get("/api/v1/monitoring/alarms?lot=MSC-R01", headers=headers).json()
    assert other == {"items": []}


@pytest.mark.parametrize("path", ["/api/v1/health", "/openapi.json"])
def test_public_routes_need_no_token(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 200
