"""Shipment transport rules: logger evaluation, MKT, excursions, receipt, dry shippers.

This module is the public face of the transport rules; the implementation is split by concern:
:mod:`~saisei.domain.transport_logger` (readings, bands, excursion rules, specifications and
:func:`mean_kinetic_temperature`), :mod:`~saisei.domain.transport_evaluation`
(:func:`evaluate_logger`, excursions, shock and tilt counts, the receipt decision and excursion
acknowledgements) and :mod:`~saisei.domain.transport_shipper` (dry-shipper requalification and
the hold-time dispatch check). Temperatures are product configuration: nothing is built in.
See ``docs/identity-and-custody.md``.

Examples
--------
>>> round(mean_kinetic_temperature([2, 2, 5, 8, 8, 8, 8]), 2)  # USP <1079.2>
6.25
"""

from __future__ import annotations

from saisei.domain.transport_evaluation import (
    BandEvaluation,
    DataGap,
    Excursion,
    ExcursionAcknowledgement,
    LoggerEvaluation,
    ReceiptDecision,
    ReceiptOutcome,
    ShockCount,
    TiltCount,
    acknowledge_excursion,
    decide_receipt,
    evaluate_logger,
)
from saisei.domain.transport_logger import (
    ABSOLUTE_ZERO_C,
    DEFAULT_DELTA_H_OVER_R,
    ExcursionRule,
    LoggerRecord,
    ShockEvent,
    ShockLimit,
    TemperatureBand,
    TemperatureReading,
    TiltEvent,
    TiltLimit,
    TransportSpec,
    mean_kinetic_temperature,
)
from saisei.domain.transport_shipper import (
    DEFAULT_TIP_LOSS_FRACTION,
    DispatchCheck,
    DryShipper,
    Requalification,
    check_dry_shipper_dispatch,
    predict_hold_time_h,
)

__all__ = [
    "ABSOLUTE_ZERO_C",
    "DEFAULT_DELTA_H_OVER_R",
    "DEFAULT_TIP_LOSS_FRACTION",
    "BandEvaluation",
    "DataGap",
    "DispatchCheck",
    "DryShipper",
    "Excursion",
    "ExcursionAcknowledgement",
    "ExcursionRule",
    "LoggerEvaluation",
    "LoggerRecord",
    "ReceiptDecision",
    "ReceiptOutcome",
    "Requalification",
    "ShockCount",
    "ShockEvent",
    "ShockLimit",
    "TemperatureBand",
    "TemperatureReading",
    "TiltCount",
    "TiltEvent",
    "TiltLimit",
    "TransportSpec",
    "acknowledge_excursion",
    "check_dry_shipper_dispatch",
    "decide_receipt",
    "evaluate_logger",
    "mean_kinetic_temperature",
    "predict_hold_time_h",
]
