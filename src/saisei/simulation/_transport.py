"""Transport: container thermal model, shocks, logger output and the damage they do.

Each container relaxes towards a driving temperature with its own time constant (Newton's
law of cooling): a passive insulated box towards its gel packs while they last and then
towards the ambient profile; an active shipper towards its set point; a liquid-nitrogen dry
shipper stays near -190 C until its hold time is spent (a tipped shipper keeps only part of
it, domain.md) and then warms slowly. A box left open on a dock relaxes quickly towards room
temperature. Shocks arrive as a Poisson process with heavy-tailed peaks. Viability lost in
transit grows with the degree-hours outside the product's band, with time since collection
(fresh material only) and with each shock over 10 g. The logger reads every 5 min.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from saisei.simulation._params import TRANSPORT

_DT_H = TRANSPORT.logger_interval_min / 60.0
_BIG_SHOCK_G = 10.0


@dataclass
class ShipmentPlan:
    """What each shipment is (arrays of shape (n,))."""

    container: np.ndarray  # "passive", "active" or "dry_shipper"
    band_low_c: np.ndarray
    band_high_c: np.ndarray
    pack_c: np.ndarray  # gel-pack or set-point temperature
    duration_h: np.ndarray
    start_hour_of_day: np.ndarray
    ambient_base_c: np.ndarray
    dock_onset_h: np.ndarray  # NaN: never left on a dock at room temperature
    dock_hours: np.ndarray
    tipped_at_h: np.ndarray  # NaN: never tipped over
    fresh: np.ndarray  # bool: fresh cells lose viability with time as well


@dataclass
class ShipmentOutcome:
    """Logger readings (n, m; NaN after arrival) and the damage done."""

    temperature_c: np.ndarray
    logged_c: np.ndarray
    shock_g: np.ndarray
    tilt_deg: np.ndarray
    n_readings: np.ndarray
    viability_factor: np.ndarray  # multiply the viability at packing by this
    degree_hours_out: np.ndarray
    hours_out: np.ndarray
    big_shocks: np.ndarray


def ambient_profile(plan: ShipmentPlan, rng: np.random.Generator, m: int) -> np.ndarray:
    """Ambient temperature (n, m): daily cycle plus a slowly wandering transport leg."""
    n = plan.duration_h.shape[0]
    hours = np.arange(m) * _DT_H
    clock = plan.start_hour_of_day[:, None] + hours[None, :]
    daily = 4.0 * np.sin(2 * np.pi * (clock - 9.0) / 24.0)
    wander = np.cumsum(rng.normal(0.0, 0.15, (n, m)), axis=1)
    wander -= np.linspace(0, 1, m)[None, :] * wander[:, -1:] * 0.5  # keep it bounded
    ambient = plan.ambient_base_c[:, None] + daily + wander
    onset = np.nan_to_num(plan.dock_onset_h, nan=np.inf)[:, None]
    on_dock = (hours[None, :] >= onset) & (hours[None, :] < onset + plan.dock_hours[:, None])
    return np.where(on_dock, np.maximum(ambient, 24.0) + 3.0, ambient)


def simulate_shipments(plan: ShipmentPlan, rng: np.random.Generator) -> ShipmentOutcome:
    """Simulate every shipment of ``plan`` on a common 5-min grid."""
    n = plan.duration_h.shape[0]
    steps = np.ceil(plan.duration_h / _DT_H).astype(int) + 1
    m = int(steps.max()) if n else 1
    hours = np.arange(m) * _DT_H
    ambient = ambient_profile(plan, rng, m)
    onset = np.nan_to_num(plan.dock_onset_h, nan=np.inf)
    tipped_at = np.nan_to_num(plan.tipped_at_h, nan=np.inf)
    passive = plan.container == "passive"
    active = plan.container == "active"
    dry = plan.container == "dry_shipper"
    # Gel packs hold for longer in a cool room than in a hot one.
    hold = TRANSPORT.passive_pack_hold_h * 17.0 / np.maximum(plan.ambient_base_c - plan.pack_c, 3.0)
    dry_hold = np.where(
        np.isfinite(tipped_at),
        TRANSPORT.dry_shipper_tipped_fraction * TRANSPORT.dry_shipper_hold_h,
        TRANSPORT.dry_shipper_hold_h,
    )
    temp = np.empty((n, m))
    temp[:, 0] = np.where(dry, -192.0, plan.pack_c) + rng.normal(0, 0.5, n)
    for j in range(1, m):
        h = hours[j]
        on_dock = (h >= onset) & (h < onset + plan.dock_hours)
        packs_spent = h > hold
        target = np.where(passive & ~packs_spent, plan.pack_c, ambient[:, j])
        target = np.where(active, plan.pack_c, target)
        target = np.where(dry, np.where(h > dry_hold, ambient[:, j], -192.0), target)
        tau = np.where(passive & ~packs_spent, 1.5, TRANSPORT.passive_tau_h)
        tau = np.where(active, TRANSPORT.active_tau_h, tau)
        tau = np.where(dry, np.where(h > dry_hold, 30.0, 2.0), tau)
        tau = np.where(on_dock & ~dry, TRANSPORT.open_tau_h, tau)
        target = np.where(on_dock & ~dry, ambient[:, j], target)
        temp[:, j] = temp[:, j - 1] + (target - temp[:, j - 1]) * (1 - np.exp(-_DT_H / tau))
    alive = np.arange(m)[None, :] < steps[:, None]
    temp = np.where(alive, temp, np.nan)
    logged = np.round(temp + rng.normal(0.0, 0.2, (n, m)), 1)
    # Peak acceleration per logger interval: handling noise plus Poisson shocks.
    shock = rng.lognormal(np.log(0.5), 0.5, (n, m))
    hits = rng.random((n, m)) < TRANSPORT.shock_rate_per_h * _DT_H
    shock = np.where(hits, 4.0 * (1.0 + rng.pareto(2.0, (n, m))), shock)
    shock = np.where(alive, np.round(np.minimum(shock, 200.0), 2), np.nan)
    tilt = np.abs(rng.normal(0.0, 4.0, (n, m)))
    tilt = np.where(hours[None, :] >= tipped_at[:, None], 90.0 + rng.normal(0, 3, (n, m)), tilt)
    tilt = np.where(alive, np.round(np.clip(tilt, 0, 180), 1), np.nan)
    below = np.clip(plan.band_low_c[:, None] - temp, 0.0, None)
    above = np.clip(temp - plan.band_high_c[:, None], 0.0, None)
    distance = np.nan_to_num(below + above)
    degree_hours = distance.sum(axis=1) * _DT_H
    hours_out = (distance > 0).sum(axis=1) * _DT_H
    big = np.nansum(shock > _BIG_SHOCK_G, axis=1)
    # Cryopreserved product is hurt far more by warming than fresh cells (devitrification).
    weight = np.where(dry, 3.0, 1.0)
    exposure = (
        TRANSPORT.loss_per_degree_hour * weight * degree_hours
        + TRANSPORT.loss_per_hour * plan.duration_h * plan.fresh
        + TRANSPORT.loss_per_shock * big
    )
    return ShipmentOutcome(
        temperature_c=temp,
        logged_c=logged,
        shock_g=shock,
        tilt_deg=tilt,
        n_readings=steps,
        viability_factor=np.exp(-exposure),
        degree_hours_out=degree_hours,
        hours_out=hours_out,
        big_shocks=big,
    )
