"""Drivers of a quality attribute across donor, transport, process and material factors: a
linear mixed model (fixed effects with confidence intervals; variance components for donor,
material lot, equipment and site) and gradient boosting with permutation importance and
partial dependence; confounded factors flagged. Pure: pandas, statsmodels, scikit-learn.
"""

from saisei.analytics.drivers._analysis import TABLE_COLUMNS, DriverResult, analyse_drivers
from saisei.analytics.drivers._confounding import association, confounded_pairs

__all__ = ["TABLE_COLUMNS", "DriverResult", "analyse_drivers", "association", "confounded_pairs"]
