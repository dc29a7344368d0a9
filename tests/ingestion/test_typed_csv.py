"""Number columns of a series CSV file typed by Arrow while reading: the same frame and the
same problems, word for word, as reading every cell as text (the reference path)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saisei.errors import ValidationFailed
from saisei.ingestion.reader import RawTable, _read_csv, read_file
from saisei.ingestion.validate import ValidatedTable, validate_table

from .conftest import write_folder

HEADER = "lot,stage,variable,t,value,unit\n"

#: Spellings a spreadsheet, R, pandas or a database export may write in a number column.
TRICKY = [
    "", " ", "NA", "N/A", "nan", "NaN", "NAN", "null", "NULL", "None", "-nan", "+nan", " nan ",
    " NA ", '"NA"', '""', "na", "inf", "-inf", "Infinity", "1e3", "1E-3", "+2.5", "-.5", "5.",
    "00012", " 7 ", "\t8", '"9"', '" 9 "', '"37,5"', '"-1,25"', "3 7", "0x10", "1e400", "-1e400",
    "1e-400", "1.7976931348623157e308", "-0", "-1", "9000", "12.5abc", "١٢",
]  # fmt: skip


def _cell(number: float, style: int) -> str:
    if style == 0:
        return repr(number)
    if style == 1:
        return f"{number:.6e}"
    if style == 2:
        return f"{number:+g}"
    return f"{number:.3f}"


_numbers = st.one_of(
    st.sampled_from(TRICKY),
    st.builds(_cell, st.floats(0, 8760, allow_nan=False), st.integers(0, 3)),
    st.builds(_cell, st.floats(allow_nan=False, allow_infinity=False), st.integers(0, 3)),
)


def _both(content: str) -> tuple[RawTable, RawTable]:
    """The file read with its number columns typed, and read as text (the reference)."""
    folder = Path(tempfile.mkdtemp())
    try:
        write_folder(folder, {"timeseries.csv": content})
        path = folder / "timeseries.csv"
        (typed,) = read_file(path)
        text = _read_csv(path, "timeseries", typed=False)
        as_text = typed.as_text()
    finally:
        shutil.rmtree(folder)
    assert text.typed == ()
    pd.testing.assert_frame_equal(as_text.frame, text.frame)
    assert as_text.header_units == text.header_units
    return typed, text


def _same(typed: ValidatedTable, text: ValidatedTable) -> None:
    pd.testing.assert_frame_equal(typed.frame, text.frame)
    assert [(str(e), e.file, e.row, e.field, e.value) for e in typed.errors] == [
        (str(e), e.file, e.row, e.field, e.value) for e in text.errors
    ]
    np.testing.assert_array_equal(typed.bad, text.bad)
    assert typed.reasons == text.reasons


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["L1", "L2"]), st.sampled_from(["a", "b"]), _numbers, _numbers),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from(["t", "t [min]"]),
)
def test_typed_numbers_give_the_frame_and_errors_of_the_text_path(
    rows: list[tuple[str, str, str, str]], t_header: str
) -> None:
    header = HEADER.replace("t,", f"{t_header},")
    content = header + "".join(f"{lot},s,{v},{t},{x},degC\n" for lot, v, t, x in rows)
    typed, text = _both(content)
    _same(validate_table(typed), validate_table(text))


def test_clean_numbers_are_typed_and_validated_as_text_would_be(tmp_path: Path) -> None:
    content = HEADER + "L1,s,a,0,37,degC\nL1,s,a,1e-1,NA,degC\nL1,s,a,+2.5,,degC\n"
    typed, text = _both(content)
    assert typed.typed == ("t", "value")
    assert typed.frame["t"].dtype == np.float64
    table = validate_table(typed)
    assert table.errors == []
    _same(table, validate_table(text))
    # Reference: pandas.to_numeric of the same text, "NA" and "" as no value.
    np.testing.assert_array_equal(table.frame["t"].to_numpy(), pd.to_numeric(["0", "1e-1", "+2.5"]))
    np.testing.assert_array_equal(table.frame["value"].to_numpy(), [37.0, np.nan, np.nan])


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ('"37,5"', "uses a comma as decimal separator"),
        ("3 7", "must be a number (float)"),
    ],
)
def test_a_value_that_does_not_parse_is_named_as_written(cell: str, message: str) -> None:
    content = HEADER + f"L1,s,a,0,37,degC\nL1,s,a,1,{cell},degC\n"
    typed, _ = _both(content)
    assert typed.typed == ()  # Arrow's typed parse failed: the file was read as text
    errors = validate_table(typed).errors
    written = cell.strip('"')
    assert [(e.row, e.field, e.value) for e in errors] == [(2, "value", written)]
    assert message in errors[0].message


def test_a_problem_in_a_typed_column_is_named_with_the_text(tmp_path: Path) -> None:
    # Both parse as numbers; the missing time and the negative one are named as written.
    content = HEADER + "L1,s,a,NA,37,degC\nL1,s,b,-1.50,37,degC\n"
    typed, _ = _both(content)
    assert typed.typed == ("t", "value")
    errors = validate_table(typed).errors
    assert [(e.row, e.field, e.value) for e in errors] == [(1, "t", "NA"), (2, "t", "-1.50")]
    assert [e.message for e in errors] == [
        "required value is missing",
        "must be between 0 and 8760 h (physically plausible range)",
    ]


def test_nan_written_otherwise_is_a_value_as_in_the_text_path() -> None:
    # "-nan" is not a spelling of no value: Arrow reads NaN, and the file is read as text.
    typed, text = _both(HEADER + "L1,s,a,0,-nan,degC\nL1,s,a,1,nan,degC\n")
    assert typed.typed == ()
    _same(validate_table(typed), validate_table(text))


def test_rows_repeating_a_missing_time_are_named_as_duplicates() -> None:
    typed, text = _both(HEADER + "L1,s,a,NA,1,degC\nL1,s,a,,2,degC\n")
    table = validate_table(typed)
    _same(table, validate_table(text))
    assert [(e.row, e.field, e.value) for e in table.errors] == [
        (1, "t", "NA"),
        (2, "t", ""),
        (2, "lot, stage, variable, t", "L1, s, a, nan"),
    ]


def test_the_text_is_read_from_the_file_as_it_was_even_once_removed(tmp_path: Path) -> None:
    path = tmp_path / "timeseries.csv"
    path.write_text(HEADER + "L1,s,a,-1.50,37,degC\n", encoding="utf-8")
    (typed,) = read_file(path)
    assert typed.typed == ("t", "value")
    path.unlink()  # an operator moves the file away while the import runs
    errors = validate_table(typed).errors
    assert [(e.row, e.field, e.value) for e in errors] == [(1, "t", "-1.50")]


def test_a_file_changed_in_place_during_the_import_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "timeseries.csv"
    path.write_text(HEADER + "L1,s,a,-1.50,37,degC\n", encoding="utf-8")
    (typed,) = read_file(path)
    with path.open("a", encoding="utf-8") as handle:  # still being written by an exporter
        handle.write("L1,s,a,2,38,degC\n")
    with pytest.raises(ValidationFailed) as refused:
        validate_table(typed)  # the typed column has a problem: the text is read again
    assert refused.value.message == "timeseries.csv changed while it was being imported."
    assert refused.value.errors[0].file == "timeseries.csv"
