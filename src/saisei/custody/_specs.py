"""Transport specifications per condition class: the default table and YAML overrides.

Temperatures are product configuration (ISO 21973 sets none); the defaults below are a
starting point taken from ``shared/docs/domain.md`` (fresh cord blood 15-25 C, fresh
leukapheresis 2-8 C, cryopreserved product <= -150 C in a liquid-nitrogen dry shipper; shocks
over 10 g damage fresh material in the simulator's model) and are meant to be overridden with a
YAML file of the same shape as :data:`DEFAULT_SPECS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from saisei.domain.transport import (
    ExcursionRule,
    ShockLimit,
    TemperatureBand,
    TiltLimit,
    TransportSpec,
)
from saisei.errors import FieldError, SaiseiError, ValidationFailed

__all__ = ["DEFAULT_SPECS", "load_specs", "spec_for", "spec_from_mapping", "spec_to_mapping"]

_FRESH_SHOCK = [{"threshold_g": 10.0, "max_count": 0}]

#: Condition class -> transport specification, as plain data (the YAML override's shape).
DEFAULT_SPECS: Mapping[str, Mapping[str, Any]] = {
    "15-25C": {
        "name": "fresh material 15-25 C",
        "rules": [
            {
                "band": "15-25 C",
                "low_c": 15.0,
                "high_c": 25.0,
                "max_continuous_h": 0.5,
                "max_cumulative_h": 0.5,
            }
        ],
        "shock_limits": _FRESH_SHOCK,
    },
    "2-8C": {
        "name": "fresh material 2-8 C",
        "rules": [
            {
                "band": "2-8 C",
                "low_c": 2.0,
                "high_c": 8.0,
                "max_continuous_h": 0.5,
                "max_cumulative_h": 0.5,
            }
        ],
        "shock_limits": _FRESH_SHOCK,
    },
    "2-8C_active": {
        "name": "fresh material 2-8 C, active container",
        "rules": [
            {
                "band": "2-8 C",
                "low_c": 2.0,
                "high_c": 8.0,
                "max_continuous_h": 0.5,
                "max_cumulative_h": 0.5,
            }
        ],
        "shock_limits": _FRESH_SHOCK,
    },
    "LN2_dry_shipper": {
        "name": "cryopreserved product <= -150 C, LN2 dry shipper",
        "rules": [{"band": "<= -150 C", "low_c": None, "high_c": -150.0}],
        "tilt_limits": [{"threshold_deg": 45.0, "max_count": 0}],
    },
}

_SPEC_KEYS = {"name", "rules", "shock_limits", "tilt_limits", "max_mkt_c", "max_gap_h"}
_RULE_KEYS = {"band", "low_c", "high_c", "max_continuous_h", "max_cumulative_h"}


def spec_from_mapping(condition_class: str, data: Mapping[str, Any]) -> TransportSpec:
    """Build a :class:`TransportSpec` from plain data (one entry of :data:`DEFAULT_SPECS`).

    Raises
    ------
    ValidationFailed
        Naming the condition class and every unknown key or bad value.
    """
    where = f"transport specification {condition_class!r}"
    if not isinstance(data, Mapping):
        raise ValidationFailed(f"The {where} must be a mapping; got {type(data).__name__}.")
    unknown = sorted(set(data) - _SPEC_KEYS)
    rules = data.get("rules")
    errors = [FieldError("unknown key", field=str(k)) for k in unknown]
    if not isinstance(rules, list) or not rules:
        errors.append(FieldError("a non-empty list of rules is required", field="rules"))
    else:
        errors += [
            FieldError(f"unknown key in rule {i}", field=str(k))
            for i, rule in enumerate(rules, 1)
            if isinstance(rule, Mapping)
            for k in sorted(set(rule) - _RULE_KEYS)
        ]
    if errors:
        raise ValidationFailed(f"The {where} is not valid.", errors)
    try:
        return TransportSpec(
            name=str(data.get("name") or condition_class),
            rules=tuple(
                ExcursionRule(
                    TemperatureBand(str(r["band"]), r.get("low_c"), r.get("high_c")),
                    r.get("max_continuous_h"),
                    r.get("max_cumulative_h"),
                )
                for r in rules  # type: ignore[union-attr]  # checked above
            ),
            shock_limits=tuple(
                ShockLimit(s["threshold_g"], s.get("max_count", 0))
                for s in data.get("shock_limits") or []
            ),
            tilt_limits=tuple(
                TiltLimit(t["threshold_deg"], t.get("max_count", 0))
                for t in data.get("tilt_limits") or []
            ),
            max_mkt_c=data.get("max_mkt_c"),
            max_gap_h=data.get("max_gap_h"),
        )
    except (KeyError, TypeError) as exc:
        raise ValidationFailed(
            f"The {where} is missing a value or has a wrong one: {exc}."
        ) from None
    except SaiseiError as exc:
        raise ValidationFailed(f"The {where} is not valid: {exc}") from None


def spec_to_mapping(spec: TransportSpec) -> dict[str, Any]:
    """Plain data of a specification (stored with each evaluation, so it can be redone)."""
    return {
        "name": spec.name,
        "rules": [
            {
                "band": r.band.name,
                "low_c": r.band.low_c,
                "high_c": r.band.high_c,
                "max_continuous_h": r.max_continuous_h,
                "max_cumulative_h": r.max_cumulative_h,
            }
            for r in spec.rules
        ],
        "shock_limits": [
            {"threshold_g": s.threshold_g, "max_count": s.max_count} for s in spec.shock_limits
        ],
        "tilt_limits": [
            {"threshold_deg": t.threshold_deg, "max_count": t.max_count} for t in spec.tilt_limits
        ],
        "max_mkt_c": spec.max_mkt_c,
        "max_gap_h": spec.max_gap_h,
    }


def load_specs(path: Path | None) -> dict[str, TransportSpec]:
    """The default specifications, with those in the YAML file at ``path`` replacing them.

    Raises
    ------
    ValidationFailed
        When the file cannot be read or an entry is not a valid specification.
    """
    data: dict[str, Any] = {k: dict(v) for k, v in DEFAULT_SPECS.items()}
    if path is not None:
        try:
            loaded = yaml.safe_load(Path(path).read_text("utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ValidationFailed(f"Cannot read transport specifications {path}: {exc}") from None
        if not isinstance(loaded, Mapping):
            raise ValidationFailed(
                f"Transport specifications {path} must map condition classes to "
                f"specifications; got {type(loaded).__name__}."
            )
        data.update({str(k): v for k, v in loaded.items()})
    return {name: spec_from_mapping(name, entry) for name, entry in data.items()}


def spec_for(specs: Mapping[str, TransportSpec], condition_class: str | None) -> TransportSpec:
    """The specification of a shipment's condition class.

    Raises
    ------
    ValidationFailed
        When the shipment has no condition class or none is defined for it.
    """
    known = ", ".join(sorted(specs))
    if condition_class is None or condition_class not in specs:
        raise ValidationFailed(
            f"No transport specification for condition class {condition_class!r}; defined: "
            f"{known}. Give the shipment a condition class or add one with --specs FILE."
        )
    return specs[condition_class]
