"""Designs for process characterisation: factorial, fractional factorial, central composite,
Box-Behnken (pyDOE3) and D-optimal designs for constrained regions (pyDOE3 exchange
algorithms over a constrained candidate set); randomised run sheets with blocks and centre
points."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
import pyDOE3  # type: ignore[import-untyped]

from saisei.errors import ValidationFailed

DESIGNS = ("full-factorial", "fractional-factorial", "ccd", "box-behnken", "d-optimal")
CCD_FACES = {"circumscribed": "ccc", "inscribed": "cci", "faced": "ccf"}
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Factor:
    """A factor of a designed experiment: name, low and high level (actual units), unit."""

    name: str
    low: float
    high: float
    unit: str | None = None

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise ValidationFailed(
                f"Factor {self.name!r} must have low < high. Got low={self.low}, high={self.high}."
            )

    def actual(self, coded: np.ndarray) -> np.ndarray:
        """Actual values of coded levels (-1 at low, +1 at high)."""
        centre, half = (self.low + self.high) / 2, (self.high - self.low) / 2
        return centre + half * coded


def factors_from(spec: Any) -> list[Factor]:
    """Factors from a list of dicts ``{name, low, high[, unit]}`` or a mapping name -> spec."""
    items: list[Any]
    if isinstance(spec, Mapping) and "factors" in spec:
        spec = spec["factors"]
    if isinstance(spec, Mapping):
        items = [
            {"name": k, **(v if isinstance(v, Mapping) else {"low": v[0], "high": v[1]})}
            for k, v in spec.items()
        ]
    elif isinstance(spec, Sequence) and not isinstance(spec, str):
        items = list(spec)
    else:
        raise ValidationFailed(
            "Factors must be a list of {name, low, high, unit} entries or a mapping of name "
            f"to (low, high). Got {type(spec).__name__}."
        )
    out = []
    for i, item in enumerate(items, start=1):
        if isinstance(item, Factor):
            out.append(item)
            continue
        try:
            out.append(
                Factor(
                    str(item["name"]),
                    float(item["low"]),
                    float(item["high"]),
                    None if item.get("unit") is None else str(item["unit"]),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationFailed(
                f"Factor {i} must have a name and numeric low and high levels ({exc}). "
                f"Got {item!r}."
            ) from None
    names = [f.name for f in out]
    if len(set(names)) != len(names) or not names:
        raise ValidationFailed(f"Factor names must be unique and non-empty. Got {names}.")
    return out


@dataclass(frozen=True, eq=False)
class DoeDesign:
    """A designed experiment: coded matrix, run sheet and what defines it.

    Attributes
    ----------
    design : str
        One of :data:`DESIGNS`.
    factors : tuple of Factor
    coded : DataFrame
        Coded levels in standard order (centre points last), one column per factor.
    runs : DataFrame
        The run sheet: ``run`` (execution order), ``std_order``, ``block``, ``centre_point``
        and the actual level of every factor.
    resolution : int or None
        Resolution of a two-level fractional factorial (None for others).
    generators : tuple of str
        Generators of a fractional factorial (e.g. ``"d = abc"``).
    info : dict
        Further properties (alpha of a CCD, D-efficiency of a D-optimal design, ...).
    """

    design: str
    factors: tuple[Factor, ...]
    coded: pd.DataFrame
    runs: pd.DataFrame
    resolution: int | None = None
    generators: tuple[str, ...] = ()
    info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {
            "design": self.design,
            "factors": [f.__dict__ for f in self.factors],
            "resolution": self.resolution,
            "generators": list(self.generators),
            "info": self.info,
            "runs": self.runs.to_dict(orient="records"),
        }


def _words_resolution(coded: np.ndarray, k: int) -> tuple[tuple[str, ...], int | None]:
    """Generators of the added columns as products of the first base columns, and the
    resolution (length of the shortest word of the defining relation)."""
    n_factors = coded.shape[1]
    base = k
    gens, words = [], []
    for j in range(base, n_factors):
        for size in range(2, base + 1):
            hit = next(
                (
                    c
                    for c in combinations(range(base), size)
                    if np.array_equal(np.prod(coded[:, list(c)], axis=1), coded[:, j])
                    or np.array_equal(-np.prod(coded[:, list(c)], axis=1), coded[:, j])
                ),
                None,
            )
            if hit is not None:
                sign = (
                    "" if np.array_equal(np.prod(coded[:, list(hit)], axis=1), coded[:, j]) else "-"
                )
                gens.append(f"{_LETTERS[j]} = {sign}{''.join(_LETTERS[i] for i in hit)}")
                words.append(frozenset([*hit, j]))
                break
    if not words:
        return (), None
    relation: set[frozenset[int]] = set()
    for r in range(1, len(words) + 1):
        for combo in combinations(words, r):
            word: frozenset[int] = frozenset()
            for w in combo:
                word = word ^ w
            relation.add(word)
    return tuple(gens), min(len(w) for w in relation if w)


def _search_fraction(k: int, resolution: int) -> np.ndarray:
    for base in range(max(2, int(np.ceil(np.log2(k + 1)))), k + 1):
        if base == k:
            return np.asarray(pyDOE3.ff2n(k), dtype=float)
        words = [
            "".join(_LETTERS[i] for i in c)
            for size in range(base, 1, -1)
            for c in combinations(range(base), size)
        ]
        gen = " ".join([*_LETTERS[:base], *words[: k - base]])
        coded = np.asarray(pyDOE3.fracfact(gen), dtype=float)
        if (_words_resolution(coded, base)[1] or 0) >= resolution:
            return coded
    raise ValidationFailed(  # pragma: no cover - base == k always succeeds
        f"No fractional factorial of resolution {resolution} found for {k} factors."
    )


def _center(coded: np.ndarray, n: int) -> np.ndarray:
    return np.vstack([coded, np.zeros((n, coded.shape[1]))]) if n else coded


def coded_design(
    design: str,
    k: int,
    *,
    resolution: int | None = None,
    center_points: int = 0,
    alpha: str = "rotatable",
    face: str = "circumscribed",
    levels: int = 2,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Coded design matrix (centre points appended) and properties."""
    info: dict[str, Any] = {}
    if design == "full-factorial":
        if levels == 2:
            coded = pyDOE3.ff2n(k)
        else:
            coded = pyDOE3.fullfact([levels] * k) / (levels - 1) * 2 - 1
        coded = _center(coded, center_points)
    elif design == "fractional-factorial":
        if resolution is None or resolution < 3:
            raise ValidationFailed(
                "A fractional factorial needs a resolution of at least 3 (III). "
                f"Got {resolution!r}."
            )
        try:
            coded = pyDOE3.fracfact_by_res(k, resolution)
        except ValueError:
            # pyDOE3 refuses some designs that exist (e.g. 2^(4-1) IV, D = ABC); search the
            # generators from the highest-order interactions of the base factors.
            coded = _search_fraction(k, resolution)
        base = int(np.log2(len(coded)))
        info["generators"], info["resolution"] = _words_resolution(coded, base)
        coded = _center(coded, center_points)
    elif design == "ccd":
        if face not in CCD_FACES:
            raise ValidationFailed(
                f"The CCD face must be one of {', '.join(CCD_FACES)}. Got {face!r}."
            )
        if alpha not in ("rotatable", "orthogonal"):
            raise ValidationFailed(f"The CCD alpha must be rotatable or orthogonal. Got {alpha!r}.")
        coded = pyDOE3.ccdesign(k, center=(0, center_points), alpha=alpha, face=CCD_FACES[face])
        info["alpha"] = float(np.abs(coded).max())
    elif design == "box-behnken":
        if k < 3:
            raise ValidationFailed(f"A Box-Behnken design needs at least 3 factors. Got {k}.")
        coded = pyDOE3.bbdesign(k, center=center_points)
    else:
        raise ValidationFailed(f"The design must be one of {', '.join(DESIGNS)}. Got {design!r}.")
    return np.asarray(coded, dtype=float), info


