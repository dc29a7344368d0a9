"""`monitor build --workers 2` and `design-space --cluster URL` equal the in-process results."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from distributed import Client
from typer.testing import CliRunner

from saisei.cli import app
from saisei.services.ingest import import_path
from saisei.services.monitoring import load_model
from saisei.services.simulation import simulate_to_folder
from saisei.storage.models import MonitoringModel, User
from saisei.storage.repositories import quality as quality_repo
from saisei.storage.store import Store

runner = CliRunner()


def _add_user(store: Store, username: str, roles: list[str]) -> None:
    """An active account that only acts (no usable password), written as test setup."""
    now = datetime.now(UTC)
    with store.unit_of_work(actor="setup", source="test", reason="test user") as uow:
        user = User(
            username=username,
            full_name=username,
            password_hash="!",
            active=True,
            failed_logins=0,
            password_changed_at=now,
            created_at=now,
        )
        user.roles = quality_repo.ensure_roles(uow.session, roles)
        uow.session.add(user)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten simulated MSC lots imported into a home, and a process scientist."""
    base = tmp_path_factory.mktemp("scale-cli")
    simulate_to_folder("msc", 10, 5, base / "exchange")
    (base / "home").mkdir()
    store = Store.open(f"sqlite:///{base / 'home' / 'saisei.db'}", base / "home" / "timeseries")
    store.upgrade()
    import_path(store, base / "exchange", actor="importer")
    _add_user(store, "ps.ito", ["process_scientist"])
    store.close()
    return base / "home"


def _json(home: Path, *args: str) -> Any:
    result = runner.invoke(app, ["--home", str(home), *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.slow
def test_monitor_build_on_two_workers_equals_the_in_process_build(home: Path) -> None:
    common = ["monitor", "build", "--product", "MSC", "--stage", "expansion", "--actor", "ps.ito"]
    local = _json(home, *common, "--name", "local", "--components", "2")
    spread = _json(home, *common, "--name", "spread", "--components", "2", "--workers", "2")
    for key in ("lots", "variables", "n_components", "kind", "stage"):
        assert spread[key] == local[key], key
    store = Store.open(f"sqlite:///{home / 'saisei.db'}", home / "timeseries")
    try:
        with store.reader() as session:
            rows = {r.name: r for r in session.query(MonitoringModel).all()}
            a, b = load_model(rows["local"]), load_model(rows["spread"])
    finally:
        store.close()
    for name in ("times_", "score_mean_", "score_cov_inv_", "t2_limits_", "spe_limits_"):
        np.testing.assert_allclose(getattr(b, name), getattr(a, name), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(b.pca_.components_, a.pca_.components_, rtol=1e-8, atol=1e-10)


@pytest.mark.slow
def test_design_space_on_a_cluster_equals_the_in_process_grid(home: Path, client: Client) -> None:
    args = [
        "design-space",
        "--attributes",
        "post_thaw_viability,viable_cell_dose",
        "--parameters",
        "cooling_rate",
        "--terms",
        "linear",
        "--product",
        "MSC",
    ]
    local = _json(home, *args, "--name", "local")
    # the running two-worker cluster of the scale tests, through --cluster
    spread = _json(home, *args, "--name", "spread", "--cluster", client.scheduler.address)
    for key in ("box", "fraction_inside", "probability_at_target", "pars"):
        assert spread[key] == local[key], key
