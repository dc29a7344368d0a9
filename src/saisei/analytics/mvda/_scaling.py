"""Centring and scaling of columns, computed from the available (non-missing) values.

``autoscale``: centre, divide by the standard deviation (ddof=1), the "UV" scaling of SIMCA.
``pareto``: centre, divide by the square root of the standard deviation.
``center``: centre only. ``none``: leave the data as they are.
Block scaling (SIMCA's "block scaling") further divides every column of a block of ``k``
columns by ``sqrt(k)``, so that each block carries the same total variance whatever its size.

A column whose standard deviation is zero (or that has fewer than two values) keeps a scale of
1, as scikit-learn does, so that it contributes nothing instead of dividing by zero.
"""

from __future__ import annotations

import numpy as np


def column_moments(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (ddof=1) of each column over its non-missing values."""
    missing = np.isnan(X)
    if not missing.any():
        mean = X.mean(axis=0)
        if X.shape[0] < 2:
            return mean, np.zeros(X.shape[1])
        centred = X - mean
        return mean, np.sqrt(np.einsum("ij,ij->j", centred, centred) / (X.shape[0] - 1))
    count = (~missing).sum(axis=0)
    filled = np.where(missing, 0.0, X)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=0) / count
        centred = np.where(missing, 0.0, X - mean)
        var = np.einsum("ij,ij->j", centred, centred) / (count - 1)
    mean = np.where(count > 0, mean, 0.0)
    std = np.where(count > 1, np.sqrt(np.where(np.isfinite(var), var, 0.0)), 0.0)
    return mean, std


def fit_scaling(
    X: np.ndarray, method: str, block_labels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(mean_, scale_)`` so that the model works on ``(X - mean_) / scale_``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Data, NaN where missing.
    method : {"autoscale", "pareto", "center", "none"}
    block_labels : ndarray of int of shape (n_features,), optional
        Block of each column, for block scaling.
    """
    if method == "none":
        return scaling_from_moments(np.zeros(X.shape[1]), np.ones(X.shape[1]), method, block_labels)
    mean, std = column_moments(X)
    return scaling_from_moments(mean, std, method, block_labels)


def scaling_from_moments(
    mean: np.ndarray, std: np.ndarray, method: str, block_labels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(mean_, scale_)`` from column means and standard deviations (ddof=1)."""
    n_features = mean.shape[0]
    if method == "none":
        mean, scale = np.zeros(n_features), np.ones(n_features)
    else:
        # sklearn's rule: a (near-)constant column keeps scale 1.
        tiny = 10 * np.finfo(float).eps * np.maximum(np.abs(mean), 1.0)
        std = np.where(std <= tiny, 1.0, std)
        if method == "autoscale":
            scale = std
        elif method == "pareto":
            scale = np.sqrt(std)
        else:
            scale = np.ones(n_features)
    if block_labels is not None:
        sizes = np.bincount(block_labels)
        scale = scale * np.sqrt(sizes[block_labels])
    return mean, scale


def apply_scaling(X: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Return a new array ``(X - mean) / scale``; NaN stays NaN."""
    return (X - mean) / scale
