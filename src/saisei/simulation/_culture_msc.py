"""Allogeneic MSC: 21-day microcarrier expansion in a stirred bioreactor, fill and freeze.

Three 7-day passages (reseeding at the seeding density), 50 % medium exchanges every 2 days
in between. Growth: donor (age, tissue, random effect), medium and platelet-lysate lot
effects, temperature (CTMI around 37 C, with the bioreactor's hidden calibration offset),
agitation (microcarriers settle below the just-suspended speed, Zwietering 1958; cells are
damaged when the Kolmogorov eddy length falls below 2/3 of the carrier diameter, Croughan
1987), working volume (power per volume), seeding density, glucose, lactate and ammonia
(Schop 2009), senescence with doublings (Wagner 2008). Potency (IDO activity) and CD105 drift
down with cumulative doublings. The process change (medium supplier B) raises growth by 6 %
and lowers potency by 7 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from saisei.simulation import _faults as flt
from saisei.simulation._donors import growth_factor_for
from saisei.simulation._fill_freeze import Fill, FreezeRun, fill, freeze_curves
from saisei.simulation._kinetics import (
    DT_H,
    CultureInputs,
    CultureTrace,
    integrate,
    onset_step,
)
from saisei.simulation._params import DONORS, MSC_KINETICS, MSC_VESSEL
from saisei.simulation._process import SetPoint

CULTURE_DAYS = 21
STEPS_PER_DAY = 144
N_STEPS = CULTURE_DAYS * STEPS_PER_DAY
PASSAGE_DAYS = (7, 14)
EXCHANGE_DAYS = (2, 4, 9, 11, 16, 18)
HARVEST_RECOVERY = 0.9
CELLS_PER_BAG = 110e6
BAG_VOLUME_ML = 10.0
MAX_BAGS = 20
CHANGE_GROWTH = 1.06
CHANGE_POTENCY = 0.93
POTENCY_LOSS_PER_REPLICATIVE_AGE = 1.0

SETPOINTS: tuple[SetPoint, ...] = (
    SetPoint("temperature", "expansion", "degC", "CPP", 37.0, (36.5, 37.5), (36.0, 38.5)),
    SetPoint("agitation", "expansion", "rpm", "CPP", 70.0, (62.0, 78.0), (50.0, 105.0)),
    SetPoint(
        "seeding_density",
        "expansion",
        "cell/cm**2",
        "CPP",
        3000.0,
        (2500.0, 3500.0),
        (1500.0, 5000.0),
    ),
    SetPoint("working_volume", "expansion", "mL", "KPP", 1000.0, (950.0, 1050.0), (850.0, 1150.0)),
    SetPoint("dissolved_oxygen", "expansion", "percent", "KPP", 40.0, (30.0, 50.0), (20.0, 60.0)),
    SetPoint("dmso_exposure_time", "fill", "min", "CPP", 30.0, (20.0, 40.0), (10.0, 90.0)),
    SetPoint("cooling_rate", "freeze", "K/min", "CPP", 1.0, (0.8, 1.2), (0.3, 3.0)),
)

#: Inputs that describe the batch rather than the process, at their typical values.
NOMINAL_COVARIATES = {
    "donor_age": 30.0,
    "umbilical": 0.0,
    "donor_growth_effect": 0.0,
    "donor_potency_effect": 0.0,
    "msc_available": 2e8,
    "receipt_viability": 95.0,
    "medium_lot_effect": 0.0,
    "supplement_lot_effect": 0.0,
    "supplement_potency_effect": 0.0,
    "temperature_offset": 0.0,
    "crf_rate_factor": 1.0,
    "process_change": 0.0,
}
NO_FAULTS = {
    "temperature_drift_h": np.inf,
    "ph_drift_h": np.inf,
    "do_loss_h": np.inf,
    "contamination_h": np.inf,
    "freezer_failure": 0.0,
}


@dataclass
class MscRun:
    """Everything one call of :func:`run_msc` produced (one row per batch)."""

    true: dict[str, np.ndarray]
    trace: CultureTrace
    signals: dict[str, np.ndarray]  # logged online signals (n, steps)
    fill: Fill
    freeze: FreezeRun
    harvest_cells: np.ndarray
    harvest_viability: np.ndarray
    seeded_cells_per_ml: np.ndarray
    actual_cooling_rate: np.ndarray


def mixing(agitation_rpm: np.ndarray, volume_ml: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fraction of carriers in suspension and the shear death rate (1/h)."""
    v = MSC_VESSEL
    rps = np.asarray(agitation_rpm, dtype=float) / 60.0
    epsilon = v.power_number * rps**3 * v.impeller_diameter_m**5 / (volume_ml * 1e-6)
    eddy_um = (v.kinematic_viscosity_m2_s**3 / epsilon) ** 0.25 * 1e6
    critical_um = v.critical_eddy_fraction * v.microcarrier_diameter_um
    shear = v.shear_death_per_h * np.clip((critical_um / eddy_um) ** 2 - 1.0, 0.0, None)
    suspended = 1.0 / (
        1.0 + np.exp(-(agitation_rpm - v.just_suspended_rpm) / v.suspension_width_rpm)
    )
    return suspended, shear


