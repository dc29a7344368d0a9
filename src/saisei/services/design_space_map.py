"""Probability map of a stored design space over two of its parameters.

The stored design space (:mod:`saisei.services.design_space`) is refitted from its stored data
(after its content hash is checked) and P(all CQAs in spec) is evaluated on a grid of two
parameters over their fitted ranges, every other parameter at its process target and every
covariate at the mean it was stored with (Peterson 2008 predictive probability).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from saisei.domain.audit import jsonable
from saisei.errors import NotFound, ValidationFailed
from saisei.services.design_space import DesignSpaceView, _view, fitted_model
from saisei.storage.repositories import design_space as repo
from saisei.storage.store import Store

__all__ = ["DesignSpaceMap", "probability_map"]

#: Grid points per axis: bounds of the request and the default.
MIN_POINTS, MAX_POINTS, DEFAULT_POINTS = 5, 61, 31


@dataclass(frozen=True)
class DesignSpaceMap:
    """P(all CQAs in spec) on an ``x`` by ``y`` grid of a stored design space.

    Attributes
    ----------
    design_space : DesignSpaceView
        The stored design space (with its PAR table).
    x, y : str
        The two parameters varied; ``x_values``, ``y_values`` their grid (stored units).
    probability : list of list of float
        ``probability[j][i]`` at ``(x_values[i], y_values[j])`` (rows follow ``y``).
    fixed : dict of str to float
        Values of every other parameter (target) and covariate (stored mean).
    fraction_inside : float
        Share of grid points with a probability at or above the reliability.
    """

    design_space: DesignSpaceView
    x: str
    y: str
    x_values: list[float]
    y_values: list[float]
    probability: list[list[float]]
    fixed: dict[str, float]
    fraction_inside: float

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {
            "design_space": self.design_space.to_dict(),
            "x": self.x,
            "y": self.y,
            "x_values": self.x_values,
            "y_values": self.y_values,
            "probability": self.probability,
            "fixed": jsonable(self.fixed),
            "fraction_inside": self.fraction_inside,
        }


def _axes(parameters: tuple[str, ...], x: str | None, y: str | None) -> tuple[str, str]:
    if len(parameters) < 2:
        raise ValidationFailed(
            f"A probability map needs two parameters; this design space varies only "
            f"{', '.join(parameters)}. Its PAR table shows the one range."
        )
    chosen_x = x or parameters[0]
    chosen_y = y or next(p for p in parameters if p != chosen_x)
    for name, axis in ((chosen_x, "x"), (chosen_y, "y")):
        if name not in parameters:
            raise ValidationFailed(
                f"The {axis} parameter must be one of {', '.join(parameters)}. Got {name!r}."
            )
    if chosen_x == chosen_y:
        raise ValidationFailed(f"The x and y parameters must differ. Got {chosen_x!r} twice.")
    return chosen_x, chosen_y


def probability_map(
    store: Store,
    name: str | None = None,
    *,
    version: int | None = None,
    x: str | None = None,
    y: str | None = None,
    points: int = DEFAULT_POINTS,
) -> DesignSpaceMap:
    """P(all CQAs in spec) over parameters ``x`` and ``y`` of a stored design space.

    Parameters
    ----------
    name, version : optional
        The stored design space (default: the newest stored, its newest version).
    x, y : str, optional
        Parameters to vary (default: the first two of the design space).
    points : int
        Grid points per axis, 5 to 61.

    Raises
    ------
    NotFound
        No such design space.
    ValidationFailed
        Fewer than two parameters, unknown or equal axes, ``points`` out of range.
    IntegrityViolation
        The stored content no longer matches its SHA-256.
    """
    if not MIN_POINTS <= points <= MAX_POINTS:
        raise ValidationFailed(
            f"The grid must have {MIN_POINTS} to {MAX_POINTS} points per axis. Got {points}."
        )
    with store.reader() as session:
        row = repo.find_design_space(session, name, version)
        if row is None:
            label = "" if name is None else f" {name!r}" + (f" v{version}" if version else "")
            raise NotFound(
                f"No design space{label} is stored. Build one with 'saisei design-space'."
            )
        view = _view(session, row)
        chosen_x, chosen_y = _axes(view.parameters, x, y)
        model = fitted_model(row)
        covariates_at = dict(row.result.get("covariates_at", {}))
    fixed = {
        **{p: float(view.targets[p]) for p in view.parameters if p not in (chosen_x, chosen_y)},
        **{c: float(v) for c, v in covariates_at.items()},
    }
    specs = {k: (v[0], v[1]) for k, v in view.specs.items()}
    region = model.region(
        specs,
        reliability=view.reliability,
        ranges={p: model.fitted_range(p) for p in (chosen_x, chosen_y)},
        fixed=fixed,
        points=points,
    )
    grid = region.probability_array()  # axes in (x, y) order, "ij" indexing
    return DesignSpaceMap(
        design_space=view,
        x=chosen_x,
        y=chosen_y,
        x_values=[float(v) for v in region.axes[chosen_x]],
        y_values=[float(v) for v in region.axes[chosen_y]],
        probability=[[float(v) for v in grid[:, j]] for j in range(grid.shape[1])],
        fixed=fixed,
        fraction_inside=float(region.fraction_inside),
    )
