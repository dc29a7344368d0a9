"""The fast paths of reading and validation agree with the pandas reference they replace."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saisei.errors import ValidationFailed
from saisei.ingestion.reader import RawTable, read_file
from saisei.ingestion.validate import group_codes, validate_table

from .conftest import write_folder

HEADER = "lot,stage,variable,t,value,unit\n"


@pytest.mark.parametrize(
    "content",
    [
        HEADER + "L1,s,temp,0,37,degC\nL1,s,temp,1,37.5,degC\n",
        # Quoted commas and quotes, padding kept, empty cells kept as empty text.
        HEADER + 'L1," s ","a,""b""",007,,degC\n',
        # Blank lines are skipped; CRLF line ends; a byte-order mark.
        "\ufeff" + HEADER.replace("\n", "\r\n") + "L1,s,x,0,1,\r\n\r\nL2,s,x,0,NA,\r\n",
        # Spellings of no value stay text until validation.
        HEADER + "NULL,NaN,None,nan,N/A,\n",
        # Japanese text.
        HEADER + "ロット1,培養,温度,0,37,degC\n",
        # Handed to pandas: repeated header, a row with too many fields, no rows.
        "lot,lot\nL1,L2\n",
        HEADER + "L1,s,x,0,1,degC,extra\n",
        HEADER,
    ],
)
def test_csv_cells_are_read_as_pandas_reads_them(tmp_path: Path, content: str) -> None:
    write_folder(tmp_path, {"timeseries.csv": content})
    path = tmp_path / "timeseries.csv"
    try:
        reference = pd.read_csv(
            path, dtype=str, keep_default_na=False, na_values=[], encoding="utf-8-sig"
        )
    except pd.errors.ParserError:
        with pytest.raises(pd.errors.ParserError):
            read_file(path)
        return
    (raw,) = read_file(path)
    # Number columns of a series table are typed while reading; their text is read on demand.
    pd.testing.assert_frame_equal(raw.as_text().frame, reference)


def test_numbers_parse_as_pandas_parses_them(tmp_path: Path) -> None:
    rows = ["1e3", "+2.5", "-.5", "5.", " 7 ", "00012", "2.5E-3", "NA", ""]
    content = HEADER + "".join(f"L1,s,x,{i},{v},\n" for i, v in enumerate(rows))
    write_folder(tmp_path, {"timeseries.csv": content})
    (raw,) = read_file(tmp_path / "timeseries.csv")
    table = validate_table(raw)
    assert table.errors == []
    # pandas.to_numeric on the stripped text is the reference ("NA" and "" are no value).
    expected = pd.to_numeric(pd.Series([v.strip() or None for v in rows]).replace("NA", None))
    np.testing.assert_array_equal(table.frame["value"].to_numpy(), expected.to_numpy(float))


def test_one_bad_number_is_reported_with_its_row(tmp_path: Path) -> None:
    content = HEADER + 'L1,s,x,0,37,degC\nL1,s,x,1,3 7,degC\nL1,s,x,2,"37,5",degC\n'
    write_folder(tmp_path, {"timeseries.csv": content})
    (raw,) = read_file(tmp_path / "timeseries.csv")
    errors = [str(e) for e in validate_table(raw).errors]
    assert any("row 2, field 'value': must be a number (float)" in e for e in errors), errors
    assert any("row 3, field 'value': uses a comma as decimal separator" in e for e in errors)


