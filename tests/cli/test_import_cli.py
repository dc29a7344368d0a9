"""`saisei import` on the command line: the report, and a row progress bar per table."""

from __future__ import annotations

import json
from pathlib import Path

from rich.progress import Progress
from typer.testing import CliRunner

from saisei.cli import app
from saisei.cli.data import _row_progress

runner = CliRunner()


def test_import_reports_rows_of_each_table(tmp_path: Path) -> None:
    home, folder = tmp_path / "home", tmp_path / "exchange"
    folder.mkdir()
    (folder / "batches.csv").write_text("lot,product_type\nL1,MSC\n", encoding="utf-8")
    (folder / "timeseries.csv").write_text(
        "lot,stage,variable,t,value,unit\nL1,expansion,temperature,0,37,degC\n"
        "L1,expansion,temperature,0.5,37.1,degC\n",
        encoding="utf-8",
    )
    assert runner.invoke(app, ["--home", str(home), "init"]).exit_code == 0
    result = runner.invoke(app, ["--home", str(home), "import", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    tables = {t["table"]: t for t in json.loads(result.stdout)["tables"]}
    assert (tables["batches"]["inserted"], tables["timeseries"]["inserted"]) == (1, 2)


def test_progress_bar_follows_the_rows_of_each_table() -> None:
    with Progress(disable=True) as bar:
        update = _row_progress(bar)
        assert [t.description for t in bar.tasks] == ["reading and validating"]
        update("batches", 2, 2)
        update("timeseries", 6, 24)
        update("timeseries", 24, 24)
        shown = [(t.description, t.completed, t.total) for t in bar.tasks]
    assert shown == [("batches", 2, 2), ("timeseries", 24, 24)]


def test_a_lots_series_are_compacted_from_the_command_line(tmp_path: Path) -> None:
    home, folder, later = tmp_path / "home", tmp_path / "exchange", tmp_path / "later"
    folder.mkdir()
    later.mkdir()
    header = "lot,stage,variable,t,value,unit\n"
    (folder / "batches.csv").write_text("lot,product_type\nL1,MSC\n", encoding="utf-8")
    (folder / "timeseries.csv").write_text(
        header + "L1,expansion,temperature,0,37,degC\n", encoding="utf-8"
    )
    (later / "timeseries.csv").write_text(
        header + "L1,expansion,temperature,1,37.2,degC\n", encoding="utf-8"
    )
    base = ["--home", str(home)]
    assert runner.invoke(app, [*base, "init"]).exit_code == 0
    for path in (folder, later):
        assert runner.invoke(app, [*base, "import", str(path), "--actor", "op.mori"]).exit_code == 0
    done = runner.invoke(app, [*base, "batches", "compact", "L1", "--actor", "ps.kimura"])
    assert done.exit_code == 0, done.output
    assert "Lot L1 stage expansion: 2 segments merged into" in done.output
    assert "(2 rows)" in done.output
    again = runner.invoke(app, [*base, "batches", "compact", "L1", "--json"])
    assert again.exit_code == 0 and json.loads(again.stdout) == []
    unknown = runner.invoke(app, [*base, "batches", "compact", "L9"])
    assert unknown.exit_code == 1 and "No batch with lot number 'L9'" in unknown.output
