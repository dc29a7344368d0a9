"""scikit-learn's estimator checks over the mvda estimators."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from saisei.analytics.mvda import PCAMonitor, PLSMonitor

# No check is expected to fail: every estimator passes the full suite.
ESTIMATORS = [PCAMonitor(), PCAMonitor(n_components=2), PLSMonitor(), PLSMonitor(n_components=1)]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
