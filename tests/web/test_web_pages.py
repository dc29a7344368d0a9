"""Pages: sign-in with CSRF, every page renders its data, forms call the services, Japanese."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from saisei_plant import PASSWORD, Plant
from web_helpers import csrf_of

SignIn = Callable[[str], TestClient]


def test_pages_need_a_session(client: TestClient, plant: Plant) -> None:
    response = client.get(f"/batches/{plant.lot}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/batches/{plant.lot}"


def test_login_needs_the_csrf_token_and_the_right_password(
    client: TestClient, plant: Plant
) -> None:
    client.get("/login")
    forged = client.post(
        "/login", data={"username": "qa.sato", "password": PASSWORD, "csrf": "0" * 64}
    )
    assert forged.status_code == 403
    assert "did not come from this site" in forged.text
    form = client.get("/login")
    wrong = client.post(
        "/login",
        data={"username": "qa.sato", "password": "nope-nope-1", "csrf": csrf_of(form.text)},
    )
    assert wrong.status_code == 401
    assert "The user id or password is wrong (4 attempt(s) left" in wrong.text


def test_login_follows_only_local_next(client: TestClient, plant: Plant) -> None:
    form = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": "qa.sato",
            "password": PASSWORD,
            "csrf": csrf_of(form.text),
            "next": "//evil.example/x",
        },
    )
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert "saisei_session" in response.headers["set-cookie"]
    assert "httponly" in response.headers["set-cookie"].lower()


def test_dashboard_lists_what_needs_attention(sign_in: SignIn, plant: Plant) -> None:
    html = sign_in("qa.sato").get("/").text
    assert "Awaiting release decision" in html and f"/batches/{plant.lot}" in html
    assert f"/shipments/{plant.shipment}" in html
    assert "Monitoring alarms" in html and "temperature" in html


def test_batch_list_filters(sign_in: SignIn, plant: Plant) -> None:
    client = sign_in("view.abe")
    html = client.get("/batches?status=quarantine").text
    assert f'href="/batches/{plant.lot}"' in html and "MSC-R01" not in html
    paged = client.get("/batches?limit=2&offset=2").text
    assert "3–4 of 7" in paged and "Next" in paged and "Previous" in paged


def test_batch_page_shows_trajectories_alarms_contributions_and_release(
    sign_in: SignIn, plant: Plant
) -> None:
    html = sign_in("qa.sato").get(f"/batches/{plant.lot}").text
    for section in (
        "custody",
        "trajectories",
        "monitoring",
        "contributions",
        "parameters",
        "materials",
        "qc",
        "deviations",
        "release",
    ):
        assert f'id="{section}"' in html
    assert '<script src="/assets/plotly.min.js"></script>' in html
    assert 'id="traj-0"' in html and 'id="mon-t2"' in html and 'id="contrib-spe"' in html
    assert 'class="alarm-time"' in html
    assert "Not ready for release" in html and 'id="release-form"' in html


def test_figures_are_downsampled_plotly_json(sign_in: SignIn, plant: Plant) -> None:
    import html as html_lib
    import re

    page = sign_in("qa.sato").get(f"/batches/{plant.lot}").text
    raw = re.search(r'id="traj-0" data-figure="([^"]+)"', page)
    assert raw is not None
    figure = json.loads(html_lib.unescape(raw.group(1)))
    lot_trace = figure["data"][-2] if figure["data"][-1]["name"] == "alarm" else figure["data"][-1]
    assert len(lot_trace["x"]) <= 600


def test_review_and_release_through_the_forms(
    sign_in: SignIn, plant: Plant, client: TestClient
) -> None:
    sign_in("qc.ito")
    analyst_token = client.cookies.get("saisei_session")
    assert analyst_token
    # results entered through the API with the analyst's session token
    for body in (
        {"attribute": "viability", "value": 92.5, "unit": "%"},
        {"attribute": "CD73", "value": 97.1, "unit": "%"},
        {"attribute": "sterility", "value_text": "No growth"},
    ):
        client.post(
            f"/api/v1/batches/{plant.lot}/qc",
            json=body,
            headers={"Authorization": f"Bearer {analyst_token}"},
        )
    client.cookies.clear()
    sign_in("qa.sato")
    page = client.get(f"/batches/{plant.lot}").text
    token = csrf_of(page.split('id="review-form"')[1])
    forged = client.post(
        f"/batches/{plant.lot}/review",
        data={"password": PASSWORD, "username": "qa.sato", "csrf": "x"},
    )
    assert forged.status_code == 403
    reviewed = client.post(
        f"/batches/{plant.lot}/review",
        data={"password": PASSWORD, "username": "qa.sato", "csrf": token},
    )
    assert reviewed.status_code == 303
    page = client.get(f"/batches/{plant.lot}").text
    assert "Ready for release" in page
    released = client.post(
        f"/batches/{plant.lot}/release", data={"password": PASSWORD, "csrf": token}
    )
    assert released.status_code == 303
    page = client.get(f"/batches/{plant.lot}").text
    assert "Aiko Sato (qa.sato)" in page and "release" in page
    assert 'id="release-form"' not in page  # no longer in quarantine


def test_a_refused_release_shows_the_service_message(
    sign_in: SignIn, plant: Plant, client: TestClient
) -> None:
    sign_in("op.mori")
    token = csrf_of(client.get(f"/batches/{plant.lot}").text)
    refused = client.post(
        f"/batches/{plant.lot}/release",
        data={"password": PASSWORD, "username": "op.mori", "csrf": token},
    )
    assert refused.status_code == 403
    assert "may not run disposition.release_batch" in refused.text


def test_shipment_page_and_acknowledgement(
    sign_in: SignIn, plant: Plant, client: TestClient
) -> None:
    sign_in("qa.sato")
    page = client.get(f"/shipments/{plant.shipment}").text
    assert 'id="logger-0"' in page and 'id="ack-1"' in page
    token = csrf_of(page.split('id="ack-1"')[1])
    done = client.post(
        f"/shipments/{plant.shipment}/excursions/1/acknowledge",
        data={"comment": "door opened at hub", "csrf": token},
    )
    assert done.status_code == 303
    page = client.get(f"/shipments/{plant.shipment}").text
    assert "Acknowledged" in page and "qa.sato: door opened at hub" in page
    listed = client.get("/shipments?status=accepted").text
    assert f"/shipments/{plant.shipment}" in listed


def test_control_chart_and_audit_pages(sign_in: SignIn, plant: Plant, client: TestClient) -> None:
    sign_in("qc.ito")
    empty = client.get("/spc").text
    assert "Control charts" in empty
    assert '<option value="CAR-T" selected>' in client.get("/spc?product=CAR-T").text
    missing = client.get("/spc?name=nothing")
    assert missing.status_code == 404 and "nothing" in missing.text
    trail = client.get("/audit?entity_type=monitoring_alarm&limit=3").text
    assert trail.count("monitoring:monitoring_alarm:create") == 3


def test_japanese_by_preference_and_by_accept_language(
    sign_in: SignIn, plant: Plant, client: TestClient
) -> None:
    sign_in("qa.sato")
    client.headers["Accept-Language"] = "ja-JP,ja;q=0.9,en;q=0.5"
    html = client.get(f"/batches/{plant.lot}").text
    assert "製造記録" in html and "寄与プロット" in html and "保留（隔離）" in html
    switched = client.get("/prefs?lang=en&next=/")
    assert switched.status_code == 303
    assert "Dashboard" in client.get("/").text
    client.get("/prefs?lang=ja&next=/")
    assert "出荷判定待ち" in client.get("/").text


def test_times_are_shown_in_the_chosen_zone_with_utc_on_hover(
    sign_in: SignIn, plant: Plant, client: TestClient
) -> None:
    sign_in("qa.sato")
    client.get("/prefs?tz=Asia/Tokyo")
    html = client.get(f"/shipments/{plant.shipment}").text
    # shipped 2026-03-02 09:00 UTC = 18:00 in Tokyo (UTC+9, no daylight saving)
    assert (
        '<time datetime="2026-03-02T09:00:00+00:00" title="2026-03-02 09:00:00 UTC">'
        "2026-03-02 18:00 JST</time>" in html
    )
    client.get("/prefs?tz=Not/AZone")
    assert "2026-03-02 09:00 UTC" in client.get(f"/shipments/{plant.shipment}").text


@pytest.mark.parametrize("path", ["/assets/plotly.min.js", "/static/app.js", "/static/app.css"])
def test_assets_are_served_locally(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200 and len(response.content) > 500


def test_logout_ends_the_session(sign_in: SignIn, client: TestClient) -> None:
    sign_in("view.abe")
    token = csrf_of(client.get("/").text)
    assert client.post("/logout", data={"csrf": token}).status_code == 303
    assert client.get("/").status_code == 303