def test_padded_text_is_stripped_and_an_unknown_choice_named(tmp_path: Path) -> None:
    content = "lot,product_type\n L1 ,MSC\nL2,MSCs\nL3,MSC\n"
    write_folder(tmp_path, {"batches.csv": content})
    (raw,) = read_file(tmp_path / "batches.csv")
    table = validate_table(raw)
    assert table.frame["lot"].tolist() == ["L1", "L2", "L3"]
    assert [str(e) for e in table.errors] == [
        "batches.csv, row 2, field 'product_type': must be one of MSC, CAR-T, iPSC-derived, "
        "AAV, LV (got 'MSCs')"
    ]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["L1", "L2", "L3", None]),
            st.sampled_from(["expansion", "harvest"]),
            st.integers(0, 3),
        ),
        max_size=40,
    )
)
def test_group_codes_number_groups_as_pandas_does(rows: list[tuple[object, ...]]) -> None:
    frame = pd.DataFrame(rows, columns=["lot", "stage", "n"])
    frame["lot"] = frame["lot"].astype("str")
    # As read, and grouped as files usually are (each series one block).
    grouped = frame.sort_values(["lot", "stage", "n"], na_position="first", ignore_index=True)
    for data in (frame, grouped):
        reference = data.groupby(["lot", "stage", "n"], sort=False, dropna=False).ngroup()
        np.testing.assert_array_equal(group_codes(data, ["lot", "stage", "n"]), reference)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["L1", "L2"]), st.sampled_from(["a", "b"]), st.integers(0, 3)),
        min_size=1,
        max_size=30,
    ),
    st.booleans(),
)
def test_repeated_and_backward_times_are_found_as_a_plain_loop_finds_them(
    rows: list[tuple[str, str, int]], in_time_order: bool
) -> None:
    if in_time_order:
        rows = sorted(rows, key=lambda r: r[2])
    content = HEADER + "".join(f"{lot},s,{v},{t},1,\n" for lot, v, t in rows)
    table = validate_table(_raw(content))
    flagged: dict[str, set[int]] = {"duplicated key": set(), "time goes backwards": set()}
    for error in table.errors:
        for rule, found in flagged.items():
            if rule in error.message and error.row is not None:
                found.add(error.row)
    # Reference: one pass over the rows, remembering what each series has seen.
    seen: dict[tuple[str, str], set[int]] = {}
    last: dict[tuple[str, str], int] = {}
    repeated, backwards = set(), set()
    for row, (lot, variable, t) in enumerate(rows, start=1):
        series = (lot, variable)
        if t in seen.setdefault(series, set()):
            repeated.add(row)
        if series in last and t < last[series]:
            backwards.add(row)
        seen[series].add(t)
        last[series] = t
    assert flagged == {"duplicated key": repeated, "time goes backwards": backwards}


def _raw(content: str) -> RawTable:
    folder = Path(tempfile.mkdtemp())
    try:
        write_folder(folder, {"timeseries.csv": content})
        (raw,) = read_file(folder / "timeseries.csv")
    finally:
        shutil.rmtree(folder)
    return raw


def test_whole_numbers_and_missing_words_in_an_int_column(tmp_path: Path) -> None:
    content = (
        "code,donor_type,age_years\nD1,allogeneic,34.5\nD2,allogeneic, 40 \nD3,allogeneic,NA\n"
    )
    write_folder(tmp_path, {"donors.csv": content})
    (raw,) = read_file(tmp_path / "donors.csv")
    table = validate_table(raw)
    assert [str(e) for e in table.errors] == [
        "donors.csv, row 1, field 'age_years': must be a whole number (got '34.5')"
    ]
    assert table.frame["age_years"].tolist()[1] == 40.0
    assert np.isnan(table.frame["age_years"].tolist()[2])


def test_unpadded_numbers_and_spellings_of_no_value(tmp_path: Path) -> None:
    # Every value parses as it stands (the direct path); "nan", "NaN" and "NAN" are
    # spellings of no value (as in pandas' and R's exports), so those rows lack their time.
    times = ["1e-1", "+2.5", ".5", "5.", "nan", "00012", "NaN", "2.5E-3", "NAN"]
    content = HEADER + "".join(f"L1,s,v{i},{t},1,\n" for i, t in enumerate(times))
    write_folder(tmp_path, {"timeseries.csv": content})
    (raw,) = read_file(tmp_path / "timeseries.csv")
    table = validate_table(raw)
    assert [(e.row, e.field, e.message) for e in table.errors] == [
        (row, "t", "required value is missing") for row in (5, 7, 9)
    ]
    # Reference: pandas.to_numeric of the same text, the spellings of no value as None.
    words = {"nan", "NaN", "NAN"}
    given = pd.Series([None if t in words else t for t in times], dtype=object)
    expected = pd.to_numeric(given).to_numpy(float)
    np.testing.assert_array_equal(table.frame["t"].to_numpy(), expected)


