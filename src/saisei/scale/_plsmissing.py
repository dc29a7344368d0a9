"""Distributed PLS with missing values: NIPALS over the observed cells, one pass per half-step.

The single-machine ``PLSMonitor`` fits data with missing values by NIPALS, each regression
of its inner loop taken over the observed cells only (Nelson, Taylor & MacGregor 1996; Wold,
Sjostrom & Eriksson 2001, section 3.7). Every quantity of that loop is either local to a row
(the scores ``t = X w / w'w`` and ``u = Y c / c'c`` over the row's observed cells, and the
deflation of the row by earlier components) or a sum over rows (``w = X'u / u'u``,
``c = Y't / t't``, ``p = X't / t't`` over observed cells, the convergence measure
``|t_new - t|``). So each half-step is one pass over the partitions: the rows recompute their
local state from the global vectors, and only K- and M-vectors travel.

Cross-validation runs in the same passes: the model of fold ``g`` is NIPALS on the rows
``i mod F != g``, i.e. with the other rows masked out, which gives exactly the sums of the
single-machine fit on those rows. Every model keeps its own iteration count and stops when
it converges, as it would alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dask
import numpy as np
from distributed import Client

from saisei.analytics.mvda import rotation_of, scores_single_component
from saisei.errors import ValidationFailed

from ._blocks import RowBlocks, add, compute, tree_reduce

__all__ = ["nipals_missing"]

_TINY = np.finfo(float).tiny


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def _flip(w: np.ndarray) -> float:
    sign = np.sign(w[np.argmax(np.abs(w))])
    return 1.0 if sign == 0 else float(sign)


@dataclass(frozen=True)
class _Scaling:
    x_centre: np.ndarray
    x_scale: np.ndarray
    y_centre: np.ndarray
    y_scale: np.ndarray
    k: int
    groups: int  # cross-validation groups (0: none)


@dataclass(frozen=True)
class _Components:
    """Per model (axis 0): weights W, X-loadings P, Y-loadings C of the finished components."""

    W: np.ndarray  # (M, k, a)
    P: np.ndarray
    C: np.ndarray  # (M, m, a)


def _local(
    block: np.ndarray, offset: int, s: _Scaling
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """Scaled X and Y with zeros where missing, their masks, and each model's row mask."""
    xs = (block[:, : s.k] - s.x_centre) / s.x_scale
    ys = (block[:, s.k :] - s.y_centre) / s.y_scale
    mx, my = ~np.isnan(xs), ~np.isnan(ys)
    index = offset + np.arange(block.shape[0])
    rows = [np.ones(block.shape[0])]
    rows += [(index % s.groups != g).astype(float) for g in range(s.groups)]
    return np.where(mx, xs, 0.0), mx.astype(float), np.where(my, ys, 0.0), my.astype(float), rows


