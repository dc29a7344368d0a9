"""AAV vector: HEK293 triple transfection -> harvest -> clarification -> affinity capture ->
anion exchange -> fill (Grieger 2016; Wright 2014).

Specific productivity (vg per cell) is log-normal bell-shaped in the PEI:DNA ratio (optimum
near 2:1 w/w) and in the DNA dose per cell, and falls as the density at transfection rises
(the cell-density effect). The fraction of full capsids in the crude harvest grows with the
share of the transgene (GOI) plasmid. Step yields multiply through purification; anion
exchange recovers full capsids better than empty ones, which enriches % full. Residual host
DNA falls by the log reduction of nuclease, affinity and AEX. The process change (a new
affinity resin) raises the affinity step yield from 72 % to 80 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from saisei.simulation import _faults as flt
from saisei.simulation._kinetics import (
    DT_H,
    CultureInputs,
    CultureTrace,
    cardinal_temperature,
    integrate,
    onset_step,
)
from saisei.simulation._params import AAV, HEK_KINETICS
from saisei.simulation._process import SetPoint

PRODUCTION_HOURS = 72
STEPS_PER_DAY = 144
N_STEPS = PRODUCTION_HOURS * 6
VOLUME_ML = 1000.0  # per litre of harvest; results are per litre then scaled

SETPOINTS: tuple[SetPoint, ...] = (
    SetPoint(
        "transfection_density",
        "transfection",
        "cell/mL",
        "CPP",
        2.0e6,
        (1.8e6, 2.2e6),
        (1.2e6, 3.2e6),
    ),
    SetPoint("pei_dna_ratio", "transfection", "dimensionless", "CPP", 2.0, (1.8, 2.2), (1.0, 3.5)),
    SetPoint("dna_dose", "transfection", "pg/cell", "CPP", 1.0, (0.9, 1.1), (0.5, 2.0)),
    SetPoint(
        "goi_plasmid_fraction",
        "transfection",
        "dimensionless",
        "CPP",
        0.33,
        (0.30, 0.36),
        (0.20, 0.50),
    ),
    SetPoint("temperature", "production", "degC", "CPP", 37.0, (36.5, 37.5), (35.0, 38.0)),
    SetPoint("dissolved_oxygen", "production", "percent", "KPP", 40.0, (30.0, 50.0), (20.0, 60.0)),
)

NOMINAL_COVARIATES = {
    "plasmid_lot_effect": 0.0,
    "pei_lot_effect": 0.0,
    "resin_lot_effect": 0.0,
    "temperature_offset": 0.0,
    "process_change": 0.0,
}


@dataclass
class AavRun:
    """Everything one call of :func:`run_aav` produced."""

    true: dict[str, np.ndarray]
    trace: CultureTrace
    signals: dict[str, np.ndarray]
    crude_titer_vg_per_ml: np.ndarray
    crude_full_fraction: np.ndarray
    step_yields: dict[str, np.ndarray]


def specific_yield(inp: dict[str, np.ndarray]) -> np.ndarray:
    """Vector genomes per cell from the transfection conditions (and lot effects)."""
    pei = np.exp(
        -(np.log(inp["pei_dna_ratio"] / AAV.pei_ratio_optimum) ** 2)
        / (2 * AAV.pei_ratio_log_width**2)
    )
    dna = np.exp(
        -(np.log(inp["dna_dose"] / AAV.dna_optimum_ug_per_1e6_cells) ** 2)
        / (2 * AAV.dna_log_width**2)
    )
    density = 1.0 / (1.0 + (inp["transfection_density"] / AAV.density_effect_cells_per_ml) ** 2)
    goi = inp["goi_plasmid_fraction"]
    plasmids = (goi / 0.33) ** 0.3 * ((1 - goi) / 0.67) ** 0.5
    lots = np.exp(inp["plasmid_lot_effect"] + inp["pei_lot_effect"])
    return AAV.vg_per_cell_max * pei * dna * density * plasmids * lots


def run_aav(
    inp: dict[str, np.ndarray], rng: np.random.Generator | None, *, record: bool = True
) -> AavRun:
    """Run production, harvest and purification for every batch."""
    n = inp["pei_dna_ratio"].shape[0]
    hours = np.arange(N_STEPS) * DT_H
    since = hours[None, :] - inp["temperature_drift_h"][:, None]
    drift = np.where(
        since > 0,
        np.clip(flt.DRIFT_C_PER_H * np.where(since > 0, since, 0), 0, flt.DRIFT_MAX_C),
        0.0,
    )
    actual_t = (inp["temperature"] + inp["temperature_offset"])[:, None] + drift
    never = N_STEPS + 1
    culture = CultureInputs(
        x0=inp["transfection_density"],
        viability0=np.full(n, 0.97),
        growth_factor=np.full(n, 0.4),  # transfected cells barely divide
        x_max=np.full(n, 8e6),
        extra_death_per_h=0.002 * inp["pei_dna_ratio"],
        temperature_c=actual_t,
        do_setpoint=inp["dissolved_oxygen"],
        kla_per_h=10.0,
        kla_failure_per_h=0.5,
        do_loss_step=onset_step(inp["do_loss_h"], never),
        contamination_step=onset_step(inp["contamination_h"], never),
        pd0=np.zeros(n),
        pd_max=np.full(n, 1e3),
        exchanges={},
        passages={},
        sample_steps=np.arange(PRODUCTION_HOURS // 24) * STEPS_PER_DAY,
    )
    trace = integrate(HEK_KINETICS, culture, N_STEPS, record=record)
    final = trace.final
    # Productivity follows the mean temperature of the production phase (CTMI).
    t_factor = cardinal_temperature(
        actual_t.mean(axis=1), HEK_KINETICS.t_min_c, HEK_KINETICS.t_opt_c, HEK_KINETICS.t_max_c
    )
    cells = np.maximum(final["vcd"], 0.0)
    contaminated = final["bacteria"] > 0
    crude = specific_yield(inp) * cells * t_factor * np.where(contaminated, 0.2, 1.0)

    def noise(sd: float) -> np.ndarray:
        return np.zeros(n) if rng is None else np.asarray(rng.normal(0.0, sd, n))

    full = np.clip(
        AAV.full_fraction_crude * (inp["goi_plasmid_fraction"] / 0.33) ** 0.8
        + noise(AAV.full_fraction_sd),
        0.02,
        0.9,
    )
    affinity = np.where(
        inp["process_change"] > 0.5, AAV.process_change_affinity_yield, AAV.affinity_yield
    )
    yields = {
        "clarification": np.clip(AAV.clarification_yield + noise(0.03), 0.5, 0.98),
        "affinity": np.clip(affinity * np.exp(inp["resin_lot_effect"]) + noise(0.03), 0.3, 0.95),
    }
    aex_full = np.clip(AAV.aex_full_recovery + noise(0.03), 0.4, 0.98)
    aex_empty = AAV.aex_empty_recovery
    yields["aex"] = aex_full
    vg_total = crude * VOLUME_ML * yields["clarification"] * yields["affinity"] * aex_full
    final_volume = AAV.final_volume_ml_per_l * VOLUME_ML / 1000.0
    full_after = full * aex_full / (full * aex_full + (1 - full) * aex_empty)
    lrv = AAV.host_dna_log_reduction + noise(0.2)
    host_dna = AAV.host_dna_ng_per_1e6_cells * cells * VOLUME_ML / 1e6 * 10 ** (-lrv)
    true = {
        "vg_titer": vg_total / final_volume,
        "full_capsids": 100.0 * full_after,
        "residual_host_dna": host_dna / final_volume * AAV.dose_volume_ml,
        "endotoxin": 0.04 * np.exp(noise(0.3)) + 5.0 * contaminated,
        "sterility": contaminated.astype(float),
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
            "agitation": np.full(shape, 120.0) + z(0.5),
        }
    return AavRun(
        true=true,
        trace=trace,
        signals=signals,
        crude_titer_vg_per_ml=crude,
        crude_full_fraction=full,
        step_yields=yields,
    )
