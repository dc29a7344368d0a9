"""`saisei comparability plan|lock|amend|run|report|show|list` on a real home."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from argon2 import PasswordHasher
from typer.testing import CliRunner, Result

from saisei.cli import app
from saisei.domain.enums import ProductType
from saisei.storage.models import Batch, ProcessDefinition, QCResult, User
from saisei.storage.repositories import quality as quality_repo
from saisei.storage.store import Store

runner = CliRunner()
QA_PW, PS_PW = "qa-pass-0002", "ps-pass-0003"
POTENCY: dict[str, list[float]] = {
    "1.0": [100.0, 104.0, 98.0, 101.0, 97.0, 103.0],
    "2.0": [99.0, 102.0, 100.0, 96.0, 101.0, 98.0],
}
VIABILITY: dict[str, list[float]] = {
    "1.0": [90.0, 92.0, 91.0, 89.0, 93.0, 90.0],
    "2.0": [91.0, 88.0, 92.0, 90.0, 91.0, 95.0],
}


def _run(home: Path, *args: str, user: str | None = None, password: str | None = None) -> Result:
    env = {"SAISEI_USER": user, "SAISEI_PASSWORD": password}
    return runner.invoke(
        app, ["--home", str(home), *args], env={k: v for k, v in env.items() if v is not None}
    )


def _ok(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if result.stdout.lstrip().startswith(("{", "[")) else None


def _seed(home: Path) -> None:
    store = Store.open(f"sqlite:///{home / 'saisei.db'}", home / "timeseries")
    start = datetime(2025, 1, 6, tzinfo=UTC)
    with store.unit_of_work(actor="setup", source="test", reason="test plant") as uow:
        for version, offset in (("1.0", 0), ("2.0", 200)):
            process = ProcessDefinition(
                name="MSC-BM", version=version, product_type=ProductType.MSC
            )
            uow.session.add(process)
            uow.flush()
            for i in range(6):
                batch = Batch(
                    lot_number=f"L{version[0]}-{i + 1:02d}",
                    product_type=ProductType.MSC,
                    process_id=process.id,
                    started_at=start + timedelta(days=offset + 7 * i),
                )
                uow.session.add(batch)
                uow.flush()
                for name, values in (("potency", POTENCY), ("viability", VIABILITY)):
                    uow.session.add(
                        QCResult(batch_id=batch.id, attribute=name, value=values[version][i])
                    )
    store.close()
    _seed_users(home)


def _seed_users(home: Path) -> None:
    """A QA user and a process scientist, with cheap argon2 hashes."""
    store = Store.open(f"sqlite:///{home / 'saisei.db'}", home / "timeseries")
    with store.unit_of_work(actor="setup", source="test", reason="test users") as uow:
        for username, full_name, role, password in (
            ("qa.sato", "Aiko Sato", "qa", QA_PW),
            ("ps.mori", "Ren Mori", "process_scientist", PS_PW),
        ):
            user = User(
                username=username,
                full_name=full_name,
                password_hash=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash(
                    password
                ),
                active=True,
                failed_logins=0,
                password_changed_at=datetime.now(UTC),
                created_at=datetime.now(UTC),
            )
            user.roles = quality_repo.ensure_roles(uow.session, [role])
            uow.session.add(user)
    store.close()


def _plan_file(path: Path, margin: float = 6.0) -> Path:
    plan = {
        "study": "CMP-001",
        "product": "MSC",
        "name": "Expansion medium supplier A -> B",
        "reference_lots": {"process_versions": ["1.0"]},
        "test_lots": {"process_versions": ["2.0"]},
        "cqas": [
            {"name": "potency", "tier": 1, "margin": margin, "unit": "%"},
            {"name": "viability", "tier": 2, "unit": "%"},
        ],
    }
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    assert runner.invoke(app, ["--home", str(home), "init"]).exit_code == 0
    _seed(home)
    return home


def test_plan_lock_run_report(home: Path, tmp_path: Path) -> None:
    plan = _plan_file(tmp_path / "plan.yaml")
    scientist = {"user": "ps.mori", "password": PS_PW}
    qa = {"user": "qa.sato", "password": QA_PW}

    drafted = _ok(_run(home, "comparability", "plan", str(plan), "--json", **scientist))
    assert (drafted["action"], drafted["study"]["status"]) == ("created", "draft")

    early = _run(home, "comparability", "run", "CMP-001", **scientist)
    assert early.exit_code == 1
    assert "CMP-001 is a draft: its plan has not been locked" in early.stderr
    assert "saisei comparability lock CMP-001" in early.stderr

    locked = _ok(_run(home, "comparability", "lock", "CMP-001", "--json", **qa))
    assert locked["status"] == "locked"
    assert locked["signatures"][0]["meaning"] == "approval" and locked["approval_valid"]

    edit = _run(home, "comparability", "plan", str(_plan_file(tmp_path / "b.yaml", 9)), **scientist)
    assert edit.exit_code == 1
    assert "is locked" in edit.stderr and "comparability amend CMP-001" in edit.stderr

    ran = _ok(_run(home, "comparability", "run", "CMP-001", "--json", **scientist))
    assert ran["run"]["plan_sha256"] == locked["plan_sha256"]
    outcomes = {o["name"]: o for o in ran["result"]["outcomes"]}
    assert outcomes["potency"]["tost"]["difference"] == pytest.approx(99.3333333 - 100.5)
    assert [lot["lot"] for lot in ran["lots"]["test"]] == [f"L2-{i:02d}" for i in range(1, 7)]

    text = _ok(_run(home, "comparability", "run", "CMP-001", **scientist))
    assert text is None

    out = tmp_path / "report" / "cmp-001.html"
    shown = _run(home, "comparability", "report", "CMP-001", "--out", str(out))
    assert shown.exit_code == 0, shown.output
    html = out.read_text(encoding="utf-8")
    assert "Comparability study CMP-001" in html and "run 2" in html
    assert not re.search(r"<script[^>]+src=", html)

    document = _ok(_run(home, "comparability", "report", "CMP-001", "--run", "1", "--json"))
    assert document["run"]["run_number"] == 1
    assert document["result"] == ran["result"]


def test_amend_needs_a_reason_and_a_signature(home: Path, tmp_path: Path) -> None:
    _ok(
        _run(
            home,
            "comparability",
            "plan",
            str(_plan_file(tmp_path / "a.yaml")),
            user="ps.mori",
            password=PS_PW,
        )
    )
    _ok(_run(home, "comparability", "lock", "CMP-001", user="qa.sato", password=QA_PW))
    wider = str(_plan_file(tmp_path / "b.yaml", 8.0))

    missing = _run(home, "comparability", "amend", "CMP-001", wider, user="qa.sato", password=QA_PW)
    assert missing.exit_code == 1 and "needs a reason (--reason TEXT)" in missing.stderr
    wrong = _run(
        home,
        "comparability",
        "amend",
        "CMP-001",
        wider,
        "--reason",
        "x",
        user="qa.sato",
        password="not-the-password",
    )
    assert wrong.exit_code == 1 and "password is wrong" in wrong.stderr

    amended = _ok(
        _run(
            home,
            "comparability",
            "amend",
            "CMP-001",
            wider,
            "--reason",
            "new assay SD",
            "--json",
            user="qa.sato",
            password=QA_PW,
        )
    )
    assert amended["plan_version"] == 2
    assert amended["amendments"][0]["reason"] == "new assay SD"
    assert [s["valid"] for s in amended["signatures"]] == [False, True]
    listed = _ok(_run(home, "comparability", "list", "--json"))
    assert [(s["code"], s["plan_version"]) for s in listed] == [("CMP-001", 2)]
    shown = _run(home, "comparability", "show", "CMP-001")
    assert "amendment version 2 by qa.sato" in shown.stdout


def test_report_errors(home: Path, tmp_path: Path) -> None:
    neither = _run(home, "comparability", "report", "CMP-001")
    assert neither.exit_code == 1 and "--out FILE.html, --json, or both" in neither.stderr
    unknown = _run(home, "comparability", "report", "CMP-404", "--json")
    assert unknown.exit_code == 1 and "No comparability study 'CMP-404'" in unknown.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("study: CMP-9\nname: x\n", encoding="utf-8")
    refused = _run(home, "comparability", "plan", str(bad), user="ps.mori", password=PS_PW)
    assert refused.exit_code == 1 and "missing key(s) ['cqas', 'reference_lots'" in refused.stderr


@pytest.mark.slow
def test_simulated_process_change_end_to_end(tmp_path: Path) -> None:
    """saisei simulate -> import -> comparability plan/lock/run/report on a process change.

    truth.json (docs/simulator.md): the medium change lowers potency by about 7.6 % points; a
    5 % margin is exceeded, so potency must fail; CD45 has no shift.
    """
    home, plant = tmp_path / "home", tmp_path / "plant"
    assert runner.invoke(app, ["--home", str(home), "init"]).exit_code == 0
    simulated = runner.invoke(
        app,
        [
            "simulate",
            "--product",
            "msc",
            "--batches",
            "16",
            "--process-change-at",
            "8",
            "--seed",
            "3",
            "--out",
            str(plant),
        ],
    )
    assert simulated.exit_code == 0, simulated.output
    _ok(_run(home, "import", str(plant)))
    _seed_users(home)
    shift = json.loads((plant / "truth.json").read_text("utf-8"))["process_changes"][0]
    assert shift["shifts"]["potency"] < -5.0 and shift["shifts"]["cd45"] == 0.0
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        yaml.safe_dump(
            {
                "study": "MEDIUM-B",
                "product": "MSC",
                "name": "Medium supplier A -> B",
                "reference_lots": {"process_versions": ["MSC-STR:1.0"]},
                "test_lots": {"process_versions": ["MSC-STR:2.0"]},
                "cqas": [
                    {"name": "potency", "tier": 1, "margin": 5.0, "unit": "%"},
                    {"name": "cd45", "tier": 2, "unit": "%"},
                    {"name": "post_thaw_viability", "tier": 3, "unit": "%"},
                ],
                "multivariate": ["potency", "cd45", "post_thaw_viability"],
            }
        ),
        encoding="utf-8",
    )
    _ok(_run(home, "comparability", "plan", str(plan), user="ps.mori", password=PS_PW))
    _ok(_run(home, "comparability", "lock", "MEDIUM-B", user="qa.sato", password=QA_PW))
    ran = _ok(
        _run(home, "comparability", "run", "MEDIUM-B", "--json", user="ps.mori", password=PS_PW)
    )
    outcomes = {o["name"]: o for o in ran["result"]["outcomes"]}
    assert outcomes["potency"]["verdict"] == "fail"
    assert ran["result"]["passed"] is False
    assert len(ran["lots"]["reference"]) + len(ran["lots"]["test"]) == 16
    out = tmp_path / "medium-b.html"
    _ok(_run(home, "comparability", "report", "MEDIUM-B", "--out", str(out)))
    html = out.read_text("utf-8")
    for section in ("tier1-intervals", "cqa-2-quality-range", "pca-overlay"):
        assert f'id="section-{section}"' in html
