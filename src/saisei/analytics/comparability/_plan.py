"""The comparability study plan as a pure value: CQAs, tiers, criteria and lot selection.

A plan is written before any post-change result is looked at (ICH Q5E, section 2.2; FDA 2023
draft guidance on manufacturing changes for CGT products). These types only describe it; who
may lock, sign or amend it is decided above the analytics layer. ``to_dict``/``from_dict``
give a JSON-compatible form with a stable key order, suitable for storage and for hashing
the content that a signature binds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import date
from enum import IntEnum
from typing import Any

from saisei.errors import ValidationFailed

__all__ = ["ComparabilityPlan", "CqaCriterion", "LotSelection", "Tier"]


class Tier(IntEnum):
    """Statistical tier of a CQA (FDA tiered approach to analytical similarity)."""

    #: Tier 1: equivalence of means by TOST against +/- margin.
    EQUIVALENCE = 1
    #: Tier 2: quality range mean_R +/- k SD_R must hold a minimum share of test lots.
    QUALITY_RANGE = 2
    #: Tier 3: graphical comparison only; no pass/fail statistic.
    GRAPHICAL = 3


def _fail(owner: str, name: str, what: str, got: object) -> ValidationFailed:
    return ValidationFailed(f"The '{name}' field of {owner} must be {what}. Got {got!r} instead.")


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class CqaCriterion:
    """One critical quality attribute of the study, its tier and its acceptance criterion.

    Attributes
    ----------
    name : str
        CQA name; the key of its values in the data handed to ``evaluate_plan``.
    tier : Tier
        1 equivalence (TOST), 2 quality range, 3 graphical.
    unit : str
        Unit of the values (for reports only).
    margin : float or None
        Tier 1: fixed equivalence margin (unit of the CQA). None: ``margin_k * SD_R`` from the
        reference lots of the study.
    margin_k : float
        Tier 1: multiplier of SD_R when ``margin`` is None (default 1.5).
    alpha : float
        Tier 1: level of each one-sided test (default 0.05, a 90 % interval).
    equal_var : bool
        Tier 1: pooled-variance TOST instead of Welch.
    assumed_difference : float
        Tier 1: true difference at which the achieved power is reported (default 0).
    range_k : float
        Tier 2: multiplier of SD_R for the quality range (default 3).
    min_fraction : float
        Tier 2: share of test lots required inside the range, in (0, 1] (default 0.9).
    """

    name: str
    tier: Tier
    unit: str = ""
    margin: float | None = None
    margin_k: float = 1.5
    alpha: float = 0.05
    equal_var: bool = False
    assumed_difference: float = 0.0
    range_k: float = 3.0
    min_fraction: float = 0.9

    def __post_init__(self) -> None:
        owner = "CqaCriterion"
        if not isinstance(self.name, str) or not self.name.strip():
            raise _fail(owner, "name", "a non-empty string", self.name)
        try:
            object.__setattr__(self, "tier", Tier(self.tier))
        except ValueError:
            raise _fail(
                owner, "tier", "1 (equivalence), 2 (quality range) or 3 (graphical)", self.tier
            ) from None
        if self.margin is not None and not (_number(self.margin) and 0 < self.margin < math.inf):
            raise _fail(owner, "margin", "None or a finite float > 0", self.margin)
        positive = {"margin_k": self.margin_k, "range_k": self.range_k}
        for key, value in positive.items():
            if not (_number(value) and 0 < value < math.inf):
                raise _fail(owner, key, "a finite float > 0", value)
        if not (_number(self.alpha) and 0 < self.alpha < 0.5):
            raise _fail(owner, "alpha", "a float in (0, 0.5)", self.alpha)
        if not (_number(self.min_fraction) and 0 < self.min_fraction <= 1):
            raise _fail(owner, "min_fraction", "a float in (0, 1]", self.min_fraction)
        if not (_number(self.assumed_difference) and math.isfinite(self.assumed_difference)):
            raise _fail(owner, "assumed_difference", "a finite float", self.assumed_difference)
        if not isinstance(self.equal_var, bool):
            raise _fail(owner, "equal_var", "True or False", self.equal_var)
        if not isinstance(self.unit, str):
            raise _fail(owner, "unit", "a string", self.unit)


@dataclass(frozen=True)
class LotSelection:
    """Which lots belong to one arm of the study, fixed before results are seen.

    An explicit ``lot_ids`` list selects exactly those lots. Otherwise every criterion given
    must hold: the process version is one of ``process_versions`` and the production date lies
    in [``produced_from``, ``produced_to``] (inclusive; either end may be open).

    Attributes
    ----------
    process_versions : tuple of str
        Accepted process versions (empty: any).
    produced_from, produced_to : date or None
        Inclusive production-date window.
    lot_ids : tuple of str
        Explicit lot list; when given, the other criteria must be empty.
    """

    process_versions: tuple[str, ...] = ()
    produced_from: date | None = None
    produced_to: date | None = None
    lot_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        owner = "LotSelection"
        for key in ("process_versions", "lot_ids"):
            value = getattr(self, key)
            if isinstance(value, str) or not all(isinstance(v, str) and v for v in value):
                raise _fail(owner, key, "a sequence of non-empty strings", value)
            object.__setattr__(self, key, tuple(value))
        for key in ("produced_from", "produced_to"):
            value = getattr(self, key)
            if value is not None and not isinstance(value, date):
                raise _fail(owner, key, "a datetime.date or None", value)
        by_rule = bool(self.process_versions) or self.produced_from or self.produced_to
        if self.lot_ids and by_rule:
            raise ValidationFailed(
                "A LotSelection selects either by an explicit 'lot_ids' list or by process "
                "version and production dates, not both. Got lot_ids and other criteria."
            )
        if not self.lot_ids and not by_rule:
            raise ValidationFailed(
                "A LotSelection must name lots, process versions or a production-date window. "
                "Got no criterion, which would select every lot."
            )
        if self.produced_from and self.produced_to and self.produced_from > self.produced_to:
            raise ValidationFailed(
                "The 'produced_from' field of LotSelection must not be after 'produced_to'. "
                f"Got {self.produced_from.isoformat()} > {self.produced_to.isoformat()}."
            )

    def matches(
        self,
        lot_id: str,
        *,
        process_version: str | None = None,
        produced_on: date | None = None,
    ) -> bool:
        """Return True when the lot belongs to this selection.

        A criterion the lot has no value for (``None``) is not met.
        """
        if self.lot_ids:
            return lot_id in self.lot_ids
        if self.process_versions and process_version not in self.process_versions:
            return False
        if self.produced_from or self.produced_to:
            if produced_on is None:
                return False
            if self.produced_from and produced_on < self.produced_from:
                return False
            if self.produced_to and produced_on > self.produced_to:
                return False
        return True

    def describe(self) -> str:
        """Return the selection in words."""
        if self.lot_ids:
            return "lots " + ", ".join(self.lot_ids)
        parts = []
        if self.process_versions:
            parts.append("process version " + " or ".join(self.process_versions))
        if self.produced_from or self.produced_to:
            start = self.produced_from.isoformat() if self.produced_from else "..."
            end = self.produced_to.isoformat() if self.produced_to else "..."
            parts.append(f"produced {start} to {end}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form (dates as ISO strings)."""
        return {
            "process_versions": list(self.process_versions),
            "produced_from": self.produced_from.isoformat() if self.produced_from else None,
            "produced_to": self.produced_to.isoformat() if self.produced_to else None,
            "lot_ids": list(self.lot_ids),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LotSelection:
        """Rebuild from :meth:`to_dict` output."""
        values = _known_keys(cls, data, "LotSelection")
        for key in ("produced_from", "produced_to"):
            if isinstance(values.get(key), str):
                try:
                    values[key] = date.fromisoformat(values[key])
                except ValueError:
                    raise _fail(
                        "LotSelection", key, "an ISO date YYYY-MM-DD", values[key]
                    ) from None
        for key in ("process_versions", "lot_ids"):
            if isinstance(values.get(key), list):
                values[key] = tuple(values[key])
        return cls(**values)


@dataclass(frozen=True)
class ComparabilityPlan:
    """A pre-registered comparability study: its CQAs, criteria and the two lot selections.

    Attributes
    ----------
    name : str
        Study name.
    cqas : tuple of CqaCriterion
        Attributes compared, names unique.
    reference_lots, test_lots : LotSelection
        Pre-change and post-change lots.
    design : {"independent", "paired"}
        Independent groups of lots, or split-source pairs (same starting material through both
        processes; rows of the two arms are matched by their label).
    multivariate : tuple of str
        CQAs (at least two) for the supporting Hotelling T2 test and PCA overlay; empty: none.
    description : str
        Free text: the change, the rationale, references.
    """

    name: str
    cqas: tuple[CqaCriterion, ...]
    reference_lots: LotSelection
    test_lots: LotSelection
    design: str = "independent"
    multivariate: tuple[str, ...] = field(default=())
    description: str = ""

    def __post_init__(self) -> None:
        owner = "ComparabilityPlan"
        if not isinstance(self.name, str) or not self.name.strip():
            raise _fail(owner, "name", "a non-empty string", self.name)
        cqas = tuple(self.cqas)
        if not cqas or not all(isinstance(c, CqaCriterion) for c in cqas):
            raise _fail(owner, "cqas", "a non-empty sequence of CqaCriterion", self.cqas)
        names = [c.name for c in cqas]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise _fail(owner, "cqas", "CQAs with unique names", f"duplicates {duplicated}")
        object.__setattr__(self, "cqas", cqas)
        for key in ("reference_lots", "test_lots"):
            if not isinstance(getattr(self, key), LotSelection):
                raise _fail(owner, key, "a LotSelection", getattr(self, key))
        if self.design not in ("independent", "paired"):
            raise _fail(owner, "design", "'independent' or 'paired'", self.design)
        multivariate = tuple(self.multivariate)
        unknown = [n for n in multivariate if n not in names]
        if unknown or len(multivariate) == 1 or len(set(multivariate)) != len(multivariate):
            raise _fail(
                owner,
                "multivariate",
                "empty or two or more distinct CQA names of the plan",
                list(multivariate),
            )
        object.__setattr__(self, "multivariate", multivariate)
        if not isinstance(self.description, str):
            raise _fail(owner, "description", "a string", self.description)

    def cqa(self, name: str) -> CqaCriterion:
        """Return the criterion of the CQA called ``name``."""
        for criterion in self.cqas:
            if criterion.name == name:
                return criterion
        known = ", ".join(c.name for c in self.cqas)
        raise ValidationFailed(f"The plan '{self.name}' has no CQA {name!r}. Known: {known}.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form with a fixed key order (tiers as integers, dates ISO)."""
        return {
            "name": self.name,
            "description": self.description,
            "design": self.design,
            "reference_lots": self.reference_lots.to_dict(),
            "test_lots": self.test_lots.to_dict(),
            "cqas": [
                {f.name: _plain(getattr(c, f.name)) for f in fields(CqaCriterion)}
                for c in self.cqas
            ],
            "multivariate": list(self.multivariate),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ComparabilityPlan:
        """Rebuild a plan from :meth:`to_dict` output; unknown keys are refused."""
        values = _known_keys(cls, data, "ComparabilityPlan")
        cqas = values.get("cqas")
        if not isinstance(cqas, list) or not all(isinstance(c, Mapping) for c in cqas):
            raise _fail("ComparabilityPlan", "cqas", "a list of mappings", cqas)
        values["cqas"] = tuple(
            CqaCriterion(**_known_keys(CqaCriterion, c, "CqaCriterion")) for c in cqas
        )
        for key in ("reference_lots", "test_lots"):
            if not isinstance(values.get(key), Mapping):
                raise _fail("ComparabilityPlan", key, "a mapping", values.get(key))
            values[key] = LotSelection.from_dict(values[key])
        values["multivariate"] = tuple(values.get("multivariate", ()))
        return cls(**values)


def _plain(value: object) -> object:
    return int(value) if isinstance(value, Tier) else value


def _known_keys(cls: type, data: Mapping[str, Any], owner: str) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ValidationFailed(f"The data for {owner} must be a mapping. Got {data!r} instead.")
    allowed = {f.name for f in fields(cls)}
    required = {
        f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING
    }
    unknown = sorted(set(data) - allowed)
    missing = sorted(required - set(data))
    if unknown or missing:
        raise ValidationFailed(
            f"The data for {owner} must have the keys {sorted(allowed)} (required: "
            f"{sorted(required)}). Got unknown key(s) {unknown} and missing key(s) {missing}."
        )
    return dict(data)
