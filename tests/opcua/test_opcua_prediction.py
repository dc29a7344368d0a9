"""End-of-batch quality predicted live: updated as data arrive, audited, and at the end of
the batch equal to the prediction on the complete batch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from opcua_helpers import register_lots, store_series
from sqlalchemy import select

from saisei.analytics.mvda import BatchLevelModel
from saisei.errors import NotFound, ValidationFailed
from saisei.services.acquisition import _Recorder
from saisei.services.quality_prediction import (
    build_quality_model,
    latest_predictions,
    predict_quality,
)
from saisei.simulation import SimulationResult
from saisei.storage.models import Batch, QCResult
from saisei.storage.store import Store

ATTRIBUTE = "population_doublings"


def _binned(rows: pd.DataFrame) -> pd.DataFrame:
    """Hourly means per lot and variable, computed here from the raw simulated series."""
    data = rows[["lot", "t", "variable", "value"]].astype({"lot": str, "variable": str})
    data = data.assign(t=np.floor(data["t"].to_numpy()))
    return data.groupby(["lot", "variable", "t"], sort=True)["value"].mean().reset_index()


def test_live_prediction_is_updated_and_ends_at_the_offline_prediction(
    home: Store, plant: SimulationResult, lots: list[str], series: pd.DataFrame
) -> None:
    reference = lots[:-1]
    qc = plant.tables["qc_results"].astype({"lot": str})
    qc = qc[(qc["attribute"] == ATTRIBUTE) & qc["lot"].isin(reference)]
    with home.unit_of_work(actor="test", source="test") as uow:
        ids = dict(
            uow.session.execute(
                select(Batch.lot_number, Batch.id).where(Batch.lot_number.in_(reference))
            ).all()
        )
        uow.session.add_all(
            QCResult(batch_id=ids[row.lot], attribute=ATTRIBUTE, value=float(row.value))
            for row in qc.itertuples()
        )
    summary = build_quality_model(
        home,
        name="msc-pd",
        product="MSC",
        stage="expansion",
        attribute=ATTRIBUTE,
        actor="ps.kimura",
        lots=reference,
        n_components=2,
    )
    assert summary.kind == "batch_level" and list(summary.lots) == reference

    lot = "LIVE-PRED1"
    register_lots(home, [lot])
    with pytest.raises(ValidationFailed, match=f"Lot {lot} has no series"):
        predict_quality(home, lot, model="msc-pd", actor="system")
    played = series[(series["lot"] == lots[-1]) & (series["stage"] == "expansion")]
    live = []
    for low, high in [(0.0, 150.0), (150.0, 300.0), (300.0, 1e9)]:
        store_series(home, lot, played[(played["t"] >= low) & (played["t"] < high)])
        live.append(predict_quality(home, lot, model="msc-pd", actor="system"))
    assert [p.data_until_h for p in live] == sorted({p.data_until_h for p in live})
    assert live[0].value != live[-1].value, "the prediction moves as data arrive"

    # Offline, independently of the services: the same model fitted on the reference lots'
    # hourly means with y = their QC results, predicting the complete batch.
    ref_rows = series[series["lot"].isin(reference) & (series["stage"] == "expansion")]
    y = qc.groupby("lot")["value"].mean()
    offline = BatchLevelModel(n_components=2).fit(_binned(ref_rows), y)
    expected = float(offline.predict(_binned(played.assign(lot=lot))).iloc[0, 0])
    assert live[-1].value == pytest.approx(expected, abs=1e-10)

    latest = latest_predictions(home, lot)
    assert [(p.model, p.value) for p in latest] == [("msc-pd", live[-1].value)]
    with pytest.raises(ValidationFailed, match="not a quality"):
        predict_quality(home, lot, model="msc-live", actor="system")

    # The live acquisition path: after a flush the recorder updates the prediction (as the
    # acting user of the acquisition), the same as the service gives.
    recorder = _Recorder(
        home,
        lot=lot,
        endpoint="opc.tcp://plant:4840",
        actor="op.sato",
        model=None,
        notifier=None,
        open_deviation=False,
        quality_model="msc-pd",
    )
    recorder.check()
    recorder.predict()
    assert recorder.prediction is not None and recorder.notes == []
    assert recorder.prediction.value == pytest.approx(expected, abs=1e-10)
    unknown = _Recorder(
        home,
        lot=lot,
        endpoint="opc.tcp://plant:4840",
        actor="op.sato",
        model=None,
        notifier=None,
        open_deviation=False,
        quality_model="nope",
    )
    with pytest.raises(NotFound, match="No quality model called 'nope'"):
        unknown.check()
