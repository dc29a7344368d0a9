"""In a real browser: sign in, open a batch with an alarm, its contributions, review and
release it with a signature, acknowledge a shipment excursion, switch to Japanese.

Screenshots of each step are written to ``<pytest tmp dir>/screenshots``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from saisei_plant import PASSWORD

pytestmark = pytest.mark.slow


def test_release_journey(live_server: str, browser: Any, tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    page = browser.new_page(
        viewport={"width": 1400, "height": 1000}, locale="en-GB", timezone_id="Asia/Tokyo"
    )
    page.set_default_timeout(15_000)

    def shot(name: str) -> None:
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

    page.goto(f"{live_server}/batches/MSC-0001")
    assert "/login" in page.url  # pages need a session
    page.fill("input[name=username]", "qa.sato")
    page.fill("input[name=password]", PASSWORD)
    shot("01-login")
    page.click("#sign-in")
    page.wait_for_selector("#lot")
    assert page.inner_text("#lot") == "MSC-0001"
    page.wait_for_selector("#traj-0[data-drawn='1'] .main-svg")  # Plotly drew it
    assert page.locator("#alarms tr.alarm").count() >= 3
    shot("02-batch-with-alarm")

    page.locator("a.alarm-time").first.click()
    page.wait_for_selector("#contrib-spe[data-drawn='1'] .main-svg")
    heading = page.inner_text("#contributions h3")
    assert "Contributions at t =" in heading
    shot("03-contributions")

    page.fill("#review-form input[name=password]", PASSWORD)
    page.fill("#review-form input[name=comment]", "audit trail complete")
    page.click("#review-form button")
    page.wait_for_selector("#readiness.ok")
    page.fill("#release-form input[name=password]", PASSWORD)
    page.click("#release-form button")
    page.wait_for_selector("#signatures")
    signatures = page.inner_text("#signatures")
    assert "Aiko Sato (qa.sato)" in signatures and "release" in signatures
    assert "released" in page.inner_text("h1")
    shot("04-released")

    page.goto(f"{live_server}/shipments/SH-EX")
    page.wait_for_selector("#logger-0[data-drawn='1'] .main-svg")
    page.fill("#ack-1 input[name=comment]", "lid opened at the hub for 15 min; product intact")
    page.click("#ack-1 button")
    page.wait_for_selector("#excursions .ack")
    assert "accepted" in page.inner_text("#shipment-status")
    shot("05-excursion-acknowledged")

    page.click("#lang-ja")
    page.wait_for_selector("#shipment")
    assert "温度逸脱" in page.inner_text("#excursions h2")
    page.goto(f"{live_server}/batches/MSC-0001")
    assert "製造記録" in page.inner_text("h1")
    assert "寄与プロット" in page.content()
    shot("06-japanese")
    assert len(list(shots.glob("*.png"))) == 6
    page.close()
