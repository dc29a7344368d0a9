"""Analysis of a designed experiment: effects of coded factors and the ANOVA table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm

from saisei.errors import ValidationFailed


@dataclass(frozen=True, eq=False)
class EffectsResult:
    """Effects and ANOVA of one response of a designed experiment.

    Attributes
    ----------
    response : str
    effects : DataFrame
        One row per model term (coded factors, interactions ``a:b``, squares ``a^2``):
        ``coefficient`` (per coded unit), ``effect`` (2 x coefficient: the change from the low
        to the high level of a two-level factor), ``std_error``, ``ci_low``, ``ci_high`` (of
        the effect), ``p_value``.
    anova : DataFrame
        ANOVA by term (extra sum of squares of each term given all others, type III; equal
        to the sequential sums for orthogonal designs): ``df``, ``sum_sq``, ``mean_sq``,
        ``F``, ``PR(>F)``, and a ``residual`` row.
    r_squared, residual_df : float, int
    """

    response: str
    effects: pd.DataFrame
    anova: pd.DataFrame
    r_squared: float
    residual_df: int

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output (NaN as None)."""
        clean = lambda f: f.astype(object).where(f.notna(), None)  # noqa: E731
        return {
            "response": self.response,
            "effects": clean(self.effects.reset_index()).to_dict(orient="records"),
            "anova": clean(self.anova.reset_index(names="term")).to_dict(orient="records"),
            "r_squared": self.r_squared,
            "residual_df": self.residual_df,
        }


def analyse_effects(
    coded: pd.DataFrame,
    response: Sequence[float] | pd.Series,
    *,
    interactions: bool = True,
    quadratic: bool = False,
    name: str = "response",
    alpha: float = 0.05,
) -> EffectsResult:
    """Effects and ANOVA of a response on coded factor levels.

    Parameters
    ----------
    coded : DataFrame
        Coded levels (-1/+1, 0 at the centre), one column per factor, in the order of
        ``response``.
    response : sequence of float
    interactions : bool
        Include two-factor interactions.
    quadratic : bool
        Include squared terms (response-surface designs).
    """
    y = np.asarray(response, dtype=float)
    if len(y) != len(coded):
        raise ValidationFailed(
            f"The response must have one value per run ({len(coded)}). Got {len(y)}."
        )
    if not np.isfinite(y).all():
        raise ValidationFailed("The response has missing values; analyse completed runs only.")
    names = [str(c) for c in coded.columns]
    X = coded.astype(float).copy()
    X.columns = names
    if interactions:
        for a, b in combinations(names, 2):
            X[f"{a}:{b}"] = X[a] * X[b]
    if quadratic:
        for a in names:
            X[f"{a}^2"] = X[a] ** 2
    X = X.loc[:, X.std(axis=0) > 0]
    if len(y) <= X.shape[1] + 1:
        raise ValidationFailed(
            f"{len(y)} runs leave no residual degrees of freedom for {X.shape[1]} terms and "
            "the intercept. Drop interactions, add replicates or centre points."
        )
    design = sm.add_constant(X, has_constant="add")
    fit = sm.OLS(y, design).fit()
    ci = fit.conf_int(alpha)
    terms = list(X.columns)
    effects = pd.DataFrame(
        {
            "coefficient": fit.params[terms],
            "effect": 2 * fit.params[terms],
            "std_error": 2 * fit.bse[terms],
            "ci_low": 2 * ci.loc[terms, 0],
            "ci_high": 2 * ci.loc[terms, 1],
            "p_value": fit.pvalues[terms],
        }
    )
    effects.index.name = "term"
    rows = {}
    resid_ss = float(fit.ssr)
    for term in terms:
        reduced = sm.OLS(y, design.drop(columns=[term])).fit()
        ss = float(reduced.ssr - resid_ss)
        rows[term] = {
            "df": 1.0,
            "sum_sq": ss,
            "mean_sq": ss,
            "F": ss / fit.scale,
            "PR(>F)": float(1 - _f_cdf(ss / fit.scale, 1, fit.df_resid)),
        }
    rows["residual"] = {
        "df": float(fit.df_resid),
        "sum_sq": resid_ss,
        "mean_sq": float(fit.scale),
        "F": np.nan,
        "PR(>F)": np.nan,
    }
    anova = pd.DataFrame.from_dict(rows, orient="index")
    return EffectsResult(
        response=name,
        effects=effects,
        anova=anova,
        r_squared=float(fit.rsquared),
        residual_df=int(fit.df_resid),
    )


def _f_cdf(x: float, d1: float, d2: float) -> float:
    from scipy import stats

    return float(stats.f.cdf(x, d1, d2))
