"""Assay service: drc's published ryegrass fit from files; relative potency stored and audited."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from saisei.domain.enums import ProductType
from saisei.errors import NotFound, ValidationFailed
from saisei.services.assays import fit_dose_response, record_relative_potency
from saisei.services.audit import show_audit
from saisei.storage.models import Batch, QCResult
from saisei.storage.store import Store

RYEGRASS = Path(__file__).parents[1] / "reference" / "dose_response" / "ryegrass.csv"
DOSES = 2.0 ** np.arange(-4, 6)  # 10 dose levels, 3 replicates each


def four_pl(x: np.ndarray, a: float, b: float, c: float, d: float) -> np.ndarray:
    # USP <1032> form (docs/domain.md), written out independently of saisei.
    return d + (a - d) / (1.0 + (x / c) ** b)


def write_plate(
    folder: Path,
    *,
    test: str = "MSC-0001",
    ratio: float = 2.0,
    test_slope: float = 1.3,
    grid: bool = False,
) -> tuple[Path, Path]:
    """Reference in rows A-C, test in rows D-F (columns 1-10), blanks G1-G4; noise-free 4PL."""
    wells, samples, doses, responses = [], [], [], []
    for rows, sample, c, slope in (
        ("ABC", "reference", 2.0, 1.3),
        ("DEF", test, 2.0 / ratio, test_slope),
    ):
        for row in rows:
            for col, dose in enumerate(DOSES, start=1):
                wells.append(f"{row}{col}")
                samples.append(sample)
                doses.append(dose)
                responses.append(float(four_pl(np.array(dose), 1.0, slope, c, 10.0)))
    for col in range(1, 5):
        wells.append(f"G{col}")
        samples.append("blank")
        doses.append(np.nan)
        responses.append(0.05)
    plate_map = pd.DataFrame({"well": wells, "sample": samples, "dose": doses})
    map_path, plate_path = folder / "map.csv", folder / "plate.csv"
    plate_map.to_csv(map_path, index=False)
    if grid:
        values = pd.DataFrame(np.nan, index=list("ABCDEFGH"), columns=range(1, 13))
        for well, response in zip(wells, responses, strict=True):
            values.loc[well[0], int(well[1:])] = response
        values.fillna(0.0).to_csv(plate_path)
    else:
        pd.DataFrame({"well": wells, "response": responses}).to_csv(plate_path, index=False)
    return plate_path, map_path


@pytest.fixture
def lot(store: Store) -> str:
    with store.unit_of_work(actor="qc.ito", source="test") as uow:
        uow.session.add(Batch(lot_number="MSC-0001", product_type=ProductType.MSC))
    return "MSC-0001"


def _potency_rows(store: Store) -> list[dict[str, object]]:
    columns = ("id", "attribute", "value", "unit", "analyst", "sample_id", "value_text")
    with store.reader() as session:
        rows = session.execute(select(QCResult)).scalars()
        return [{c: getattr(row, c) for c in columns} for row in rows]


# --- fit: R drc, LL.4 on the ryegrass data (Ritz et al. 2015, PLoS ONE) ---------------------


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_fit_reproduces_drc_ryegrass(tmp_path: Path, suffix: str) -> None:
    path = RYEGRASS
    if suffix == ".xlsx":
        path = tmp_path / "ryegrass.xlsx"
        pd.read_csv(RYEGRASS, comment="#").to_excel(path, index=False)
    report = fit_dose_response(path, dose_column="conc", response_column="rootl")
    # R drc: summary(drm(rootl ~ conc, data = ryegrass, fct = LL.4())), drc manual, help page
    # 'ryegrass'; drc b, c, d, e = saisei B, D, A, C.
    expected = {"B": 2.98222, "D": 0.48141, "A": 7.79296, "C": 3.05795}
    for name, estimate in expected.items():
        assert report.params[name] == pytest.approx(estimate, abs=2e-5)
    assert report.standard_errors["C"] == pytest.approx(0.18573, abs=2e-5)
    # drc: ED(ryegrass.m1, 50, interval = "delta"): 3.05795 (2.67053, 3.44538).
    assert report.ec50 == pytest.approx(3.05795, abs=2e-5)
    assert report.ec50_ci_low == pytest.approx(2.67053, abs=2e-5)
    assert report.ec50_ci_high == pytest.approx(3.44538, abs=2e-5)
    # drc: "Residual standard error: 0.5196256 (20 degrees of freedom)".
    assert report.residual_se == pytest.approx(0.5196256, abs=1e-6)
    assert (report.dof, report.n_obs, report.converged) == (20, 24, True)


def test_fit_names_missing_columns_and_bad_cells(tmp_path: Path) -> None:
    with pytest.raises(
        ValidationFailed,
        match=r"must have a 'dose' column. Got columns "
        r"\['rootl', 'conc'\]. Name the column with "
        r"--dose-column",
    ):
        fit_dose_response(RYEGRASS)
    bad = tmp_path / "bad.csv"
    bad.write_text("dose,response\n1,2\n2,abc\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="not numbers") as info:
        fit_dose_response(bad)
    assert [str(e) for e in info.value.errors] == [
        "bad.csv, row 2, field 'response': must be a number (got 'abc')"
    ]
    with pytest.raises(NotFound, match="No file"):
        fit_dose_response(tmp_path / "missing.csv")
    other = tmp_path / "data.json"
    other.write_text("{}", encoding="utf-8")
    with pytest.raises(ValidationFailed, match=r"'data.json' must be a .csv or .xlsx file"):
        fit_dose_response(other)


def test_fit_one_sample_of_a_plate(tmp_path: Path) -> None:
    plate, plate_map = write_plate(tmp_path, grid=True)
    with pytest.raises(ValidationFailed, match=r"samples \['MSC-0001', 'reference'\]; choose"):
        fit_dose_response(plate, plate_map=plate_map)
    report = fit_dose_response(plate, plate_map=plate_map, sample="reference")
    # Noise-free 4PL with A = 1, B = 1.3, C = 2, D = 10: the fit returns them (closed form).
    assert report.params["C"] == pytest.approx(2.0, rel=1e-6)
    assert report.params["B"] == pytest.approx(1.3, rel=1e-6)
    assert report.n_obs == 30 and report.sample == "reference"


# --- relative potency stored as a QC result ------------------------------------------------


def test_reportable_potency_is_stored_and_audited(store: Store, lot: str, tmp_path: Path) -> None:
    plate, plate_map = write_plate(tmp_path, ratio=2.0)
    report = record_relative_potency(
        store,
        plate_path=plate,
        map_path=plate_map,
        lot=lot,
        actor="qc.ito",
        reason="release testing",
    )
    # Closed form: the test curve is the reference with C halved, so RP = C_ref/C_test = 2.
    assert report.relative_potency == pytest.approx(2.0, abs=1e-6)
    assert report.value_percent == pytest.approx(200.0, abs=1e-4)
    assert report.reportable and report.stored and report.test_id == lot
    (row,) = _potency_rows(store)
    assert (row["attribute"], row["unit"], row["analyst"]) == ("relative_potency", "%", "qc.ito")
    assert row["value"] == pytest.approx(200.0, abs=1e-4)
    assert row["id"] == report.qc_result_id and row["sample_id"] == lot
    assert str(row["value_text"]).startswith("95% CI ")
    events = {e.tag: e for e in show_audit(store)}
    assert events["cli:qc_result:create"].reason == "release testing"
    assay = events["cli:assay:relative_potency"]
    assert assay.entity_id == lot and assay.reason == "release testing"
    new = json.loads(assay.new_values)
    assert new["value_percent"] == pytest.approx(200.0, abs=1e-4)
    # Noise-free curves: the interval collapses onto the ratio.
    assert (new["ci_low"], new["ci_high"]) == pytest.approx((2.0, 2.0), abs=1e-6)
    assert new["parallel"] is True and new["system_suitable"] is True
    assert new["qc_result_id"] == row["id"]
    assert {c["name"] for c in new["checks"] if c["group"] == "parallelism"} >= {"slope_ratio"}
    assert len(new["plate_sha256"]) == 64


def test_non_parallel_result_is_not_stored(store: Store, lot: str, tmp_path: Path) -> None:
    # A test slope twice the reference's: slope ratio 2 is far outside (0.80, 1.25).
    plate, plate_map = write_plate(tmp_path, test_slope=2.6)
    report = record_relative_potency(
        store, plate_path=plate, map_path=plate_map, lot=lot, actor="qc.ito"
    )
    assert not report.reportable and not report.parallel and not report.stored
    assert any(p.startswith("parallelism: slope_ratio = 2") for p in report.problems)
    assert _potency_rows(store) == []
    assert [e.tag for e in show_audit(store)] == ["test:batch:create"]


def test_dry_run_and_sample_selection(store: Store, lot: str, tmp_path: Path) -> None:
    plate, plate_map = write_plate(tmp_path, test="sample-7", ratio=0.5)
    dry = record_relative_potency(
        store, plate_path=plate, map_path=plate_map, lot=lot, actor="qc.ito", dry_run=True
    )
    # One sample besides the reference and the blank: it is the test; RP = 0.5 (closed form).
    assert dry.test_id == "sample-7" and dry.relative_potency == pytest.approx(0.5, abs=1e-6)
    assert dry.reportable and not dry.stored and _potency_rows(store) == []
    with pytest.raises(
        ValidationFailed,
        match=r"no sample 'std' with doses; it has "
        r"\['reference', 'sample-7'\]",
    ):
        record_relative_potency(
            store,
            plate_path=plate,
            map_path=plate_map,
            lot=lot,
            actor="qc.ito",
            reference_id="std",
        )
    with pytest.raises(NotFound, match="No batch with lot number 'NOPE'"):
        record_relative_potency(
            store, plate_path=plate, map_path=plate_map, lot="NOPE", actor="qc.ito"
        )


def test_plate_problems_are_listed_by_well(store: Store, lot: str, tmp_path: Path) -> None:
    plate, plate_map = write_plate(tmp_path)
    frame = pd.read_csv(plate_map)
    frame.loc[0, "well"] = "Z99"
    frame.to_csv(plate_map, index=False)
    with pytest.raises(ValidationFailed, match=r"The plate \(96 wells\) cannot be read") as info:
        record_relative_potency(
            store, plate_path=plate, map_path=plate_map, lot=lot, actor="qc.ito"
        )
    assert "not a well of a 96-well plate" in str(info.value.errors[0])


def test_a_flat_sample_is_refused(store: Store, lot: str, tmp_path: Path) -> None:
    plate, plate_map = write_plate(tmp_path)
    readings = pd.read_csv(plate)
    readings.loc[readings["well"].str[0].isin(list("DEF")), "response"] = 5.0
    readings.to_csv(plate, index=False)
    with pytest.raises(ValidationFailed, match=r"Every response of sample 'MSC-0001' is 5.0"):
        record_relative_potency(
            store, plate_path=plate, map_path=plate_map, lot=lot, actor="qc.ito"
        )


def test_a_corrupt_workbook_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "plate.xlsx"
    broken.write_bytes(b"not a zip archive")
    with pytest.raises(ValidationFailed, match=r"The file 'plate.xlsx' cannot be read"):
        fit_dose_response(broken)