def make_design(
    design: str,
    factors: Any,
    *,
    resolution: int | None = None,
    center_points: int = 0,
    blocks: int = 1,
    randomize: bool = True,
    seed: int | None = None,
    alpha: str = "rotatable",
    face: str = "circumscribed",
    levels: int = 2,
    n_runs: int | None = None,
    model: str = "quadratic",
    constraint: Callable[[pd.DataFrame], np.ndarray] | None = None,
) -> DoeDesign:
    """A designed experiment with its run sheet.

    Parameters
    ----------
    design : {"full-factorial", "fractional-factorial", "ccd", "box-behnken", "d-optimal"}
    factors : list of Factor or specs
        See :func:`factors_from`.
    resolution : int, optional
        Resolution of a fractional factorial (3 = III, 4 = IV, 5 = V).
    center_points : int
        Centre points added (for a CCD: in the axial block).
    blocks : int
        Blocks; runs are dealt to blocks in turn after randomisation (for a CCD with 2
        blocks: factorial and axial portions, the classical orthogonal blocking).
    randomize : bool
        Randomise the run order within each block.
    seed : int, optional
        Seed of the randomisation (record it with the run sheet).
    n_runs, model, constraint :
        D-optimal only: the number of runs; the model the design is optimal for
        (``linear`` or ``quadratic``); a function of a DataFrame of actual factor values
        returning True where a point is allowed (the constrained region).

    Returns
    -------
    DoeDesign
    """
    fs = factors_from(factors)
    k = len(fs)
    if not isinstance(center_points, int) or center_points < 0:
        raise ValidationFailed(f"'center_points' must be an integer >= 0. Got {center_points!r}.")
    if not isinstance(blocks, int) or blocks < 1:
        raise ValidationFailed(f"'blocks' must be an integer >= 1. Got {blocks!r}.")
    if design == "d-optimal":
        coded, info = _d_optimal(fs, n_runs, model, constraint, center_points)
    else:
        coded, info = coded_design(
            design,
            k,
            resolution=resolution,
            center_points=center_points,
            alpha=alpha,
            face=face,
            levels=levels,
        )
    names = [f.name for f in fs]
    coded_frame = pd.DataFrame(coded, columns=names)
    runs = _run_sheet(design, fs, coded, blocks, randomize, seed, center_points)
    return DoeDesign(
        design=design,
        factors=tuple(fs),
        coded=coded_frame,
        runs=runs,
        resolution=info.pop("resolution", None),
        generators=tuple(info.pop("generators", ())),
        info={**info, "seed": seed, "randomized": randomize},
    )


