"""Administration pages: accounts with their CSRF-protected forms, the permission matrix and
the process definitions, in English and Japanese."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from saisei_plant import USERS
from web_helpers import csrf_of

SignIn = Callable[[str], TestClient]


def test_accounts_are_managed_through_the_forms(sign_in: SignIn, client: TestClient) -> None:
    sign_in("admin.kato")
    page = client.get("/admin/users")
    assert page.status_code == 200
    for username in USERS:
        assert f'id="account-{username}"' in page.text
    token = csrf_of(page.text.split('id="create-user-form"')[1])
    form = {
        "username": "qc.ueda",
        "full_name": "Sho Ueda",
        "password": "qc-pass-0003",
        "roles": ["qc_analyst", "operator"],
        "reason": "new analyst",
    }
    forged = client.post("/admin/users", data={**form, "csrf": "0" * 64})
    assert forged.status_code == 403 and "did not come from this site" in forged.text
    created = client.post("/admin/users", data={**form, "csrf": token})
    assert created.status_code == 303 and created.headers["location"] == "/admin/users"
    row = client.get("/admin/users").text.split('id="account-qc.ueda"')[1].split("</tr>")[0]
    assert "Sho Ueda" in row and "operator, qc_analyst" in row
    granted = client.post(
        "/admin/users/qc.ueda/roles",
        data={"role": "viewer", "reason": "reads reports", "csrf": token},
    )
    assert granted.status_code == 303
    no_reason = client.post("/admin/users/qc.ueda/deactivate", data={"reason": "", "csrf": token})
    assert no_reason.status_code == 422 and "A reason is required" in no_reason.text
    gone = client.post("/admin/users/qc.ueda/deactivate", data={"reason": "left", "csrf": token})
    assert gone.status_code == 303
    row = client.get("/admin/users").text.split('id="account-qc.ueda"')[1].split("</tr>")[0]
    assert "deactivated" in row and "operator, qc_analyst, viewer" in row
    # the account stays reserved: the same user id is refused
    again = client.post("/admin/users", data={**form, "csrf": token})
    assert again.status_code == 409 and "never reused" in again.text


def test_only_administrators_change_accounts(sign_in: SignIn, client: TestClient) -> None:
    sign_in("qa.sato")
    page = client.get("/admin/users")
    assert page.status_code == 200  # looking is open
    token = csrf_of(page.text)
    refused = client.post(
        "/admin/users/view.abe/roles", data={"role": "qa", "reason": "r", "csrf": token}
    )
    assert refused.status_code == 403 and "users.manage" in refused.text
    unlocked = client.post("/admin/users/view.abe/unlock", data={"reason": "r", "csrf": token})
    assert unlocked.status_code == 403


def test_permission_matrix_page(sign_in: SignIn, client: TestClient) -> None:
    sign_in("view.abe")
    html = client.get("/admin/roles").text
    cell = 'data-role="qa" data-permission="shipments.acknowledge"><span class="ok">'
    assert cell in html
    assert 'data-role="operator" data-permission="shipments.acknowledge"></td>' in html
    assert "monitoring.score_lot" in html
    client.get("/prefs?lang=ja")
    assert "ロールと権限" in client.get("/admin/roles").text


def test_process_definition_page(sign_in: SignIn, client: TestClient) -> None:
    sign_in("op.mori")
    html = client.get("/admin/processes").text
    section = html.split('id="process-MSC-BM-2.1"')[1]
    assert "viability" in section and "release: ≥ 70.0" in section
    client.get("/prefs?lang=ja")
    assert "工程定義" in client.get("/admin/processes").text


def test_navigation_links_the_new_pages(sign_in: SignIn, client: TestClient) -> None:
    html = sign_in("view.abe").get("/").text
    for href in ("/drivers", "/design-space", "/comparability", "/admin/users"):
        assert f'href="{href}"' in html


#: A process definition in the exchange format (docs/exchange-format.md, process/*.yaml).
PROCESS_YAML = b"""
name: CAR-T-X
version: "1.0"
product_type: CAR-T
stages:
  - name: expansion
    parameters:
      - {name: ph, unit: "1", class: KPP, nor: [7.0, 7.4]}
"""


def test_a_process_definition_is_imported_from_the_page(
    sign_in: SignIn, client: TestClient
) -> None:
    sign_in("ps.kimura")
    page = client.get("/admin/processes")
    form = page.text.split('id="import-process-form"')[1]
    assert 'enctype="multipart/form-data"' in page.text and 'name="file"' in form
    token = csrf_of(form)
    upload = {"file": ("car-t-x.yaml", PROCESS_YAML, "application/yaml")}
    forged = client.post("/admin/processes", data={"csrf": "0" * 64}, files=upload)
    assert forged.status_code == 403
    imported = client.post("/admin/processes", data={"csrf": token}, files=upload)
    assert imported.status_code == 303
    assert imported.headers["location"] == "/admin/processes#process-CAR-T-X-1.0"
    section = client.get("/admin/processes").text.split('id="process-CAR-T-X-1.0"')[1]
    assert "ph" in section and "KPP" in section
    bad = {"file": ("bad.yaml", PROCESS_YAML.replace(b"CAR-T\n", b"iPSC\n"), "text/yaml")}
    refused = client.post("/admin/processes", data={"csrf": token}, files=bad)
    assert refused.status_code == 422
    assert "bad.yaml, field &#39;product_type&#39;" in refused.text
    client.get("/prefs?lang=ja")
    assert "工程定義の取り込み" in client.get("/admin/processes").text


def test_a_viewer_may_not_import_a_process_definition(sign_in: SignIn, client: TestClient) -> None:
    sign_in("view.abe")
    token = csrf_of(client.get("/admin/processes").text)
    upload = {"file": ("car-t-x.yaml", PROCESS_YAML, "application/yaml")}
    refused = client.post("/admin/processes", data={"csrf": token}, files=upload)
    assert refused.status_code == 403 and "processes.import" in refused.text
