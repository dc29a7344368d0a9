"""Multivariate models of normal operation: PCA/PLS monitors and batch models.

Estimators follow the scikit-learn contract (``fit`` returns ``self``; learned state ends in
``_``) and accept NaN for missing values. See ``docs/monitoring.md`` for the methods, limits
and how to read an alarm.
"""

from ._align import DTWAligner, MaturityAligner, dtw_path
from ._batch import BatchEvolutionModel, BatchLevelModel
from ._batchdata import BatchCube, cube_to_long, to_cube
from ._batchstats import (
    MaturityMoments,
    SpeTrajectoryMoments,
    batch_evolution_from_moments,
    batch_level_from_moments,
    check_batch_model,
    cube_on_grid,
    maturity_moments,
    quality_matrix,
    spe_trajectory_moments,
    unfolded_names,
)
from ._nipals import rotation_of, scores_single_component
from ._pca import PCAMonitor
from ._pls import PLSMonitor
from ._results import MonitorDiagnosis

__all__ = [
    "BatchCube",
    "BatchEvolutionModel",
    "BatchLevelModel",
    "DTWAligner",
    "MaturityAligner",
    "MaturityMoments",
    "MonitorDiagnosis",
    "PCAMonitor",
    "PLSMonitor",
    "SpeTrajectoryMoments",
    "batch_evolution_from_moments",
    "batch_level_from_moments",
    "check_batch_model",
    "cube_on_grid",
    "cube_to_long",
    "dtw_path",
    "maturity_moments",
    "quality_matrix",
    "rotation_of",
    "scores_single_component",
    "spe_trajectory_moments",
    "to_cube",
    "unfolded_names",
]
