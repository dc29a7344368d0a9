"""Importing exchange folders into the store: atomicity, idempotency, corrections,
quarantine, references and the export round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from saisei.errors import ValidationFailed
from saisei.services.batches import show_batch
from saisei.services.export import export_store
from saisei.services.ingest import import_path
from saisei.storage.audit import audit_events
from saisei.storage.store import Store

from .conftest import BASE, write_folder


def _counts(store: Store) -> dict[str, int]:
    from saisei.storage.repositories.summary import record_counts

    with store.reader() as session:
        return record_counts(session)


def _import(store: Store, path: Path, **kwargs: object):
    return import_path(store, path, actor="importer", **kwargs)  # type: ignore[arg-type]


def test_full_folder_lands_with_units_normalised(store: Store, exchange: Path) -> None:
    report = _import(store, exchange)
    assert report.ok
    detail = show_batch(store, "MSC-1")
    assert detail.summary.process == "MSC-BM 2.1"
    assert detail.children == ("MSC-1F",)
    qc = {q["attribute"]: q for q in detail.qc_results}
    assert qc["cell_count"]["value"] == pytest.approx(1.2e8)  # 120 x 1e6 cell
    assert qc["cell_count"]["unit"] == "cell"
    assert qc["mycoplasma"]["value_text"] == "negative"
    assert detail.materials[0]["quantity"] == pytest.approx(500.0)  # 0.5 L in mL
    with store.reader() as session:
        series = store.timeseries.read(session, lot="MSC-1", variables=["temperature"])
        logger = store.timeseries.read(session, shipment="SHP-1")
    # 98.8 degF = (98.8 - 32) / 1.8 degC (NIST SP 811).
    assert series["value"].tolist() == pytest.approx([37.0, (98.8 - 32) / 1.8])
    temperature = logger[logger["variable"] == "temperature"]
    assert temperature["t"].tolist() == pytest.approx([0, 5 / 60, 10 / 60])


def test_same_content_twice_changes_nothing(store: Store, exchange: Path) -> None:
    _import(store, exchange)
    before = _counts(store)
    report = _import(store, exchange)
    assert _counts(store) == before
    assert sum(t.inserted + t.corrected for t in report.tables) == 0


def test_correction_needs_a_reason_and_is_audited(store: Store, exchange: Path) -> None:
    _import(store, exchange)
    changed = BASE["qc_results.csv"].replace("viability,93,", "viability,91,")
    write_folder(exchange, {"qc_results.csv": changed})
    with pytest.raises(ValidationFailed, match="pass --reason") as info:
        _import(store, exchange)
    assert "would change the stored value from 93.0 to 91.0" in str(info.value.errors[0])
    _import(store, exchange, reason="transcription error")
    with store.reader() as session:
        (event,) = [
            e for e in audit_events(session, entity_type="qc_result") if e.tag.endswith(":update")
        ]
        assert json.loads(event.old_values) == {"value": 93.0}
        assert json.loads(event.new_values) == {"value": 91.0}
        assert event.reason == "transcription error"


def test_a_bad_row_rejects_the_whole_import(store: Store, exchange: Path) -> None:
    write_folder(
        exchange,
        {
            "qc_results.csv": BASE["qc_results.csv"]
            + "MSC-9,viability,90,,%,S9,2026-01-20T10:00:00Z\n"
        },
    )
    with pytest.raises(ValidationFailed, match="Nothing was stored") as info:
        _import(store, exchange)
    assert any(
        "qc_results.csv, row 4, field 'lot': names unknown batch 'MSC-9'" in str(e)
        for e in info.value.errors
    )
    counts = _counts(store)
    assert counts["batches"] == counts["parties"] == counts["timeseries_segments"] == 0
    assert not list((store.timeseries.root).rglob("*.parquet")), "no orphan segment files"


def test_quarantine_lands_valid_rows_and_writes_rejected_ones(
    store: Store, exchange: Path, tmp_path: Path
) -> None:
    write_folder(
        exchange,
        {
            "qc_results.csv": BASE["qc_results.csv"]
            + "MSC-9,viability,90,,%,S9,2026-01-20T10:00:00Z\n"
        },
    )
    report = _import(store, exchange, quarantine=tmp_path / "rejected")
    assert not report.ok
    assert _counts(store)["qc_results"] == 3
    rejected = pd.read_csv(tmp_path / "rejected" / "qc_results.rejected.csv")
    assert rejected["lot"].tolist() == ["MSC-9"]
    assert rejected["_row"].tolist() == [4]
    assert "names unknown batch 'MSC-9'" in rejected["_reason"].iloc[0]


def test_changed_process_version_is_refused(store: Store, exchange: Path) -> None:
    _import(store, exchange)
    write_folder(
        exchange,
        {
            "process/MSC-BM-2.1.yaml": BASE["process/MSC-BM-2.1.yaml"].replace(
                "lower: 70", "lower: 80"
            )
        },
    )
    with pytest.raises(ValidationFailed) as info:
        _import(store, exchange)
    assert "already stored with different content; give the changed process a new version" in str(
        info.value.errors[0]
    )


def test_time_series_append_and_correction(store: Store, exchange: Path) -> None:
    _import(store, exchange)
    more = "lot,stage,variable,t,value,unit\nMSC-1,expansion,temperature,1,37.2,degC\n"
    write_folder(exchange, {"timeseries.csv": more})
    _import(store, exchange)
    corrected = "lot,stage,variable,t,value,unit\nMSC-1,expansion,temperature,1,37.3,degC\n"
    write_folder(exchange, {"timeseries.csv": corrected})
    with pytest.raises(ValidationFailed, match="pass --reason"):
        _import(store, exchange)
    _import(store, exchange, reason="probe recalibrated")
    with store.reader() as session:
        data = store.timeseries.read(session, lot="MSC-1", variables=["temperature"])
    assert data["t"].tolist() == [0.0, 0.5, 1.0]
    assert data["value"].iloc[-1] == pytest.approx(37.3)


def test_export_then_import_reproduces_the_store(
    store: Store, exchange: Path, tmp_path: Path
) -> None:
    _import(store, exchange)
    export_store(store, tmp_path / "out1")
    other = Store.open(f"sqlite:///{tmp_path / 'other.db'}", tmp_path / "other-ts")
    other.upgrade()
    _import(other, tmp_path / "out1")
    export_store(other, tmp_path / "out2")
    other.close()
    first = sorted(p.relative_to(tmp_path / "out1") for p in (tmp_path / "out1").rglob("*.*"))
    second = sorted(p.relative_to(tmp_path / "out2") for p in (tmp_path / "out2").rglob("*.*"))
    assert first == second
    for relative in first:
        assert (tmp_path / "out1" / relative).read_bytes() == (
            tmp_path / "out2" / relative
        ).read_bytes(), relative
    assert _counts(store)["collections"] == 1
