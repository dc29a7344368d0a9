"""Injectable faults: what can go wrong, from which batch, from when, and what it touches.

A fault specification is a comma-separated list of ``kind@K`` or ``kind@K:H``: the fault hits
batch ``K`` (1-based, in order of start) from ``H`` hours after the start of the affected
stage (culture faults only; default: day 5 of the culture). Kinds:

- ``temperature_drift``: the culture temperature controller drifts upwards (+0.04 C/h from
  onset, at most +3 C); the product really is warmer, and the probe shows it.
- ``ph_drift``: the pH probe drifts (-0.004 pH/h); the culture is unaffected: a measurement
  fault that should be caught by an offline check, not by a change in quality.
- ``do_loss``: the gas supply fails; dissolved oxygen is no longer controlled.
- ``contamination``: a bacterium enters: glucose crashes, the medium acidifies, oxygen falls,
  cells die and sterility fails.
- ``freezer_failure``: the controlled-rate freezer loses its liquid-nitrogen supply and cools
  at a fifth of the programmed rate.
- ``shipment_room_temperature``: the inbound shipment is left open on a dock at room
  temperature for 6 h.
"""

from __future__ import annotations

from dataclasses import dataclass

from saisei.errors import ValidationFailed

#: Fault kinds and the variables (signals, attributes) each one affects.
FAULT_EFFECTS: dict[str, tuple[str, ...]] = {
    "temperature_drift": (
        "temperature",
        "viable_cell_density",
        "viability",
        "glucose",
        "lactate",
        "post_thaw_viability",
        "viable_cell_dose",
    ),
    "ph_drift": ("pH",),
    "do_loss": ("DO", "viable_cell_density", "viable_cell_dose"),
    "contamination": (
        "glucose",
        "lactate",
        "pH",
        "DO",
        "viable_cell_density",
        "viability",
        "sterility",
        "endotoxin",
    ),
    "freezer_failure": (
        "product_temperature",
        "chamber_temperature",
        "cooling_rate",
        "post_thaw_viability",
        "viable_cell_dose",
    ),
    "shipment_room_temperature": (
        "shipment_logs.temperature",
        "viability_at_receipt",
        "viable_cell_density",
    ),
}
CULTURE_FAULTS = ("temperature_drift", "ph_drift", "do_loss", "contamination")
DEFAULT_ONSET_H = 120.0
DRIFT_C_PER_H = 0.04
DRIFT_MAX_C = 3.0
PH_DRIFT_PER_H = -0.004
FREEZER_FAILURE_RATE_FACTOR = 0.2
DOCK_HOURS = 6.0


@dataclass(frozen=True)
class Fault:
    """One injected fault.

    Attributes
    ----------
    kind : str
        One of :data:`FAULT_EFFECTS`.
    batch : int
        1-based index of the batch it hits.
    onset_h : float or None
        Hours after the start of the affected stage (culture faults).
    """

    kind: str
    batch: int
    onset_h: float | None = None

    def to_dict(self) -> dict[str, object]:
        """Plain dictionary."""
        return {
            "kind": self.kind,
            "batch": self.batch,
            "onset_h": self.onset_h,
            "affected_variables": list(FAULT_EFFECTS[self.kind]),
        }


def parse_faults(spec: str | None, n_batches: int) -> tuple[Fault, ...]:
    """Read a fault specification such as ``"contamination@12:96,freezer_failure@30"``.

    Raises
    ------
    ValidationFailed
        If a kind is unknown, a batch is outside 1..n_batches or a number does not parse.
    """
    if spec is None or not spec.strip():
        return ()
    faults = []
    for item in (part.strip() for part in spec.split(",") if part.strip()):
        kind, at, where = item.partition("@")
        if not at:
            raise ValidationFailed(
                f"A fault must be written kind@BATCH or kind@BATCH:HOURS, e.g. "
                f"'contamination@12:96'. Got {item!r}."
            )
        if kind not in FAULT_EFFECTS:
            raise ValidationFailed(
                f"The fault kind must be one of {', '.join(FAULT_EFFECTS)}. Got {kind!r}."
            )
        batch_text, _, onset_text = where.partition(":")
        try:
            batch = int(batch_text)
            onset = float(onset_text) if onset_text else None
        except ValueError:
            raise ValidationFailed(
                f"The batch of a fault must be an integer and its onset a number of hours. "
                f"Got {where!r} in {item!r}."
            ) from None
        if not 1 <= batch <= n_batches:
            raise ValidationFailed(
                f"The batch of fault {item!r} must be in 1..{n_batches} (the batches "
                f"simulated). Got {batch}."
            )
        if onset is not None and onset < 0:
            raise ValidationFailed(f"The onset of fault {item!r} must be >= 0 h. Got {onset}.")
        if onset is None and kind in CULTURE_FAULTS:
            onset = DEFAULT_ONSET_H
        faults.append(Fault(kind, batch, onset))
    return tuple(faults)