def _run_sheet(
    design: str,
    fs: list[Factor],
    coded: np.ndarray,
    blocks: int,
    randomize: bool,
    seed: int | None,
    center_points: int,
) -> pd.DataFrame:
    n = len(coded)
    centre = np.all(coded == 0, axis=1)
    if design == "ccd" and blocks == 2:
        block = np.where(np.any(np.abs(coded) > 1 + 1e-9, axis=1) | centre, 2, 1)
        # Centre points split between the two blocks (classical orthogonal blocking).
        idx = np.flatnonzero(centre)
        block[idx[: len(idx) // 2]] = 1
    else:
        block = np.arange(n) % blocks + 1
    rng = np.random.default_rng(seed)
    order: list[int] = []
    for b in range(1, blocks + 1):
        members = np.flatnonzero(block == b)
        order.extend(int(i) for i in (rng.permutation(members) if randomize else members))
    order_arr = np.asarray(order, dtype=np.int64)
    sheet = pd.DataFrame(
        {
            "run": np.arange(1, n + 1),
            "std_order": order_arr + 1,
            "block": block[order_arr],
            "centre_point": centre[order_arr],
        }
    )
    for j, f in enumerate(fs):
        sheet[f.name] = f.actual(coded[order_arr, j])
    for j, f in enumerate(fs):
        sheet[f"{f.name}_coded"] = coded[order_arr, j]
    return sheet


def _d_optimal(
    fs: list[Factor],
    n_runs: int | None,
    model: str,
    constraint: Callable[[pd.DataFrame], np.ndarray] | None,
    center_points: int,
) -> tuple[np.ndarray, dict[str, Any]]:
    from pyDOE3.doe_optimal import optimal_design  # type: ignore[import-untyped]

    degree = {"linear": 1, "quadratic": 2}.get(model)
    if degree is None:
        raise ValidationFailed(f"The D-optimal model must be linear or quadratic. Got {model!r}.")
    k = len(fs)
    levels = 5 if degree == 2 else 3
    axes = [np.linspace(-1, 1, levels)] * k
    candidates = np.array(np.meshgrid(*axes, indexing="ij")).reshape(k, -1).T
    if constraint is not None:
        actual = pd.DataFrame({f.name: f.actual(candidates[:, j]) for j, f in enumerate(fs)})
        allowed = np.asarray(constraint(actual), dtype=bool)
        candidates = candidates[allowed]
    p = 1 + k if degree == 1 else 1 + 2 * k + k * (k - 1) // 2
    if n_runs is None:
        n_runs = p + 4
    if n_runs < p:
        raise ValidationFailed(
            f"A D-optimal design for a {model} model in {k} factors needs at least {p} runs. "
            f"Got {n_runs}."
        )
    if len(candidates) < p:
        raise ValidationFailed(
            f"The constrained region leaves {len(candidates)} candidate points, fewer than the "
            f"{p} model terms. Relax the constraint."
        )
    design, info = optimal_design(
        candidates, n_points=n_runs, degree=degree, criterion="D", method="detmax"
    )
    design = _center(np.asarray(design, dtype=float), center_points)
    return design, {
        "model": model,
        "candidates": len(candidates),
        "d_efficiency": float(info.get("D_eff", np.nan)),
    }
