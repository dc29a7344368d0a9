"""Simulation sweeps and Monte Carlo on the cluster equal the sequential calls."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from distributed import Client
from typer.testing import CliRunner

from saisei.cli import app
from saisei.errors import ValidationFailed
from saisei.scale import monte_carlo_probability, probability_grid, simulate_sweep
from saisei.simulation import probability_in_spec, simulate

runner = CliRunner()


def test_sweep_equals_sequential_simulations(client: Client) -> None:
    results = simulate_sweep("aav", 2, [4, 5], client=client, design_space_points=0)
    for seed, result in zip([4, 5], results, strict=True):
        expected = simulate("aav", 2, seed, design_space_points=0)
        assert result.truth == expected.truth
        for name, table in expected.tables.items():
            pd.testing.assert_frame_equal(result.tables[name], table)
    first, second = (r.tables["timeseries"]["value"].to_numpy() for r in results)
    assert first.shape != second.shape or not np.allclose(first, second), (
        "different seeds must give different plants"
    )


def test_probability_grid_equals_sequential_calls(client: Client) -> None:
    grid = [{"pei_dna_ratio": 1.5}, {"pei_dna_ratio": 3.0}]
    got = probability_grid("aav", grid, n=60, seed=3, client=client)
    assert got == [probability_in_spec("aav", point, n=60, seed=3) for point in grid]


def test_monte_carlo_does_not_depend_on_the_cluster(client: Client) -> None:
    spread = monte_carlo_probability("aav", {}, n=250, chunk_size=100, seed=9, client=client)
    assert spread.chunks == 3
    # The same chunks computed here, one after the other: weights 100, 100, 50.
    parts = [
        probability_in_spec("aav", {}, n=size, seed=s)
        for size, s in zip([100, 100, 50], spread.seeds, strict=True)
    ]
    assert spread.probability == pytest.approx(np.dot(parts, [100, 100, 50]) / 250, abs=1e-15)
    p = spread.probability
    assert spread.standard_error == pytest.approx(np.sqrt(p * (1 - p) / 250))
    assert len(set(spread.seeds)) == 3
    with pytest.raises(ValidationFailed, match="Monte Carlo needs n >= 1"):
        monte_carlo_probability("aav", {}, n=0, client=client)
    with pytest.raises(ValidationFailed, match="at least one seed"):
        simulate_sweep("aav", 1, [], client=client)


def test_cli_simulate_replicates_on_local_workers(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = runner.invoke(
        app,
        [
            "simulate",
            "--product",
            "aav",
            "--batches",
            "1",
            "--seed",
            "2",
            "--out",
            str(out),
            "--replicates",
            "2",
            "--workers",
            "1",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    documents = json.loads(result.stdout)
    assert [d["seed"] for d in documents] == [2, 3]
    assert (out / "seed-2" / "truth.json").is_file()
    assert (out / "seed-3" / "batches.csv").is_file() or any((out / "seed-3").glob("batches.*"))
    single = tmp_path / "single"
    plain = runner.invoke(
        app,
        ["simulate", "--product", "aav", "--batches", "1", "--seed", "3", "--out", str(single)],
    )
    assert plain.exit_code == 0, plain.output
    assert (single / "truth.json").read_text() == (out / "seed-3" / "truth.json").read_text()


def test_cli_scale_info_and_errors() -> None:
    result = runner.invoke(app, ["scale", "info", "--workers", "1", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert len(info["workers"]) == 1 and info["threads"] == 1
    assert info["scheduler"].startswith(("tcp://", "inproc://"))
    text = runner.invoke(app, ["scale", "info", "--workers", "1"])
    assert "workers: 1, threads: 1" in text.stdout
    bad = runner.invoke(app, ["scale", "info"])
    assert bad.exit_code == 1
    assert "Give exactly one of a scheduler address" in bad.stderr
    bad = runner.invoke(
        app, ["simulate", "--product", "aav", "--batches", "1", "--out", "x", "--replicates", "0"]
    )
    assert bad.exit_code == 1
    assert "--replicates must be an integer >= 1" in bad.stderr
