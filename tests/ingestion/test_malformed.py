"""A corpus of malformed exchange files: each gets the error a person can act on."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from saisei.errors import ValidationFailed
from saisei.ingestion.reader import read_file
from saisei.ingestion.validate import validate_table

from .conftest import write_folder


def _errors(tmp_path: Path, name: str, content: str | bytes, **kwargs: object) -> list[str]:
    write_folder(tmp_path, {name: content})
    try:
        raws = read_file(tmp_path / name)
    except ValidationFailed as exc:
        return [str(e) for e in exc.errors] or [exc.message]
    return [str(e) for raw in raws for e in validate_table(raw, **kwargs).errors]  # type: ignore[arg-type]


QC = "lot,attribute,value,unit,sample_id\n"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "qc_results.csv",
            "lot,attribute,value,unit\nL1,viability,90,%\n",
            "qc_results.csv, field 'sample_id': required column 'sample_id' is missing",
        ),
        (
            "qc_results.csv",
            QC + "L1,viability,90,%,S1\nL1,cd73,97,parsecs per mole x,S1\n",
            "qc_results.csv, row 2, field 'unit': unknown unit 'parsecs per mole x'",
        ),
        (
            "qc_results.csv",
            QC + 'L1,viability,"92,5",%,S1\n',
            "row 1, field 'value': uses a comma as decimal separator",
        ),
        (
            "qc_results.csv",
            QC + "L1,viability,90,%,S1\nL1,viability,91,%,S1\n",
            "row 2, field 'lot, attribute, sample_id': duplicated key",
        ),
        (
            "parties.csv",
            "code,name,party_type\nH1,NaN,collection_site\n",
            "row 1, field 'name': required value is missing (got 'NaN')",
        ),
        (
            "collections.csv",
            "din,donor,party,tissue_source,collected_at,total_nucleated_cells\n"
            "A999921123456,D1,H1,bone_marrow,2026-01-05T09:00:00Z,-5\n",
            "row 1, field 'total_nucleated_cells': must be between 0 and 1e+13 cell",
        ),
        (
            "timeseries.csv",
            "lot,stage,variable,t,value\nL1,s,temp,0,37\nL1,s,temp,2,37\nL1,s,temp,1,37\n",
            "row 3, field 't': time goes backwards within lot, stage, variable",
        ),
        (
            "shipment_logs.csv",
            "shipment,timestamp,temperature\n",
            "shipment_logs.csv: the file has no data rows",
        ),
        (
            "collections.csv",
            "din,donor,party,tissue_source,collected_at\n"
            "A999921123456,D1,H1,bone_marrow,2026-01-05 09:00\n",
            "row 1, field 'collected_at': timestamp has no time zone",
        ),
        (
            "batches.csv",
            "lot,product_type,colour\nL1,MSC,red\n",
            "batches.csv, field 'colour': unknown column 'colour'",
        ),
        (
            "batches.csv",
            "lot,product_type\nL1,MSCs\n",
            "row 1, field 'product_type': must be one of MSC, CAR-T, iPSC-derived, AAV, LV",
        ),
        (
            "parties.csv",
            "code,name,party_type\nH1,H\xf4pital,collection_site\n".encode("latin-1"),
            "parties.csv, row 1: byte 0xF4 at line 2 is not valid UTF-8",
        ),
    ],
)
def test_malformed_file_gets_a_precise_error(
    tmp_path: Path, name: str, content: str | bytes, expected: str
) -> None:
    errors = _errors(tmp_path, name, content)
    assert any(expected in e for e in errors), errors


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    errors = _errors(
        tmp_path, "parties.csv", "\ufeffcode,name,party_type\nH1,Hospital,collection_site\n"
    )
    assert errors == []


def test_naive_timestamps_with_declared_zone_are_stored_in_utc(tmp_path: Path) -> None:
    write_folder(
        tmp_path,
        {
            "collections.csv": "din,donor,party,tissue_source,collected_at\n"
            "A999921123456,D1,H1,bm,2026-01-05 09:00\n"
        },
    )
    (raw,) = read_file(tmp_path / "collections.csv")
    table = validate_table(raw, timezone="Asia/Tokyo")
    assert table.errors == []
    # 09:00 in Tokyo (UTC+9, no daylight saving) is 00:00 UTC.
    assert table.frame["collected_at"].iloc[0] == pd.Timestamp("2026-01-05T00:00Z")


def test_wrong_sheet_name_is_named(tmp_path: Path) -> None:
    with pd.ExcelWriter(tmp_path / "lab.xlsx") as writer:
        pd.DataFrame({"code": ["H1"], "name": ["H"], "party_type": ["collection_site"]}).to_excel(
            writer, sheet_name="parties", index=False
        )
        pd.DataFrame({"lot": ["L1"]}).to_excel(writer, sheet_name="Batches 2", index=False)
    with pytest.raises(ValidationFailed) as info:
        read_file(tmp_path / "lab.xlsx")
    assert "sheet 'Batches 2' is not an exchange table" in str(info.value.errors[0])


def test_workbook_sheets_are_read_as_tables(tmp_path: Path) -> None:
    with pd.ExcelWriter(tmp_path / "lab.xlsx") as writer:
        pd.DataFrame({"code": ["H1"], "name": ["H"], "party_type": ["collection_site"]}).to_excel(
            writer, sheet_name="parties", index=False
        )
    (raw,) = read_file(tmp_path / "lab.xlsx")
    assert (raw.table, raw.source) == ("parties", "lab.xlsx#parties")
    assert validate_table(raw).errors == []


def test_header_unit_is_converted(tmp_path: Path) -> None:
    write_folder(
        tmp_path,
        {
            "collections.csv": "din,donor,party,tissue_source,collected_at,"
            "volume [L]\nA999921123456,D1,H1,bm,"
            "2026-01-05T00:00Z,0.05\n"
        },
    )
    (raw,) = read_file(tmp_path / "collections.csv")
    assert validate_table(raw).frame["volume"].iloc[0] == pytest.approx(50.0)  # 0.05 L = 50 mL


def test_codes_that_spell_null_are_kept(tmp_path: Path) -> None:
    # Found by the import/export round-trip property: a donor code "NULL" is a code.
    write_folder(tmp_path, {"donors.csv": "code,donor_type,age_years\nNULL,autologous,NA\n"})
    (raw,) = read_file(tmp_path / "donors.csv")
    table = validate_table(raw)
    assert table.errors == []
    assert table.frame["code"].iloc[0] == "NULL"
    assert pd.isna(table.frame["age_years"].iloc[0])  # "NA" in a number column is no value
