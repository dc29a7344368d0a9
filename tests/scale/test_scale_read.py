"""The time-series store read as a Dask DataFrame equals TimeSeriesStore.read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from distributed import Client

from saisei.errors import NotFound, ValidationFailed
from saisei.scale import read_segments, read_timeseries
from saisei.scale._read import _SCHEMA
from saisei.storage.store import Store
from saisei.storage.timeseries import SEGMENT_SCHEMA


def _trace(hours: int, variables: tuple[str, ...], offset: float) -> pd.DataFrame:
    t = np.arange(hours, dtype=float)
    return pd.concat(
        [
            pd.DataFrame({"variable": v, "t": t, "value": offset + k + 0.1 * t, "unit": "1"})
            for k, v in enumerate(variables)
        ],
        ignore_index=True,
    )


@pytest.fixture
def filled(store: Store) -> Store:
    """Three lots, two stages, one corrected segment (its original must not be read)."""
    with store.unit_of_work(actor="importer", source="import") as uow:
        write = store.timeseries.write_segment
        for i, lot in enumerate(["L-3", "L-1", "L-2"]):
            write(
                uow.session, _trace(30, ("pH", "DO", "temp"), i), subject_ref=lot, stage="expansion"
            )
            write(uow.session, _trace(6, ("temp",), 10 + i), subject_ref=lot, stage="harvest")
        old = write(uow.session, _trace(4, ("pH",), 50), subject_ref="L-1", stage="seed")
        # a second segment of the same lot and stage goes into the same partition
        write(
            uow.session,
            _trace(3, ("glucose",), 5).assign(t=[40.0, 41.0, 42.0]),
            subject_ref="L-2",
            stage="expansion",
        )
    with store.unit_of_work(actor="importer", source="import", reason="correction") as uow:
        store.timeseries.write_segment(
            uow.session, _trace(4, ("pH",), 99), subject_ref="L-1", stage="seed", supersedes=old
        )
    return store


@pytest.mark.parametrize(
    "filters",
    [
        {"lot": ["L-1", "L-2", "L-3"]},
        {"lot": "L-1"},
        {"lot": ["L-2", "L-3"], "stage": "expansion", "variables": ["pH", "glucose"]},
        {"lot": ["L-1", "L-2", "L-3"], "t_from": 2.0, "t_to": 4.5},
        {"lot": ["L-1", "L-2"], "variables": ["absent"]},
    ],
)
def test_dask_read_equals_single_machine_read(
    client: Client, filled: Store, filters: dict[str, object]
) -> None:
    with filled.reader() as session:
        expected = filled.timeseries.read(session, **filters)
        lazy = read_timeseries(filled.timeseries, session, **filters)
    got = client.compute(lazy).result().reset_index(drop=True)
    # Dask keeps text as Arrow-backed strings (its 'dataframe.convert-string' default):
    # same values, missing text as pd.NA instead of NaN.
    text = ["lot", "stage", "variable", "unit", "quality"]
    assert all(str(got[c].dtype) == "string" for c in text)
    expected = expected.reset_index(drop=True).astype({c: got[c].dtype for c in text})
    pd.testing.assert_frame_equal(got, expected)


def test_one_partition_per_lot_and_stage(client: Client, filled: Store) -> None:
    with filled.reader() as session:
        lazy = read_timeseries(filled.timeseries, session, lot=["L-1", "L-2", "L-3"])
        pruned = read_timeseries(
            filled.timeseries, session, lot=["L-1", "L-2", "L-3"], variables=["glucose"]
        )
    # 3 lots x (expansion, harvest) + L-1 seed (only its correction is current)
    assert lazy.npartitions == 7
    first = lazy.get_partition(0).compute()
    assert set(zip(first["lot"], first["stage"], strict=True)) == {("L-1", "expansion")}
    seed = client.compute(lazy).result().query("stage == 'seed'")
    assert (seed["value"] >= 99).all(), "the superseded segment must not be read"
    # the manifest says only L-2's second expansion segment holds glucose
    assert pruned.npartitions == 1


def test_errors_match_the_single_machine_reader(filled: Store) -> None:
    with filled.reader() as session:
        with pytest.raises(NotFound, match="No time series is stored for lot 'L-9' at stage"):
            read_timeseries(filled.timeseries, session, lot="L-9", stage="expansion")
        with pytest.raises(ValidationFailed, match="Give exactly one of 'lot' or 'shipment'"):
            read_timeseries(filled.timeseries, session, lot="L-1", shipment="S-1")
        empty = read_timeseries(filled.timeseries, session, lot=["L-8", "L-9"])
        expected = filled.timeseries.read(session, lot=["L-8", "L-9"])
    assert list(empty.compute().columns) == list(expected.columns)
    assert len(empty.compute()) == 0
    with pytest.raises(ValidationFailed, match="must be 'lot' or 'shipment'"):
        read_segments(filled.timeseries.root, [], label="batch")


def test_schema_is_the_stores() -> None:
    assert _SCHEMA.equals(SEGMENT_SCHEMA, check_metadata=True)
