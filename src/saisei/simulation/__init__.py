"""Simulation of the whole chain with known ground truth (pure code: numpy, scipy, pandas).

A digital twin of a cell and gene therapy plant: donors and collections at hospitals,
transport with container thermal models, culture (MSC, CAR-T), vector production (AAV), fill,
freeze and QC, with process changes, injectable faults and the ground truth of every effect.
The output is the exchange format (tables with exactly the columns of
``saisei.ingestion.schemas``), process definitions and ``truth.json`` content.
See ``docs/simulator.md``.

Examples
--------
>>> from saisei.simulation import simulate
>>> result = simulate("aav", 2, seed=1, design_space_points=0)
>>> sorted(result.tables)[:3]
['batches', 'deviations', 'equipment']
"""

from saisei.simulation._din import check_character, din_barcode, make_coi, make_din
from saisei.simulation._faults import FAULT_EFFECTS, Fault, parse_faults
from saisei.simulation._programme import PRODUCTS, default_programme, simulate
from saisei.simulation._result import SimulationResult, combine
from saisei.simulation._truth import (
    design_space_grid,
    factor_effects,
    probability_in_spec,
    process_change_shift,
)

__all__ = [
    "FAULT_EFFECTS",
    "PRODUCTS",
    "Fault",
    "SimulationResult",
    "check_character",
    "combine",
    "default_programme",
    "design_space_grid",
    "din_barcode",
    "factor_effects",
    "make_coi",
    "make_din",
    "parse_faults",
    "probability_in_spec",
    "process_change_shift",
    "simulate",
]
