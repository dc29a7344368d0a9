"""Downsampling of long time series for plotting: Largest-Triangle-Three-Buckets (LTTB).

Steinarsson, S. (2013). *Downsampling Time Series for Visual Representation*. MSc thesis,
University of Iceland, section 4.2. LTTB keeps the first and the last point and, from each of
``n_out - 2`` equal buckets in between, the point forming the largest triangle with the point
kept from the previous bucket and the mean of the next bucket, so peaks and troughs survive.
Pure NumPy; no I/O.
"""

from __future__ import annotations

import numpy as np

from saisei.errors import ValidationFailed

__all__ = ["lttb", "lttb_indices"]


def lttb_indices(x: np.ndarray, y: np.ndarray, n_out: int) -> np.ndarray:
    """Indices of the points LTTB keeps.

    Parameters
    ----------
    x : ndarray of shape (n,)
        Increasing abscissae (e.g. hours), finite.
    y : ndarray of shape (n,)
        Values, finite.
    n_out : int
        Number of points to keep, at least 3. When ``n <= n_out`` every index is returned.

    Returns
    -------
    ndarray of int of shape (min(n, n_out),)
        Increasing indices into ``x`` and ``y``; the first and last are always kept.

    Examples
    --------
    >>> import numpy as np
    >>> lttb_indices(np.arange(7.0), np.array([0, 5, 0, 0, 0, -5, 0.0]), 4).tolist()
    [0, 1, 5, 6]
    """
    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    if xs.ndim != 1 or xs.shape != ys.shape:
        raise ValidationFailed(
            f"LTTB needs x and y of the same 1-D shape. Got {xs.shape} and {ys.shape}."
        )
    if isinstance(n_out, bool) or not isinstance(n_out, int | np.integer) or n_out < 3:
        raise ValidationFailed(f"LTTB must keep at least 3 points. Got n_out={n_out!r}.")
    n = xs.size
    if n <= n_out:
        return np.arange(n)
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        raise ValidationFailed("LTTB needs finite x and y; drop missing values first.")
    every = (n - 2) / (n_out - 2)
    # Bucket i (0-based, of n_out - 2) spans [floor(i*every)+1, floor((i+1)*every)+1).
    edges = (np.floor(np.arange(n_out - 1) * every) + 1).astype(np.int64)
    edges[-1] = n - 1
    # Mean of each bucket, and of the last point as the "next bucket" of the final one.
    csx = np.concatenate(([0.0], np.cumsum(xs)))
    csy = np.concatenate(([0.0], np.cumsum(ys)))
    starts, stops = edges[:-1], edges[1:]
    counts = stops - starts
    mean_x = np.append((csx[stops] - csx[starts]) / counts, xs[-1])
    mean_y = np.append((csy[stops] - csy[starts]) / counts, ys[-1])
    kept = np.empty(n_out, dtype=np.int64)
    kept[0], kept[-1] = 0, n - 1
    a = 0
    for i in range(n_out - 2):
        lo, hi = starts[i], stops[i]
        ax, ay = xs[a], ys[a]
        cx, cy = mean_x[i + 1], mean_y[i + 1]
        # Twice the triangle area (the factor 1/2 does not change the arg max).
        area = np.abs((ax - cx) * (ys[lo:hi] - ay) - (ax - xs[lo:hi]) * (cy - ay))
        a = lo + int(np.argmax(area))
        kept[i + 1] = a
    return kept


def lttb(x: np.ndarray, y: np.ndarray, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """The points LTTB keeps, as ``(x, y)`` arrays (see :func:`lttb_indices`)."""
    index = lttb_indices(x, y, n_out)
    return np.asarray(x, dtype=float)[index], np.asarray(y, dtype=float)[index]
