"""The demonstration programme taken through review and release, command by command.

The commands are those of docs/quality.md ("Taking a demo lot through review and release").
argon2 runs at its cheapest through the settings (``SAISEI_ARGON2_*``), which also shows that
the settings reach the password hashes.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from saisei.cli import app
from saisei.domain.enums import BatchStatus, ProductType
from saisei.storage.models import Batch, User
from saisei.storage.store import Store

runner = CliRunner()
ADMIN_PW, QA_PW, QC_PW = "admin-pass-01", "qa-pass-0002", "qc-pass-0003"
#: argon2 at its cheapest (RFC 9106 minimums: t >= 1, m >= 8 KiB per lane).
CHEAP = {
    "SAISEI_ARGON2_TIME_COST": "1",
    "SAISEI_ARGON2_MEMORY_KIB": "64",
    "SAISEI_ARGON2_PARALLELISM": "1",
}


def _run(
    home: Path,
    *args: str,
    password: str | None = None,
    new: str | None = None,
    user: str | None = None,
) -> Result:
    env = {"SAISEI_PASSWORD": password, "SAISEI_NEW_PASSWORD": new, "SAISEI_USER": user}
    return runner.invoke(
        app,
        ["--home", str(home), *args],
        env={**CHEAP, **{k: v for k, v in env.items() if v is not None}},
    )


def _ok(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if result.stdout.lstrip().startswith(("{", "[")) else None


def _users(home: Path) -> None:
    _ok(_run(home, "users", "bootstrap", "admin.kato", "--full-name", "Yui Kato", new=ADMIN_PW))
    for name, full, role, pw in (
        ("qa.sato", "Aiko Sato", "qa", QA_PW),
        ("qc.ito", "Ken Ito", "qc_analyst", QC_PW),
    ):
        _ok(
            _run(
                home,
                "users",
                "create",
                name,
                "--full-name",
                full,
                "--role",
                role,
                "--reason",
                "demo staff",
                user="admin.kato",
                password=ADMIN_PW,
                new=pw,
            )
        )


@pytest.mark.slow
def test_a_demo_lot_is_reviewed_and_released_and_a_broken_chain_is_refused(
    tmp_path: Path,
) -> None:
    home = tmp_path / "demo"
    # the small programme has the full one's shape: held lots, a broken chain, an OOS lot
    summary = _ok(_run(home, "demo", "--home", str(home), "--small", "--json"))
    assert summary["import"]["ok"] is True
    truth = json.loads((home / "demo-exchange" / "truth.json").read_text())
    held = truth["awaiting_disposition"]
    # docs/simulator.md: the newest three lots of each product await disposition
    assert {product: len(lots) for product, lots in held.items()} == {
        "msc": 3,
        "cart": 3,
        "aav": 3,
    }
    (fault,) = truth["custody_faults"]
    assert fault["kind"] == "missing_hand_over"
    broken_lot = fault["lot"]
    msc_truth = {b["lot"]: b for b in truth["batches"]["msc"]}
    lot = next(
        lot for lot in held["msc"] if lot != broken_lot and msc_truth[lot]["qc_passed"] is True
    )

    awaiting = _ok(_run(home, "batches", "list", "--status", "quarantine", "--json"))
    assert sorted(b["lot_number"] for b in awaiting) == sorted(
        x for lots in held.values() for x in lots
    )

    _users(home)
    store = Store.open(f"sqlite:///{home / 'saisei.db'}", home / "timeseries")
    try:
        with store.reader() as session:
            stored = session.scalars(select(User.password_hash).filter_by(username="qa.sato")).one()
    finally:
        store.close()
    # PHC string format of argon2 (RFC 9106 / the reference implementation's encoding)
    assert stored is not None and stored.startswith("$argon2id$v=19$m=64,t=1,p=1$")

    # The lot's identity markers meet the ISCT 2006 minimal criteria for MSC (Dominici et al.,
    # Cytotherapy 8:315): CD73, CD90, CD105 >= 95 %; CD34, CD45, HLA-DR <= 2 %. Every release
    # specification is checked by the "QC results" prerequisite below.
    isct = {"cd73": (95, None), "cd90": (95, None), "cd105": (95, None)}
    isct |= {"cd34": (None, 2), "cd45": (None, 2), "hla_dr": (None, 2)}
    results = {r["attribute"]: r for r in _ok(_run(home, "qc", "list", lot, "--json"))}
    for marker, (low, high) in isct.items():
        value = results[marker]["value"]
        assert (low is None or value >= low) and (high is None or value <= high), marker

    # custody: the imported chains are hash-linked; the lot's verifies, the faulty one does not
    verified = runner.invoke(app, ["--home", str(home), "custody", "verify", "--json"])
    assert verified.exit_code == 1, verified.output  # one chain is broken
    checks = {c["coi"]: c for c in json.loads(verified.stdout)["chains"]}
    assert json.loads(verified.stdout)["counts"]["unlinked"] == 0
    with (home / "demo-exchange" / "batches.csv").open(encoding="utf-8") as file:
        coi_of = {row["lot"]: row["coi"] for row in csv.DictReader(file)}
    assert checks[coi_of[lot]]["status"] == "intact"
    assert coi_of[broken_lot] == fault["coi"]
    assert checks[fault["coi"]]["status"] == "broken"

    before = _ok(_run(home, "release", lot, "--check", "--json"))
    assert [p["name"] for p in before["prerequisites"] if not p["ok"]] == ["audit-trail review"]
    # a held lot whose QC failed is refused for its out-of-specification results
    cart = {b["lot"]: b for b in truth["batches"]["cart"]}
    failed = [x for x in held["cart"] if cart[x]["qc_passed"] is False]
    assert failed, "the small programme holds a CAR-T lot out of specification"
    for other in failed:
        check = _ok(_run(home, "release", other, "--check", "--json"))
        (qc,) = [p for p in check["prerequisites"] if p["name"] == "QC results"]
        assert not qc["ok"] and "out of specification" in qc["problems"][0]

    _ok(
        _run(
            home,
            "review",
            lot,
            "--comment",
            "audit trail complete",
            "--json",
            user="qa.sato",
            password=QA_PW,
        )
    )
    assert _ok(_run(home, "release", lot, "--check", "--json"))["ready"] is True
    # a QC analyst may not release
    refused = _run(home, "release", lot, user="qc.ito", password=QC_PW)
    assert refused.exit_code == 1 and "batches.dispose" in refused.output

    coa = tmp_path / "coa.html"
    released = _ok(
        _run(home, "release", lot, "--coa", str(coa), "--json", user="qa.sato", password=QA_PW)
    )
    assert released["status"] == "released"
    (signature,) = released["signatures"]
    assert (signature["meaning"], signature["signer"]) == ("release", "qa.sato")
    html = coa.read_text(encoding="utf-8")
    assert lot in html and "Aiko Sato" in html

    # the lot whose chain misses a hand-over: reviewed, but its release is refused
    _ok(_run(home, "review", broken_lot, "--comment", "reviewed", user="qa.sato", password=QA_PW))
    blocked = _run(home, "release", broken_lot, user="qa.sato", password=QA_PW)
    assert blocked.exit_code == 1
    assert "[MISSING] custody chain" in blocked.output
    assert "'receipt' is not permitted" in blocked.output and "'packed'" in blocked.output
    assert "cannot be released" in blocked.output
    assert _ok(_run(home, "release", broken_lot, "--check", "--json"))["status"] == "quarantine"
    _ok(_run(home, "audit", "verify"))


def test_quarantine_moves_a_completed_lot_with_a_reason(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _ok(_run(home, "init"))
    store = Store.open(f"sqlite:///{home / 'saisei.db'}", home / "timeseries")
    try:
        with store.unit_of_work(actor="setup", source="test", reason="test lot") as uow:
            uow.session.add(
                Batch(
                    lot_number="MSC-0009",
                    product_type=ProductType.MSC,
                    status=BatchStatus.COMPLETED,
                )
            )
    finally:
        store.close()
    _users(home)
    no_reason = _run(home, "batches", "quarantine", "MSC-0009", user="qa.sato", password=QA_PW)
    assert no_reason.exit_code == 1 and "reason" in no_reason.output
    analyst = _run(
        home,
        "batches",
        "quarantine",
        "MSC-0009",
        "--reason",
        "manufacturing complete",
        user="qc.ito",
        password=QC_PW,
    )
    assert analyst.exit_code == 1 and "batches.dispose" in analyst.output
    moved = _ok(
        _run(
            home,
            "batches",
            "quarantine",
            "MSC-0009",
            "--reason",
            "manufacturing complete",
            "--json",
            user="qa.sato",
            password=QA_PW,
        )
    )
    assert moved["status"] == "quarantine"
    again = _run(
        home,
        "batches",
        "quarantine",
        "MSC-0009",
        "--reason",
        "twice",
        user="qa.sato",
        password=QA_PW,
    )
    assert again.exit_code == 1
    assert "cannot go from status 'quarantine' to 'quarantine'" in again.output
    trail = _ok(_run(home, "audit", "show", "--json"))
    assert any(
        e["tag"].endswith(":batch:quarantine") and e["reason"] == "manufacturing complete"
        for e in trail
    )
