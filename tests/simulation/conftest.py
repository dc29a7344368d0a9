"""Shared simulated plants for the simulator tests (simulated once per session: fast)."""

from __future__ import annotations

import pytest

from saisei.simulation import SimulationResult, simulate

FAULTS = "contamination@2:100,freezer_failure@3,shipment_room_temperature@4,ph_drift@5:48"


@pytest.fixture(scope="session")
def msc_result() -> SimulationResult:
    """Eight MSC batches with a process change at batch 6 and four faults."""
    return simulate("msc", 8, 11, process_change_at=6, faults=FAULTS, design_space_points=2)


@pytest.fixture(scope="session")
def cart_result() -> SimulationResult:
    """Six CAR-T batches with a freezer failure."""
    return simulate("cart", 6, 12, faults="freezer_failure@2", design_space_points=0)


@pytest.fixture(scope="session")
def aav_result() -> SimulationResult:
    """Five AAV batches with a process change at batch 3."""
    return simulate("aav", 5, 13, process_change_at=3, design_space_points=0)


@pytest.fixture(params=["msc", "cart", "aav"])
def any_result(
    request: pytest.FixtureRequest,
    msc_result: SimulationResult,
    cart_result: SimulationResult,
    aav_result: SimulationResult,
) -> SimulationResult:
    """Each product's result in turn."""
    return {"msc": msc_result, "cart": cart_result, "aav": aav_result}[request.param]
