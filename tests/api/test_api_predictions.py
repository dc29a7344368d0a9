"""The live quality prediction of a lot through the API."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from saisei_plant import Plant, add_results

from saisei.services.quality_prediction import build_quality_model, predict_quality
from saisei.storage.store import Store


def test_the_latest_prediction_per_model_is_listed_for_a_lot(
    client: TestClient,
    auth: Callable[[str], dict[str, str]],
    plant: Plant,
    plant_store: Store,
) -> None:
    add_results(plant_store, plant.reference_lots, "potency", 50.0, 3.0)
    build_quality_model(
        plant_store,
        name="msc-potency",
        product="MSC",
        stage=plant.stage,
        attribute="potency",
        actor="ps.kimura",
        lots=list(plant.reference_lots),
        n_components=1,
    )
    first = predict_quality(plant_store, plant.lot, model="msc-potency", actor="op.mori")
    second = predict_quality(plant_store, plant.lot, model="msc-potency", actor="op.mori")
    headers = auth("qa.sato")
    body = client.get(f"/api/v1/monitoring/predictions?lot={plant.lot}", headers=headers).json()
    assert len(body["items"]) == 1, "the latest prediction per model"
    item = body["items"][0]
    assert item["model"] == "msc-potency" and item["attribute"] == "potency"
    assert item["value"] == first.value == second.value
    assert item["predicted_at"] == second.predicted_at.isoformat()
    other = client.get("/api/v1/monitoring/predictions?lot=MSC-R01", headers=headers).json()
    assert other == {"items": []}
    missing = client.get("/api/v1/monitoring/predictions", headers=headers)
    assert missing.status_code == 422, "the lot is required"
