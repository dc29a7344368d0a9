"""Imported custody chains are hash-linked on import and verify like recorded ones."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from custody_helpers import OTHER_DIN

from saisei.custody.chains import verify_chains
from saisei.custody.events import record_event
from saisei.errors import CustodyBreak
from saisei.services.ingest import import_path
from saisei.services.simulation import simulate_to_folder
from saisei.storage.store import Store

#: UK Red Book annex 2's example DIN as its barcode (data identifier '=' + DIN + flags 00).
OTHER_DIN_BARCODE = f"={OTHER_DIN}00"


@pytest.fixture(scope="module")
def exchange(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two simulated CAR-T lots; a gas-supply fault on the first gives the deviations table rows."""
    out = tmp_path_factory.mktemp("cart")
    simulate_to_folder("cart", 2, 11, out, faults="do_loss@1")
    return out


def _edited(exchange: Path, tmp_path: Path, edit: str) -> tuple[Path, str]:
    """A copy of the exchange folder with one custody event edited in the first chain."""
    folder = tmp_path / "edited"
    folder.mkdir()
    for file in exchange.iterdir():
        if file.is_file():
            (folder / file.name).write_bytes(file.read_bytes())
        else:
            (folder / file.name).mkdir()
            for inner in file.iterdir():
                (folder / file.name / inner.name).write_bytes(inner.read_bytes())
    events = pd.read_csv(folder / "custody_events.csv", dtype=str, keep_default_na=False)
    coi = events["coi"].iloc[0]
    chain = events.index[events["coi"] == coi]
    if edit == "drop hand-over":
        first = next(i for i in chain if events.at[i, "event_type"] == "hand_over")
        events = events.drop(index=first)
    elif edit == "foreign scan":
        first = next(i for i in chain if events.at[i, "event_type"] == "receipt")
        events.at[first, "scanned_ids"] = OTHER_DIN_BARCODE
    elif edit == "no scan":
        first = next(i for i in chain if events.at[i, "event_type"] == "packing")
        events.at[first, "scanned_ids"] = ""
    events.to_csv(folder / "custody_events.csv", index=False)
    return folder, coi


def test_an_intact_imported_chain_verifies_as_intact(store: Store, exchange: Path) -> None:
    report = import_path(store, exchange, actor="importer")
    assert [c.status for c in report.custody_chains] == ["intact", "intact"]
    verification = verify_chains(store, strict=True)
    assert verification.ok
    assert [(c.status, c.events == c.linked_events) for c in verification.chains] == [
        ("intact", True),
        ("intact", True),
    ]
    # linked like a recorded chain: nothing may be appended after the last event carelessly
    released = verification.chains[0]
    with pytest.raises(CustodyBreak, match="not permitted"):
        record_event(
            store,
            coi=released.coi,
            event_type="collection",
            actor="op",
            party="H01",
            occurred_at=pd.Timestamp("2030-01-01", tz="UTC").to_pydatetime(),
            din="A999921123456",
        )


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        ("drop hand-over", r"event 4 \(custody\): Custody event 'receipt' is not permitted"),
        ("foreign scan", r"event 5 \(custody\): Scan mismatch on chain"),
    ],
)
def test_a_broken_imported_chain_fails(
    store: Store, exchange: Path, tmp_path: Path, edit: str, problem: str
) -> None:
    folder, coi = _edited(exchange, tmp_path, edit)
    report = import_path(store, folder, actor="importer")
    assert report.ok
    statuses = {c.coi: c.status for c in report.custody_chains}
    assert statuses[coi] == "broken" and list(statuses.values()).count("intact") == 1
    verification = verify_chains(store)
    assert not verification.ok
    (broken,) = verification.broken
    assert broken.coi == coi
    assert re.match(problem, broken.problems[0]), broken.problems[0]


def test_an_imported_row_that_is_no_custody_event_leaves_the_chain_unlinked(
    store: Store, exchange: Path, tmp_path: Path
) -> None:
    folder, coi = _edited(exchange, tmp_path, "no scan")
    report = import_path(store, folder, actor="importer")
    (unlinked,) = [c for c in report.custody_chains if c.status == "unlinked"]
    assert unlinked.coi == coi
    assert unlinked.problem is not None and "packing" in unlinked.problem
    assert "needs at least one scan" in unlinked.problem
    assert verify_chains(store).ok  # unlinked is reported, not failed ...
    assert not verify_chains(store, strict=True).ok  # ... unless strict
