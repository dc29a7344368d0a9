"""Monitoring alarms acknowledged from the batch page and the dashboard; the predicted
end-of-batch quality on the batch page."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from saisei_plant import Plant, add_results
from web_helpers import csrf_of

from saisei.services.quality_prediction import build_quality_model, predict_quality
from saisei.storage.store import Store

SignIn = Callable[[str], TestClient]
OPTION = re.compile(r'<option value="(\d+)">')


def _open_alarms(page: str) -> list[str]:
    form = page.split('id="alarm-ack-form"')[1].split("</form>")[0]
    return OPTION.findall(form)


def test_an_alarm_is_acknowledged_from_the_batch_page(
    sign_in: SignIn, plant: Plant, client: TestClient
) -> None:
    sign_in("op.mori")
    page = client.get(f"/batches/{plant.lot}").text
    ids = _open_alarms(page)
    assert ids, "the lot has stored alarms (tests/api/saisei_plant.py)"
    assert f'<span id="alarms-open">{len(ids)}</span> / {len(ids)}' in page
    token = csrf_of(page.split('id="alarm-ack-form"')[1])
    done = client.post(
        "/monitoring/alarms/acknowledge",
        data={"alarm": ids[0], "comment": "pH probe drift", "csrf": token, "back": "batch"},
    )
    assert done.status_code == 303 and done.headers["location"] == f"/batches/{plant.lot}#alarms"
    page = client.get(f"/batches/{plant.lot}").text
    assert "✓</span> op.mori: pH probe drift" in page
    assert _open_alarms(page) == ids[1:] if len(ids) > 1 else 'id="alarm-ack-form"' not in page
    assert f'<span id="alarms-open">{len(ids) - 1}</span> / {len(ids)}' in page
    board = client.get("/").text
    assert "op.mori: pH probe drift" in board and f'id="alarm-ack-{ids[0]}"' not in board


def test_every_open_alarm_of_the_lot_is_acknowledged_from_the_batch_page(
    sign_in: SignIn, plant: Plant, client: TestClient
) -> None:
    sign_in("op.mori")
    page = client.get(f"/batches/{plant.lot}").text
    ids = _open_alarms(page)
    assert len(ids) > 1, "the form shows for two open alarms or more"
    form = page.split('id="alarm-ack-all-form"')[1].split("</form>")[0]
    assert f"Acknowledge all open alarms ({len(ids)})" in form
    data = {"lot": plant.lot, "comment": "jacket valve stuck", "csrf": csrf_of(form)}
    done = client.post("/monitoring/alarms/acknowledge-lot", data=data)
    assert done.status_code == 303 and done.headers["location"] == f"/batches/{plant.lot}#alarms"
    page = client.get(f"/batches/{plant.lot}").text
    assert page.count("✓</span> op.mori: jacket valve stuck") == len(ids)
    assert 'id="alarm-ack-form"' not in page and 'id="alarm-ack-all-form"' not in page
    again = client.post("/monitoring/alarms/acknowledge-lot", data=data)
    assert again.status_code == 404 and "no alarm waiting" in again.text


def test_an_alarm_is_acknowledged_from_the_dashboard(sign_in: SignIn, client: TestClient) -> None:
    sign_in("qa.sato")
    board = client.get("/").text
    first = re.search(r'id="alarm-ack-(\d+)"', board)
    assert first is not None
    alarm = first.group(1)
    form = board.split(f'id="alarm-ack-{alarm}"')[1]
    data = {"alarm": alarm, "comment": "seen", "csrf": csrf_of(form), "back": "dashboard"}
    forged = client.post("/monitoring/alarms/acknowledge", data={**data, "csrf": "0" * 64})
    assert forged.status_code == 403
    done = client.post("/monitoring/alarms/acknowledge", data=data)
    assert done.status_code == 303 and done.headers["location"] == "/#alarms"
    again = client.post("/monitoring/alarms/acknowledge", data=data)
    assert again.status_code == 409 and "already acknowledged by qa.sato" in again.text
    board = client.get("/").text
    assert "qa.sato: seen" in board and f'id="alarm-ack-{alarm}"' not in board


def test_a_viewer_may_not_acknowledge(sign_in: SignIn, plant: Plant, client: TestClient) -> None:
    sign_in("view.abe")
    page = client.get(f"/batches/{plant.lot}").text
    refused = client.post(
        "/monitoring/alarms/acknowledge",
        data={"alarm": _open_alarms(page)[0], "comment": "x", "csrf": csrf_of(page)},
    )
    assert refused.status_code == 403
    assert "may not run monitoring.acknowledge_alarm" in refused.text


def test_the_batch_page_shows_the_latest_prediction(
    sign_in: SignIn, plant: Plant, client: TestClient, web_store: Store
) -> None:
    sign_in("qa.sato")
    assert "No prediction yet." in client.get(f"/batches/{plant.lot}").text
    add_results(web_store, plant.reference_lots, "potency", 50.0, 3.0)
    build_quality_model(
        web_store,
        name="msc-potency",
        product="MSC",
        stage=plant.stage,
        attribute="potency",
        actor="ps.kimura",
        lots=list(plant.reference_lots),
        n_components=1,
    )
    done = predict_quality(web_store, plant.lot, model="msc-potency", actor="op.mori")
    page = client.get(f"/batches/{plant.lot}").text
    # a quality model of the same product and stage is not taken for the monitoring model
    assert 'id="monitoring"' in page and "msc-expansion v1" in page
    panel = page.split('id="prediction"')[1].split("</section>")[0]
    assert f'<td class="predicted">{done.value:.4g}</td>' in panel
    assert "msc-potency v1" in panel and f"{done.data_until_h:.2f}" in panel
    japanese = client.get(f"/batches/{plant.lot}", headers={"Accept-Language": "ja"}).text
    assert "バッチ終了時の品質予測" in japanese


def test_models_page_lists_models_and_builds_a_quality_model(
    sign_in: SignIn, plant: Plant, client: TestClient, web_store: Store
) -> None:
    sign_in("ps.kimura")
    page = client.get("/models").text
    assert 'id="model-msc-expansion-1"' in page, "the plant's monitoring model"
    assert "monitoring (batch evolution)" in page
    add_results(web_store, plant.reference_lots, "vcd_release", 2.0, 0.1)
    form = page.split('id="build-quality-model-form"')[1]
    data = {
        "name": "msc-vcd",
        "product": "MSC",
        "stage": plant.stage,
        "attribute": "vcd_release",
        "components": "1",
        "csrf": csrf_of(form),
    }
    built = client.post("/models/quality", data=data)
    assert built.status_code == 303 and built.headers["location"] == "/models#model-msc-vcd-1"
    page = client.get("/models").text
    row = page.split('id="model-msc-vcd-1"')[1].split("</tr>")[0]
    assert "quality (batch level)" in row and f"<td>{len(plant.reference_lots)}</td>" in row
    japanese = client.get("/models", headers={"Accept-Language": "ja"}).text
    assert "品質モデルの構築" in japanese

    sign_in("op.mori")  # an operator may not build models
    form = client.get("/models").text.split('id="build-quality-model-form"')[1]
    refused = client.post("/models/quality", data={**data, "csrf": csrf_of(form)})
    assert refused.status_code == 403 and "monitoring.build" in refused.text
