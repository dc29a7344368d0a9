"""Donors and what they give: starting cells, viability and intrinsic growth potential.

Allogeneic MSC donors (bone marrow from adult volunteers by iliac-crest aspiration, umbilical
cord tissue after birth) and autologous CAR-T patients (leukapheresis). Growth potential is a
donor random effect on the log scale times an age term: older donors grow slower and reach
senescence after fewer doublings (Stolzing 2008; Baxter 2004); cord MSC grow faster than
bone-marrow MSC (Lu 2006). Patients after several lines of therapy give fewer and less fit T
cells (Levine 2017). All parameters live in :mod:`saisei.simulation._params`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from saisei.simulation._params import DONORS

#: A donor is flagged an outlier (in the ground truth) when |random effect| > this many SDs.
OUTLIER_SD = 2.5


@dataclass
class MscDonors:
    """Sampled MSC donors and their donations (arrays of shape (n,))."""

    age_years: np.ndarray
    sex: np.ndarray
    tissue: np.ndarray  # "bone_marrow" or "umbilical_cord"
    method: np.ndarray
    volume_ml: np.ndarray
    tnc: np.ndarray  # total nucleated cells (NaN for cord tissue)
    viability: np.ndarray  # percent at collection
    msc_available: np.ndarray  # MSC available for seeding after P0
    growth_effect: np.ndarray  # log-scale donor random effect (the truth)
    growth_factor: np.ndarray  # relative growth rate
    pd_max: np.ndarray
    potency_effect: np.ndarray  # log-scale donor random effect on potency


def growth_factor_for(
    age_years: np.ndarray, umbilical: np.ndarray, effect: np.ndarray
) -> np.ndarray:
    """Relative growth rate of a donor: age above 30 slows growth; cord is faster."""
    age_term = 1.0 - DONORS.growth_loss_per_year * np.maximum(age_years - 30.0, 0.0)
    tissue_term = np.where(umbilical, DONORS.umbilical_cord_growth, 1.0)
    return np.exp(effect) * np.clip(age_term, 0.3, None) * tissue_term


def sample_msc_donors(rng: np.random.Generator, n: int) -> MscDonors:
    """Sample ``n`` allogeneic MSC donors with one donation each."""
    umbilical = rng.random(n) < 0.4
    age = np.where(umbilical, 0, rng.integers(18, 61, n)).astype(int)
    sex = rng.choice(np.array(["female", "male"]), n)
    volume = np.where(umbilical, rng.uniform(35, 60, n), rng.uniform(30, 100, n))
    tnc = np.where(umbilical, np.nan, volume * rng.lognormal(np.log(2.2e7), 0.3, n))
    viability = np.clip(rng.normal(np.where(umbilical, 93.0, 96.0), 2.0, n), 75, 99.8)
    effect = rng.normal(0.0, DONORS.growth_donor_sd, n)
    poor = rng.random(n) < 0.03  # a few donors whose cells barely grow
    effect = np.where(poor, effect - 4 * DONORS.growth_donor_sd, effect)
    tissue_cells = np.where(
        umbilical,
        rng.uniform(4e3, 9e3, n) * volume,
        np.nan_to_num(tnc) * DONORS.msc_per_tnc_bone_marrow,
    )
    return MscDonors(
        age_years=age,
        sex=sex,
        tissue=np.where(umbilical, "umbilical_cord", "bone_marrow"),
        method=np.where(umbilical, "caesarean cord segment", "iliac crest aspiration"),
        volume_ml=volume,
        tnc=tnc,
        viability=viability,
        msc_available=tissue_cells * DONORS.p0_expansion_fold,
        growth_effect=effect,
        growth_factor=growth_factor_for(age, umbilical, effect),
        pd_max=DONORS.pd_max_young - DONORS.pd_max_loss_per_year * age,
        potency_effect=rng.normal(0.0, DONORS.potency_donor_sd, n),
    )


@dataclass
class Patients:
    """Autologous CAR-T patients and their leukapheresis collections."""

    age_years: np.ndarray
    sex: np.ndarray
    weight_kg: np.ndarray
    prior_lines: np.ndarray
    volume_ml: np.ndarray
    tnc: np.ndarray
    viability: np.ndarray
    cd3_fraction: np.ndarray
    fitness_effect: np.ndarray  # log-scale random effect (the truth)
    growth_factor: np.ndarray


def patient_growth_factor(
    age_years: np.ndarray, prior_lines: np.ndarray, effect: np.ndarray
) -> np.ndarray:
    """Relative T-cell expansion: older and more heavily pre-treated patients expand less."""
    age_term = 1.0 - 0.004 * (age_years - 50.0)
    lines_term = 1.0 - 0.05 * (prior_lines - 1)
    return np.exp(effect) * np.clip(age_term * lines_term, 0.3, None)


def sample_patients(rng: np.random.Generator, n: int) -> Patients:
    """Sample ``n`` autologous patients with one leukapheresis each."""
    age = rng.integers(25, 79, n)
    lines = rng.integers(1, 5, n)
    effect = rng.normal(0.0, 0.10, n)
    volume = rng.uniform(150, 300, n)
    return Patients(
        age_years=age,
        sex=rng.choice(np.array(["female", "male"]), n),
        weight_kg=np.round(rng.normal(72, 13, n).clip(45, 120), 1),
        prior_lines=lines,
        volume_ml=volume,
        tnc=volume * rng.lognormal(np.log(5e7), 0.3, n),
        viability=np.clip(rng.normal(97.5, 1.0, n), 85, 99.9),
        cd3_fraction=np.clip(rng.normal(0.55 - 0.05 * lines, 0.08, n), 0.1, 0.85),
        fitness_effect=effect,
        growth_factor=patient_growth_factor(age, lines, effect),
    )
