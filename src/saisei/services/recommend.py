"""Feed-forward set-points for an incoming source material, inside a stored design space.

:func:`recommend_setpoints` takes a collection (its DIN): its donor, collection and transport
factors (:func:`saisei.services._data.source_factors`) fix the covariates of a stored design
space (:mod:`saisei.services.design_space`); the set-points are then searched on a grid over
the design space's operable box (its fitted ranges when it has none) for the highest posterior
predictive probability that every attribute meets its specification (Peterson 2008). The
answer carries that probability with a credible interval of it
(:meth:`BayesianDesignSpace.probability_interval`), the probability at the process targets
for comparison, and whether the design space's reliability is reached for this material.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import product as cartesian
from typing import Any

import numpy as np
import pandas as pd

from saisei.domain.audit import jsonable
from saisei.errors import NotFound
from saisei.services._data import source_factors
from saisei.services.design_space import fitted_model
from saisei.storage.repositories import design_space as repo
from saisei.storage.store import Store

__all__ = ["Recommendation", "recommend_setpoints"]

#: Candidate set-points searched (at most, over every parameter together).
_CANDIDATES = 4000


@dataclass(frozen=True)
class Recommendation:
    """Set-points recommended for one incoming collection.

    ``probability`` is the posterior predictive probability that a batch made from this
    material at ``setpoints`` meets every specification; ``ci_low``/``ci_high`` the
    equal-tailed ``level`` credible interval of that probability.
    """

    din: str
    donor: str | None
    tissue_source: str | None
    design_space: str
    version: int
    status: str
    setpoints: dict[str, float]
    probability: float
    ci_low: float
    ci_high: float
    level: float
    probability_at_target: float
    reliability: float
    meets_reliability: bool
    covariates: dict[str, float]
    searched: dict[str, list[float]]
    units: dict[str, str | None]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {k: jsonable(v) for k, v in vars(self).items()}


def _grid(spans: dict[str, list[float]]) -> pd.DataFrame:
    k = max(len(spans), 1)
    points = int(min(41, max(3, math.floor(_CANDIDATES ** (1 / k)))))
    axes = [np.linspace(lo, hi, points) for lo, hi in spans.values()]
    return pd.DataFrame(list(cartesian(*axes)), columns=list(spans))


def recommend_setpoints(
    store: Store,
    din: str,
    *,
    design_space: str | None = None,
    version: int | None = None,
    level: float = 0.9,
) -> Recommendation:
    """Set-points inside a stored design space that maximise P(all in spec) for ``din``.

    Parameters
    ----------
    din : str
        DIN of the incoming collection.
    design_space, version : optional
        Stored design space (default: the most recently stored one; an approved one is not
        required, the status is reported).
    level : float
        Level of the credible interval of the probability.

    Raises
    ------
    NotFound
        Unknown DIN or no stored design space.
    IntegrityViolation
        The stored design space was altered.
    """
    source = source_factors(store, din)
    with store.reader() as session:
        row = repo.find_design_space(session, design_space, version)
        if row is None:
            raise NotFound(
                "No design space is stored to recommend set-points from. Build one with "
                "'saisei design-space'."
            )
        model = fitted_model(row)
        name, number, status = row.name, row.version, row.status.value
        parameters, covariates = list(row.parameters), list(row.covariates)
        result = dict(row.result)
        specs = {k: (v[0], v[1]) for k, v in row.specs.items()}
        reliability = float(row.reliability)
    notes: list[str] = []
    fixed: dict[str, float] = {}
    for column in covariates:
        value = source.get(column)
        if value is None:
            value = float(result["covariates_at"][column])
            notes.append(
                f"{column} is not known for {din}; the mean of the fitted lots ({value:.4g}) "
                "is used."
            )
        lo, hi = result["fitted_ranges"][column]
        if not lo <= float(value) <= hi:
            notes.append(
                f"{column} = {float(value):.4g} for {din} lies outside the fitted range "
                f"{lo:.4g} to {hi:.4g}: the probabilities are an extrapolation."
            )
        fixed[column] = float(value)
    box = result.get("box")
    if box:
        spans = {p: list(box[p]) for p in parameters}
    else:
        spans = {p: list(result["fitted_ranges"][p]) for p in parameters}
        notes.append(
            "The design space has no point at its reliability (with covariates at their mean); "
            "the fitted ranges were searched."
        )
    candidates = _grid(spans).assign(**fixed)[[*parameters, *covariates]]
    probability = model.probability(candidates, specs)
    targets = {p: float(result["targets"][p]) for p in parameters}
    centre = np.array(
        [(targets[p] - spans[p][0]) / (spans[p][1] - spans[p][0] or 1.0) for p in parameters]
    )
    scaled = np.column_stack(
        [(candidates[p] - spans[p][0]) / (spans[p][1] - spans[p][0] or 1.0) for p in parameters]
    )
    # Highest probability; among (near-)ties the candidate closest to the process targets.
    distance = np.sqrt(((scaled - centre) ** 2).sum(axis=1))
    best = int(np.lexsort((distance, -np.round(probability, 3)))[0])
    chosen = candidates.iloc[[best]].reset_index(drop=True)
    interval = model.probability_interval(chosen, specs, level=level)
    at_target = model.probability(pd.DataFrame([{**targets, **fixed}])[list(chosen.columns)], specs)
    p_best = float(probability[best])
    if p_best < reliability:
        notes.append(
            f"No set-points reach the design space's reliability {reliability:g} for this "
            f"material (best {p_best:.3f}); consider whether the material should be processed."
        )
    return Recommendation(
        din=din,
        donor=None if source.get("donor") is None else str(source["donor"]),
        tissue_source=None if source.get("tissue_source") is None else str(source["tissue_source"]),
        design_space=name,
        version=number,
        status=status,
        setpoints={p: float(chosen[p].iloc[0]) for p in parameters},
        probability=p_best,
        ci_low=float(interval["ci_low"].iloc[0]),
        ci_high=float(interval["ci_high"].iloc[0]),
        level=level,
        probability_at_target=float(at_target[0]),
        reliability=reliability,
        meets_reliability=p_best >= reliability,
        covariates=fixed,
        searched=spans,
        units={c: result.get("units", {}).get(c) for c in [*parameters, *covariates]},
        notes=tuple(notes),
    )
