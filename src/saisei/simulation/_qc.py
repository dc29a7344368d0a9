"""Release testing: attributes, assay error and disposition against specifications.

Specifications follow domain.md (ISCT 2006 identity panel for MSC, >= 70 % post-thaw
viability, 75-150 x 10^6 cell dose; CAR-T viability >= 80 %, VCN < 5 per transduced cell,
weight-banded dose 0.2-5.0 x 10^6 CAR+ cells/kg; AAV titer, % full, residual host DNA
<= 10 ng/dose). Assay error is normal on the value (SD) or on the log (CV) with the size a
validated method of that kind typically has (cell counting about 5-10 % CV, flow cytometry
about 0.5-2 percentage points, ddPCR about 10 % CV, LAL about 20 % CV, cell-based potency
about 12 % CV).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Attribute:
    """One quality attribute: unit, method, specification and assay error."""

    name: str
    unit: str
    method: str
    lower: float | None = None
    upper: float | None = None
    sd: float = 0.0  # absolute assay SD
    cv: float = 0.0  # relative assay SD (log-normal)
    percent: bool = False  # clip to 0..100
    qualitative: bool = False  # result is 'negative'/'positive'
    critical: bool = True
    release: bool = True  # tested at release (False: in-process, reported only)

    def to_process_dict(self) -> dict[str, object]:
        """The attribute as in a process definition (docs/exchange-format.md)."""
        spec: dict[str, object] = {"purpose": "release"}
        if self.lower is not None:
            spec["lower"] = self.lower
        if self.upper is not None:
            spec["upper"] = self.upper
        if self.qualitative:
            spec["text"] = "negative"
        out: dict[str, object] = {
            "name": self.name,
            "unit": self.unit,
            "critical": self.critical,
            "method": self.method,
        }
        out["specifications"] = [spec] if len(spec) > 1 else []
        return out


_STERILITY = Attribute("sterility", "", "Ph. Eur. 2.6.27 culture", qualitative=True)
_MYCOPLASMA = Attribute("mycoplasma", "", "NAT (Ph. Eur. 2.6.7)", qualitative=True)

MSC_ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute(
        "post_thaw_viability", "percent", "trypan blue, automated", lower=70, sd=2.0, percent=True
    ),
    Attribute(
        "viable_cell_dose", "1e6 cell", "automated count post-thaw", lower=75, upper=150, cv=0.07
    ),
    Attribute("cd73", "percent", "flow cytometry", lower=95, sd=0.5, percent=True),
    Attribute("cd90", "percent", "flow cytometry", lower=95, sd=0.5, percent=True),
    Attribute("cd105", "percent", "flow cytometry", lower=95, sd=0.7, percent=True),
    Attribute("cd45", "percent", "flow cytometry", upper=2, sd=0.15, percent=True),
    Attribute("cd34", "percent", "flow cytometry", upper=2, sd=0.15, percent=True),
    Attribute("hla_dr", "percent", "flow cytometry", upper=2, sd=0.2, percent=True),
    Attribute("potency", "percent", "IDO activity relative to reference", lower=60, cv=0.12),
    Attribute("endotoxin", "EU/mL", "LAL kinetic chromogenic", upper=1.0, cv=0.2),
    _STERILITY,
    _MYCOPLASMA,
    Attribute(
        "population_doublings",
        "dimensionless",
        "calculated from counts",
        cv=0.03,
        critical=False,
        release=False,
    ),
)

CART_ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("viability", "percent", "7-AAD flow cytometry", lower=80, sd=1.5, percent=True),
    Attribute(
        "car_positive",
        "percent",
        "flow cytometry (CAR+ of viable CD3+)",
        lower=15,
        sd=1.5,
        percent=True,
    ),
    Attribute("vcn", "dimensionless", "ddPCR, copies per transduced cell", upper=5.0, cv=0.1),
    Attribute("cd3", "percent", "flow cytometry", lower=90, sd=0.8, percent=True),
    Attribute(
        "car_t_dose",
        "1e6 cell/kg",
        "CAR+ viable cells per kg body weight",
        lower=0.2,
        upper=5.0,
        cv=0.08,
    ),
    Attribute("endotoxin", "EU/mL", "LAL kinetic chromogenic", upper=1.0, cv=0.2),
    _STERILITY,
    _MYCOPLASMA,
)

AAV_ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("vg_titer", "vg/mL", "ddPCR", lower=1e13, cv=0.1),
    Attribute("full_capsids", "percent", "AUC / ddPCR:ELISA ratio", lower=50, sd=2.0, percent=True),
    Attribute("residual_host_dna", "ng/mL", "qPCR (dose volume 1 mL)", upper=10.0, cv=0.15),
    Attribute("endotoxin", "EU/mL", "LAL kinetic chromogenic", upper=1.0, cv=0.2),
    _STERILITY,
)

ATTRIBUTES = {"msc": MSC_ATTRIBUTES, "cart": CART_ATTRIBUTES, "aav": AAV_ATTRIBUTES}


def measure(
    attributes: tuple[Attribute, ...], true: dict[str, np.ndarray], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Measured values: the true values plus assay error (qualitative ones unchanged)."""
    measured = {}
    for a in attributes:
        value = np.asarray(true[a.name], dtype=float)
        if a.qualitative:
            measured[a.name] = value
            continue
        if a.cv:
            value = value * np.exp(rng.normal(0.0, a.cv, value.shape))
        if a.sd:
            value = value + rng.normal(0.0, a.sd, value.shape)
        value = np.clip(value, 0.0, 100.0) if a.percent else np.maximum(value, 0.0)
        measured[a.name] = value
    return measured


def in_spec(attributes: tuple[Attribute, ...], values: dict[str, np.ndarray]) -> np.ndarray:
    """Whether each batch meets every release specification (qualitative: 0 = negative)."""
    ok = np.ones(np.asarray(next(iter(values.values()))).shape, dtype=bool)
    for a in attributes:
        if not a.release:
            continue
        v = np.asarray(values[a.name], dtype=float)
        if a.qualitative:
            ok &= v == 0
            continue
        if a.lower is not None:
            ok &= v >= a.lower
        if a.upper is not None:
            ok &= v <= a.upper
    return ok


def failing(attributes: tuple[Attribute, ...], values: dict[str, np.ndarray], i: int) -> list[str]:
    """Names of the attributes batch ``i`` fails."""
    out = []
    for a in attributes:
        if not a.release:
            continue
        v = float(values[a.name][i])
        bad = (
            (v != 0)
            if a.qualitative
            else ((a.lower is not None and v < a.lower) or (a.upper is not None and v > a.upper))
        )
        if bad:
            out.append(a.name)
    return out
