"""`saisei custody` and `saisei shipments` on a real home."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from saisei.cli import app
from saisei.domain.enums import DonorType, PartyType, QualificationStatus, SubjectType
from saisei.storage.models import ChainOfIdentity, Collection, Donor, Party, Shipment, User
from saisei.storage.repositories.quality import ensure_roles
from saisei.storage.store import Store

runner = CliRunner()
COI, DIN = "CHA999925000011", "A999921123456"  # DIN: ICCBBA ST-001 figure 2
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home with three parties (one pending), a chain, its collection and a logged shipment."""
    home = tmp_path / "home"
    assert runner.invoke(app, ["--home", str(home), "init"]).exit_code == 0
    store = Store.open(f"sqlite:///{home / 'saisei.db'}", home / "timeseries")
    with store.unit_of_work(actor="setup", source="test", reason="setup") as uow:
        parties = {
            code: Party(
                code=code,
                name=code.title(),
                party_type=kind,
                qualification_status=status,
            )
            for code, kind, status in (
                ("HOSP", PartyType.COLLECTION_SITE, QualificationStatus.QUALIFIED),
                ("MFG", PartyType.MANUFACTURER, QualificationStatus.QUALIFIED),
                ("NEWCO", PartyType.COURIER, QualificationStatus.PENDING),
            )
        }
        donor = Donor(code="PT-001", donor_type=DonorType.AUTOLOGOUS)
        uow.session.add_all([*parties.values(), donor])
        uow.flush()
        chain = ChainOfIdentity(coi=COI, donor_id=donor.id)
        uow.session.add(chain)
        uow.flush()
        uow.session.add(
            Collection(
                din=DIN,
                donor_id=donor.id,
                coi_id=chain.id,
                party_id=parties["HOSP"].id,
                tissue_source="leukapheresis",
                collected_at=T0,
            )
        )
        uow.session.add(
            Shipment(
                code="SH-1",
                subject_type=SubjectType.COLLECTION,
                subject_ref=DIN,
                from_party_id=parties["HOSP"].id,
                to_party_id=parties["MFG"].id,
                condition_class="2-8C",
                shipped_at=T0,
                received_at=T0 + timedelta(hours=1),
            )
        )
        temps = [5.0] * 4 + [9.0] * 3 + [5.0] * 5
        store.timeseries.write_segment(
            uow.session,
            pd.DataFrame(
                {
                    "variable": "temperature",
                    "t": [i / 12 for i in range(12)],
                    "value": temps,
                    "timestamp": [T0 + timedelta(minutes=5 * i) for i in range(12)],
                }
            ),
            subject_ref="SH-1",
            subject_type=SubjectType.SHIPMENT,
        )
        # receipt is permission-checked: an operator evaluates, QA acknowledges
        for username, role in (("op.mori", "operator"), ("qa.sato", "qa"), ("view.abe", "viewer")):
            user = User(
                username=username,
                full_name=username,
                password_hash="!",
                active=True,
                failed_logins=0,
                password_changed_at=T0,
                created_at=T0,
            )
            user.roles = ensure_roles(uow.session, [role])
            uow.session.add(user)
    store.close()
    return home


def _run(home: Path, *args: str, user: str | None = "op.mori") -> Result:
    return runner.invoke(
        app, ["--home", str(home), *args], env={"SAISEI_USER": user} if user else None
    )


