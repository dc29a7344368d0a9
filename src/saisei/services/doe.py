"""Designed experiments for process characterisation from a factors file, with run sheets.

:func:`design_experiment` reads a YAML file of factors (a list of ``{name, low, high, unit}``,
a mapping of name to ``[low, high]``, or a mapping with ``factors:`` and optional design
settings ``design``, ``center_points``, ``blocks``, ``resolution``, ``seed``, ``randomize``,
``n_runs``, ``model``), builds the design with :func:`saisei.analytics.doe.make_design`
(pyDOE3) and writes the run sheet as CSV when asked.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from saisei.analytics.doe import DESIGNS, DoeDesign, make_design
from saisei.errors import ValidationFailed

__all__ = ["DoeResult", "design_experiment"]

_SETTINGS = ("center_points", "blocks", "resolution", "seed", "randomize", "n_runs", "model")


@dataclass(frozen=True, eq=False)
class DoeResult:
    """A designed experiment and where its run sheet was written (None when not written)."""

    design: DoeDesign
    factors_file: str
    out: str | None

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {**self.design.to_dict(), "factors_file": self.factors_file, "out": self.out}


def _load(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValidationFailed(f"Cannot read the factors file {path}: {exc}") from None


def _write_csv(design: DoeDesign, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            design.runs.to_csv(handle, index=False)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def design_experiment(
    factors_file: Path,
    *,
    design: str | None = None,
    out: Path | None = None,
    center_points: int | None = None,
    seed: int | None = None,
) -> DoeResult:
    """A designed experiment for the factors in ``factors_file``.

    Parameters
    ----------
    design : str, optional
        One of :data:`saisei.analytics.doe.DESIGNS`; default the file's ``design`` entry,
        else ``ccd``.
    out : Path, optional
        Where to write the run sheet (CSV, written atomically).
    center_points, seed : int, optional
        Override the file's settings.

    Raises
    ------
    ValidationFailed
        Unreadable file, invalid factors, unknown design or settings.
    """
    spec = _load(Path(factors_file))
    settings: dict[str, Any] = {}
    chosen = design
    if isinstance(spec, Mapping) and "factors" in spec:
        unknown = sorted(set(spec) - {"factors", "design", *_SETTINGS})
        if unknown:
            raise ValidationFailed(
                f"The factors file {factors_file} has unknown entries {', '.join(unknown)}; "
                f"allowed: factors, design, {', '.join(_SETTINGS)}."
            )
        settings = {k: spec[k] for k in _SETTINGS if k in spec}
        chosen = chosen or spec.get("design")
        spec = spec["factors"]
    chosen = chosen or "ccd"
    if chosen not in DESIGNS:
        raise ValidationFailed(
            f"The design must be one of {', '.join(DESIGNS)}. Got {chosen!r} instead."
        )
    if center_points is not None:
        settings["center_points"] = center_points
    if seed is not None:
        settings["seed"] = seed
    built = make_design(chosen, spec, **settings)
    if out is not None:
        _write_csv(built, Path(out))
    return DoeResult(
        design=built, factors_file=str(factors_file), out=None if out is None else str(out)
    )