def _drift(hours: np.ndarray, onset_h: np.ndarray, per_h: float, cap: float) -> np.ndarray:
    since = hours[None, :] - onset_h[:, None]
    return np.where(since > 0, np.clip(per_h * np.where(since > 0, since, 0.0), -cap, cap), 0.0)


def run_msc(
    inp: dict[str, np.ndarray], rng: np.random.Generator | None, *, record: bool = True
) -> MscRun:
    """Run expansion, harvest, fill and freeze for every batch described by ``inp``.

    ``rng=None`` gives the deterministic mean model: no process or measurement noise, the
    same mechanism (used for the ground-truth effects and the design space).
    """
    n = inp["temperature"].shape[0]
    hours = np.arange(N_STEPS) * DT_H
    area = MSC_VESSEL.surface_cm2_per_ml
    volume = inp["working_volume"]
    seed_per_ml = inp["seeding_density"] * area
    available = inp["msc_available"] * inp["receipt_viability"] / 100.0 / volume
    # Cells stressed in transport attach and start poorly (a lag in the first passage).
    attach = np.clip(inp["receipt_viability"] / 95.0, 0.0, 1.0) ** 2
    x0 = np.minimum(seed_per_ml, available) * attach
    suspended, shear = mixing(inp["agitation"], volume)
    donor = growth_factor_for(inp["donor_age"], inp["umbilical"] > 0.5, inp["donor_growth_effect"])
    growth = (
        donor
        * np.exp(inp["medium_lot_effect"] + inp["supplement_lot_effect"])
        * np.where(inp["process_change"] > 0.5, CHANGE_GROWTH, 1.0)
        * suspended
    )
    drift = _drift(hours, inp["temperature_drift_h"], flt.DRIFT_C_PER_H, flt.DRIFT_MAX_C)
    actual_t = (inp["temperature"] + inp["temperature_offset"])[:, None] + drift
    never = N_STEPS + 1
    culture = CultureInputs(
        x0=x0,
        viability0=np.clip(inp["receipt_viability"] / 100.0, 0.3, 1.0),
        growth_factor=growth,
        x_max=np.full(n, MSC_VESSEL.confluence_cells_per_cm2 * area),
        extra_death_per_h=shear,
        temperature_c=actual_t,
        do_setpoint=inp["dissolved_oxygen"],
        kla_per_h=MSC_VESSEL.kla_per_h,
        kla_failure_per_h=MSC_VESSEL.kla_gas_failure_per_h,
        do_loss_step=onset_step(inp["do_loss_h"], never),
        contamination_step=onset_step(inp["contamination_h"], never),
        pd0=np.full(n, DONORS.pd_before_process),
        pd_max=DONORS.pd_max_young - DONORS.pd_max_loss_per_year * inp["donor_age"],
        exchanges={d * STEPS_PER_DAY: 0.5 for d in EXCHANGE_DAYS},
        passages={d * STEPS_PER_DAY: seed_per_ml for d in PASSAGE_DAYS},
        sample_steps=np.arange(CULTURE_DAYS) * STEPS_PER_DAY,
    )
    trace = integrate(MSC_KINETICS, culture, N_STEPS, record=record)
    final = trace.final
    harvest_cells = final["vcd"] * volume * HARVEST_RECOVERY
    harvest_viability = final["viability"]
    filled = fill(
        harvest_cells, CELLS_PER_BAG, BAG_VOLUME_ML, MAX_BAGS, inp["dmso_exposure_time"], rng
    )
    rate = (
        inp["cooling_rate"]
        * inp["crf_rate_factor"]
        * np.where(inp["freezer_failure"] > 0.5, flt.FREEZER_FAILURE_RATE_FACTOR, 1.0)
    )
    frozen = freeze_curves(rate, filled.dmso_min, rng)
    post_thaw = harvest_viability * frozen.survival
    cells_per_bag = np.minimum(CELLS_PER_BAG, harvest_cells / filled.n_units)
    dose = cells_per_bag * filled.unit_volume_ml / BAG_VOLUME_ML * post_thaw / 100.0 / 1e6
    true = _attributes(inp, final, post_thaw, dose, rng)
    signals = _signals(inp, trace, hours, drift, rng) if record else {}
    return MscRun(
        true=true,
        trace=trace,
        signals=signals,
        fill=filled,
        freeze=frozen,
        harvest_cells=harvest_cells,
        harvest_viability=harvest_viability,
        seeded_cells_per_ml=x0,
        actual_cooling_rate=rate,
    )


