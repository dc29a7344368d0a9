"""Fixtures of the OPC UA tests: one simulated plant and one home with a monitoring model."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from opcua_helpers import FAULTS, N_BATCHES, SEED, register_lots, store_series

from saisei.services.monitoring import build_model
from saisei.simulation import SimulationResult, simulate
from saisei.storage.models import User
from saisei.storage.repositories.quality import ensure_roles
from saisei.storage.store import Store


@pytest.fixture(scope="session")
def plant() -> SimulationResult:
    """Twelve simulated MSC batches (as in tests/services/test_monitoring_service.py); the
    last has a temperature drift from 120 h."""
    return simulate("msc", N_BATCHES, SEED, faults=FAULTS, design_space_points=0)


@pytest.fixture(scope="session")
def lots(plant: SimulationResult) -> list[str]:
    """Lot numbers in order of start."""
    return [str(x) for x in plant.tables["batches"].sort_values("started_at")["lot"]]


@pytest.fixture(scope="session")
def series(plant: SimulationResult) -> pd.DataFrame:
    """Every simulated series."""
    data = plant.tables["timeseries"]
    return data.assign(lot=data["lot"].astype(str), stage=data["stage"].astype(str))


def _add_users(store: Store, users: dict[str, list[str]]) -> None:
    """Accounts of the people who build and score models here (permission-checked)."""
    now = datetime.now(UTC)
    with store.unit_of_work(actor="setup", source="test", reason="test users") as uow:
        for username, roles in users.items():
            user = User(
                username=username,
                full_name=username,
                password_hash="!",
                active=True,
                failed_logins=0,
                password_changed_at=now,
                created_at=now,
            )
            user.roles = ensure_roles(uow.session, roles)
            uow.session.add(user)


@pytest.fixture(scope="session")
def home(
    tmp_path_factory: pytest.TempPathFactory, lots: list[str], series: pd.DataFrame
) -> Iterator[Store]:
    """An SQLite home: the eleven normal lots with their series, the faulty lot registered
    without data (it is acquired live), and model 'msc-live' built on the normal lots."""
    root = tmp_path_factory.mktemp("home")
    store = Store.open(f"sqlite:///{root / 'saisei.db'}", root / "timeseries")
    store.upgrade()
    _add_users(store, {"ps.kimura": ["process_scientist"], "op.sato": ["operator"], "qa": ["qa"]})
    register_lots(store, lots)
    for lot in lots[:-1]:
        store_series(store, lot, series[(series["lot"] == lot) & (series["stage"] == "expansion")])
    build_model(
        store,
        name="msc-live",
        product="MSC",
        stage="expansion",
        actor="ps.kimura",
        lots=lots[:-1],
        n_components=2,
    )
    yield store
    store.close()


@pytest.fixture
def home_dir(home: Store) -> Path:
    """Folder of the home (for the CLI)."""
    return Path(str(home.bind.engine.url.database)).parent  # type: ignore[union-attr]
