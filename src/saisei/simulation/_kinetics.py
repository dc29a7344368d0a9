"""Unstructured culture kinetics, integrated for many batches at once.

Growth (Monod in glucose, non-competitive inhibition by lactate and ammonia, Schop 2009),
temperature by the cardinal-temperature model with inflection (Rosso 1993), contact
inhibition (logistic in the carrying capacity), senescence with population doublings
(Wagner 2008), oxygen (quasi-controlled dissolved oxygen with a gas-supply failure mode) and
bacterial contamination (fast-growing organism that crashes glucose, acidifies the medium and
consumes oxygen). Explicit Euler on a 10-minute grid; every array has one row per batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from saisei.simulation._params import (
    DO_MAX_PURE_O2_PERCENT,
    KS_DO_PERCENT,
    OXYGEN_SATURATION_MM,
    Kinetics,
)

#: Integration (and online-signal) step, h.
DT_H = 1.0 / 6.0
_LN2 = float(np.log(2.0))
# Contaminant (a fast-growing bacterium): growth, ceiling and per-cell rates.
_BACT_MU_PER_H = 0.7
_BACT_MAX_PER_ML = 1e9
_BACT_GLUCOSE_PMOL_PER_CELL_H = 2e-3
_BACT_OXYGEN_PMOL_PER_CELL_H = 4e-3
_BACT_KILL_PER_H_PER_1E8 = 0.05
# Acids from amino-acid fermentation once glucose is gone (mM/h at 1e9 organisms/mL).
_BACT_ACID_MM_PER_H_PER_1E9 = 0.5
# Heat stress: death grows with the square of the excess over t_opt + 0.5 C.
_HEAT_DEATH_PER_H_C2 = 0.004


def cardinal_temperature(
    temperature_c: np.ndarray, t_min: float, t_opt: float, t_max: float
) -> np.ndarray:
    """Relative growth rate (0..1) by the CTMI of Rosso et al. (1993), 1 at ``t_opt``."""
    t = np.asarray(temperature_c, dtype=float)
    num = (t - t_max) * (t - t_min) ** 2
    den = (t_opt - t_min) * (
        (t_opt - t_min) * (t - t_opt) - (t_opt - t_max) * (t_opt + t_min - 2 * t)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where((t > t_min) & (t < t_max), num / den, 0.0)
    return np.clip(value, 0.0, 1.0)


def onset_step(onset_h: np.ndarray, never: int) -> np.ndarray:
    """Integration step of each onset in hours (``never`` where the onset is infinite)."""
    finite = np.isfinite(onset_h)
    return np.where(finite, np.floor(np.where(finite, onset_h, 0.0) / DT_H), never).astype(int)


@dataclass
class CultureInputs:
    """Per-batch inputs of :func:`integrate` (arrays of shape (n,) unless noted)."""

    x0: np.ndarray  # viable cells/mL at t = 0
    viability0: np.ndarray  # fraction
    growth_factor: np.ndarray  # multiplies mu_max (donor, lots, mixing, change)
    x_max: np.ndarray  # carrying capacity, cells/mL
    extra_death_per_h: np.ndarray  # shear and other stress
    temperature_c: np.ndarray  # (n, steps) actual culture temperature
    do_setpoint: np.ndarray  # % air saturation
    kla_per_h: float
    kla_failure_per_h: float
    do_loss_step: np.ndarray  # int, first step without gas supply (n_steps: never)
    contamination_step: np.ndarray  # int, step of contamination (n_steps: never)
    pd0: np.ndarray  # population doublings before this culture
    pd_max: np.ndarray  # doublings to senescence
    exchanges: dict[int, float]  # step -> fraction of medium exchanged
    passages: dict[int, np.ndarray]  # step -> reseeding density, cells/mL
    sample_steps: np.ndarray  # steps at which offline samples are taken


@dataclass
class CultureTrace:
    """What :func:`integrate` returns; (n, steps) traces hold the state before each step."""

    ph: np.ndarray  # (n, steps)
    do: np.ndarray  # (n, steps)
    samples: dict[str, np.ndarray]  # name -> (n, n_samples): vcd, viability, glc, lac, nh4
    final: dict[str, np.ndarray]  # name -> (n,)


def integrate(
    k: Kinetics, inp: CultureInputs, n_steps: int, *, record: bool = True
) -> CultureTrace:
    """Integrate the culture of every batch for ``n_steps`` steps of :data:`DT_H`."""
    n = inp.x0.shape[0]
    x = inp.x0.astype(float).copy()
    d = x * (1 - inp.viability0) / np.maximum(inp.viability0, 1e-3)
    g = np.full(n, k.glucose_medium_mm)
    lac = np.zeros(n)
    nh4 = np.zeros(n)
    bact = np.zeros(n)
    acid = np.zeros(n)
    do = inp.do_setpoint.astype(float).copy()
    pd = np.zeros(n)
    mu_t = cardinal_temperature(inp.temperature_c, k.t_min_c, k.t_opt_c, k.t_max_c)
    ph_trace = np.empty((n, n_steps)) if record else np.empty((n, 0))
    do_trace = np.empty((n, n_steps)) if record else np.empty((n, 0))
    sample_at = {int(s): i for i, s in enumerate(inp.sample_steps)}
    samples = {
        name: np.full((n, len(sample_at)), np.nan)
        for name in ("vcd", "viability", "glucose", "lactate", "ammonia")
    }
    o2_per_pct = OXYGEN_SATURATION_MM / 100.0
    min_viable = np.zeros(n)
    for step in range(n_steps):
        if step in sample_at:  # offline samples are drawn before a passage or a feed
            i = sample_at[step]
            samples["vcd"][:, i] = x
            samples["viability"][:, i] = 100.0 * x / np.maximum(x + d, 1.0)
            samples["glucose"][:, i] = g
            samples["lactate"][:, i] = lac
            samples["ammonia"][:, i] = nh4
        if step in inp.passages:
            seed = inp.passages[step]
            ratio = np.minimum(seed / np.maximum(x, 1.0), 1.0)
            x, d = x * ratio, d * ratio
            g[:] = k.glucose_medium_mm
            lac[:] = 0.0
            nh4[:] = 0.0
            acid[:] = 0.0
        elif step in inp.exchanges:
            f = inp.exchanges[step]
            g = (1 - f) * g + f * k.glucose_medium_mm
            lac, nh4, acid = (1 - f) * lac, (1 - f) * nh4, (1 - f) * acid
        contaminated = step >= inp.contamination_step
        bact = np.where(contaminated & (bact == 0), 1.0, bact)
        # Oxygen: the controller holds the set point while the gas supply can (pure O2 at
        # most); after a gas failure DO relaxes towards air saturation with a small kLa.
        our = (k.oxygen_uptake_pmol_per_cell_h * x + _BACT_OXYGEN_PMOL_PER_CELL_H * bact) * 1e-6
        failed = step >= inp.do_loss_step
        capacity = DO_MAX_PURE_O2_PERCENT - our / (inp.kla_per_h * o2_per_pct)
        do_ctrl = np.minimum(inp.do_setpoint, capacity)
        do_free = do + DT_H * (inp.kla_failure_per_h * (100.0 - do) - our / o2_per_pct)
        do = np.clip(np.where(failed, do_free, do_ctrl), 0.0, 100.0 * 4.76)
        if record:
            ph_trace[:, step] = k.ph_start - k.ph_per_mm_lactate * (lac + acid)
            do_trace[:, step] = do
        f_sen = np.clip(1.0 - ((inp.pd0 + pd) / inp.pd_max) ** 4, 0.0, 1.0)
        mu = (
            k.mu_max_per_h
            * inp.growth_factor
            * mu_t[:, step]
            * g
            / (k.ks_glucose_mm + g)
            * k.ki_lactate_mm
            / (k.ki_lactate_mm + lac)
            * k.ki_ammonia_mm
            / (k.ki_ammonia_mm + nh4)
            * do
            / (KS_DO_PERCENT + do)
            * np.clip(1.0 - x / inp.x_max, 0.0, 1.0)
            * f_sen
        )
        kd = (
            k.death_per_h
            + inp.extra_death_per_h
            + k.starvation_death_per_h * np.exp(-g / 0.2)
            + np.minimum(_BACT_KILL_PER_H_PER_1E8 * bact / 1e8, 0.3)
            + _HEAT_DEATH_PER_H_C2
            * np.maximum(inp.temperature_c[:, step] - k.t_opt_c - 0.5, 0.0) ** 2
        )
        dx = (mu - kd) * x * DT_H
        dd = (kd * x - k.lysis_per_h * d) * DT_H
        uptake = k.glucose_uptake_pmol_per_cell_h * x * 1e-6 * DT_H
        b_uptake = _BACT_GLUCOSE_PMOL_PER_CELL_H * bact * 1e-6 * DT_H
        g_new = np.maximum(g - uptake - b_uptake, 0.0)
        used = g - g_new
        cell_share = np.divide(
            uptake, uptake + b_uptake, out=np.ones(n), where=(uptake + b_uptake) > 0
        )
        lac = lac + k.lactate_per_glucose * used * cell_share
        acid = (
            acid + 2.0 * used * (1 - cell_share) + _BACT_ACID_MM_PER_H_PER_1E9 * bact / 1e9 * DT_H
        )
        nh4 = nh4 + (k.ammonia_pmol_per_cell_h * x * 1e-6 + k.ammonia_spontaneous_mm_per_h) * DT_H
        g = g_new
        bact = np.where(
            bact > 0, bact + _BACT_MU_PER_H * bact * (1 - bact / _BACT_MAX_PER_ML) * DT_H, 0.0
        )
        pd = pd + np.maximum(mu, 0.0) * DT_H / _LN2
        x = np.maximum(x + dx, min_viable)
        d = np.maximum(d + dd, 0.0)
    final = {
        "vcd": x,
        "viability": 100.0 * x / np.maximum(x + d, 1.0),
        "glucose": g,
        "lactate": lac,
        "ammonia": nh4,
        "pd": pd,
        "bacteria": bact,
    }
    return CultureTrace(ph=ph_trace, do=do_trace, samples=samples, final=final)
