"""Values of the comparability service: study definitions (plan files) and the views returned.

Kept apart from :mod:`saisei.services.comparability` (the use cases) to keep both short.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from saisei.analytics.comparability import ComparabilityPlan, ComparabilityResult
from saisei.domain.audit import canonical_json, jsonable
from saisei.domain.enums import ProductType
from saisei.errors import NotFound, ValidationFailed
from saisei.quality.esign import SignatureView
from saisei.reports.documents import comparability_document

__all__ = [
    "AmendmentView",
    "PlanSaved",
    "ReportWritten",
    "RunView",
    "StudyDefinition",
    "StudyResult",
    "StudyView",
    "content_of",
    "load_study_file",
    "parse_study",
    "sha256_of",
    "utc_time",
]

_CODE_MAX = 48


def utc_time(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValidationFailed(f"Times must be timezone-aware (UTC). Got naive {now!r}.")
    return now.astimezone(UTC)


def sha256_of(content: Any) -> str:
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StudyDefinition:
    """A study as written in a plan file: its code, optional product type and the plan."""

    code: str
    product: ProductType | None
    plan: ComparabilityPlan

    def content(self) -> dict[str, Any]:
        """What the plan hash covers: the product restriction and the plan."""
        return content_of(self.product, self.plan.to_dict())

    @property
    def sha256(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`content`."""
        return sha256_of(self.content())


def content_of(product: ProductType | None, plan: Mapping[str, Any]) -> dict[str, Any]:
    return {"product": product.value if product is not None else None, "plan": dict(plan)}


def _check_code(code: object) -> str:
    text = str(code).strip() if isinstance(code, str | int) else ""
    allowed = all(c.isalnum() or c in "._-" for c in text)
    if not text or len(text) > _CODE_MAX or not allowed or not text[0].isalnum():
        raise ValidationFailed(
            f"The study code must be 1-{_CODE_MAX} letters, digits, '.', '_' or '-', starting "
            f"with a letter or digit (e.g. CMP-2026-01). Got {code!r} instead."
        )
    return text


def parse_study(data: Mapping[str, Any], *, origin: str = "the plan") -> StudyDefinition:
    """A study definition from a mapping: ``study`` (code), optional ``product``, plan keys.

    The plan keys are those of :meth:`ComparabilityPlan.from_dict` (``name``, ``cqas``,
    ``reference_lots``, ``test_lots``, ``design``, ``multivariate``, ``description``).
    """
    if not isinstance(data, Mapping):
        raise ValidationFailed(
            f"{origin} must be a mapping with 'study', 'name', 'cqas', 'reference_lots' and "
            f"'test_lots'. Got {type(data).__name__} instead."
        )
    values = dict(data)
    if "study" not in values:
        raise ValidationFailed(
            f"{origin} must name its study code under 'study:' (e.g. 'study: CMP-2026-01')."
        )
    code = _check_code(values.pop("study"))
    product_name = values.pop("product", None)
    product = None
    if product_name is not None:
        try:
            product = ProductType(product_name)
        except ValueError:
            options = ", ".join(p.value for p in ProductType)
            raise ValidationFailed(
                f"The 'product' of {origin} must be one of {options}. Got {product_name!r}."
            ) from None
    try:
        plan = ComparabilityPlan.from_dict(values)
    except (ValidationFailed, TypeError) as exc:
        message = exc.message if isinstance(exc, ValidationFailed) else str(exc)
        raise ValidationFailed(f"{origin}: {message}") from None
    return StudyDefinition(code=code, product=product, plan=plan)


