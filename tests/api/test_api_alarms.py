"""Acknowledging monitoring alarms through the API: stored, audited, refused per role."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from saisei_plant import USERS, Plant

Auth = Callable[[str], dict[str, str]]

#: who watches the running batch acknowledges its alarms (saisei.quality.permissions)
MAY_ACKNOWLEDGE = {"op.mori", "qa.sato", "ps.kimura"}


def _alarms(client: TestClient, headers: dict[str, str], lot: str) -> list[dict[str, object]]:
    response = client.get(f"/api/v1/monitoring/alarms?lot={lot}", headers=headers)
    assert response.status_code == 200
    items: list[dict[str, object]] = response.json()["items"]
    return items


def test_an_alarm_is_acknowledged_once_with_a_comment_and_audited(
    client: TestClient, auth: Auth, plant: Plant
) -> None:
    headers = auth("op.mori")
    alarms = _alarms(client, headers, plant.lot)
    assert alarms and all(a["acknowledged"] is False for a in alarms)
    assert all(a["acknowledged_by"] is None for a in alarms)
    target = alarms[0]["id"]
    url = f"/api/v1/monitoring/alarms/{target}/acknowledge"

    done = client.post(url, json={"comment": "  DO probe recalibrated  "}, headers=headers)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["id"] == target and body["lot"] == plant.lot
    assert body["acknowledged"] is True and body["acknowledged_by"] == "op.mori"
    assert body["acknowledgement_comment"] == "DO probe recalibrated"
    assert body["acknowledged_at"] is not None

    listed = {a["id"]: a for a in _alarms(client, headers, plant.lot)}
    assert listed[target]["acknowledged"] is True
    assert [a for a in listed.values() if a["acknowledged"]] == [listed[target]]

    events = client.get(
        f"/api/v1/audit?entity_type=monitoring_alarm&entity_id={target}", headers=headers
    ).json()["items"]
    update = [e for e in events if e["tag"].endswith("monitoring_alarm:update")]
    assert len(update) == 1
    assert update[0]["actor"] == "op.mori" and update[0]["reason"] == "DO probe recalibrated"
    assert json.loads(update[0]["new_values"])["acknowledged_by"] == "op.mori"

    again = client.post(url, json={"comment": "seen"}, headers=auth("qa.sato"))
    assert again.status_code == 409
    assert again.json()["ok"] is False
    assert "already acknowledged by op.mori" in again.json()["error"]


def test_bad_acknowledgements_get_the_error_shape(
    client: TestClient, auth: Auth, plant: Plant
) -> None:
    headers = auth("qa.sato")
    target = _alarms(client, headers, plant.lot)[0]["id"]
    url = f"/api/v1/monitoring/alarms/{target}/acknowledge"
    blank = client.post(url, json={"comment": "   "}, headers=headers)
    assert blank.status_code == 422 and "needs a comment" in blank.json()["error"]
    missing = client.post(url, json={}, headers=headers)
    assert missing.status_code == 422 and missing.json()["ok"] is False
    unknown = client.post(
        "/api/v1/monitoring/alarms/999999/acknowledge", json={"comment": "x"}, headers=headers
    )
    assert unknown.status_code == 404
    assert "No monitoring alarm with id 999999" in unknown.json()["error"]
    assert all(a["acknowledged"] is False for a in _alarms(client, headers, plant.lot))


@pytest.mark.parametrize("username", sorted(USERS))
def test_acknowledgement_is_refused_per_role(
    client: TestClient, auth: Auth, plant: Plant, username: str
) -> None:
    headers = auth(username)
    target = _alarms(client, headers, plant.lot)[0]["id"]
    response = client.post(
        f"/api/v1/monitoring/alarms/{target}/acknowledge",
        json={"comment": "trend seen, batch continues"},
        headers=headers,
    )
    if username in MAY_ACKNOWLEDGE:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 403, response.text
        assert "monitoring.acknowledge" in response.json()["error"]


def test_several_alarms_are_acknowledged_together_all_or_none(
    client: TestClient, auth: Auth, plant: Plant
) -> None:
    headers = auth("op.mori")
    alarms = _alarms(client, headers, plant.lot)
    assert len(alarms) >= 3, "the plant's lot has several alarms (tests/api/saisei_plant.py)"
    first, second, third = (int(str(a["id"])) for a in alarms[:3])
    url = "/api/v1/monitoring/alarms/acknowledge"

    done = client.post(
        url, json={"comment": "excursion: jacket valve", "alarms": [first, second]}, headers=headers
    )
    assert done.status_code == 200, done.text
    items = done.json()["items"]
    assert sorted(i["id"] for i in items) == sorted([first, second])
    assert [i["t_h"] for i in items] == sorted(i["t_h"] for i in items), "by time in the batch"
    assert all(i["acknowledged_by"] == "op.mori" for i in items)
    for alarm in (first, second):
        events = client.get(
            f"/api/v1/audit?entity_type=monitoring_alarm&entity_id={alarm}", headers=headers
        ).json()["items"]
        assert [e["reason"] for e in events if e["tag"].endswith(":update")] == [
            "excursion: jacket valve"
        ]

    # One of them already acknowledged: refused, naming it, and the third stays open.
    mixed = client.post(url, json={"comment": "x", "alarms": [third, first]}, headers=headers)
    assert mixed.status_code == 409
    assert f"Alarm {first} was already acknowledged by op.mori" in mixed.json()["error"]
    assert "Nothing was acknowledged" in mixed.json()["error"]
    unknown = client.post(url, json={"comment": "x", "alarms": [third, 999999]}, headers=headers)
    assert unknown.status_code == 404 and "999999" in unknown.json()["error"]
    both = client.post(
        url, json={"comment": "x", "alarms": [third], "lot": plant.lot}, headers=headers
    )
    assert both.status_code == 422 and "not both" in both.json()["error"]
    neither = client.post(url, json={"comment": "x"}, headers=headers)
    assert neither.status_code == 422
    listed = {a["id"]: a["acknowledged"] for a in _alarms(client, headers, plant.lot)}
    assert listed[third] is False and sum(listed.values()) == 2

    # Every open alarm of the lot, then nothing is left to acknowledge.
    rest = client.post(url, json={"comment": "batch reviewed", "lot": plant.lot}, headers=headers)
    assert rest.status_code == 200, rest.text
    assert len(rest.json()["items"]) == len(alarms) - 2
    assert all(a["acknowledged"] for a in _alarms(client, headers, plant.lot))
    again = client.post(url, json={"comment": "x", "lot": plant.lot}, headers=headers)
    assert again.status_code == 404 and "no alarm waiting" in again.json()["error"]


def test_acknowledging_alarms_together_is_refused_per_role(
    client: TestClient, auth: Auth, plant: Plant
) -> None:
    refused = client.post(
        "/api/v1/monitoring/alarms/acknowledge",
        json={"comment": "seen", "lot": plant.lot},
        headers=auth("view.abe"),
    )
    assert refused.status_code == 403 and "monitoring.acknowledge" in refused.json()["error"]
    headers = auth("op.mori")
    assert all(a["acknowledged"] is False for a in _alarms(client, headers, plant.lot))
