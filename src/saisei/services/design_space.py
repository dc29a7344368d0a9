"""Design spaces fitted on plant data and stored as versioned objects of a process definition.

:func:`build_design_space` takes the lots of one process definition from the joined factor
table (:func:`saisei.services._data.factor_table`), fits a
:class:`saisei.analytics.design_space.BayesianDesignSpace` (Peterson 2008) of the chosen
attributes on the chosen set-points (and, optionally, source-material covariates such as the
donor's age or the transport MKT, held at their mean for the region and set to an incoming
collection's values by :mod:`saisei.services.recommend`), with the specifications of the
process definition's release ``Specification`` rows (converted to the unit the results are
stored in). It evaluates the design space at the reliability over a grid of the fitted
ranges, the largest operable box inside it and the proven acceptable ranges around the
process targets, and stores all of it, with the data it was fitted on, as a new version of a
named :class:`saisei.storage.models.DesignSpace` (audited). The content's SHA-256 is checked
whenever a stored design space is used.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from saisei.analytics.design_space import BayesianDesignSpace
from saisei.domain.audit import canonical_json, jsonable
from saisei.errors import IntegrityViolation, NotFound, ValidationFailed
from saisei.ingestion.units import convert
from saisei.services._data import FactorTable, factor_table, product_type
from saisei.storage.models import DesignSpace, ProcessDefinition
from saisei.storage.repositories import design_space as repo
from saisei.storage.repositories import factors as factors_repo
from saisei.storage.store import Store
from saisei.storage.types import Session

__all__ = [
    "DesignSpaceView",
    "build_design_space",
    "fitted_model",
    "list_design_spaces",
    "show_design_space",
]

#: Grid points of the region over every varied parameter together (at most).
_GRID_BUDGET = 2500
#: Seed of the Monte-Carlo draws (stored with the design space; a refit reproduces it).
_SEED = 0


@dataclass(frozen=True)
class DesignSpaceView:
    """A stored design space: what was modelled, on which lots, and what came out.

    ``box`` is the largest axis-aligned box of grid points in the design space at
    ``reliability`` (covariates at their mean), ``pars`` the proven acceptable range of each
    parameter with the others at their process targets; both in ``units``.
    """

    name: str
    version: int
    status: str
    process: str
    product: str
    terms: str
    reliability: float
    parameters: tuple[str, ...]
    covariates: tuple[str, ...]
    attributes: tuple[str, ...]
    specs: dict[str, list[float | None]]
    units: dict[str, str | None]
    lots: tuple[str, ...]
    box: dict[str, list[float]] | None
    box_probability_min: float | None
    fraction_inside: float
    pars: list[dict[str, Any]]
    targets: dict[str, float]
    probability_at_target: float
    content_sha256: str
    created_by: str
    created_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        out = {k: jsonable(v) for k, v in vars(self).items()}
        out["n_lots"] = len(self.lots)
        return out


def _nan_none(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.floating | np.integer | np.bool_):
        return _nan_none(value.item())
    return value


def _resolve(table: FactorTable, names: Sequence[str], what: str, groups: set[str]) -> list[str]:
    """Column names for ``names``: a column, or a parameter given without its stage."""
    out = []
    for name in names:
        if name in table.frame.columns and table.groups.get(name) in groups:
            out.append(name)
            continue
        matches = [
            c
            for c in table.frame.columns
            if table.groups.get(c) in groups and c.rsplit(".", 1)[-1] == name
        ]
        if len(matches) != 1:
            options = ", ".join(c for c in table.frame.columns if table.groups.get(c) in groups)
            why = "is ambiguous" if matches else "is not a numeric column of the factor table"
            raise ValidationFailed(f"The {what} {name!r} {why}. Choose from: {options}.")
        out.append(matches[0])
    for column in out:
        if not pd.api.types.is_numeric_dtype(table.frame[column]):
            raise ValidationFailed(
                f"The {what} {column!r} is not numeric; a design space needs numbers."
            )
    if len(set(out)) != len(out):
        raise ValidationFailed(f"Each {what} may be named once. Got {list(names)}.")
    return out


def _specs(
    session: Session, process_id: int, attributes: list[str], units: Mapping[str, str | None]
) -> dict[str, tuple[float | None, float | None]]:
    specs = {s.attribute: s for s in factors_repo.release_specs(session, process_id)}
    out: dict[str, tuple[float | None, float | None]] = {}
    for attribute in attributes:
        spec = specs.get(attribute)
        if spec is None:
            raise ValidationFailed(
                f"The process definition has no numeric release specification of {attribute!r}; "
                "a design space needs the limits each attribute must meet. Define it first."
            )
        stored = units.get(attribute)
        limits = []
        for limit in (spec.lower, spec.upper):
            if limit is None or stored is None or not spec.unit or spec.unit == stored:
                limits.append(limit)
            else:
                limits.append(float(convert([limit], spec.unit, stored)[0]))
        out[attribute] = (limits[0], limits[1])
    return out


def _targets(
    session: Session,
    process_id: int,
    table: FactorTable,
    parameters: list[str],
    data: pd.DataFrame,
) -> dict[str, float]:
    declared = {p.name: p for p in factors_repo.declared_parameters(session, process_id)}
    targets = {}
    for column in parameters:
        found = declared.get(column.rsplit(".", 1)[-1])
        unit = table.units.get(column)
        if found is not None and found.target is not None:
            value = found.target
            if unit is not None and found.unit and found.unit != unit:
                value = float(convert([value], found.unit, unit)[0])
            targets[column] = float(value)
        else:
            targets[column] = float(data[column].mean())
    return targets


def _points(k: int) -> int:
    return int(min(61, max(3, math.floor(_GRID_BUDGET ** (1 / k)))))


def _content(row: DesignSpace) -> dict[str, Any]:
    return {
        "name": row.name,
        "version": row.version,
        "process_id": row.process_id,
        "product": row.product_type,
        "terms": row.terms,
        "reliability": row.reliability,
        "parameters": row.parameters,
        "covariates": row.covariates,
        "attributes": row.attributes,
        "specs": row.specs,
        "data": row.data,
        "result": row.result,
    }


def _sha256(row: DesignSpace) -> str:
    return hashlib.sha256(canonical_json(_content(row)).encode("utf-8")).hexdigest()


def _view(session: Session, row: DesignSpace) -> DesignSpaceView:
    process = session.get(ProcessDefinition, row.process_id)
    result = row.result
    return DesignSpaceView(
        name=row.name,
        version=row.version,
        status=row.status.value,
        process="?" if process is None else f"{process.name} {process.version}",
        product=row.product_type.value,
        terms=row.terms,
        reliability=row.reliability,
        parameters=tuple(row.parameters),
        covariates=tuple(row.covariates),
        attributes=tuple(row.attributes),
        specs={k: list(v) for k, v in row.specs.items()},
        units=dict(result.get("units", {})),
        lots=tuple(row.data.get("lots", [])),
        box=result.get("box"),
        box_probability_min=result.get("box_probability_min"),
        fraction_inside=float(result.get("fraction_inside", 0.0)),
        pars=list(result.get("pars", [])),
        targets=dict(result.get("targets", {})),
        probability_at_target=float(result.get("probability_at_target", 0.0)),
        content_sha256=row.content_sha256,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def fitted_model(row: DesignSpace) -> BayesianDesignSpace:
    """The stored design space's model, refitted from its stored data after checking the
    content hash (the fit is deterministic: same data, terms and seed, same model).

    Raises
    ------
    IntegrityViolation
        When the stored content no longer matches its SHA-256.
    """
    if _sha256(row) != row.content_sha256:
        raise IntegrityViolation(
            f"Design space {row.name} v{row.version} was altered after it was stored "
            "(SHA-256 mismatch); it is not used. Build it again with 'saisei design-space'."
        )
    data = row.data
    X = pd.DataFrame({c: data["values"][c] for c in [*row.parameters, *row.covariates]})
    Y = pd.DataFrame({c: data["values"][c] for c in row.attributes})
    seed = int(row.result.get("seed", _SEED))
    assay = row.result.get("measurement_sd") or None
    return BayesianDesignSpace(row.terms, random_state=seed, measurement_sd=assay).fit(X, Y)


def _process(session: Session, product: str | None, process: str | None) -> ProcessDefinition:
    if process is None:
        return factors_repo.find_process(session, product=product_type(product))
    name, _, version = process.partition(":")
    return factors_repo.find_process(session, name=name, version=version or None)


def build_design_space(
    store: Store,
    *,
    attributes: Sequence[str],
    parameters: Sequence[str],
    actor: str,
    reliability: float = 0.9,
    product: str | None = None,
    process: str | None = None,
    name: str | None = None,
    covariates: Sequence[str] = (),
    terms: str = "quadratic",
    measurement_sd: Mapping[str, float] | None = None,
    mapper: Callable[..., Any] | None = None,
) -> DesignSpaceView:
    """Fit, evaluate and store a design space (a new version of ``name``).

    Parameters
    ----------
    attributes : sequence of str
        QC attributes with a numeric release specification in the process definition.
    parameters : sequence of str
        Set-points (process-parameter columns of the factor table; the stage may be left out).
    reliability : float
        P(all attributes in spec) a point of the design space must reach.
    product : str, optional
        Product type whose lots are used (default: all).
    process : str, optional
        ``NAME`` or ``NAME:VERSION`` of the process definition; default the one of the most
        recent lot. Only its lots are fitted.
    name : str, optional
        Name of the stored object; default ``PROCESS-VERSION``.
    covariates : sequence of str
        Numeric source-material factors (donor, collection, transport columns) in the model.
    terms : {"linear", "interaction", "quadratic"}
    measurement_sd : mapping of attribute -> float, optional
        Known assay SD (from method validation, in the stored unit) of attributes: the
        probabilities are then about the true attribute values of a batch, not the measured
        ones (see :class:`~saisei.analytics.design_space.BayesianDesignSpace`).
    mapper : callable, optional
        A ``map``-like function that evaluates chunks of the grid's probabilities elsewhere
        (``saisei.scale.client_map(client)`` for a Dask cluster); same result.

    Raises
    ------
    NotFound
        No lot or process definition.
    ValidationFailed
        Unknown or non-numeric columns, attributes without a specification, too few lots.
    """
    if not attributes or not parameters:
        raise ValidationFailed("Name at least one attribute and one parameter.")
    table = factor_table(store, product=product)
    params = _resolve(table, parameters, "parameter", {"parameter"})
    covs = _resolve(
        table, covariates, "covariate", {"donor", "collection", "transport", "parameter"}
    )
    attrs = _resolve(table, attributes, "attribute", {"attribute"})
    with store.reader() as session:
        definition = _process(session, product, process)
        specs = _specs(session, definition.id, attrs, table.units)
        label = f"{definition.name} {definition.version}"
        lots = table.frame[table.frame["process_version"] == label]
        data = lots[[*params, *covs, *attrs]].dropna()
        if data.empty:
            columns = ", ".join([*params, *covs, *attrs])
            raise ValidationFailed(
                f"No lot of process {label} has values of every one of {columns}."
            )
        targets = _targets(session, definition.id, table, params, data)
        process_id, ptype = definition.id, definition.product_type
        default_name = f"{definition.name}-{definition.version}"
    assay = {str(k): float(v) for k, v in (measurement_sd or {}).items()}
    model = BayesianDesignSpace(terms, random_state=_SEED, measurement_sd=assay or None).fit(
        data[params + covs], data[attrs]
    )
    covariate_means = {c: float(data[c].mean()) for c in covs}
    region = model.region(
        specs,
        reliability=reliability,
        ranges={p: model.fitted_range(p) for p in params},
        fixed=covariate_means,
        points=_points(len(params)),
        mapper=mapper,
    )
    pars = model.proven_acceptable_ranges(
        specs,
        reliability=reliability,
        target={**targets, **covariate_means},
        parameters=params,
        points=101,
    )
    at_target = model.probability(pd.DataFrame([{**targets, **covariate_means}]), specs)
    result = {
        "box": None if region.box is None else {k: list(v) for k, v in region.box.items()},
        "box_probability_min": region.box_probability_min,
        "fraction_inside": region.fraction_inside,
        "covariates_at": covariate_means,
        "pars": [
            {k: _nan_none(v) for k, v in row.items()} for row in pars.to_dict(orient="records")
        ],
        "targets": targets,
        "probability_at_target": float(at_target[0]),
        "fitted_ranges": {p: list(model.fitted_range(p)) for p in params + covs},
        "units": {c: table.units.get(c) for c in [*params, *covs, *attrs]},
        "seed": _SEED,
        "measurement_sd": assay,
    }
    stored_data = {
        "lots": [str(lot) for lot in data.index],
        "values": {c: [float(v) for v in data[c]] for c in data.columns},
    }
    with store.unit_of_work(
        actor=actor, source="design_space", reason=f"design space of {label} fitted"
    ) as uow:
        object_name = name or default_name
        row = DesignSpace(
            name=object_name,
            version=repo.next_version(uow.session, object_name),
            process_id=process_id,
            product_type=ptype,
            terms=terms,
            reliability=float(reliability),
            parameters=params,
            covariates=covs,
            attributes=attrs,
            specs={k: list(v) for k, v in specs.items()},
            data=stored_data,
            result=jsonable(result),
            created_by=actor,
        )
        row.content_sha256 = _sha256(row)
        uow.session.add(row)
        uow.flush()
        return _view(uow.session, row)


def show_design_space(
    store: Store, name: str | None = None, version: int | None = None
) -> DesignSpaceView:
    """A stored design space (newest version of ``name``; without a name the newest stored).

    Raises
    ------
    NotFound
        When none matches.
    """
    with store.reader() as session:
        row = repo.find_design_space(session, name, version)
        if row is None:
            label = "" if name is None else f" {name!r}" + (f" v{version}" if version else "")
            raise NotFound(
                f"No design space{label} is stored. Build one with 'saisei design-space'."
            )
        return _view(session, row)


def list_design_spaces(store: Store) -> list[DesignSpaceView]:
    """Every stored design space."""
    with store.reader() as session:
        return [_view(session, row) for row in repo.design_spaces(session)]
