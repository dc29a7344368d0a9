"""Shipments of the simulated plant are evaluated as the simulator's ground truth says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from saisei.custody.shipments import evaluate_shipment
from saisei.services.ingest import import_path
from saisei.services.simulation import simulate_to_folder
from saisei.storage.repositories.exchange import shipment_codes
from saisei.storage.store import Store

LOGGER_INTERVAL_H = 5 / 60  # the simulator's loggers read every 5 min (docs/simulator.md)


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, dict[str, Any]]]:
    """Twelve MSC lots; the shipment of lot 3 is left at room temperature."""
    out = tmp_path_factory.mktemp("plant")
    simulate_to_folder("msc", 12, 5, out, faults="shipment_room_temperature@3")
    home = tmp_path_factory.mktemp("home")
    store = Store.open(f"sqlite:///{home / 'saisei.db'}", home / "timeseries")
    store.upgrade()
    import_path(store, out, actor="importer")
    yield store, json.loads((out / "truth.json").read_text())
    store.close()


@pytest.mark.slow
def test_excursions_of_the_ground_truth_are_found_and_quarantined(
    plant: tuple[Store, dict[str, Any]],
) -> None:
    store, truth = plant
    outliers = {s["shipment"]: s for s in truth["outliers"]["msc"]["shipments"]}
    assert outliers, "the injected fault must leave an outlier shipment"
    with store.reader() as session:
        codes = sorted(shipment_codes(session))
    for code in codes:
        result = evaluate_shipment(store, "qa.tanaka", code)
        out_of_range_h = max(
            (logger["time_out_of_range_h"] for logger in result.evaluation["loggers"]),
            default=0.0,
        )
        if code in outliers:
            assert result.decision == "quarantine", code
            # Time outside the band agrees with the truth to within two logger intervals.
            assert out_of_range_h == pytest.approx(
                outliers[code]["hours_out_of_band"], abs=2 * LOGGER_INTERVAL_H
            )
        else:
            # Shipments the truth calls normal never leave the temperature band; they are
            # quarantined only for shocks above the product's limit (the simulator's drops).
            assert out_of_range_h == 0.0, code
            if result.decision == "quarantine":
                assert all("shock" in reason for reason in result.reasons), result.reasons
