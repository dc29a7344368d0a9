"""Quality rules as pure functions: specification evaluation, password policy, reasons and the
deviation life cycle.

Nothing here touches storage; :mod:`saisei.quality` applies these rules to stored records.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from enum import StrEnum

from saisei.domain.enums import DeviationStatus
from saisei.errors import Conflict, ValidationFailed

__all__ = [
    "DEVIATION_CATEGORIES",
    "DEVIATION_TRANSITIONS",
    "MIN_PASSWORD_LENGTH",
    "SPEC_PURPOSES",
    "SpecEvaluation",
    "SpecLimits",
    "SpecOutcome",
    "check_deviation_transition",
    "check_password_policy",
    "evaluate",
    "require_reason",
]

#: What a specification is for: release testing or in-process control.
SPEC_PURPOSES = ("release", "in_process")

#: Categories a deviation can be filed under; ``custody`` blocks the custody prerequisite.
DEVIATION_CATEGORIES = (
    "oos",
    "custody",
    "excursion",
    "alarm",
    "process",
    "equipment",
    "material",
    "documentation",
    "other",
)

MIN_PASSWORD_LENGTH = 10


class SpecOutcome(StrEnum):
    """Outcome of a QC result against its specification.

    ``pass`` inside every level; ``alert`` beyond an alert level (early warning); ``action``
    beyond an action level (act, still in specification); ``oos`` outside the acceptance
    limits; ``no_spec`` when no specification applies.
    """

    PASS = "pass"
    ALERT = "alert"
    ACTION = "action"
    OOS = "oos"
    NO_SPEC = "no_spec"


def _finite(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if not math.isfinite(value):
        raise ValidationFailed(f"The specification {name} must be a finite number. Got {value}.")
    return float(value)


@dataclass(frozen=True)
class SpecLimits:
    """Acceptance limits plus optional alert and action levels of one specification.

    Every bound is inclusive (a value equal to a limit meets it, as in "not less than 70 %").
    A one-sided specification leaves ``lower`` or ``upper`` as None. ``expected_text`` is the
    required result of a qualitative test (e.g. ``negative``), compared case-insensitively.

    Raises
    ------
    ValidationFailed
        When no limit is given, or the levels are not nested
        ``lower <= action_low <= alert_low <= alert_high <= action_high <= upper``.
    """

    lower: float | None = None
    upper: float | None = None
    alert_low: float | None = None
    alert_high: float | None = None
    action_low: float | None = None
    action_high: float | None = None
    expected_text: str | None = None

    def __post_init__(self) -> None:
        for name in ("lower", "upper", "alert_low", "alert_high", "action_low", "action_high"):
            _finite(name, getattr(self, name))
        numeric = [
            self.lower,
            self.upper,
            self.alert_low,
            self.alert_high,
            self.action_low,
            self.action_high,
        ]
        if all(v is None for v in numeric) and not self.expected_text:
            raise ValidationFailed(
                "A specification needs at least one limit (lower, upper, an alert or action "
                "level) or an expected text result. Got none."
            )
        chain = [
            ("lower", self.lower),
            ("action_low", self.action_low),
            ("alert_low", self.alert_low),
            ("alert_high", self.alert_high),
            ("action_high", self.action_high),
            ("upper", self.upper),
        ]
        present = [(n, v) for n, v in chain if v is not None]
        for (n1, v1), (n2, v2) in itertools.pairwise(present):
            if v1 > v2:  # type: ignore[operator]
                raise ValidationFailed(
                    "Specification levels must nest as lower <= action_low <= alert_low <= "
                    f"alert_high <= action_high <= upper. Got {n1}={v1} above {n2}={v2}."
                )

    @property
    def sides(self) -> str:
        """``two-sided``, ``lower`` (one-sided, not less than), ``upper`` or ``text``."""
        if self.lower is not None and self.upper is not None:
            return "two-sided"
        if self.lower is not None:
            return "lower"
        if self.upper is not None:
            return "upper"
        return "text" if self.expected_text else "levels only"

    def describe(self) -> str:
        """The acceptance criterion in words: ``70 to 100``, ``>= 70``, ``<= 5``, ``negative``."""
        if self.lower is not None and self.upper is not None:
            return f"{self.lower:g} to {self.upper:g}"
        if self.lower is not None:
            return f">= {self.lower:g}"
        if self.upper is not None:
            return f"<= {self.upper:g}"
        if self.expected_text:
            return self.expected_text
        levels = [
            f"{name} {value:g}"
            for name, value in (
                ("action <", self.action_low),
                ("action >", self.action_high),
                ("alert <", self.alert_low),
                ("alert >", self.alert_high),
            )
            if value is not None
        ]
        return "; ".join(levels)


@dataclass(frozen=True)
class SpecEvaluation:
    """A QC value judged against :class:`SpecLimits`: the outcome and a sentence why."""

    outcome: SpecOutcome
    message: str


def _beyond(value: float, low: float | None, high: float | None) -> str | None:
    if low is not None and value < low:
        return f"below {low:g}"
    if high is not None and value > high:
        return f"above {high:g}"
    return None


def evaluate(
    limits: SpecLimits | None, value: float | None = None, text: str | None = None
) -> SpecEvaluation:
    """Judge a QC result against its specification.

    Acceptance limits first (outside them the result is out of specification), then action
    levels, then alert levels. A numeric specification needs a numeric value; a text
    specification needs a text result.

    Examples
    --------
    >>> evaluate(SpecLimits(lower=70.0), 65.0).outcome
    <SpecOutcome.OOS: 'oos'>
    >>> evaluate(SpecLimits(lower=70.0, alert_low=80.0), 75.0).outcome
    <SpecOutcome.ALERT: 'alert'>
    """
    if limits is None:
        return SpecEvaluation(SpecOutcome.NO_SPEC, "no specification applies")
    if value is None:
        if limits.expected_text is None:
            raise ValidationFailed(
                f"The specification ({limits.describe()}) is numeric; the QC result needs a "
                f"numeric value. Got text {text!r} instead."
            )
        if text is None or text.strip().casefold() != limits.expected_text.strip().casefold():
            return SpecEvaluation(
                SpecOutcome.OOS, f"result {text!r} is not the expected {limits.expected_text!r}"
            )
        return SpecEvaluation(SpecOutcome.PASS, f"result {text!r} as expected")
    if not math.isfinite(value):
        raise ValidationFailed(f"A QC result value must be a finite number. Got {value}.")
    where = _beyond(value, limits.lower, limits.upper)
    if where:
        return SpecEvaluation(
            SpecOutcome.OOS,
            f"{value:g} is {where}: out of specification ({limits.describe()})",
        )
    where = _beyond(value, limits.action_low, limits.action_high)
    if where:
        return SpecEvaluation(SpecOutcome.ACTION, f"{value:g} is {where}: action level exceeded")
    where = _beyond(value, limits.alert_low, limits.alert_high)
    if where:
        return SpecEvaluation(SpecOutcome.ALERT, f"{value:g} is {where}: alert level exceeded")
    return SpecEvaluation(SpecOutcome.PASS, f"{value:g} meets {limits.describe()}")


def check_password_policy(password: str, *, username: str) -> None:
    """Refuse a password that is too short, equals the user id or lacks a non-letter.

    Raises
    ------
    ValidationFailed
        Naming the rule that failed (never echoing the password).
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"A password must have at least {MIN_PASSWORD_LENGTH} characters. Got {len(password)}."
        )
    if password.casefold() == username.casefold():
        raise ValidationFailed("A password must not equal the user id.")
    if not any(c.isalpha() for c in password) or all(c.isalpha() for c in password):
        raise ValidationFailed("A password must contain letters and at least one digit or symbol.")