def test_missing_text_numbers_of_a_parquet_file_are_no_value(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"lot": "L1", "stage": "s", "variable": ["a", "b", "c"], "t": ["0", None, "2"]}
    )
    frame.to_parquet(tmp_path / "timeseries.parquet", index=False)
    (raw,) = read_file(tmp_path / "timeseries.parquet")
    table = validate_table(raw)
    assert [(e.row, e.field, e.message) for e in table.errors] == [
        (2, "t", "required value is missing")
    ]
    np.testing.assert_array_equal(table.frame["t"].to_numpy(), [0.0, np.nan, 2.0])


def test_bad_byte_after_the_header_is_named_with_its_line(tmp_path: Path) -> None:
    # Arrow reads the file; a byte that is not UTF-8 sends it to the decoding that names it.
    (tmp_path / "timeseries.csv").write_bytes(
        (HEADER + "L1,s,x,0,1,degC\nL1,s,x,1,2,degC\n").encode() + b'L1,"s\xff",x,2,3,degC\n'
    )
    with pytest.raises(ValidationFailed) as caught:
        read_file(tmp_path / "timeseries.csv")
    assert [str(e) for e in caught.value.errors] == [
        "timeseries.csv, row 3: byte 0xFF at line 4 is not valid UTF-8; save the file as "
        "UTF-8 (CSV UTF-8 in Excel)"
    ]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["L1", "L2", "L3"]),
            st.sampled_from(["expansion", "harvest"]),
            st.sampled_from(["temp", "ph"]),
        ),
        min_size=1,
        max_size=30,
    ),
    st.booleans(),
)
def test_segment_and_series_numbering_are_those_of_pandas_groupby(
    rows: list[tuple[str, str, str]], grouped: bool
) -> None:
    if grouped:
        rows = sorted(rows)
    content = HEADER + "".join(
        f"{lot},{stage},{v},{i},1,\n" for i, (lot, stage, v) in enumerate(rows)
    )
    table = validate_table(_raw(content))
    frame = pd.DataFrame(rows, columns=["lot", "stage", "variable"])
    for columns in (["lot", "stage"], ["lot", "stage", "variable"], ["lot"]):
        reference = frame.groupby(columns, sort=False).ngroup().to_numpy()
        np.testing.assert_array_equal(table.codes(columns), reference)


def test_parquet_text_is_read_as_pandas_reads_it_and_numbered_from_the_file(
    tmp_path: Path,
) -> None:
    # Several row groups (each with its own dictionary), a missing lot, a header unit.
    frame = pd.DataFrame(
        {
            "lot": ["L2", "L1", "L2", None] * 50,
            "stage": "s",
            "variable": ["a", "b"] * 100,
            "t [min]": [str(i) for i in range(200)],
        }
    )
    path = tmp_path / "timeseries.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=30)
    (raw,) = read_file(path)
    reference = pd.read_parquet(path).rename(columns={"t [min]": "t"})
    pd.testing.assert_frame_equal(raw.frame, reference)
    table = validate_table(raw)
    assert [(e.row, e.field) for e in table.errors] == [(r, "lot") for r in range(4, 201, 4)]
    columns = ["stage", "variable"]
    np.testing.assert_array_equal(
        table.codes(columns), reference.groupby(columns, sort=False).ngroup().to_numpy()
    )
    np.testing.assert_allclose(table.frame["t"].to_numpy(), np.arange(200) / 60.0, rtol=1e-12)
