"""Process parameters (set-points with NOR and PAR) and process-definition dictionaries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from saisei.simulation._qc import Attribute


@dataclass(frozen=True)
class SetPoint:
    """A process parameter: stage, unit, class, target, normal and proven acceptable range."""

    name: str
    stage: str
    unit: str
    klass: str  # CPP, KPP or non-critical
    target: float
    nor: tuple[float, float]
    par: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        """As in a process definition (docs/exchange-format.md)."""
        return {
            "name": self.name,
            "unit": self.unit,
            "class": self.klass,
            "target": self.target,
            "nor": list(self.nor),
            "par": list(self.par),
        }


def sample_setpoints(
    setpoints: tuple[SetPoint, ...], rng: np.random.Generator, n: int, wide_fraction: float = 0.15
) -> dict[str, np.ndarray]:
    """Set-points actually used: mostly inside the NOR, a fraction spread over the PAR.

    The spread over the PAR is what lets an analysis see the effect of a parameter at all;
    plants that never move a set-point cannot learn its effect.
    """
    out = {}
    for sp in setpoints:
        inside = rng.uniform(sp.nor[0], sp.nor[1], n)
        wide = rng.uniform(sp.par[0], sp.par[1], n)
        out[sp.name] = np.where(rng.random(n) < wide_fraction, wide, inside)
    return out


def nominal_setpoints(setpoints: tuple[SetPoint, ...], n: int) -> dict[str, np.ndarray]:
    """Every set-point at its target."""
    return {sp.name: np.full(n, sp.target, dtype=float) for sp in setpoints}


def process_definition(
    name: str,
    version: str,
    product_type: str,
    description: str,
    setpoints: tuple[SetPoint, ...],
    attributes: tuple[Attribute, ...],
) -> dict[str, Any]:
    """A process definition as a plain dict in the YAML shape of the exchange format."""
    stages: dict[str, list[dict[str, Any]]] = {}
    for sp in setpoints:
        stages.setdefault(sp.stage, []).append(sp.to_dict())
    return {
        "name": name,
        "version": version,
        "product_type": product_type,
        "description": description,
        "stages": [{"name": stage, "parameters": params} for stage, params in stages.items()],
        "attributes": [a.to_process_dict() for a in attributes],
    }
