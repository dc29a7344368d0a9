"""Large PyArrow partitions of the store: summaries and wide rows equal pandas on the store read."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest
from distributed import Client

from saisei.errors import StorageError, ValidationFailed
from saisei.scale import group_segments, lot_summaries, map_segments, wide_rows
from saisei.storage.store import Store


def _trace(hours: int, variables: tuple[str, ...], seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(hours, dtype=float) / 2
    return pd.concat(
        [pd.DataFrame({"variable": v, "t": t, "value": rng.normal(size=hours)}) for v in variables],
        ignore_index=True,
    )


@pytest.fixture
def fleet(store: Store) -> Store:
    """Five lots; L-4 logs one variable less; L-2's data come in two segments."""
    with store.unit_of_work(actor="importer", source="import") as uow:
        write = store.timeseries.write_segment
        for i, lot in enumerate(["L-5", "L-1", "L-3", "L-4", "L-2"]):
            names = ("do", "ph") if lot == "L-4" else ("do", "ph", "temp")
            write(uow.session, _trace(20, names, i), subject_ref=lot, stage="expansion")
        late = _trace(4, ("do", "temp"), 9).assign(t=lambda f: f["t"] + 50.0)
        write(uow.session, late, subject_ref="L-2", stage="expansion")
    return store


def test_partitions_hold_whole_lots_of_about_the_rows_asked(fleet: Store) -> None:
    with fleet.reader() as session:
        segments = fleet.timeseries.segments(session)
        session.expunge_all()  # plain manifest rows from here on
    root = fleet.timeseries.root
    # 60 rows per lot (L-4: 40, L-2: 60 + 8): at least 100 rows per partition
    groups = group_segments(root, segments, partition_rows=100)
    assert [len(g) for g in groups] == [3, 2, 1]  # (L-1, L-2 x2), (L-3, L-4), (L-5)
    assert len(group_segments(root, segments, partition_rows=None)) == 5
    with pytest.raises(ValidationFailed, match="'partition_rows' must be a positive integer"):
        group_segments(root, segments, partition_rows=0)


def test_summaries_and_wide_rows_equal_pandas_on_the_store_read(
    client: Client, fleet: Store
) -> None:
    with fleet.reader() as session:
        segments = fleet.timeseries.segments(session)
        rows = fleet.timeseries.read(session, lot=["L-1", "L-2", "L-3", "L-4", "L-5"])
        session.expunge_all()
    root = fleet.timeseries.root
    summary = client.compute(
        map_segments(lot_summaries, root, segments, partition_rows=100)
    ).result()
    expected = (
        rows.groupby(["lot", "variable"])["value"]
        .agg(["count", "mean", "std", "min", "max"])
        .reset_index()
    )
    got = summary.reset_index(drop=True).astype({"lot": object, "variable": object})
    pd.testing.assert_frame_equal(got, expected.astype({"lot": object, "variable": object}))

    names = ["temp", "do", "ph"]
    lazy = map_segments(partial(wide_rows, variables=names), root, segments, partition_rows=100)
    wide = client.compute(lazy).result().reset_index(drop=True)
    pivot = rows.pivot_table(index=["lot", "t"], columns="variable", values="value")
    pivot = pivot[names].reset_index()
    pivot.columns.name = None
    pd.testing.assert_frame_equal(
        wide.astype({"lot": object}), pivot.astype({"lot": object}), check_dtype=False
    )
    # filters as in TimeSeriesStore.read
    filtered = map_segments(
        lot_summaries, root, segments, variables=["do"], t_from=1.0, t_to=5.0
    ).compute()
    window = rows[(rows["variable"] == "do") & rows["t"].between(1.0, 5.0)]
    assert filtered["count"].sum() == len(window)


def test_repeated_keys_are_refused(client: Client, store: Store) -> None:
    with store.unit_of_work(actor="importer", source="import") as uow:
        for _ in range(2):  # the same (lot, t, variable) twice, in two segments
            store.timeseries.write_segment(
                uow.session, _trace(3, ("do",), 1), subject_ref="L-1", stage="expansion"
            )
    with store.reader() as session:
        segments = store.timeseries.segments(session)
        session.expunge_all()
    lazy = map_segments(partial(wide_rows, variables=["do"]), store.timeseries.root, segments)
    with pytest.raises(ValidationFailed, match="repeat a \\(lot, t, variable\\) key: lot 'L-1'"):
        client.compute(lazy).result()


def test_an_unreadable_segment_is_named(client: Client, fleet: Store) -> None:
    with fleet.reader() as session:
        segments = fleet.timeseries.segments(session, subject_ref="L-3")
        session.expunge_all()
    broken = fleet.timeseries.root / segments[0].path
    broken.write_bytes(b"not parquet")
    lazy = map_segments(lot_summaries, fleet.timeseries.root, segments)
    with pytest.raises(StorageError, match=f"Cannot read the time-series segment {broken}"):
        client.compute(lazy).result()