def _attributes(
    inp: dict[str, np.ndarray],
    final: dict[str, np.ndarray],
    post_thaw: np.ndarray,
    dose: np.ndarray,
    rng: np.random.Generator | None,
) -> dict[str, np.ndarray]:
    n = post_thaw.shape[0]

    def noise(sd: float) -> np.ndarray:
        return np.zeros(n) if rng is None else np.asarray(rng.normal(0.0, sd, n))

    pd_total = DONORS.pd_before_process + final["pd"]
    pd_max = DONORS.pd_max_young - DONORS.pd_max_loss_per_year * inp["donor_age"]
    # Replicative age: doublings as a fraction of the donor's doublings to senescence.
    replicative_age = pd_total / pd_max
    aged = np.maximum(replicative_age - 0.37, 0.0) * 40.0
    potency = (
        100.0
        * np.exp(inp["donor_potency_effect"] + inp["supplement_potency_effect"] + noise(0.05))
        * np.where(inp["process_change"] > 0.5, CHANGE_POTENCY, 1.0)
        * np.exp(-POTENCY_LOSS_PER_REPLICATIVE_AGE * (replicative_age - 0.39))
    )
    contaminated = (final["bacteria"] > 0).astype(float)
    return {
        "post_thaw_viability": np.clip(post_thaw, 0.0, 100.0),
        "viable_cell_dose": np.maximum(dose, 0.0),
        "cd73": np.clip(99.4 - 0.05 * aged + noise(0.2), 0, 100),
        "cd90": np.clip(99.2 - 0.05 * aged + noise(0.2), 0, 100),
        "cd105": np.clip(98.6 - 0.30 * aged + noise(0.4), 0, 100),
        "cd45": np.clip(0.4 + noise(0.1), 0, 100),
        "cd34": np.clip(0.3 + noise(0.1), 0, 100),
        "hla_dr": np.clip(0.6 + 0.03 * aged + noise(0.15), 0, 100),
        "potency": potency,
        "endotoxin": 0.06 * np.exp(noise(0.3)) + 6.0 * contaminated,
        "sterility": contaminated,
        "mycoplasma": np.zeros(n),
        "population_doublings": pd_total,
    }


def _signals(
    inp: dict[str, np.ndarray],
    trace: CultureTrace,
    hours: np.ndarray,
    drift: np.ndarray,
    rng: np.random.Generator | None,
) -> dict[str, np.ndarray]:
    """Logged online signals: what the probes show (not the hidden calibration offset)."""
    shape = trace.ph.shape

    def noise(sd: float) -> np.ndarray:
        return np.zeros(shape) if rng is None else rng.normal(0.0, sd, shape)

    ph_drift = _drift(hours, inp["ph_drift_h"], flt.PH_DRIFT_PER_H, 1.0)
    return {
        "temperature": inp["temperature"][:, None] + drift + noise(0.05),
        "pH": trace.ph + ph_drift + noise(0.01),
        "DO": np.clip(trace.do + noise(0.8), 0, None),
        "agitation": inp["agitation"][:, None] + noise(0.4),
    }
