"""In a real browser: the drivers, design-space, comparability and administration pages open
for a process scientist, who imports a process definition with the upload form.

Screenshots of each page are written to ``<pytest tmp dir>/screenshots``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from saisei_plant import PASSWORD

pytestmark = pytest.mark.slow

#: A process definition in the exchange format (docs/exchange-format.md, process/*.yaml).
PROCESS_YAML = b"""
name: CAR-T-E2E
version: "1.0"
product_type: CAR-T
stages:
  - name: expansion
    parameters:
      - {name: ph, unit: "1", class: KPP, nor: [7.0, 7.4]}
"""


def test_analysis_and_admin_pages(live_server: str, browser: Any, tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    page = browser.new_page(
        viewport={"width": 1400, "height": 1000}, locale="en-GB", timezone_id="Asia/Tokyo"
    )
    page.set_default_timeout(15_000)

    def shot(name: str) -> None:
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "ps.kimura")
    page.fill("input[name=password]", PASSWORD)
    page.click("#sign-in")
    page.wait_for_selector("nav")
    for number, (path, heading) in enumerate(
        (
            ("/drivers", "Drivers"),
            ("/design-space", "Design space"),
            ("/comparability", "Comparability"),
            ("/admin/users", "Users"),
            ("/admin/roles", "Roles"),
        ),
        start=1,
    ):
        response = page.goto(f"{live_server}{path}")
        assert response is not None and response.status == 200, path
        assert heading.lower() in page.inner_text("h1").lower(), path
        shot(f"{number:02d}-{path.strip('/').replace('/', '-')}")

    page.goto(f"{live_server}/admin/processes")
    page.set_input_files(
        "#import-process-form input[name=file]",
        files=[{"name": "car-t-e2e.yaml", "mimeType": "application/yaml", "buffer": PROCESS_YAML}],
    )
    page.fill("#import-process-form input[name=reason]", "new CAR-T process")
    page.click("#import-process-form button")
    page.wait_for_selector("#process-CAR-T-E2E-1\\.0")
    assert page.url.endswith("/admin/processes#process-CAR-T-E2E-1.0")
    assert "KPP" in page.inner_text("#process-CAR-T-E2E-1\\.0")
    shot("06-admin-processes-imported")
    assert len(list(shots.glob("*.png"))) == 6
    page.close()