def _deflated(
    xa: np.ndarray,
    mxf: np.ndarray,
    ya: np.ndarray,
    myf: np.ndarray,
    r: np.ndarray,
    comps: _Components,
    f: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """Model f's rows (others masked out) deflated by its finished components, and their t."""
    mx = mxf * r[:, None]
    my = myf * r[:, None]
    x = xa * r[:, None]
    y = ya * r[:, None]
    scores = []
    for b in range(comps.W.shape[2]):
        w = comps.W[f, :, b]
        t = _ratio(x @ w, mx @ (w * w))
        x = x - np.outer(t, comps.P[f, :, b]) * mx
        y = y - np.outer(t, comps.C[f, :, b]) * my
        scores.append(t)
    return x, mx, y, my, scores


def _pass_start(
    block: np.ndarray,
    offset: int,
    s: _Scaling,
    comps: _Components,
    w: np.ndarray | None,
    c: np.ndarray | None,
) -> tuple[np.ndarray, ...]:
    """Loadings sums of the component just found (w, c), and Y's column sums of squares after."""
    xa, mxf, ya, myf, rows = _local(block, offset, s)
    models = len(rows)
    k, m = xa.shape[1], ya.shape[1]
    p_num, p_den, colsq = np.zeros((models, k)), np.zeros((models, k)), np.zeros((models, m))
    for f, r in enumerate(rows):
        x, mx, y, my, _ = _deflated(xa, mxf, ya, myf, r, comps, f)
        if w is not None and c is not None:
            t = _ratio(x @ w[f], mx @ (w[f] * w[f]))
            p_num[f], p_den[f] = x.T @ t, mx.T @ (t * t)
            y = y - np.outer(t, c[f]) * my
        colsq[f] = np.sum(y**2, axis=0)
    return p_num, p_den, colsq


def _pass_w(
    block: np.ndarray,
    offset: int,
    s: _Scaling,
    comps: _Components,
    column: np.ndarray,
    c: np.ndarray | None,
) -> tuple[np.ndarray, ...]:
    """``X'u`` and ``sum u^2`` over observed cells, u a column of Y or ``Y c / c'c``."""
    xa, mxf, ya, myf, rows = _local(block, offset, s)
    models = len(rows)
    num, den = np.zeros((models, xa.shape[1])), np.zeros((models, xa.shape[1]))
    for f, r in enumerate(rows):
        x, mx, y, my, _ = _deflated(xa, mxf, ya, myf, r, comps, f)
        u = y[:, int(column[f])] if c is None else _ratio(y @ c[f], my @ (c[f] * c[f]))
        num[f], den[f] = x.T @ u, mx.T @ (u * u)
    return num, den


def _pass_t(
    block: np.ndarray,
    offset: int,
    s: _Scaling,
    comps: _Components,
    w: np.ndarray,
    w_prev: np.ndarray | None,
) -> tuple[np.ndarray, ...]:
    """``Y't`` and ``sum t^2`` over observed cells for t = X w / w'w; |t - t_prev|^2, |t|^2."""
    xa, mxf, ya, myf, rows = _local(block, offset, s)
    models = len(rows)
    m = ya.shape[1]
    num, den = np.zeros((models, m)), np.zeros((models, m))
    change, size = np.zeros(models), np.zeros(models)
    for f, r in enumerate(rows):
        x, mx, y, my, _ = _deflated(xa, mxf, ya, myf, r, comps, f)
        t = _ratio(x @ w[f], mx @ (w[f] * w[f]))
        prev = np.zeros_like(t) if w_prev is None else _ratio(x @ w_prev[f], mx @ w_prev[f] ** 2)
        num[f], den[f] = y.T @ t, my.T @ (t * t)
        change[f], size[f] = np.sum((t - prev) ** 2), np.sum(t * t)
    return num, den, change, size


def _pass_press(
    block: np.ndarray,
    offset: int,
    s: _Scaling,
    comps: _Components,
    fits: list[Any],
    fold_a: list[int],
) -> tuple[np.ndarray, ...]:
    """Sums for R2, Q2 and the fitted sums of squares of the full model."""
    xa, mxf, ya, myf, rows = _local(block, offset, s)
    a_max = comps.W.shape[2]
    _, _, _, _, scores = _deflated(xa, mxf, ya, myf, rows[0], comps, 0)
    T = np.column_stack(scores) if scores else np.zeros((xa.shape[0], 0))
    tt = np.einsum("ia,ia->a", T, T)
    resid = ya.copy()
    fitted_ss = np.zeros(a_max + 1)
    fitted_ss[0] = float(np.sum(resid**2))
    for a in range(a_max):
        resid = resid - np.outer(T[:, a], comps.C[0, :, a]) * myf
        fitted_ss[a + 1] = float(np.sum(resid**2))
    press = np.zeros(a_max)
    if s.groups:
        xs = np.where(mxf > 0, xa, np.nan)
        index = offset + np.arange(xa.shape[0])
        for g in range(s.groups):
            test = index % s.groups == g
            if not test.any():
                continue
            fa = fold_a[g]
            Tg = scores_single_component(xs[test], fits[g], fa)
            pred = np.zeros_like(ya[test])
            for a in range(a_max):
                if a < fa:
                    pred += np.outer(Tg[:, a], fits[g].y_loadings[:, a])
                    press[a] += float(np.sum(np.where(myf[test] > 0, ya[test] - pred, 0.0) ** 2))
    ssx, ssy = float(np.sum(xa**2)), float(np.sum(ya**2))
    return tt, fitted_ss, press, np.array([ssx, ssy])


def _pass_residuals(
    block: np.ndarray, offset: int, s: _Scaling, comps: _Components, P: np.ndarray
) -> tuple[Any, ...]:
    """E'E over observed cells, observed pairs, X'X, and the SPE count, mean and M2."""
    xa, mxf, ya, myf, rows = _local(block, offset, s)
    _, _, _, _, scores = _deflated(xa, mxf, ya, myf, rows[0], comps, 0)
    T = np.column_stack(scores)
    E0 = np.where(mxf > 0, xa - T @ P.T, 0.0)
    spe = np.einsum("ij,ij->i", E0, E0)
    m = float(spe.mean()) if spe.size else 0.0
    return (
        E0.T @ E0,
        mxf.T @ mxf,
        xa.T @ xa,
        float(spe.size),
        m,
        float(np.sum((spe - m) ** 2)),
    )


def _merge_residuals(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...]:
    n = a[3] + b[3]
    delta = b[4] - a[4]
    mean = a[4] + delta * b[3] / n if n else 0.0
    m2 = a[5] + b[5] + (delta * delta * a[3] * b[3] / n if n else 0.0)
    return a[0] + b[0], a[1] + b[1], a[2] + b[2], n, mean, m2


@dataclass(frozen=True)
class NipalsResult:
    """The full model's W, P, C, R, its NIPALS iterations, and the sums of the last passes."""

    W: np.ndarray
    P: np.ndarray
    C: np.ndarray
    R: np.ndarray
    n_iter: int
    tt: np.ndarray
    fitted_ss: np.ndarray
    press: np.ndarray | None
    ssx: float
    ssy: float


def _offsets(blocks: RowBlocks, client: Client | None) -> list[int]:
    sizes = compute(dask.delayed(list)([dask.delayed(len)(b) for b in blocks.blocks]), client)
    return [int(v) for v in np.concatenate([[0], np.cumsum(sizes)[:-1]])]


def nipals_missing(
    blocks: RowBlocks,
    scaling: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    n: int,
    a_max: int,
    cv_folds: int | None,
    tol: float,
    max_iter: int,
    client: Client | None,
) -> NipalsResult:
    """NIPALS PLS of the scaled rows of ``blocks`` (X columns first), with CV models alongside."""
    x_centre, x_scale, y_centre, y_scale = scaling
    k, m = x_centre.size, y_centre.size
    groups = min(int(cv_folds), n) if cv_folds is not None and n >= 3 else 0
    s = _Scaling(x_centre, x_scale, y_centre, y_scale, k, groups)
    offsets = _offsets(blocks, client)
    models = 1 + groups
    n_train = [n] + [n - len(range(g, n, groups)) for g in range(groups)]
    limits = [a_max] + [min(a_max, t - 1) for t in n_train[1:]]

    def run(fn: Any, *args: Any) -> Any:
        parts = [
            dask.delayed(fn)(b, o, s, *args) for b, o in zip(blocks.blocks, offsets, strict=True)
        ]
        return compute(tree_reduce(parts, add), client)

    comps = _Components(
        np.zeros((models, k, 0)), np.zeros((models, k, 0)), np.zeros((models, m, 0))
    )
    iterations = 0
    _, _, colsq = run(_pass_start, comps, None, None)
    for a in range(a_max):
        busy = np.array([a < limit for limit in limits])
        column = np.argmax(colsq, axis=1)
        w = np.zeros((models, k))
        c = np.zeros((models, m))
        w_prev: np.ndarray | None = None
        c_prev: np.ndarray | None = None
        for _ in range(max_iter):
            if not busy.any():
                break
            iterations += int(busy[0])
            num, den = run(_pass_w, comps, column, c_prev)
            w_new = _ratio(num, den)
            norm = np.linalg.norm(w_new, axis=1)
            stalled = busy & (norm <= _TINY)
            active = busy & ~stalled
            w = np.where(active[:, None], w_new / np.where(norm > 0, norm, 1.0)[:, None], w)
            busy = active
            if not busy.any():
                break
            num, den, change2, size2 = run(_pass_t, comps, w, w_prev)
            c = np.where(busy[:, None], _ratio(num, den), c)
            change = np.sqrt(change2) / np.maximum(np.sqrt(size2), _TINY)
            w_prev, c_prev = w.copy(), c.copy()
            busy = busy & ~(change < tol)
        signs = np.array([_flip(w[f]) if np.any(w[f]) else 1.0 for f in range(models)])
        w, c = w * signs[:, None], c * signs[:, None]
        p_num, p_den, colsq = run(_pass_start, comps, w, c)
        p = _ratio(p_num, p_den)
        inactive = np.array([a >= limit for limit in limits])
        w[inactive], p[inactive], c[inactive] = 0.0, 0.0, 0.0
        comps = _Components(
            np.concatenate([comps.W, w[:, :, None]], axis=2),
            np.concatenate([comps.P, p[:, :, None]], axis=2),
            np.concatenate([comps.C, c[:, :, None]], axis=2),
        )
    fits = []
    for f in range(1, models):
        fa = limits[f]
        W, P, C = comps.W[f, :, :fa], comps.P[f, :, :fa], comps.C[f, :, :fa]
        fits.append(_Fit(W, P, C))
    tt, fitted_ss, press, ss = run(_pass_press, comps, fits, limits[1:])
    W, P, C = comps.W[0], comps.P[0], comps.C[0]
    if groups:
        for g in range(groups):
            press[limits[g + 1] :] = np.inf
    return NipalsResult(
        W,
        P,
        C,
        rotation_of(W, P),
        iterations,
        tt,
        fitted_ss,
        press if groups else None,
        float(ss[0]),
        float(ss[1]),
    )


@dataclass(frozen=True)
class _Fit:
    """What ``scores_single_component`` reads of a fold's fit."""

    weights: np.ndarray
    x_loadings: np.ndarray
    y_loadings: np.ndarray


def residual_sums(
    blocks: RowBlocks,
    scaling: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    result: NipalsResult,
    a: int,
    client: Client | None,
) -> tuple[Any, ...]:
    """E'E, observed pairs, X'X and the SPE moments of the full model with ``a`` components."""
    x_centre, x_scale, y_centre, y_scale = scaling
    s = _Scaling(x_centre, x_scale, y_centre, y_scale, x_centre.size, 0)
    offsets = _offsets(blocks, client)
    comps = _Components(result.W[None, :, :a], result.P[None, :, :a], result.C[None, :, :a])
    parts = [
        dask.delayed(_pass_residuals)(b, o, s, comps, result.P[:, :a])
        for b, o in zip(blocks.blocks, offsets, strict=True)
    ]
    if not parts:
        raise ValidationFailed("There are no partitions to reduce: the data have no rows.")
    return tuple(compute(tree_reduce(parts, _merge_residuals), client))
