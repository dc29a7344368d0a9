"""Exact moments of rows spread over partitions, merged in any tree.

Every partition is summarised by its row count, column means and centred cross-products
``M2 = sum (z - mean)(z - mean)'``, kept separately for the ``F`` interleaved row classes that
cross-validation needs (row ``i`` of the whole data in class ``i mod F``). Two summaries of
adjacent row ranges merge exactly by the pairwise update of Chan, Golub & LeVeque (1979),
"Updating formulae and a pairwise algorithm for computing sample variances" (Stanford
STAN-CS-79-773): ``M2 = M2_a + M2_b + n_a n_b / n (mean_b - mean_a)(mean_b - mean_a)'``; the
classes of the right-hand range are first rotated by the length of the left-hand one, so the
merge is associative and partitions never need to know their global row offset.

Columns with missing values (NaN) are also summarised one column at a time over the values
present, which is what the missing-data path needs for its scaling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Moments", "merge", "moments_of_block"]


@dataclass(frozen=True)
class Moments:
    """Summary of a contiguous range of rows.

    n : rows; n_missing : NaN cells; class_n (F,), class_mean (F, p), class_m2 (F, p, p):
    per interleaved class, only meaningful when ``n_missing == 0``; col_n, col_mean, col_m2
    (p,): per column over the values present.
    """

    n: int
    n_missing: int
    class_n: np.ndarray
    class_mean: np.ndarray
    class_m2: np.ndarray
    col_n: np.ndarray
    col_mean: np.ndarray
    col_m2: np.ndarray


def _merge_stats(
    na: np.ndarray | float,
    ma: np.ndarray,
    m2a: np.ndarray,
    nb: np.ndarray | float,
    mb: np.ndarray,
    m2b: np.ndarray,
    outer: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = np.asarray(na, dtype=float) + np.asarray(nb, dtype=float)
    safe = np.where(n > 0, n, 1.0)
    delta = mb - ma
    frac_b = np.asarray(nb, dtype=float) / safe
    mean = ma + delta * (frac_b[..., None] if outer else frac_b)
    weight = np.asarray(na, dtype=float) * np.asarray(nb, dtype=float) / safe
    if outer:
        m2 = m2a + m2b + weight[:, None, None] * (delta[:, :, None] * delta[:, None, :])
    else:
        m2 = m2a + m2b + weight * delta * delta
    return n, mean, m2


def moments_of_block(z: np.ndarray, folds: int) -> Moments:
    """Summarise one block of rows ``z`` (n, p) for ``folds`` interleaved classes."""
    z = np.asarray(z, dtype=np.float64)
    n, p = z.shape
    missing = np.isnan(z)
    n_missing = int(missing.sum())
    class_n = np.zeros(folds)
    class_mean = np.zeros((folds, p))
    class_m2 = np.zeros((folds, p, p))
    if n_missing == 0:
        for c in range(min(folds, n)):
            rows = z[c::folds]
            mean = rows.mean(axis=0)
            centred = rows - mean
            class_n[c] = rows.shape[0]
            class_mean[c] = mean
            class_m2[c] = centred.T @ centred
    col_n = (~missing).sum(axis=0).astype(float)
    filled = np.where(missing, 0.0, z)
    with np.errstate(invalid="ignore", divide="ignore"):
        col_mean = np.where(col_n > 0, filled.sum(axis=0) / np.where(col_n > 0, col_n, 1), 0.0)
    centred = np.where(missing, 0.0, z - col_mean)
    col_m2 = np.einsum("ij,ij->j", centred, centred)
    return Moments(n, n_missing, class_n, class_mean, class_m2, col_n, col_mean, col_m2)


def merge(a: Moments, b: Moments) -> Moments:
    """Summary of the rows of ``a`` followed by the rows of ``b``."""
    folds = a.class_n.shape[0]
    # Class c of b holds b's rows c, c + F, ...; in the merged range they are rows
    # a.n + c, ..., i.e. class (a.n + c) mod F.
    order = (np.arange(folds) - a.n) % folds
    bn, bmean, bm2 = b.class_n[order], b.class_mean[order], b.class_m2[order]
    class_n, class_mean, class_m2 = _merge_stats(
        a.class_n, a.class_mean, a.class_m2, bn, bmean, bm2, outer=True
    )
    col_n, col_mean, col_m2 = _merge_stats(
        a.col_n, a.col_mean, a.col_m2, b.col_n, b.col_mean, b.col_m2, outer=False
    )
    return Moments(
        a.n + b.n,
        a.n_missing + b.n_missing,
        class_n,
        class_mean,
        class_m2,
        col_n,
        col_mean,
        col_m2,
    )


def total(m: Moments) -> tuple[float, np.ndarray, np.ndarray]:
    """Count, mean and centred cross-products of all rows (complete data)."""
    n, mean, m2 = 0.0, np.zeros(m.class_mean.shape[1]), np.zeros(m.class_m2.shape[1:])
    for c in range(m.class_n.shape[0]):
        nn, mm, mm2 = _merge_stats(
            np.array([n]),
            mean[None],
            m2[None],
            np.array([m.class_n[c]]),
            m.class_mean[c][None],
            m.class_m2[c][None],
            outer=True,
        )
        n, mean, m2 = float(nn[0]), mm[0], mm2[0]
    return n, mean, m2


def cross_products_about(
    n: float, mean: np.ndarray, m2: np.ndarray, centre: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """``sum z_s z_s'`` of rows scaled as ``z_s = (z - centre) / scale``."""
    shift = mean - centre
    raw = m2 + n * np.outer(shift, shift)
    return raw / np.outer(scale, scale)
