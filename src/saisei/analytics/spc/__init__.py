"""Statistical process control: control charts, run rules, capability, tolerance intervals.

Pure functions over numpy arrays; results are frozen dataclasses with ``to_frame()`` and
``summary()``. See ``docs/spc.md`` for formulas, conventions and sources.

Control charts (phase I estimates the limits, phase II takes ``params`` of an earlier result):
:func:`individuals_chart`, :func:`xbar_r_chart`, :func:`xbar_s_chart`, :func:`ewma_chart`,
:func:`cusum_chart`, :func:`p_chart`, :func:`u_chart`. Run rules: :func:`run_rules` (Nelson,
Western Electric). Capability: :func:`capability`. Tolerance intervals:
:func:`tolerance_interval`, :func:`tolerance_factor`. Constants: :func:`chart_constants`.
"""

from ._attribute import p_chart, u_chart
from ._capability import CapabilityResult, NonNormalDataWarning, capability
from ._charts import individuals_chart, xbar_r_chart, xbar_s_chart
from ._constants import ChartConstants, chart_constants, constants_table
from ._results import ChartParams, ChartSeries, ControlChartResult
from ._rules import RULE_NAMES, RuleSet, RuleViolation, RunRulesResult, run_rules
from ._time_weighted import cusum_chart, ewma_chart
from ._tolerance import ToleranceInterval, tolerance_factor, tolerance_interval

__all__ = [
    "RULE_NAMES",
    "CapabilityResult",
    "ChartConstants",
    "ChartParams",
    "ChartSeries",
    "ControlChartResult",
    "NonNormalDataWarning",
    "RuleSet",
    "RuleViolation",
    "RunRulesResult",
    "ToleranceInterval",
    "capability",
    "chart_constants",
    "constants_table",
    "cusum_chart",
    "ewma_chart",
    "individuals_chart",
    "p_chart",
    "run_rules",
    "tolerance_factor",
    "tolerance_interval",
    "u_chart",
    "xbar_r_chart",
    "xbar_s_chart",
]
