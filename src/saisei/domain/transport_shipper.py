"""Liquid-nitrogen dry shippers: requalification records, predicted hold time, dispatch check.

A dry shipper keeps cryopreserved product at or below -150 C for as long as its absorbed liquid
nitrogen lasts: its *hold time*. Hold time varies up to 40 % from unit to unit, so each asset
carries its own requalification records (a measured static hold time, pass or fail, valid
until a date); a shipper that is tipped over can lose about 60 % of it
(``shared/docs/domain.md``). Dispatch is refused when the predicted hold time left at dispatch
is shorter than the planned transit plus a margin. Import from :mod:`saisei.domain.transport`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from saisei.domain.custody_events import as_utc
from saisei.domain.transport_logger import hours_in
from saisei.errors import FieldError, ValidationFailed

__all__ = [
    "DEFAULT_TIP_LOSS_FRACTION",
    "DispatchCheck",
    "DryShipper",
    "Requalification",
    "check_dry_shipper_dispatch",
    "predict_hold_time_h",
]

_EPS_H = 1e-10  # hours, below datetime resolution; a prediction equal to the need is enough

#: Share of hold time lost when a dry shipper is tipped over (domain.md: "can lose 60 %").
DEFAULT_TIP_LOSS_FRACTION = 0.6


def _number(value: object, *, low: float, high: float = math.inf) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and low <= value <= high
    )


@dataclass(frozen=True)
class Requalification:
    """One requalification of a dry shipper.

    Attributes
    ----------
    performed_at : datetime
        When the test ended (timezone-aware).
    static_hold_time_h : float
        Measured static hold time, hours.
    passed : bool
        Whether the shipper passed.
    valid_until : datetime
        End of the requalification's validity.
    """

    performed_at: datetime
    static_hold_time_h: float
    passed: bool
    valid_until: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "performed_at", as_utc(self.performed_at, "performed_at"))
        object.__setattr__(self, "valid_until", as_utc(self.valid_until, "valid_until"))
        if not _number(self.static_hold_time_h, low=0):
            raise ValidationFailed(
                f"A requalification's static hold time must be a finite "
                f"number of hours >= 0; got {self.static_hold_time_h!r}."
            )
        if self.valid_until < self.performed_at:
            raise ValidationFailed(
                f"A requalification valid until "
                f"{self.valid_until.isoformat()} ends before it was "
                f"performed ({self.performed_at.isoformat()})."
            )


@dataclass(frozen=True)
class DryShipper:
    """A dry-shipper asset and its requalification history.

    Attributes
    ----------
    asset_id : str
        The asset's identifier.
    requalifications : tuple of Requalification
        In any order.
    """

    asset_id: str
    requalifications: tuple[Requalification, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "requalifications", tuple(self.requalifications))

    def latest_requalification(self, at: datetime) -> Requalification | None:
        """The most recent requalification performed at or before ``at``, if any."""
        moment = as_utc(at, "at")
        done = [r for r in self.requalifications if r.performed_at <= moment]
        return max(done, key=lambda r: r.performed_at, default=None)


def predict_hold_time_h(
    requalification: Requalification,
    *,
    derating_fraction: float = 0.0,
    tipped: bool = False,
    tip_loss_fraction: float = DEFAULT_TIP_LOSS_FRACTION,
) -> float:
    """Predicted hold time of a freshly charged shipper, hours.

    The requalification's static hold time, reduced by ``derating_fraction`` (e.g. for dynamic
    rather than static conditions) and, if the shipper is expected to be or was tipped, by
    ``tip_loss_fraction``.
    """
    for name, value in (
        ("derating_fraction", derating_fraction),
        ("tip_loss_fraction", tip_loss_fraction),
    ):
        if not _number(value, low=0.0, high=1.0):
            raise ValidationFailed(f"'{name}' must be in [0, 1]; got {value!r}.")
    hold_h = requalification.static_hold_time_h * (1.0 - derating_fraction)
    return hold_h * (1.0 - tip_loss_fraction) if tipped else hold_h


@dataclass(frozen=True)
class DispatchCheck:
    """Whether a dry shipper may be dispatched, and why.

    Attributes
    ----------
    asset_id : str
        The shipper.
    allowed : bool
        True when dispatch may go ahead.
    predicted_hold_time_h : float or None
        Hold time predicted to remain at dispatch (None without a usable requalification).
    required_hold_time_h : float
        Planned transit plus margin.
    reasons : tuple of str
        Why dispatch is refused (empty when allowed).
    """

    asset_id: str
    allowed: bool
    predicted_hold_time_h: float | None
    required_hold_time_h: float
    reasons: tuple[str, ...]

    def raise_if_refused(self) -> None:
        """Raise when dispatch is refused.

        Raises
        ------
        ValidationFailed
            Naming the shipper and every reason.
        """
        if not self.allowed:
            raise ValidationFailed(
                f"Dispatch of dry shipper {self.asset_id} is refused: "
                + "; ".join(self.reasons)
                + ".",
                [
                    FieldError(reason, field="dry_shipper", value=self.asset_id)
                    for reason in self.reasons
                ],
            )


def check_dry_shipper_dispatch(
    shipper: DryShipper,
    *,
    dispatch_at: datetime,
    planned_transit_h: float,
    margin_h: float,
    charged_at: datetime | None = None,
    derating_fraction: float = 0.0,
    tipped: bool = False,
    tip_loss_fraction: float = DEFAULT_TIP_LOSS_FRACTION,
) -> DispatchCheck:
    """Decide whether a dry shipper may be dispatched.

    Refused when there is no requalification, the latest one failed or has expired at
    dispatch, or the predicted hold time left at dispatch (see :func:`predict_hold_time_h`,
    less the hours since charging when ``charged_at`` is given) is shorter than
    ``planned_transit_h + margin_h``. A prediction exactly equal to the requirement is allowed.

    Raises
    ------
    ValidationFailed
        For naive datetimes, negative hours, or charging after dispatch.
    """
    at = as_utc(dispatch_at, "dispatch_at")
    for name, value in (("planned_transit_h", planned_transit_h), ("margin_h", margin_h)):
        if not _number(value, low=0.0):
            raise ValidationFailed(
                f"'{name}' must be a finite number of hours >= 0; got {value!r}."
            )
    required_h = planned_transit_h + margin_h
    latest = shipper.latest_requalification(at)
    if latest is None:
        return DispatchCheck(
            shipper.asset_id, False, None, required_h, ("it has no requalification record",)
        )
    reasons = []
    if not latest.passed:
        reasons.append(f"its latest requalification ({latest.performed_at.date()}) failed")
    if latest.valid_until < at:
        reasons.append(f"its requalification expired on {latest.valid_until.date()}")
    predicted_h = predict_hold_time_h(
        latest,
        derating_fraction=derating_fraction,
        tipped=tipped,
        tip_loss_fraction=tip_loss_fraction,
    )
    if charged_at is not None:
        charged = as_utc(charged_at, "charged_at")
        if charged > at:
            raise ValidationFailed(
                f"Dry shipper {shipper.asset_id} is charged at "
                f"{charged.isoformat()}, after dispatch at {at.isoformat()}."
            )
        predicted_h -= hours_in(at - charged)
    if predicted_h < required_h - _EPS_H:
        reasons.append(
            f"its predicted hold time of {predicted_h:.1f} h is shorter than the "
            f"{planned_transit_h:g} h transit plus {margin_h:g} h margin"
        )
    return DispatchCheck(shipper.asset_id, not reasons, predicted_h, required_h, tuple(reasons))
