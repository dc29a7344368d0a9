"""The batch page's T2 contributions are measured from the reference at the same maturity."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from service_users import add_users

from saisei.domain.enums import BatchStatus, ProductType
from saisei.services.monitoring import build_model
from saisei.services.trajectories import lot_monitoring
from saisei.storage.models import Batch, ProcessDefinition
from saisei.storage.store import Store

HOURS = np.arange(9.0)
# Per-lot deviations that sum to zero over the lots (lot 5 on the mean trajectory)
DEVIATIONS = {
    "temperature": [0.5, -0.5, 0.5, -0.5, 0.0],
    "pH": [0.2, 0.2, -0.2, -0.2, 0.0],
    "DO": [1.0, -1.0, 0.5, -0.5, 0.0],
}


def _mean(variable: str) -> np.ndarray:
    """Mean trajectory: temperature rises by 0.1 degC per hour, pH and DO stay level."""
    start = {"temperature": 36.0, "pH": 7.2, "DO": 60.0}[variable]
    return start + (0.1 * HOURS if variable == "temperature" else 0.0 * HOURS)


def _series(deviation: dict[str, float]) -> pd.DataFrame:
    return pd.concat(
        [
            pd.DataFrame({"variable": v, "t": HOURS, "value": _mean(v) + deviation[v], "unit": "1"})
            for v in DEVIATIONS
        ],
        ignore_index=True,
    )


@pytest.fixture
def plant(store: Store) -> Store:
    """Five reference lots around the mean trajectory and lot ON-MEAN exactly on it."""
    with store.unit_of_work(actor="setup", source="test", reason="plant") as uow:
        process = ProcessDefinition(name="P", version="1", product_type=ProductType.MSC)
        uow.session.add(process)
        uow.flush()
        lots = {f"REF-{i}": {v: d[i] for v, d in DEVIATIONS.items()} for i in range(5)}
        lots["ON-MEAN"] = dict.fromkeys(DEVIATIONS, 0.0)
        for lot, deviation in lots.items():
            uow.session.add(
                Batch(
                    lot_number=lot,
                    product_type=ProductType.MSC,
                    process_id=process.id,
                    status=BatchStatus.COMPLETED,
                    started_at=datetime(2026, 1, 5, tzinfo=UTC),
                )
            )
            store.timeseries.write_segment(
                uow.session, _series(deviation), subject_ref=lot, stage="expansion"
            )
    add_users(store, {"ps.contrib": ["process_scientist"]})
    build_model(
        store,
        name="contrib",
        product="MSC",
        stage="expansion",
        actor="ps.contrib",
        lots=[f"REF-{i}" for i in range(5)],
        n_components=2,
    )
    return store


def test_a_lot_on_the_reference_mean_trajectory_has_no_t2_contributions(plant: Store) -> None:
    view = lot_monitoring(plant, "ON-MEAN", at_h=4.0)
    contributions = view.contributions
    assert contributions is not None and contributions["t"] == 4.0
    # Westerhuis, Gurden & Smilde (2000), Chemom. Intell. Lab. Syst. 51, 95-114, about the
    # reference at the same maturity: c_k = (x_k - xbar_jk) [R S_j^-1 (t - tbar_j)]_k. At hour
    # 4 the window (hours 2..6) mean of the reference lots is the mean trajectory itself
    # (deviations sum to zero, the rise is symmetric about hour 4), so x = xbar_j and c = 0;
    # the same holds at hour 2 (window 0..4), where the temperature is 0.2 degC below its
    # overall mean (36.4 degC) and so contributed to T2 when measured from that mean.
    assert contributions["t2"] == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
    earlier = lot_monitoring(plant, "ON-MEAN", at_h=2.0).contributions
    assert earlier is not None and earlier["t"] == 2.0
    assert earlier["t2"] == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
