"""Comparability, drivers and design-space pages over the page tests' plant; the pages on a
simulated plant with real drivers and a stored design space are in test_web_design.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
from fastapi.testclient import TestClient
from saisei_plant import PASSWORD, policy
from scipy import stats

from saisei.domain.enums import ProductType
from saisei.quality.esign import Credentials
from saisei.services import comparability
from saisei.storage.models import Batch, ProcessDefinition, QCResult
from saisei.storage.store import Store

SignIn = Callable[[str], TestClient]

POTENCY_R = [100.0, 104.0, 98.0, 101.0, 97.0, 103.0]
POTENCY_T = [99.0, 102.0, 100.0, 96.0, 101.0, 98.0]
T0 = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)


def _lots(store: Store) -> None:
    """Six lots before and six after a process change, each with one potency result."""
    with store.unit_of_work(actor="setup", source="test", reason="comparability lots") as uow:
        for version, prefix, values, start in (
            ("1.0", "R", POTENCY_R, T0),
            ("2.0", "T", POTENCY_T, T0 + timedelta(days=150)),
        ):
            process = ProcessDefinition(
                name="MSC-CC", version=version, product_type=ProductType.MSC
            )
            uow.session.add(process)
            uow.flush()
            for i, value in enumerate(values):
                batch = Batch(
                    lot_number=f"{prefix}{i + 1:02d}",
                    product_type=ProductType.MSC,
                    process_id=process.id,
                    started_at=start + timedelta(days=7 * i),
                )
                uow.session.add(batch)
                uow.flush()
                uow.session.add(
                    QCResult(batch_id=batch.id, attribute="potency", value=value, unit="%")
                )


def _study(store: Store) -> None:
    plan = {
        "study": "CMP-001",
        "product": "MSC",
        "name": "Medium supplier A -> B",
        "reference_lots": {"process_versions": ["MSC-CC:1.0"]},
        "test_lots": {"process_versions": ["MSC-CC:2.0"]},
        "cqas": [{"name": "potency", "tier": 1, "margin": 6.0, "unit": "%"}],
    }
    comparability.save_plan(store, "ps.kimura", comparability.parse_study(plan))
    comparability.lock_study(
        store, "CMP-001", Credentials(password=PASSWORD, username="qa.sato"), policy()
    )


def test_comparability_list_and_study_with_verdicts(
    sign_in: SignIn, client: TestClient, web_store: Store
) -> None:
    _lots(web_store)
    _study(web_store)
    sign_in("view.abe")
    listed = client.get("/comparability").text
    assert 'href="/comparability/CMP-001"' in listed and "locked" in listed
    before = client.get("/comparability/CMP-001").text
    assert "The study has not been run yet." in before and "Aiko Sato" in before
    comparability.run_study(web_store, "ps.kimura", "CMP-001")
    html = client.get("/comparability/CMP-001").text
    row = html.split('id="verdicts"')[1].split("</tr>")[1]
    # Welch 90 % interval of mean(T) - mean(R), closed form (Welch 1947), alpha = 0.05
    r, t = np.asarray(POTENCY_R), np.asarray(POTENCY_T)
    vr, vt = r.var(ddof=1) / r.size, t.var(ddof=1) / t.size
    dof = (vr + vt) ** 2 / (vr**2 / (r.size - 1) + vt**2 / (t.size - 1))
    half = stats.t.ppf(0.95, dof) * np.sqrt(vr + vt)
    d = t.mean() - r.mean()
    assert f"{d:.4g} [{d - half:.4g}, {d + half:.4g}]" in row
    assert "± 6" in row and '<td class="verdict">pass' in row  # inside +/- 6
    assert 'id="tier1-intervals"' in html and "R01" in html and "T06" in html
    client.get("/prefs?lang=ja")
    assert "変更前" in client.get("/comparability/CMP-001").text
    assert client.get("/comparability/NOPE").status_code == 404


def test_drivers_and_design_space_pages_without_data(sign_in: SignIn, client: TestClient) -> None:
    sign_in("ps.kimura")
    form = client.get("/drivers").text
    assert 'id="drivers-form"' in form and '<option value="viability">' in form
    refused = client.get("/drivers?attribute=viability&product=MSC")
    assert refused.status_code == 422 and "not a QC attribute" in refused.text
    empty = client.get("/design-space").text
    assert "No design space is stored yet" in empty
    client.get("/prefs?lang=ja")
    assert "要因分析" in client.get("/drivers").text
    assert "デザインスペースはまだ保存されていません" in client.get("/design-space").text
