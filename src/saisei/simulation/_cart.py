"""Autologous CAR-T: leukapheresis -> T-cell selection -> activation -> lentiviral
transduction -> expansion in a rocking-motion bioreactor -> fill and freeze (Levine 2017).

Transduction follows the Poisson model of integration (Fehse 2004): with ``m`` integrations
per cell on average, the transduced fraction is ``1 - exp(-m)`` and the copies per transduced
cell ``m / (1 - exp(-m))``; ``m`` grows with the multiplicity of infection (MOI), the
functional titer of the vector lot and the activation state of the cells (bead-to-cell
ratio). Expansion uses the shared kinetics with the patient's T-cell fitness (age, prior
lines of therapy, random effect). The process change (vector made by a new process, 30 %
higher functional titer per nominal TU) raises CAR+ % and VCN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from saisei.simulation import _faults as flt
from saisei.simulation._donors import patient_growth_factor
from saisei.simulation._fill_freeze import Fill, FreezeRun, fill, freeze_curves
from saisei.simulation._kinetics import (
    DT_H,
    CultureInputs,
    CultureTrace,
    integrate,
    onset_step,
)
from saisei.simulation._params import CART_KINETICS, TRANSDUCTION
from saisei.simulation._process import SetPoint

CULTURE_DAYS = 9
STEPS_PER_DAY = 144
N_STEPS = CULTURE_DAYS * STEPS_PER_DAY
EXCHANGE_DAYS = (3, 5, 7)
VOLUME_ML = 1000.0
X_MAX_PER_ML = 1.2e7
BAG_VOLUME_ML = 50.0
TARGET_DOSE_PER_KG = 2.0e6

SETPOINTS: tuple[SetPoint, ...] = (
    SetPoint("bead_ratio", "activation", "dimensionless", "KPP", 3.0, (2.5, 3.5), (1.0, 5.0)),
    SetPoint("moi", "transduction", "dimensionless", "CPP", 3.0, (2.5, 3.5), (1.0, 8.0)),
    SetPoint("temperature", "expansion", "degC", "CPP", 37.0, (36.5, 37.5), (36.0, 38.5)),
    SetPoint("seeding_density", "expansion", "cell/mL", "KPP", 5e5, (4e5, 6e5), (2.5e5, 1e6)),
    SetPoint("dissolved_oxygen", "expansion", "percent", "KPP", 40.0, (30.0, 50.0), (20.0, 60.0)),
    SetPoint("dmso_exposure_time", "fill", "min", "CPP", 30.0, (20.0, 40.0), (10.0, 90.0)),
    SetPoint("cooling_rate", "freeze", "K/min", "CPP", 1.0, (0.8, 1.2), (0.3, 3.0)),
)

NOMINAL_COVARIATES = {
    "patient_age": 55.0,
    "prior_lines": 2.0,
    "fitness_effect": 0.0,
    "weight_kg": 72.0,
    "receipt_viability": 96.0,
    "cd3_fraction": 0.45,
    "vector_lot_effect": 0.0,
    "medium_lot_effect": 0.0,
    "temperature_offset": 0.0,
    "crf_rate_factor": 1.0,
    "process_change": 0.0,
}


@dataclass
class CartRun:
    """Everything one call of :func:`run_cart` produced (one row per batch)."""

    true: dict[str, np.ndarray]
    trace: CultureTrace
    signals: dict[str, np.ndarray]
    fill: Fill
    freeze: FreezeRun
    harvest_cells: np.ndarray
    integrations_per_cell: np.ndarray
    actual_cooling_rate: np.ndarray


def integrations(
    moi: np.ndarray,
    bead_ratio: np.ndarray,
    vector_lot_effect: np.ndarray,
    process_change: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean integrations per cell ``m`` and the activated fraction."""
    activation = np.clip(
        TRANSDUCTION.activation_mean * (1 - np.exp(-bead_ratio)) / (1 - np.exp(-3.0)), 0.0, 0.98
    )
    factor = np.where(process_change > 0.5, TRANSDUCTION.process_change_factor, 1.0)
    m = TRANSDUCTION.efficiency_per_moi * moi * np.exp(vector_lot_effect) * activation * factor
    return m, activation


