"""Ground truth from the mechanism itself: factor effects, process-change shifts and the true
probability of meeting every specification at given set-points.

Effects are finite differences of the deterministic mean model (the same kernels with no
process or measurement noise, every random effect at zero and typical covariates). The
probability of meeting specifications is a Monte-Carlo average over the population of donors,
lots and equipment with the set-points fixed; assay error is left out, so it is the truth a
design-space estimate should approach.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from saisei.errors import ValidationFailed
from saisei.simulation import _aav as aav_model
from saisei.simulation import _cart as cart_model
from saisei.simulation import _culture_msc as msc_model
from saisei.simulation._donors import sample_msc_donors, sample_patients
from saisei.simulation._process import SetPoint, nominal_setpoints
from saisei.simulation._qc import ATTRIBUTES, in_spec

NO_FAULTS = msc_model.NO_FAULTS

_KERNELS: dict[str, tuple[Callable[..., Any], tuple[SetPoint, ...], dict[str, float]]] = {
    "msc": (msc_model.run_msc, msc_model.SETPOINTS, msc_model.NOMINAL_COVARIATES),
    "cart": (cart_model.run_cart, cart_model.SETPOINTS, cart_model.NOMINAL_COVARIATES),
    "aav": (aav_model.run_aav, aav_model.SETPOINTS, aav_model.NOMINAL_COVARIATES),
}

#: Covariates and random effects whose effect is reported: name -> (unit, step, per).
_COVARIATES: dict[str, dict[str, tuple[str, float, str]]] = {
    "msc": {
        "donor_age": ("year", 10.0, "per year"),
        "donor_growth_effect": ("log", 0.08, "per donor SD"),
        "donor_potency_effect": ("log", 0.10, "per donor SD"),
        "medium_lot_effect": ("log", 0.04, "per lot SD"),
        "supplement_lot_effect": ("log", 0.05, "per lot SD"),
        "receipt_viability": ("percent", 5.0, "per percent"),
        "temperature_offset": ("degC", 0.3, "per degC"),
    },
    "cart": {
        "patient_age": ("year", 10.0, "per year"),
        "prior_lines": ("dimensionless", 1.0, "per line"),
        "fitness_effect": ("log", 0.10, "per patient SD"),
        "vector_lot_effect": ("log", 0.12, "per lot SD"),
        "receipt_viability": ("percent", 3.0, "per percent"),
    },
    "aav": {
        "plasmid_lot_effect": ("log", 0.06, "per lot SD"),
        "pei_lot_effect": ("log", 0.05, "per lot SD"),
        "resin_lot_effect": ("log", 0.03, "per lot SD"),
    },
}


def _check_product(product: str) -> None:
    if product not in _KERNELS:
        raise ValidationFailed(
            f"The product must be one of {', '.join(_KERNELS)}. Got {product!r}."
        )


def nominal_inputs(product: str, n: int) -> dict[str, np.ndarray]:
    """Kernel inputs at target set-points, typical covariates, no random effects, no faults."""
    _check_product(product)
    _, setpoints, covariates = _KERNELS[product]
    inp = nominal_setpoints(setpoints, n)
    inp.update({k: np.full(n, v, dtype=float) for k, v in covariates.items()})
    inp.update({k: np.full(n, v, dtype=float) for k, v in NO_FAULTS.items()})
    return inp


def _attributes(
    product: str, inp: dict[str, np.ndarray], rng: np.random.Generator | None = None
) -> dict[str, np.ndarray]:
    kernel = _KERNELS[product][0]
    return dict(kernel(inp, rng, record=False).true)


def factor_effects(product: str) -> dict[str, Any]:
    """True effect of every factor on every attribute at the nominal point.

    Set-points: central-difference slope per unit and the change across the NOR.
    Covariates and random effects: slope per unit and the change for one typical step (one SD
    for random effects). The process change: the shift it causes.
    """
    _check_product(product)
    _, setpoints, _ = _KERNELS[product]
    cov = _COVARIATES[product]
    rows: list[tuple[str, str, float, float]] = []  # (factor, kind, low, high)
    for sp in setpoints:
        rows.append((sp.name, "setpoint", sp.nor[0], sp.nor[1]))
    base = nominal_inputs(product, 1)
    for name, (_, step, _) in cov.items():
        x0 = float(base[name][0])
        rows.append((name, "covariate", x0 - step / 2, x0 + step / 2))
    rows.append(("process_change", "change", 0.0, 1.0))
    n = 2 * len(rows)
    inp = nominal_inputs(product, n)
    for k, (name, _, low, high) in enumerate(rows):
        inp[name][2 * k] = low
        inp[name][2 * k + 1] = high
    values = _attributes(product, inp)
    effects: dict[str, Any] = {}
    for attr, v in values.items():
        per_factor = {}
        for k, (name, kind, low, high) in enumerate(rows):
            delta = float(v[2 * k + 1] - v[2 * k])
            entry: dict[str, Any] = {"kind": kind, "slope_per_unit": delta / (high - low)}
            if kind == "setpoint":
                entry["effect_across_nor"] = delta
            elif kind == "covariate":
                unit, step, per = cov[name]
                entry.update(
                    {"unit": unit, "effect_per_step": delta, "step": step, "step_meaning": per}
                )
            else:
                entry["shift"] = delta
            per_factor[name] = entry
        effects[attr] = per_factor
    return effects


def process_change_shift(product: str) -> dict[str, float]:
    """Shift of each attribute's mean model caused by the process change."""
    inp = nominal_inputs(product, 2)
    inp["process_change"][1] = 1.0
    values = _attributes(product, inp)
    return {attr: float(v[1] - v[0]) for attr, v in values.items()}


