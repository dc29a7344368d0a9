"""Multivariate supporting evidence: PCA overlay of pre/post lots and two-sample Hotelling T2.

Neither is a pass/fail criterion under ICH Q5E; they show whether the post-change lots sit in
the multivariate cloud of the reference lots when several correlated CQAs move together.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from saisei.analytics.comparability._validation import (
    FloatArray,
    as_matrix,
    check_choice,
    check_count,
    check_probability,
)
from saisei.errors import ValidationFailed

__all__ = ["HotellingResult", "PcaOverlay", "hotelling_t2", "pca_overlay"]


@dataclass(frozen=True, eq=False)
class PcaOverlay:
    """Scores of pre- and post-change lots on principal components, for an overlay plot.

    Attributes
    ----------
    scores : ndarray of shape (n_reference + n_test, n_components)
        Scores of every lot, reference lots first, in input order.
    group : tuple of str, length n_reference + n_test
        ``"reference"`` or ``"test"`` for each row of ``scores``.
    lot : tuple of str, length n_reference + n_test
        Lot label of each row (the DataFrame index when one was given, else the position).
    loadings : ndarray of shape (n_features, n_components)
        Unit-length loading vectors; each component's largest absolute loading is positive.
    explained_variance_ratio : ndarray of shape (n_components,)
        Share of the (autoscaled) variance of the fitted lots carried by each component.
    eigenvalues : ndarray of shape (n_components,)
        Variance of the scores of the fitted lots (ddof = 1).
    center, scale : ndarray of shape (n_features,)
        Mean and SD (ddof = 1) of the fitted lots used to autoscale every lot.
    t2 : ndarray of shape (n_reference + n_test,)
        Hotelling T2 of each lot in the component space, ``sum(score^2 / eigenvalue)``.
    t2_limit : float
        Phase II limit for a new lot, ``A (n^2 - 1) / (n (n - A)) F(1 - alpha; A, n - A)`` with
        n fitted lots and A components (Tracy, Young & Mason 1992); ``nan`` when n <= A.
    feature_names : tuple of str
        Attribute names, in column order.
    fit_on : str
        ``"reference"`` (components of the pre-change lots; post-change lots projected) or
        ``"pooled"`` (components of all lots).
    """

    scores: FloatArray
    group: tuple[str, ...]
    lot: tuple[str, ...]
    loadings: FloatArray
    explained_variance_ratio: FloatArray
    eigenvalues: FloatArray
    center: FloatArray
    scale: FloatArray
    t2: FloatArray
    t2_limit: float
    feature_names: tuple[str, ...]
    fit_on: str

    def to_frame(self) -> pd.DataFrame:
        """Return one row per lot: ``lot``, ``group``, ``PC1`` ... ``PCk``, ``t2``."""
        frame = pd.DataFrame(
            self.scores, columns=[f"PC{i + 1}" for i in range(self.scores.shape[1])]
        )
        frame.insert(0, "group", list(self.group))
        frame.insert(0, "lot", list(self.lot))
        frame["t2"] = self.t2
        return frame

    def summary(self) -> str:
        """Return a short account: variance explained and test lots beyond the T2 limit."""
        shares = ", ".join(
            f"PC{i + 1} {100.0 * r:.3g} %" for i, r in enumerate(self.explained_variance_ratio)
        )
        is_test = np.array([g == "test" for g in self.group])
        beyond = int(np.count_nonzero(self.t2[is_test] > self.t2_limit))
        return (
            f"PCA ({self.fit_on} lots, {len(self.feature_names)} attributes): {shares}. "
            f"{beyond} of {int(is_test.sum())} test lots beyond the T2 limit "
            f"{self.t2_limit:.4g}."
        )


@dataclass(frozen=True)
class HotellingResult:
    """Two-sample Hotelling T2 test of equal mean vectors (pooled covariance).

    Attributes
    ----------
    t2 : float
        ``n_R n_T / (n_R + n_T) d' S_p^-1 d`` with d the mean difference test - reference.
    f_statistic : float
        ``(n_R + n_T - p - 1) / (p (n_R + n_T - 2)) T2``.
    dof1, dof2 : int
        ``p`` and ``n_R + n_T - p - 1``.
    pvalue : float
        Upper tail of F(dof1, dof2) at ``f_statistic``.
    alpha : float
        Level of the test.
    different : bool
        ``pvalue < alpha``: the mean vectors differ (evidence against comparability).
    n_reference, n_test, n_features : int
        Lots per group and number of attributes p.
    mean_difference : tuple of float
        Mean of test minus mean of reference, per attribute.
    feature_names : tuple of str
        Attribute names.
    """

    t2: float
    f_statistic: float
    dof1: int
    dof2: int
    pvalue: float
    alpha: float
    different: bool
    n_reference: int
    n_test: int
    n_features: int
    mean_difference: tuple[float, ...]
    feature_names: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """Return the test as a one-row DataFrame (tuples kept whole in their cells)."""
        return pd.DataFrame([asdict(self)])

    def summary(self) -> str:
        """Return a short human-readable account of the test."""
        verdict = "means differ" if self.different else "no evidence that means differ"
        return (
            f"Hotelling T2 (two-sample, {self.n_features} attributes, n_reference="
            f"{self.n_reference}, n_test={self.n_test}): T2 = {self.t2:.4g}, F({self.dof1}, "
            f"{self.dof2}) = {self.f_statistic:.4g}, p = {self.pvalue:.3g}: {verdict}."
        )


def hotelling_t2(reference: object, test: object, *, alpha: float = 0.05) -> HotellingResult:
    """Two-sample Hotelling T2 test that pre- and post-change lots share a mean vector.

    Hotelling (1931); see Johnson & Wichern, Applied Multivariate Statistical Analysis, 6th ed.,
    result 6.2: under equal covariances ``(n_R + n_T - p - 1) / (p (n_R + n_T - 2)) T2`` follows
    F(p, n_R + n_T - p - 1).

    Parameters
    ----------
    reference : array-like or DataFrame of shape (n_reference, n_features)
        Pre-change lots (rows) by attributes (columns).
    test : array-like or DataFrame of shape (n_test, n_features)
        Post-change lots with the same attributes; DataFrame columns are matched by name.
    alpha : float, default 0.05
        Level of the test.

    Returns
    -------
    HotellingResult

    Raises
    ------
    ValidationFailed
        Too few lots for the number of attributes (needs n_R + n_T - p - 1 >= 1), or a pooled
        covariance that cannot be inverted (an attribute constant or a linear combination of
        others).
    """
    owner = "hotelling_t2"
    ref, new, names = _two_tables(reference, test, owner)
    alpha = check_probability(alpha, "alpha", owner)
    n_r, n_t, p = ref.shape[0], new.shape[0], ref.shape[1]
    dof2 = n_r + n_t - p - 1
    if dof2 < 1:
        raise ValidationFailed(
            f"hotelling_t2 needs more lots than attributes: n_reference + n_test - "
            f"n_features - 1 must be >= 1. Got {n_r} + {n_t} - {p} - 1 = {dof2}; drop "
            "attributes or add lots."
        )
    diff = new.mean(axis=0) - ref.mean(axis=0)
    pooled = (
        (n_r - 1) * np.cov(ref, rowvar=False, ddof=1).reshape(p, p)
        + (n_t - 1) * np.cov(new, rowvar=False, ddof=1).reshape(p, p)
    ) / (n_r + n_t - 2)
    if np.linalg.cond(pooled) > 1e12:
        raise ValidationFailed(
            "The pooled covariance of the lots given to hotelling_t2 is singular: an attribute "
            "is constant or a linear combination of others. Got attributes "
            f"{list(names)}; drop the redundant ones."
        )
    t2 = float(n_r * n_t / (n_r + n_t) * diff @ np.linalg.solve(pooled, diff))
    f_stat = t2 * dof2 / (p * (n_r + n_t - 2))
    pvalue = float(stats.f.sf(f_stat, p, dof2))
    return HotellingResult(
        t2=t2,
        f_statistic=f_stat,
        dof1=p,
        dof2=dof2,
        pvalue=pvalue,
        alpha=alpha,
        different=bool(pvalue < alpha),
        n_reference=n_r,
        n_test=n_t,
        n_features=p,
        mean_difference=tuple(float(v) for v in diff),
        feature_names=names,
    )


def pca_overlay(
    reference: object,
    test: object,
    *,
    n_components: int = 2,
    fit_on: str = "reference",
    alpha: float = 0.05,
) -> PcaOverlay:
    """Principal component scores of pre- and post-change lots on common axes.

    Every lot is autoscaled with the mean and SD of the fitted lots; components come from the
    singular value decomposition of the fitted, autoscaled lots.

    Parameters
    ----------
    reference : array-like or DataFrame of shape (n_reference, n_features)
        Pre-change lots by attributes.
    test : array-like or DataFrame of shape (n_test, n_features)
        Post-change lots, same attributes (DataFrame columns matched by name).
    n_components : int, default 2
        Components kept, 1 <= n_components <= min(n_fitted - 1, n_features).
    fit_on : {"reference", "pooled"}, default "reference"
        Fit on the reference lots and project the test lots (shows whether new lots fall in
        the historical cloud), or fit on all lots (shows the direction of any shift).
    alpha : float, default 0.05
        Level of the per-lot T2 limit.

    Returns
    -------
    PcaOverlay
    """
    owner = "pca_overlay"
    ref, new, names = _two_tables(reference, test, owner)
    fit_on = check_choice(fit_on, "fit_on", owner, ("reference", "pooled"))
    alpha = check_probability(alpha, "alpha", owner)
    both = np.vstack([ref, new])
    fitted = ref if fit_on == "reference" else both
    n_fit, p = fitted.shape
    k = check_count(n_components, "n_components", owner, minimum=1)
    if k > min(n_fit - 1, p):
        raise ValidationFailed(
            f"The 'n_components' parameter of {owner} must be <= min(n_fitted_lots - 1, "
            f"n_features) = {min(n_fit - 1, p)}. Got {k} instead."
        )
    center = fitted.mean(axis=0)
    scale = fitted.std(axis=0, ddof=1)
    constant = [names[i] for i in np.flatnonzero(scale == 0.0)]
    if constant:
        raise ValidationFailed(
            f"The attributes given to {owner} must vary across the {fit_on} lots to be "
            f"autoscaled. Got constant attribute(s) {constant}; drop them."
        )
    _, singular, vt = np.linalg.svd((fitted - center) / scale, full_matrices=False)
    loadings = vt[:k].T.copy()
    # Deterministic signs: the largest absolute loading of each component is positive.
    signs = np.sign(loadings[np.argmax(np.abs(loadings), axis=0), np.arange(k)])
    loadings *= signs
    scores = ((both - center) / scale) @ loadings
    eigenvalues = singular[:k] ** 2 / (n_fit - 1)
    return PcaOverlay(
        scores=scores,
        group=("reference",) * ref.shape[0] + ("test",) * new.shape[0],
        lot=_lot_labels(reference, ref.shape[0]) + _lot_labels(test, new.shape[0]),
        loadings=loadings,
        explained_variance_ratio=singular[:k] ** 2 / float(np.sum(singular**2)),
        eigenvalues=eigenvalues,
        center=center,
        scale=scale,
        t2=np.sum(scores**2 / eigenvalues, axis=1),
        t2_limit=_t2_phase2_limit(n_fit, k, alpha),
        feature_names=names,
        fit_on=fit_on,
    )


def _t2_phase2_limit(n: int, a: int, alpha: float) -> float:
    """Phase II T2 limit for a new observation (Tracy, Young & Mason 1992)."""
    if n <= a:
        return float("nan")
    return float(a * (n**2 - 1) / (n * (n - a)) * stats.f.ppf(1.0 - alpha, a, n - a))


def _two_tables(
    reference: object, test: object, owner: str
) -> tuple[FloatArray, FloatArray, tuple[str, ...]]:
    """Both groups as float matrices with the same columns, plus the attribute names."""
    if isinstance(reference, pd.DataFrame) and isinstance(test, pd.DataFrame):
        missing = [c for c in reference.columns if c not in test.columns]
        if missing:
            raise ValidationFailed(
                f"The 'test' table given to {owner} must have every attribute of 'reference'. "
                f"Got no column(s) {missing}."
            )
        test = test.loc[:, list(reference.columns)]
    ref = as_matrix(reference, "reference", owner)
    new = as_matrix(test, "test", owner, min_rows=1)
    if ref.shape[1] != new.shape[1]:
        raise ValidationFailed(
            f"The 'reference' and 'test' tables given to {owner} must have the same number of "
            f"attributes (columns). Got {ref.shape[1]} and {new.shape[1]} instead."
        )
    if isinstance(reference, pd.DataFrame):
        names = tuple(str(c) for c in reference.columns)
    else:
        names = tuple(f"x{i}" for i in range(ref.shape[1]))
    return ref, new, names


def _lot_labels(table: object, n: int) -> tuple[str, ...]:
    if isinstance(table, pd.DataFrame):
        return tuple(str(v) for v in table.index)
    return tuple(str(i) for i in range(n))
