"""The simulator behaves as its mechanisms say (checked on the noise-free mean model and on
averages over many simulated units, never on snapshots)."""

from __future__ import annotations

import numpy as np

from saisei.simulation._cart import run_cart
from saisei.simulation._culture_msc import run_msc
from saisei.simulation._fill_freeze import freeze_survival
from saisei.simulation._transport import ShipmentPlan, simulate_shipments
from saisei.simulation._truth import nominal_inputs


def _plan(n: int, dock: bool) -> ShipmentPlan:
    return ShipmentPlan(
        container=np.full(n, "passive"),
        band_low_c=np.full(n, 2.0),
        band_high_c=np.full(n, 8.0),
        pack_c=np.full(n, 5.0),
        duration_h=np.full(n, 20.0),
        start_hour_of_day=np.full(n, 9.0),
        ambient_base_c=np.full(n, 20.0),
        dock_onset_h=np.full(n, 4.0 if dock else np.nan),
        dock_hours=np.full(n, 6.0),
        tipped_at_h=np.full(n, np.nan),
        fresh=np.ones(n, bool),
    )


def test_a_transport_excursion_lowers_viability_on_average() -> None:
    rng = np.random.default_rng(1)
    normal = simulate_shipments(_plan(200, dock=False), rng)
    left_out = simulate_shipments(_plan(200, dock=True), rng)
    assert left_out.degree_hours_out.mean() > 20 * max(normal.degree_hours_out.mean(), 0.1)
    assert left_out.viability_factor.mean() < normal.viability_factor.mean() - 0.05
    assert np.all((normal.viability_factor > 0) & (normal.viability_factor <= 1))


def test_a_tipped_dry_shipper_warms_once_its_hold_time_is_spent() -> None:
    n = 2
    plan = ShipmentPlan(
        container=np.full(n, "dry_shipper"),
        band_low_c=np.full(n, -273.0),
        band_high_c=np.full(n, -150.0),
        pack_c=np.full(n, -192.0),
        duration_h=np.full(n, 150.0),
        start_hour_of_day=np.zeros(n),
        ambient_base_c=np.full(n, 20.0),
        dock_onset_h=np.full(n, np.nan),
        dock_hours=np.zeros(n),
        tipped_at_h=np.array([np.nan, 1.0]),
        fresh=np.zeros(n, bool),
    )
    out = simulate_shipments(plan, np.random.default_rng(2))
    assert out.hours_out[0] == 0
    assert out.hours_out[1] > 0 and out.viability_factor[1] < out.viability_factor[0]


def test_cooling_far_from_one_degree_per_minute_lowers_post_thaw_viability() -> None:
    rates = np.array([0.1, 0.3, 1.0, 3.0, 10.0])
    survival = freeze_survival(rates, np.full(5, 30.0))
    assert np.argmax(survival) == 2  # inverted U around -1 C/min (Mazur 1984)
    assert np.all(np.diff(survival[:3]) > 0) and np.all(np.diff(survival[2:]) < 0)
    inp = nominal_inputs("msc", 3)
    inp["cooling_rate"] = np.array([0.3, 1.0, 5.0])
    ptv = run_msc(inp, None, record=False).true["post_thaw_viability"]
    assert ptv[1] > ptv[0] + 5 and ptv[1] > ptv[2] + 5


def test_longer_time_in_dmso_lowers_post_thaw_viability() -> None:
    survival = freeze_survival(np.ones(3), np.array([10.0, 60.0, 120.0]))
    assert np.all(np.diff(survival) < 0)


def test_older_donors_grow_slower() -> None:
    inp = nominal_inputs("msc", 3)
    inp["donor_age"] = np.array([25.0, 45.0, 65.0])
    run = run_msc(inp, None, record=False)
    assert np.all(np.diff(run.harvest_cells) < 0)
    assert np.all(np.diff(run.true["population_doublings"]) < 0)


def test_higher_moi_raises_vcn_and_car_positive_cells() -> None:
    inp = nominal_inputs("cart", 4)
    inp["moi"] = np.array([1.0, 2.0, 4.0, 8.0])
    true = run_cart(inp, None, record=False).true
    assert np.all(np.diff(true["vcn"]) > 0)
    assert np.all(np.diff(true["car_positive"]) > 0)
    # Poisson integration (Fehse 2004): copies per transduced cell are always >= 1.
    assert np.all(true["vcn"] >= 1.0)


def test_agitation_has_an_optimum_between_settling_and_shear() -> None:
    inp = nominal_inputs("msc", 3)
    inp["agitation"] = np.array([35.0, 70.0, 130.0])
    cells = run_msc(inp, None, record=False).harvest_cells
    assert cells[1] > cells[0] and cells[1] > cells[2]


def test_contamination_crashes_glucose_and_ph_and_fails_sterility() -> None:
    inp = nominal_inputs("msc", 2)
    inp["contamination_h"] = np.array([np.inf, 100.0])
    run = run_msc(inp, None)
    day = 144
    glucose = run.trace.samples["glucose"]
    assert glucose[1, 6] < 0.5 * glucose[0, 6]  # day 6, two days after the contamination
    assert run.signals["pH"][1, 6 * day] < run.signals["pH"][0, 6 * day] - 0.1
    assert run.true["sterility"].tolist() == [0.0, 1.0]


def test_a_ph_probe_drift_changes_the_signal_not_the_product() -> None:
    inp = nominal_inputs("msc", 2)
    inp["ph_drift_h"] = np.array([np.inf, 24.0])
    run = run_msc(inp, None)
    assert run.signals["pH"][1, -1] < run.signals["pH"][0, -1] - 0.5
    for values in run.true.values():
        assert values[0] == values[1]


def test_the_process_change_shifts_named_attributes() -> None:
    inp = nominal_inputs("msc", 2)
    inp["process_change"] = np.array([0.0, 1.0])
    true = run_msc(inp, None, record=False).true
    assert true["potency"][1] < true["potency"][0] * 0.97  # medium B: -7 % potency
    inp = nominal_inputs("aav", 2)
    inp["process_change"] = np.array([0.0, 1.0])
    from saisei.simulation._aav import run_aav

    aav = run_aav(inp, None, record=False).true
    assert aav["vg_titer"][1] > aav["vg_titer"][0] * 1.05  # new affinity resin
