"""The joined factor table from the store, and the drivers of an attribute over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from drivers_plant import open_store, plant, truth

from saisei.errors import NotFound, ValidationFailed
from saisei.services._data import TRANSPORT_COLUMNS, factor_table, source_factors
from saisei.services.drivers import driver_analysis
from saisei.storage.store import Store


@pytest.fixture(scope="module")
def stocked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Path]]:
    home, exchange = plant(tmp_path_factory, "drivers")
    store = open_store(home)
    yield store, exchange
    store.close()


def test_factor_table_has_one_row_per_lot_with_the_exchange_values(
    stocked: tuple[Store, Path],
) -> None:
    store, exchange = stocked
    table = factor_table(store, product="MSC")
    frame = table.frame
    batches = pd.read_csv(exchange / "batches.csv")
    assert list(frame.index) == list(batches["lot"]), "one row per lot, manufacturing order"
    # Joined through batch -> collection -> donor: compared with the exchange files.
    collections = pd.read_csv(exchange / "collections.csv").set_index("din")
    donors = pd.read_csv(exchange / "donors.csv").set_index("code")
    lot = batches.iloc[3]
    row = frame.loc[lot["lot"]]
    source = collections.loc[lot["din"]]
    assert row["tissue_source"] == source["tissue_source"]
    assert row["collection_site"] == source["party"]
    assert row["donor_age_years"] == donors.loc[source["donor"], "age_years"]
    assert row["site"] == lot["site"]
    assert row["process_version"] == f"{lot['process']} {lot['process_version']}"
    # Parameters, material lots and QC values as recorded.
    parameters = pd.read_csv(exchange / "parameters.csv")
    recorded = parameters[(parameters["lot"] == lot["lot"])].set_index("parameter")
    assert row["agitation"] == pytest.approx(recorded.loc["agitation", "value"])
    assert row["bioreactor"] == recorded.loc["bioreactor", "value_text"]
    uses = pd.read_csv(exchange / "material_use.csv")
    used = uses[uses["lot"] == lot["lot"]].set_index("material")
    assert row["HPL"] == used.loc["HPL", "material_lot"]
    qc = pd.read_csv(exchange / "qc_results.csv")
    viability = qc[(qc["lot"] == lot["lot"]) & (qc["attribute"] == "post_thaw_viability")]
    assert row["post_thaw_viability"] == pytest.approx(viability["value"].mean())
    assert table.groups["HPL"] == "material"
    assert table.groups["post_thaw_viability"] == "attribute"
    assert table.groups["transport_mkt_c"] == "transport"


def test_transport_metrics_come_from_the_logger_readings(stocked: tuple[Store, Path]) -> None:
    store, exchange = stocked
    shipments = pd.read_csv(exchange / "shipments.csv")
    logs = pd.read_csv(exchange / "shipment_logs.csv")
    din = shipments["subject_ref"].iloc[0]
    legs = shipments[shipments["subject_ref"] == din]
    readings = logs[logs["shipment"].isin(legs["code"])]
    found = source_factors(store, din)
    assert set(TRANSPORT_COLUMNS) <= set(found)
    assert found["transport_legs"] == len(legs)
    assert found["transport_max_c"] == pytest.approx(readings["temperature"].max())
    # MKT (USP <1079.2>, dH/R = 10000 K) of equally spaced readings, computed here: the
    # store's duration-weighted MKT of the legs must agree within the logging interval's
    # weighting difference.
    kelvin = readings["temperature"].to_numpy() + 273.15
    mkt = 10000.0 / -np.log(np.mean(np.exp(-10000.0 / kelvin))) - 273.15
    assert found["transport_mkt_c"] == pytest.approx(mkt, abs=0.3)
    assert found["transport_time_out_of_range_h"] >= 0.0


def test_unknown_din_is_not_found(stocked: tuple[Store, Path]) -> None:
    store, _ = stocked
    with pytest.raises(NotFound, match="No collection with DIN 'X000000000000'"):
        source_factors(store, "X000000000000")


@pytest.mark.slow
def test_true_drivers_of_post_thaw_viability_rank_at_the_top(
    stocked: tuple[Store, Path],
) -> None:
    store, exchange = stocked
    report = driver_analysis(store, "post_thaw_viability", product="MSC")
    effects = truth(exchange)["factor_effects"]["msc"]["post_thaw_viability"]
    # The two largest true effects (truth.json): DMSO exposure before freezing and cooling rate.
    assert {"dmso_exposure_time", "cooling_rate"} <= set(report.result.ranking()[:3])
    # DMSO exposure acts linearly; truth gives the slope per minute, the store keeps hours.
    row = report.result.table.set_index("factor").loc["dmso_exposure_time"]
    slope_per_h = effects["dmso_exposure_time"]["slope_per_unit"] * 60
    assert row["ci_low"] < slope_per_h < row["ci_high"]
    assert "working_volume" not in report.result.ranking()[:3], "no effect in the mechanism"
    document = report.to_dict()
    assert document["attribute"] == "post_thaw_viability"
    assert "HPL" in document["random"] and "agitation" in document["fixed"]
    assert "dmso_exposure_time" in document["summary"]


def test_unknown_attribute_and_factor_are_refused(stocked: tuple[Store, Path]) -> None:
    store, _ = stocked
    with pytest.raises(ValidationFailed, match="'viability' is not a QC attribute"):
        driver_analysis(store, "viability", product="MSC")
    with pytest.raises(ValidationFailed, match="no column\\(s\\) stirring"):
        driver_analysis(store, "potency", product="MSC", fixed=["stirring"])
