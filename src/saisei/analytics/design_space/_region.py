"""Design-space regions on a grid, the largest operable box inside, and proven acceptable
ranges (PAR) one parameter at a time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import product
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from saisei.errors import ValidationFailed

if TYPE_CHECKING:
    from saisei.analytics.design_space._bayes import BayesianDesignSpace, Spec


@dataclass(frozen=True, eq=False)
class DesignSpaceRegion:
    """The design space at one reliability on a grid of set-points.

    Attributes
    ----------
    reliability : float
        Minimum P(all in spec) of a point in the design space.
    varied : tuple of str
        Parameters varied over the grid (in grid axis order).
    fixed : dict
        Values of the other parameters.
    axes : dict of str -> ndarray
        Grid values of each varied parameter.
    grid : DataFrame
        One row per grid point: varied parameters, ``probability``, ``inside``.
    box : dict of str -> (low, high) or None
        Largest axis-aligned box of grid points all inside the design space (an operable range
        set); None when no grid point is inside. Exact for one or two varied parameters,
        greedy growth from the most probable point for more.
    box_probability_min : float or None
        Smallest probability over the grid points of the box.
    fraction_inside : float
        Share of grid points inside the design space.
    """

    reliability: float
    varied: tuple[str, ...]
    fixed: dict[str, float]
    axes: dict[str, np.ndarray]
    grid: pd.DataFrame
    box: dict[str, tuple[float, float]] | None
    box_probability_min: float | None
    fraction_inside: float

    def probability_array(self) -> np.ndarray:
        """Probabilities shaped like the grid (one axis per varied parameter, ``ij`` order)."""
        return self.grid["probability"].to_numpy().reshape([len(a) for a in self.axes.values()])

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {
            "reliability": self.reliability,
            "varied": list(self.varied),
            "fixed": dict(self.fixed),
            "box": None if self.box is None else {k: list(v) for k, v in self.box.items()},
            "box_probability_min": self.box_probability_min,
            "fraction_inside": self.fraction_inside,
            "grid": self.grid.to_dict(orient="records"),
        }


def _check_reliability(reliability: float) -> float:
    if not isinstance(reliability, int | float) or not 0 < reliability < 1:
        raise ValidationFailed(
            f"The 'reliability' must be a probability in (0, 1), e.g. 0.9. Got {reliability!r}."
        )
    return float(reliability)


def _check_points(points: int, least: int) -> int:
    if not isinstance(points, int | np.integer) or points < least:
        raise ValidationFailed(
            f"The number of grid 'points' must be an integer >= {least}. Got {points!r}."
        )
    return int(points)


def _ranges(
    model: BayesianDesignSpace, ranges: Mapping[str, tuple[float, float]] | None
) -> dict[str, tuple[float, float]]:
    if ranges is None:
        return {p: model.fitted_range(p) for p in model.parameters_}
    out = {}
    for name, limits in ranges.items():
        if name not in model.parameters_:
            raise ValidationFailed(
                f"{name!r} is not a parameter of the model ({', '.join(model.parameters_)})."
            )
        lo, hi = (float(v) for v in limits)
        if not lo < hi:
            raise ValidationFailed(f"The range of {name!r} must have low < high. Got {limits!r}.")
        out[name] = (lo, hi)
    return out


def _fixed(
    model: BayesianDesignSpace, fixed: Mapping[str, float] | None, varied: Sequence[str]
) -> dict[str, float]:
    values = {p: float(m) for p, m in zip(model.parameters_, model.x_mean_, strict=True)}
    for name, value in (fixed or {}).items():
        if name not in values:
            raise ValidationFailed(
                f"{name!r} is not a parameter of the model ({', '.join(model.parameters_)})."
            )
        values[name] = float(value)
    return {p: v for p, v in values.items() if p not in varied}


def largest_box(mask: np.ndarray, score: np.ndarray) -> tuple[tuple[int, int], ...] | None:
    """Index ranges (inclusive) of the largest axis-aligned box of True cells.

    One and two dimensions: exact (largest number of cells; ties by the highest minimum
    ``score``). More: greedy growth from the True cell of highest ``score``.
    """
    if not mask.any():
        return None
    if mask.ndim == 1:
        return (_longest_run(mask),)
    if mask.ndim == 2:
        return _largest_rectangle(mask, score)
    return _grow_box(mask, score)


def _longest_run(mask: np.ndarray) -> tuple[int, int]:
    best, start, best_range = 0, None, (0, 0)
    for i, v in enumerate([*list(mask), False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            if i - start > best:
                best, best_range = i - start, (start, i - 1)
            start = None
    return best_range


def _largest_rectangle(mask: np.ndarray, score: np.ndarray) -> tuple[tuple[int, int], ...]:
    # Maximal rectangle of a binary matrix by the histogram method, enumerating every
    # maximal rectangle so that ties can be broken by the minimum score.
    rows, cols = mask.shape
    heights = np.zeros(cols, dtype=int)
    best: tuple[int, float, tuple[tuple[int, int], ...]] = (0, -np.inf, ((0, 0), (0, 0)))
    for r in range(rows):
        heights = np.where(mask[r], heights + 1, 0)
        for c in range(cols):
            h = heights[c]
            if h == 0:
                continue
            width_min = h
            for c2 in range(c, cols):
                width_min = min(width_min, heights[c2])
                if width_min == 0:
                    break
                area = width_min * (c2 - c + 1)
                if area >= best[0]:
                    box = ((r - width_min + 1, r), (c, c2))
                    low = float(score[box[0][0] : r + 1, c : c2 + 1].min())
                    if area > best[0] or low > best[1]:
                        best = (area, low, box)
    return best[2]


def _grow_box(mask: np.ndarray, score: np.ndarray) -> tuple[tuple[int, int], ...]:
    start = np.unravel_index(np.argmax(np.where(mask, score, -np.inf)), mask.shape)
    box = [[int(i), int(i)] for i in start]
    while True:
        best_gain, best_move = 0, None
        for axis, side in product(range(mask.ndim), (0, 1)):
            trial = [list(b) for b in box]
            trial[axis][side] += 1 if side else -1
            if not 0 <= trial[axis][side] < mask.shape[axis]:
                continue
            block = mask[tuple(slice(lo, hi + 1) for lo, hi in trial)]
            if block.all() and block.size > best_gain:
                best_gain, best_move = block.size, trial
        if best_move is None:
            return tuple((lo, hi) for lo, hi in box)
        box = best_move


_GRID_CHUNK = 1000  # grid points per task when a mapper spreads the evaluation


def _probability_of(
    model: BayesianDesignSpace, specs: Mapping[str, Spec], method: str, rows: pd.DataFrame
) -> np.ndarray:
    return np.asarray(model.probability(rows, specs, method=method), dtype=float)


def build_region(
    model: BayesianDesignSpace,
    specs: Mapping[str, Spec],
    *,
    reliability: float,
    ranges: Mapping[str, tuple[float, float]] | None,
    fixed: Mapping[str, float] | None,
    points: int,
    method: str,
    mapper: Any = None,
) -> DesignSpaceRegion:
    """The design space of a fitted model on a grid (see ``BayesianDesignSpace.region``)."""
    reliability = _check_reliability(reliability)
    points = _check_points(points, 2)
    spans = _ranges(model, ranges)
    varied = tuple(spans)
    rest = _fixed(model, fixed, varied)
    axes = {p: np.linspace(lo, hi, points) for p, (lo, hi) in spans.items()}
    mesh = np.meshgrid(*axes.values(), indexing="ij")
    frame = pd.DataFrame({p: m.ravel() for p, m in zip(varied, mesh, strict=True)})
    full = frame.assign(**rest)[model.parameters_]
    if mapper is None or method == "exact":
        prob = model.probability(full, specs, method=method)
    else:
        chunks = [full.iloc[i : i + _GRID_CHUNK] for i in range(0, len(full), _GRID_CHUNK)]
        evaluate = partial(_probability_of, model, specs, method)
        prob = np.concatenate([np.asarray(p, dtype=float) for p in mapper(evaluate, chunks)])
    inside = prob >= reliability
    frame = frame.assign(probability=prob, inside=inside)
    shape = tuple(len(a) for a in axes.values())
    box_idx = largest_box(inside.reshape(shape), prob.reshape(shape))
    box = None
    box_min = None
    if box_idx is not None:
        box = {
            p: (float(axes[p][lo]), float(axes[p][hi]))
            for p, (lo, hi) in zip(varied, box_idx, strict=True)
        }
        block = prob.reshape(shape)[tuple(slice(lo, hi + 1) for lo, hi in box_idx)]
        box_min = float(block.min())
    return DesignSpaceRegion(
        reliability=reliability,
        varied=varied,
        fixed=rest,
        axes=axes,
        grid=frame,
        box=box,
        box_probability_min=box_min,
        fraction_inside=float(inside.mean()),
    )


def build_pars(
    model: BayesianDesignSpace,
    specs: Mapping[str, Spec],
    *,
    reliability: float,
    target: Mapping[str, float] | None,
    ranges: Mapping[str, tuple[float, float]] | None,
    parameters: Sequence[str] | None,
    points: int,
) -> pd.DataFrame:
    """Proven acceptable ranges (see ``BayesianDesignSpace.proven_acceptable_ranges``)."""
    reliability = _check_reliability(reliability)
    points = _check_points(points, 3)
    spans = {p: model.fitted_range(p) for p in model.parameters_}
    spans.update(_ranges(model, ranges) if ranges is not None else {})
    centre = _fixed(model, target, ())
    names = list(parameters) if parameters is not None else list(model.parameters_)
    rows = []
    for name in names:
        if name not in centre:
            raise ValidationFailed(
                f"{name!r} is not a parameter of the model ({', '.join(model.parameters_)})."
            )
        lo, hi = spans[name]
        t = centre[name]
        values = np.unique(np.append(np.linspace(min(lo, t), max(hi, t), points), t))
        grid = pd.DataFrame({p: np.full(len(values), v) for p, v in centre.items()})
        grid[name] = values
        prob = model.probability(grid[model.parameters_], specs)
        k = int(np.searchsorted(values, t))
        ok = prob >= reliability
        row: dict[str, Any] = {
            "parameter": name,
            "target": t,
            "probability_at_target": float(prob[k]),
            "searched_low": float(values[0]),
            "searched_high": float(values[-1]),
        }
        if not ok[k]:
            row.update(low=np.nan, high=np.nan, open_low=False, open_high=False)
        else:
            i, j = k, k
            while i > 0 and ok[i - 1]:
                i -= 1
            while j < len(values) - 1 and ok[j + 1]:
                j += 1
            row.update(
                low=float(values[i]),
                high=float(values[j]),
                open_low=i == 0,
                open_high=j == len(values) - 1,
            )
        rows.append(row)
    columns = [
        "parameter",
        "target",
        "low",
        "high",
        "probability_at_target",
        "searched_low",
        "searched_high",
        "open_low",
        "open_high",
    ]
    return pd.DataFrame(rows, columns=columns)
