"""Drivers and design-space pages and their JSON twins on the simulated MSC plant of the
service tests (tests/services/drivers_plant.py: 40 lots, seed 11, built once per session)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from saisei_plant import CHEAP_HASH, PASSWORD, login, make_client
from web_helpers import csrf_of

from saisei.services import drivers
from saisei.services.design_space import build_design_space
from saisei.storage.models import User
from saisei.storage.repositories import quality as quality_repo
from saisei.storage.store import Store

sys.path.insert(0, str(Path(__file__).parents[1] / "services"))

from drivers_plant import open_store, plant, truth

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def design_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Path, Path]]:
    """The plant with a process scientist and a stored design space of two set-points."""
    home, exchange = plant(tmp_path_factory, "web-design")
    store = open_store(home)
    now = datetime.now(UTC)
    with store.unit_of_work(actor="setup", source="test", reason="test user") as uow:
        user = User(
            username="ps.kimura",
            full_name="Jun Kimura",
            password_hash=CHEAP_HASH,
            active=True,
            failed_logins=0,
            password_changed_at=now,
            created_at=now,
        )
        user.roles = quality_repo.ensure_roles(uow.session, ["process_scientist"])
        uow.session.add(user)
    build_design_space(
        store,
        attributes=["post_thaw_viability", "viable_cell_dose"],
        parameters=["agitation", "cooling_rate"],
        product="MSC",
        name="msc-ds",
        actor="ps.kimura",
    )
    yield store, home, exchange
    store.close()


@pytest.fixture
def design_client(design_home: tuple[Store, Path, Path]) -> TestClient:
    """A client signed in to the pages (session cookie) as the process scientist."""
    store, home, _ = design_home
    client = make_client(store, home)
    client.follow_redirects = False
    form = client.get("/login")
    data = {"username": "ps.kimura", "password": PASSWORD, "csrf": csrf_of(form.text)}
    assert client.post("/login", data=data).status_code == 303
    return client


def test_drivers_page_and_twin_rank_the_true_drivers(
    design_client: TestClient,
    design_home: tuple[Store, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs: list[str] = []
    real = drivers.driver_analysis

    def counted(*args: Any, **kwargs: Any) -> Any:
        runs.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(drivers, "driver_analysis", counted)
    headers = login(design_client, "ps.kimura")
    report = design_client.get(
        "/api/v1/drivers?attribute=post_thaw_viability&product=MSC", headers=headers
    ).json()
    # the simulator's two largest effects on post-thaw viability (truth.json): DMSO exposure
    # before freezing and the cooling rate
    effects = truth(design_home[2])["factor_effects"]["msc"]["post_thaw_viability"]
    assert {"dmso_exposure_time", "cooling_rate"} <= set(effects)
    assert {"dmso_exposure_time", "cooling_rate"} <= set(report["ranking"][:3])
    page = design_client.get("/drivers?attribute=post_thaw_viability&product=MSC").text
    assert 'id="drivers-importance"' in page and 'id="drivers-effects"' in page
    ranking = page.split('id="ranking"')[1]
    first = ranking.split("<tbody>")[1].split("</tr>")[0]
    assert f"<td>{report['ranking'][0]}</td>" in first
    # the page reused the twin's analysis: nothing stored changed in between
    assert runs == ["post_thaw_viability"]


def test_design_space_map_and_par_table(design_client: TestClient) -> None:
    headers = login(design_client, "ps.kimura")
    stored = design_client.get("/api/v1/design-spaces", headers=headers).json()["items"]
    assert [(d["name"], d["version"]) for d in stored] == [("msc-ds", 1)]
    shown = design_client.get("/api/v1/design-spaces/msc-ds", headers=headers).json()
    assert [p["parameter"] for p in shown["pars"]] == ["agitation", "cooling_rate"]
    url = "/api/v1/design-spaces/msc-ds/map?points=11"
    grid = design_client.get(f"{url}&x=agitation&y=cooling_rate", headers=headers).json()
    assert len(grid["x_values"]) == len(grid["y_values"]) == 11
    assert len(grid["probability"]) == 11 and len(grid["probability"][0]) == 11
    cells = [p for row in grid["probability"] for p in row]
    assert all(0.0 <= p <= 1.0 for p in cells)
    reliability = shown["reliability"]
    assert grid["fraction_inside"] == pytest.approx(
        sum(p >= reliability for p in cells) / len(cells)
    )
    # invariant: swapping the axes transposes the map
    swapped = design_client.get(f"{url}&x=cooling_rate&y=agitation", headers=headers).json()
    assert swapped["probability"] == [list(col) for col in zip(*grid["probability"], strict=True)]
    same = design_client.get(f"{url}&x=agitation&y=agitation", headers=headers)
    assert same.status_code == 422 and "must differ" in same.json()["error"]
    page = design_client.get("/design-space?name=msc-ds").text
    assert 'id="design-space-map"' in page and 'id="pars"' in page
    assert "<td>agitation</td>" in page.split('id="pars"')[1]
