"""`saisei users`, `qc`, `deviations`, `review` and `release` on a real home."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from saisei.cli import app
from saisei.cli import deviations as deviations_cli
from saisei.cli import qc as qc_cli
from saisei.cli import release as release_cli
from saisei.cli import users as users_cli
from saisei.config import Settings
from saisei.domain.enums import BatchStatus, ProductType
from saisei.quality.users import AuthPolicy
from saisei.storage.models import Batch, ProcessDefinition
from saisei.storage.store import Store

runner = CliRunner()
ADMIN_PW, QA_PW, QC_PW = "admin-pass-01", "qa-pass-0002", "qc-pass-0003"


def _run(
    home: Path,
    *args: str,
    password: str | None = None,
    new: str | None = None,
    user: str | None = None,
    input: str | None = None,
) -> Result:
    env = {"SAISEI_PASSWORD": password, "SAISEI_NEW_PASSWORD": new, "SAISEI_USER": user}
    return runner.invoke(
        app,
        ["--home", str(home), *args],
        env={k: v for k, v in env.items() if v is not None} or None,
        input=input,
    )


def _ok(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if result.stdout.lstrip().startswith(("{", "[")) else None


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its cheapest (the settings' thresholds stay), so the tests run fast."""
    original = users_cli.policy_from

    def cheap(settings: Settings) -> AuthPolicy:
        return replace(
            original(settings), argon2_time_cost=1, argon2_memory_kib=64, argon2_parallelism=1
        )

    for module in (users_cli, qc_cli, deviations_cli, release_cli):
        monkeypatch.setattr(module, "policy_from", cheap)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home with one MSC lot in quarantine, an administrator, a QA and a QC user."""
    home = tmp_path / "home"
    assert runner.invoke(app, ["--home", str(home), "init"]).exit_code == 0
    store = Store.open(f"sqlite:///{home / 'saisei.db'}", home / "timeseries")
    with store.unit_of_work(actor="setup", source="test", reason="test lot") as uow:
        process = ProcessDefinition(name="MSC-BM", version="2.1", product_type=ProductType.MSC)
        uow.session.add(process)
        uow.flush()
        uow.session.add(
            Batch(
                lot_number="MSC-0001",
                product_type=ProductType.MSC,
                process_id=process.id,
                status=BatchStatus.QUARANTINE,
            )
        )
    store.close()
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
                "--user",
                "admin.kato",
                password=ADMIN_PW,
                new=pw,
            )
        )
    return home


def test_review_and_release_end_to_end(home: Path, tmp_path: Path) -> None:
    spec = ("qc", "spec", "MSC-BM", "2.1")
    _ok(
        _run(
            home,
            *spec,
            "viability",
            "--unit",
            "%",
            "--lower",
            "70",
            "--alert-low",
            "80",
            "--reason",
            "initial",
            "--json",
            user="qa.sato",
            password=QA_PW,
        )
    )
    _ok(
        _run(
            home,
            *spec,
            "sterility",
            "--unit",
            "-",
            "--expected-text",
            "no growth",
            "--reason",
            "initial",
            user="qa.sato",
            password=QA_PW,
        )
    )
    listed = _ok(_run(home, "qc", "specs", "MSC-BM", "2.1", "--json"))
    assert {s["attribute"]: s["criterion"] for s in listed} == {
        "viability": ">= 70",
        "sterility": "no growth",
    }
    entered = _ok(
        _run(
            home,
            "qc",
            "enter",
            "MSC-0001",
            "viability",
            "91.5",
            "--unit",
            "%",
            "--json",
            user="qc.ito",
            password=QC_PW,
        )
    )
    assert entered["outcome"] == "pass"
    text = _run(
        home,
        "qc",
        "enter",
        "MSC-0001",
        "sterility",
        "--text",
        "no growth",
        user="qc.ito",
        password=QC_PW,
    )
    assert text.exit_code == 0, text.output
    assert "QC result" in text.stdout and "PASS" in text.stdout

    blocked = _run(home, "release", "MSC-0001", user="qa.sato", password=QA_PW)
    assert blocked.exit_code == 1
    assert "[MISSING] audit-trail review" in blocked.stdout
    assert "cannot be released" in blocked.stderr

    reviewed = _ok(
        _run(
            home,
            "review",
            "MSC-0001",
            "--comment",
            "complete",
            "--json",
            user="qa.sato",
            password=QA_PW,
        )
    )
    assert reviewed["signatures"][0]["meaning"] == "review"
    assert _ok(_run(home, "release", "MSC-0001", "--check", "--json"))["ready"] is True

    coa = tmp_path / "coa.html"
    released = _ok(
        _run(
            home, "release", "MSC-0001", "--coa", str(coa), "--json", user="qa.sato", password=QA_PW
        )
    )
    assert released["status"] == "released"
    (signature,) = released["signatures"]
    assert (signature["printed_name"], signature["meaning"], signature["valid"]) == (
        "Aiko Sato",
        "release",
        True,
    )
    assert "91.5" in coa.read_text("utf-8")
    events = _ok(_run(home, "audit", "show", "--entity", "batch", "--json"))
    release_events = [e for e in events if e["tag"] == "cli:batch:release"]
    assert [e["actor"] for e in release_events] == ["qa.sato"]


def test_password_is_prompted_hidden_and_never_an_argument(home: Path) -> None:
    prompted = _run(
        home,
        "qc",
        "enter",
        "MSC-0001",
        "CD73",
        "97",
        "--unit",
        "%",
        "--user",
        "qc.ito",
        input=f"{QC_PW}\n",
    )
    assert prompted.exit_code == 0, prompted.output
    assert QC_PW not in prompted.stdout  # hidden input is not echoed
    refused = _run(home, "qc", "enter", "MSC-0001", "CD73", "97", "--password", QC_PW)
    assert refused.exit_code == 2
    assert "No such option" in refused.output


def test_wrong_password_and_lockout_via_the_cli(home: Path) -> None:
    for _ in range(4):
        wrong = _run(
            home, "qc", "enter", "MSC-0001", "CD73", "97", user="qc.ito", password="bad-password-1"
        )
        assert wrong.exit_code == 1
        assert "The user id or password is wrong" in wrong.stderr
    locked = _run(
        home, "qc", "enter", "MSC-0001", "CD73", "97", user="qc.ito", password="bad-password-1"
    )
    assert "is now locked after 5 failed attempts" in locked.stderr
    users = {u["username"]: u for u in _ok(_run(home, "users", "list", "--json"))}
    assert users["qc.ito"]["locked"] is True
    _ok(
        _run(
            home,
            "users",
            "unlock",
            "qc.ito",
            "--reason",
            "confirmed",
            user="admin.kato",
            password=ADMIN_PW,
        )
    )
    assert not _ok(_run(home, "users", "list", "--json"))[-1]["locked"]


def test_permissions_are_enforced_for_the_cli_too(home: Path) -> None:
    denied = _run(home, "review", "MSC-0001", user="qc.ito", password=QC_PW)
    assert denied.exit_code == 1
    assert "may not run review.review_audit_trail" in denied.stderr
    matrix = _ok(_run(home, "users", "permissions", "--json"))
    assert matrix["operations"]["disposition.release_batch"] == ["qa"]


def test_oos_deviation_workflow_via_the_cli(home: Path) -> None:
    _ok(
        _run(
            home,
            "qc",
            "spec",
            "MSC-BM",
            "2.1",
            "viability",
            "--unit",
            "%",
            "--lower",
            "70",
            "--reason",
            "initial",
            user="qa.sato",
            password=QA_PW,
        )
    )
    oos = _ok(
        _run(
            home,
            "qc",
            "enter",
            "MSC-0001",
            "viability",
            "62",
            "--json",
            user="qc.ito",
            password=QC_PW,
        )
    )
    assert (oos["outcome"], oos["deviation"]) == ("oos", "DEV-00001")
    no_reason = _run(home, "qc", "invalidate", str(oos["id"]), user="qa.sato", password=QA_PW)
    assert "A reason is required to invalidate" in no_reason.stderr
    qa = {"user": "qa.sato", "password": QA_PW}
    _ok(_run(home, "deviations", "investigate", "DEV-00001", "--root-cause", "thaw too slow", **qa))
    _ok(_run(home, "deviations", "capa", "DEV-00001", "--capa", "new thaw SOP", **qa))
    closed = _ok(_run(home, "deviations", "close", "DEV-00001", "--json", **qa))
    assert closed["status"] == "closed"
    assert closed["signatures"][0]["printed_name"] == "Aiko Sato"
    shown = _run(home, "deviations", "show", "DEV-00001")
    assert "meaning: approval [valid]" in shown.stdout
    rows = _ok(_run(home, "deviations", "list", "--lot", "MSC-0001", "--json"))
    assert [r["number"] for r in rows] == ["DEV-00001"]
    recorded = _ok(
        _run(
            home,
            "deviations",
            "record",
            "--description",
            "late courier",
            "--category",
            "excursion",
            "--lot",
            "MSC-0001",
            "--json",
            user="qc.ito",
            password=QC_PW,
        )
    )
    _ok(
        _run(
            home,
            "deviations",
            "classify",
            recorded["number"],
            "major",
            "--reason",
            "4 h late",
            **qa,
        )
    )
    listed = _ok(_run(home, "qc", "list", "MSC-0001", "--json"))
    assert listed[0]["deviations"] == ["DEV-00001"]