def _ok(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _record_start(home: Path) -> None:
    steps = [
        ("collection", "HOSP", ["--din", DIN, "--scan", f"BAG-1={DIN}"]),
        ("labelling", "HOSP", ["--scan", f"BAG-1={DIN}"]),
        ("packing", "HOSP", ["--scan", f"BAG-1={DIN}", "--shipment", "SH-1"]),
    ]
    for i, (event, party, extra) in enumerate(steps):
        at = (T0 + timedelta(minutes=10 * i)).isoformat()
        _ok(
            _run(
                home,
                "custody",
                "record",
                COI,
                event,
                "--party",
                party,
                "--at",
                at,
                *extra,
                "--json",
            )
        )


def test_parties_list_and_qualify(home: Path) -> None:
    listed = {p["code"]: p for p in _ok(_run(home, "custody", "parties", "list", "--json"))}
    assert listed["NEWCO"]["qualification_status"] == "pending"
    refused = _run(home, "custody", "parties", "qualify", "NEWCO", "--until", "2099-01-01")
    assert refused.exit_code == 1 and "needs a reason" in refused.stderr
    done = _ok(
        _run(
            home,
            "custody",
            "parties",
            "qualify",
            "NEWCO",
            "--until",
            "2099-01-01",
            "--reason",
            "audit passed",
            "--json",
        )
    )
    assert done["qualification_status"] == "qualified" and done["qualified_until"] == "2099-01-01"


def test_shipment_create_refuses_an_unqualified_party(home: Path) -> None:
    result = _run(
        home,
        "shipments",
        "create",
        "SH-2",
        "--subject-type",
        "collection",
        "--subject-ref",
        DIN,
        "--from",
        "NEWCO",
        "--to",
        "MFG",
        "--shipped-at",
        "2025-03-01T08:00:00Z",
    )
    assert result.exit_code == 1
    assert "shipment from party NEWCO" in result.stderr and "'pending'" in result.stderr
    unattributed = _run(home, "custody", "parties", "qualify", "MFG", "--reason", "x", user=None)
    assert unattributed.exit_code == 1 and "give --user" in unattributed.stderr


def test_record_show_and_verify_a_chain(home: Path) -> None:
    _record_start(home)
    view = _ok(_run(home, "custody", "show", DIN, "--json"))
    assert view["coi"] == COI and view["stage"] == "packed"
    assert [e["event_type"] for e in view["events"]] == ["collection", "labelling", "packing"]
    assert {e["actor"] for e in view["events"]} == {"op.mori"}
    assert [s["code"] for s in view["shipments"]] == ["SH-1"]
    assert view["integrity"]["status"] == "intact"
    text = _run(home, "custody", "show", COI)
    assert text.exit_code == 0 and "packing" in text.stdout and "SH-1" in text.stdout
    report = _ok(_run(home, "custody", "verify", "--json"))
    assert report["ok"] and report["counts"]["intact"] == 1
    refused = _run(
        home,
        "custody",
        "record",
        COI,
        "receipt",
        "--party",
        "MFG",
        "--at",
        "2025-03-01T09:00:00Z",
        "--scan",
        f"BAG-1={DIN}",
    )
    assert refused.exit_code == 1 and "'receipt' is not permitted" in refused.stderr


def test_verify_names_the_first_tampered_event(home: Path) -> None:
    _record_start(home)
    with sqlite3.connect(home / "saisei.db") as connection:
        connection.execute("UPDATE custody_events SET actor = 'mallory' WHERE seq = 2")
    result = _run(home, "custody", "verify")
    assert result.exit_code == 1
    assert f"chain {COI}: event 2 (hash)" in result.stderr


def test_wrong_scan_via_cli_opens_a_deviation(home: Path) -> None:
    _record_start(home)
    result = _run(
        home,
        "custody",
        "record",
        COI,
        "hand_over",
        "--party",
        "MFG",
        "--at",
        "2025-03-01T09:00:00Z",
        "--scan",
        f"BAG-7={DIN}",
    )
    assert result.exit_code == 1 and "Deviation DEV-00001 was opened" in result.stderr
    view = _ok(_run(home, "custody", "show", COI, "--json"))
    assert view["blocked_by"] == "DEV-00001" and view["events"][-1]["event_type"] == "chain_blocked"


def test_shipments_evaluate_and_acknowledge(home: Path) -> None:
    refused = _run(home, "shipments", "evaluate", "SH-1", user="view.abe")
    assert refused.exit_code == 1 and "may not run shipments.evaluate_shipment" in refused.stderr
    evaluated = _ok(_run(home, "shipments", "evaluate", "SH-1", "--json"))
    assert evaluated["status"] == "quarantined"
    assert evaluated["evaluation"]["excursions"][0]["duration_h"] == pytest.approx(0.25)
    text = _run(home, "shipments", "evaluate", "SH-1")
    assert "excursion 1" in text.stdout
    ack = ("shipments", "acknowledge", "SH-1", "--excursion", "1", "--comment")
    operator = _run(home, *ack, "seen")
    assert operator.exit_code == 1 and "may not run shipments.acknowledge" in operator.stderr
    blank = _run(home, *ack, " ", user="qa.sato")
    assert blank.exit_code == 1 and "requires a comment" in blank.stderr
    done = _ok(
        _run(
            home,
            "shipments",
            "acknowledge",
            "SH-1",
            "--excursion",
            "1",
            "--comment",
            "lid opened at hub",
            "--json",
            user="qa.sato",
        )
    )
    assert done["status"] == "accepted"
    view = _ok(_run(home, "custody", "show", COI, "--json"))
    assert view["shipments"][0]["status"] == "accepted"