def require_reason(reason: str | None, action: str) -> str:
    """The stripped reason for a GMP-relevant change; refuses a missing or blank one.

    Raises
    ------
    ValidationFailed
        ``A reason is required to <action>``.
    """
    if reason is None or not reason.strip():
        raise ValidationFailed(
            f"A reason is required to {action} (GMP-relevant change). Got none; give one "
            "with --reason."
        )
    return reason.strip()


#: Permitted deviation status changes: record -> investigate -> CAPA -> close.
DEVIATION_TRANSITIONS: dict[DeviationStatus, frozenset[DeviationStatus]] = {
    DeviationStatus.OPEN: frozenset({DeviationStatus.INVESTIGATION}),
    DeviationStatus.INVESTIGATION: frozenset({DeviationStatus.CAPA, DeviationStatus.CLOSED}),
    DeviationStatus.CAPA: frozenset({DeviationStatus.CLOSED}),
    DeviationStatus.CLOSED: frozenset(),
}


def check_deviation_transition(number: str, current: DeviationStatus, new: DeviationStatus) -> None:
    """Refuse a deviation status change its life cycle does not permit.

    Raises
    ------
    Conflict
        Naming the deviation, both statuses and the permitted next ones.
    """
    allowed = DEVIATION_TRANSITIONS[current]
    if new not in allowed:
        options = ", ".join(sorted(s.value for s in allowed)) or "none (closed)"
        raise Conflict(
            f"Deviation {number} cannot go from status {current.value!r} to {new.value!r}. "
            f"Permitted next statuses: {options}."
        )