def _population(product: str, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Covariates and random effects of new batches drawn from the plant's population."""
    inp = nominal_inputs(product, n)
    if product == "msc":
        d = sample_msc_donors(rng, n)
        inp.update(
            donor_age=d.age_years.astype(float),
            umbilical=(d.tissue == "umbilical_cord").astype(float),
            donor_growth_effect=d.growth_effect,
            donor_potency_effect=d.potency_effect,
            msc_available=d.msc_available,
            receipt_viability=d.viability * np.exp(-rng.gamma(2.0, 0.01, n)),
            medium_lot_effect=rng.normal(0, 0.04, n),
            supplement_lot_effect=rng.normal(0, 0.05, n),
            supplement_potency_effect=rng.normal(0, 0.04, n),
            temperature_offset=rng.normal(0, 0.15, n),
            crf_rate_factor=rng.normal(1.0, 0.03, n),
        )
    elif product == "cart":
        p = sample_patients(rng, n)
        inp.update(
            patient_age=p.age_years.astype(float),
            prior_lines=p.prior_lines.astype(float),
            fitness_effect=p.fitness_effect,
            weight_kg=p.weight_kg,
            receipt_viability=p.viability * np.exp(-rng.gamma(2.0, 0.01, n)),
            cd3_fraction=p.cd3_fraction,
            vector_lot_effect=rng.normal(0, 0.12, n),
            medium_lot_effect=rng.normal(0, 0.04, n),
            temperature_offset=rng.normal(0, 0.15, n),
            crf_rate_factor=rng.normal(1.0, 0.03, n),
        )
    else:
        inp.update(
            plasmid_lot_effect=rng.normal(0, 0.06, n),
            pei_lot_effect=rng.normal(0, 0.05, n),
            resin_lot_effect=rng.normal(0, 0.03, n),
            temperature_offset=rng.normal(0, 0.15, n),
        )
    return inp


def probability_in_spec(
    product: str,
    setpoints: Mapping[str, float],
    *,
    n: int = 400,
    seed: int = 0,
    process_change: bool = False,
) -> float:
    """True probability that a batch made at ``setpoints`` meets every specification.

    Parameters
    ----------
    product : {'msc', 'cart', 'aav'}
    setpoints : mapping of str to float
        Set-points to fix (others stay at their targets), in the units of the process
        definition.
    n : int
        Monte-Carlo batches (donors, lots, equipment drawn from the plant's population).
    seed : int
    process_change : bool
        Evaluate the process after the change.

    Returns
    -------
    float
        Fraction of simulated batches whose true attributes meet every specification.
    """
    _check_product(product)
    known = {sp.name for sp in _KERNELS[product][1]}
    unknown = sorted(set(setpoints) - known)
    if unknown:
        raise ValidationFailed(
            f"Set-points of {product} must be among {', '.join(sorted(known))}. Got "
            f"{', '.join(unknown)}."
        )
    if n < 1:
        raise ValidationFailed(f"The number of Monte-Carlo batches must be >= 1. Got {n}.")
    rng = np.random.default_rng(seed)
    inp = _population(product, rng, n)
    for name, value in setpoints.items():
        inp[name] = np.full(n, float(value))
    inp["process_change"] = np.full(n, 1.0 if process_change else 0.0)
    true = _attributes(product, inp, rng)
    return float(in_spec(ATTRIBUTES[product], true).mean())


#: The two set-points of each product whose design space the truth tabulates.
DESIGN_SPACE_FACTORS = {
    "msc": ("agitation", "cooling_rate"),
    "cart": ("moi", "cooling_rate"),
    "aav": ("pei_dna_ratio", "transfection_density"),
}


def design_space_grid(
    product: str, *, points: int = 4, n: int = 48, seed: int = 0
) -> dict[str, Any]:
    """True probability of meeting all specifications on a grid over two set-points' PARs."""
    _check_product(product)
    names = DESIGN_SPACE_FACTORS[product]
    sps = {sp.name: sp for sp in _KERNELS[product][1]}
    axes = [np.linspace(sps[name].par[0], sps[name].par[1], points) for name in names]
    a, b = np.meshgrid(*axes, indexing="ij")
    rng = np.random.default_rng(seed)
    m = a.size
    inp = _population(product, rng, m * n)
    inp[names[0]] = np.repeat(a.ravel(), n)
    inp[names[1]] = np.repeat(b.ravel(), n)
    true = _attributes(product, inp, rng)
    ok = in_spec(ATTRIBUTES[product], true).reshape(m, n).mean(axis=1)
    return {
        "factors": list(names),
        "others_at": "targets",
        "monte_carlo_batches_per_point": n,
        "grid": [
            {names[0]: float(x), names[1]: float(y), "probability": float(p)}
            for x, y, p in zip(a.ravel(), b.ravel(), ok, strict=True)
        ],
        "evaluate": (
            f"saisei.simulation.probability_in_spec('{product}', "
            "{set-point: value, ...}, n=400, seed=0)"
        ),
    }


def specifications(product: str) -> dict[str, dict[str, float | str | None]]:
    """Release specifications of a product."""
    return {
        a.name: {
            "lower": a.lower,
            "upper": a.upper,
            "unit": a.unit,
            "qualitative": "negative" if a.qualitative else None,
        }
        for a in ATTRIBUTES[product]
        if a.release
    }
