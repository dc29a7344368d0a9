"""Multivariate models of normal operation: PCA/PLS monitors and batch models.

Estimators follow the scikit-learn contract (``fit`` returns ``self``; learned state ends in
``_``) and accept NaN for missing values. See ``docs/monitoring.md`` for the methods, limits
and how to read an alarm.
"""

from ._align import DTWAligner, MaturityAligner, dtw_path
from ._batch import BatchEvolutionModel, BatchLevelModel
from ._batchdata import BatchCube, cube_to_long, to_cube
from ._pca import PCAMonitor
from ._pls import PLSMonitor
from ._results import MonitorDiagnosis

__all__ = [
    "BatchCube",
    "BatchEvolutionModel",
    "BatchLevelModel",
    "DTWAligner",
    "MaturityAligner",
    "MonitorDiagnosis",
    "PCAMonitor",
    "PLSMonitor",
    "cube_to_long",
    "dtw_path",
    "to_cube",
]