def load_study_file(path: Path) -> StudyDefinition:
    """Read a study definition from a YAML plan file (see ``docs/comparability.md``)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise NotFound(f"Cannot read the plan file {path}: {exc.strerror}.") from None
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"The plan file {path} is not valid YAML: {exc}") from None
    return parse_study(data, origin=f"The plan file {path}")


@dataclass(frozen=True)
class AmendmentView:
    """One amendment of a locked plan."""

    plan_version: int
    reason: str
    amended_by: str
    amended_at: datetime
    previous_sha256: str
    plan_sha256: str
    after_results: bool

    def line(self) -> str:
        """One line for people."""
        when = self.amended_at.strftime("%Y-%m-%d %H:%M:%S")
        late = " (after results had been computed)" if self.after_results else ""
        return (
            f"version {self.plan_version} by {self.amended_by} on {when} UTC{late}: {self.reason}"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {k: jsonable(getattr(self, k)) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class RunView:
    """One run of a study: which plan version and hash it used, and whether it passed."""

    run_number: int
    plan_version: int
    plan_sha256: str
    passed: bool
    ran_by: str
    ran_at: datetime
    current: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {k: jsonable(getattr(self, k)) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class StudyView:
    """A study as shown: status, current plan and hash, signatures, amendments, runs.

    ``plan_intact`` is False when the stored plan no longer hashes to ``plan_sha256``;
    ``approval_valid`` is True when the current plan version carries a valid approval.
    """

    code: str
    title: str
    status: str
    product: str | None
    plan_version: int
    plan_sha256: str
    plan: dict[str, Any]
    created_by: str
    created_at: datetime
    locked_by: str | None
    locked_at: datetime | None
    plan_intact: bool
    approval_valid: bool
    signatures: tuple[SignatureView, ...] = ()
    amendments: tuple[AmendmentView, ...] = ()
    runs: tuple[RunView, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        document = {
            k: jsonable(getattr(self, k))
            for k in self.__dataclass_fields__
            if k not in ("signatures", "amendments", "runs")
        }
        document["signatures"] = [s.to_dict() for s in self.signatures]
        document["amendments"] = [a.to_dict() for a in self.amendments]
        document["runs"] = [r.to_dict() for r in self.runs]
        return document


@dataclass(frozen=True)
class PlanSaved:
    """Outcome of :func:`save_plan`: ``action`` is created, updated or unchanged."""

    study: StudyView
    action: str

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {"action": self.action, "study": self.study.to_dict()}


@dataclass(frozen=True, eq=False)
class StudyResult:
    """The result of one run, rebuilt from its snapshot.

    Attributes
    ----------
    study : StudyView
    run : RunView
    result : ComparabilityResult
        Re-evaluated from the stored plan and values.
    reference, test : DataFrame
        The values used: one row per lot (index = lot label), one column per CQA.
    lots : dict
        ``{"reference": [...], "test": [...]}``: each lot with batch id, label, process,
        version and start time.
    units : dict of str to str or None
    warnings : tuple of str
        Plan amended since the run, approval no longer valid, recomputed verdicts differing
        from the stored ones.
    """

    study: StudyView
    run: RunView
    result: ComparabilityResult
    reference: pd.DataFrame
    test: pd.DataFrame
    lots: dict[str, list[dict[str, Any]]]
    units: dict[str, str | None]
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """The JSON twin of the report (numbers unrounded, NaN as null)."""
        return {
            "study": self.study.code,
            "status": self.study.status,
            "run": self.run.to_dict(),
            "lots": self.lots,
            "units": self.units,
            "result": comparability_document(self.result),
            "warnings": list(self.warnings),
        }

    def summary(self) -> str:
        """Text for people: the overall verdict, one line per CQA, warnings."""
        head = (
            f"Study {self.study.code}, run {self.run.run_number} against plan version "
            f"{self.run.plan_version} ({len(self.lots['reference'])} pre-change, "
            f"{len(self.lots['test'])} post-change lots)"
        )
        lines = [head, self.result.summary()]
        lines.extend(f"Warning: {w}" for w in self.warnings)
        return "\n".join(lines)


@dataclass(frozen=True)
class ReportWritten:
    """Where :func:`write_report` wrote the HTML report."""

    study: str
    run_number: int
    path: str
    bytes: int
    plotly_js: str
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}
