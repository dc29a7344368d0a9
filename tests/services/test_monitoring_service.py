"""Monitoring models built from simulated normal lots detect an injected fault."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from service_users import add_users
from sqlalchemy import text

from saisei.errors import (
    AuthenticationFailed,
    IntegrityViolation,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from saisei.services.ingest import import_path
from saisei.services.monitoring import build_model, list_models, score_lot
from saisei.services.simulation import simulate_to_folder
from saisei.storage.store import Store


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twelve simulated MSC lots; lot 12 has a temperature-controller drift from 120 h."""
    out = tmp_path_factory.mktemp("plant")
    simulate_to_folder("msc", 12, 7, out, faults="temperature_drift@12:120")
    return out


@pytest.fixture(scope="module")
def stocked(
    plant: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, dict[str, object]]]:
    """The plant imported once into an SQLite home (tests use distinct model names)."""
    home = tmp_path_factory.mktemp("home")
    store = Store.open(f"sqlite:///{home / 'saisei.db'}", home / "timeseries")
    store.upgrade()
    import_path(store, plant, actor="importer")
    add_users(
        store,
        {
            "ps.kimura": ["process_scientist"],
            "op.sato": ["operator"],
            "op": ["operator"],
            "a": ["process_scientist"],
            "v": ["viewer"],
        },
    )
    yield store, json.loads((plant / "truth.json").read_text())
    store.close()


def _fault(truth: dict[str, object]) -> dict[str, object]:
    (fault,) = [f for f in truth["faults"] if f["kind"] == "temperature_drift"]  # type: ignore[union-attr,index]
    return fault  # type: ignore[no-any-return]


def test_model_of_normal_lots_flags_the_faulty_lot(
    stocked: tuple[Store, dict[str, object]],
) -> None:
    store, truth = stocked
    fault = _fault(truth)
    faulty = str(fault["lot"])
    normal = [lot for lot in _lots(store) if lot != faulty]
    summary = build_model(
        store,
        name="msc-exp",
        product="MSC",
        stage="expansion",
        actor="ps.kimura",
        lots=normal,
        n_components=2,
    )
    assert summary.version == 1
    assert set(summary.variables) == {"DO", "agitation", "pH", "temperature"}
    result = score_lot(store, faulty, model="msc-exp", actor="op.sato")
    assert len(result.alarms) > 0
    onset = float(fault["onset_h"])  # type: ignore[arg-type]
    first = float(result.alarms["t"].min())
    assert first >= onset - 1.0, "no alarm before the fault starts"
    assert "temperature" in result.alarms["top_variables"].iloc[0]
    again = score_lot(store, faulty, model="msc-exp", actor="op.sato")
    assert again.new_alarms == 0, "alarms are stored once"
    quiet = [score_lot(store, lot, model="msc-exp", actor="op") for lot in normal[:3]]
    # 99 % limits: a normal lot's points alarm rarely (limits along maturity).
    assert sum(len(r.alarms) for r in quiet) <= 0.05 * sum(len(r.points) for r in quiet)


def _lots(store: Store) -> list[str]:
    from saisei.services.batches import list_batches

    return sorted(b.lot_number for b in list_batches(store))


def test_versions_and_listing(stocked: tuple[Store, dict[str, object]]) -> None:
    store, _ = stocked
    build_model(store, name="v", product="MSC", stage="expansion", actor="a", n_components=1)
    build_model(store, name="v", product="MSC", stage="expansion", actor="a", n_components=2)
    assert [(m.version, m.n_components) for m in list_models(store) if m.name == "v"] == [
        (1, 1),
        (2, 2),
    ]


def test_too_few_lots_and_unknown_model(stocked: tuple[Store, dict[str, object]]) -> None:
    store, _ = stocked
    with pytest.raises(ValidationFailed, match="at least 5 reference lots"):
        build_model(
            store, name="m", product="MSC", stage="expansion", actor="a", lots=_lots(store)[:2]
        )
    with pytest.raises(NotFound, match="No monitoring model called 'nope'"):
        score_lot(store, _lots(store)[0], model="nope", actor="a")


def test_altered_artefact_is_refused(stocked: tuple[Store, dict[str, object]]) -> None:
    store, _ = stocked
    build_model(store, name="tampered", product="MSC", stage="expansion", actor="a", n_components=1)
    with store.bind.begin() as connection:  # type: ignore[union-attr]
        connection.execute(
            text("UPDATE monitoring_models SET sha256 = :h WHERE name = :n"),
            {"h": "0" * 64, "n": "tampered"},
        )
    with pytest.raises(IntegrityViolation, match="altered after it was stored"):
        score_lot(store, _lots(store)[0], model="tampered", actor="a")


def test_building_and_scoring_need_their_permissions(
    stocked: tuple[Store, dict[str, object]],
) -> None:
    store, _ = stocked
    with pytest.raises(PermissionDenied, match=r"'op' .* may not run monitoring.build_model"):
        build_model(store, name="p", product="MSC", stage="expansion", actor="op", n_components=1)
    with pytest.raises(AuthenticationFailed, match="No user 'nobody' is known"):
        build_model(store, name="p", product="MSC", stage="expansion", actor="nobody")
    build_model(store, name="p", product="MSC", stage="expansion", actor="a", n_components=1)
    lot = _lots(store)[0]
    with pytest.raises(PermissionDenied, match=r"'v' .* may not run monitoring.score_lot"):
        score_lot(store, lot, model="p", actor="v")
    # the unattended actor of live acquisition scores without an account, and builds nothing
    assert score_lot(store, lot, model="p", actor="system").model == "p"
    with pytest.raises(AuthenticationFailed, match="No user 'system' is known"):
        build_model(store, name="p", product="MSC", stage="expansion", actor="system")