def run_cart(
    inp: dict[str, np.ndarray], rng: np.random.Generator | None, *, record: bool = True
) -> CartRun:
    """Run activation, transduction, expansion, fill and freeze for every batch."""
    n = inp["moi"].shape[0]
    hours = np.arange(N_STEPS) * DT_H
    m, activation = integrations(
        inp["moi"], inp["bead_ratio"], inp["vector_lot_effect"], inp["process_change"]
    )
    growth = (
        patient_growth_factor(inp["patient_age"], inp["prior_lines"], inp["fitness_effect"])
        * np.exp(inp["medium_lot_effect"])
        * activation
        / TRANSDUCTION.activation_mean
    )
    since = hours[None, :] - inp["temperature_drift_h"][:, None]
    drift = np.where(
        since > 0,
        np.clip(flt.DRIFT_C_PER_H * np.where(since > 0, since, 0), 0, flt.DRIFT_MAX_C),
        0.0,
    )
    never = N_STEPS + 1
    culture = CultureInputs(
        x0=inp["seeding_density"] * (inp["receipt_viability"] / 96.0) ** 2,
        viability0=np.clip(inp["receipt_viability"] / 100.0, 0.3, 1.0),
        growth_factor=growth,
        x_max=np.full(n, X_MAX_PER_ML),
        extra_death_per_h=0.0008 * m,  # vector toxicity
        temperature_c=(inp["temperature"] + inp["temperature_offset"])[:, None] + drift,
        do_setpoint=inp["dissolved_oxygen"],
        kla_per_h=8.0,
        kla_failure_per_h=0.3,
        do_loss_step=onset_step(inp["do_loss_h"], never),
        contamination_step=onset_step(inp["contamination_h"], never),
        pd0=np.zeros(n),
        pd_max=np.full(n, 60.0),
        exchanges={d * STEPS_PER_DAY: 0.5 for d in EXCHANGE_DAYS},
        passages={},
        sample_steps=np.arange(CULTURE_DAYS) * STEPS_PER_DAY,
    )
    trace = integrate(CART_KINETICS, culture, N_STEPS, record=record)
    final = trace.final
    harvest = final["vcd"] * VOLUME_ML * 0.85
    car_fraction = 1.0 - np.exp(-m)
    target = TARGET_DOSE_PER_KG * inp["weight_kg"] / np.maximum(car_fraction, 0.01)
    filled = fill(harvest, 1e30, BAG_VOLUME_ML, 1, inp["dmso_exposure_time"], rng)
    rate = (
        inp["cooling_rate"]
        * inp["crf_rate_factor"]
        * np.where(inp["freezer_failure"] > 0.5, flt.FREEZER_FAILURE_RATE_FACTOR, 1.0)
    )
    frozen = freeze_curves(rate, filled.dmso_min, rng)
    post_thaw = final["viability"] * frozen.survival
    formulated = np.minimum(harvest, target)
    dose_per_kg = formulated * car_fraction * post_thaw / 100.0 / inp["weight_kg"] / 1e6
    noise = (lambda sd: np.zeros(n)) if rng is None else (lambda sd: rng.normal(0.0, sd, n))
    contaminated = (final["bacteria"] > 0).astype(float)
    true = {
        "viability": np.clip(post_thaw, 0, 100),
        "car_positive": np.clip(100.0 * car_fraction + noise(1.0), 0, 100),
        "vcn": m / np.maximum(car_fraction, 1e-9),
        "cd3": np.clip(97.5 + noise(0.6) - 2.0 * (0.45 - inp["cd3_fraction"]), 0, 100),
        "car_t_dose": dose_per_kg,
        "endotoxin": 0.05 * np.exp(noise(0.3)) + 6.0 * contaminated,
        "sterility": contaminated,
        "mycoplasma": np.zeros(n),
    }
    signals: dict[str, np.ndarray] = {}
    if record:
        shape = trace.ph.shape
        z = (lambda sd: np.zeros(shape)) if rng is None else (lambda sd: rng.normal(0.0, sd, shape))
        ph_since = hours[None, :] - inp["ph_drift_h"][:, None]
        ph_drift = np.where(
            ph_since > 0, flt.PH_DRIFT_PER_H * np.where(ph_since > 0, ph_since, 0), 0.0
        )
        signals = {
            "temperature": inp["temperature"][:, None] + drift + z(0.05),
            "pH": trace.ph + ph_drift + z(0.01),
            "DO": np.clip(trace.do + z(0.8), 0, None),
        }
    return CartRun(
        true=true,
        trace=trace,
        signals=signals,
        fill=filled,
        freeze=frozen,
        harvest_cells=harvest,
        integrations_per_cell=m,
        actual_cooling_rate=rate,
    )
