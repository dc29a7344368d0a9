"""Which factors drive a quality attribute: a linear mixed model (fixed effects with intervals,
variance components for donor, material lot, equipment, site) and gradient boosting
(permutation importance, partial dependence) for effects a linear model misses."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.inspection import partial_dependence, permutation_importance
from sklearn.model_selection import KFold
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from saisei.analytics.drivers._confounding import confounded_pairs, is_numeric
from saisei.errors import ValidationFailed

TABLE_COLUMNS = [
    "factor",
    "level",
    "kind",
    "effect",
    "ci_low",
    "ci_high",
    "p_value",
    "importance",
    "importance_sd",
    "variance",
    "variance_share",
    "rank",
    "note",
]


@dataclass(frozen=True, eq=False)
class DriverResult:
    """Drivers of one quality attribute.

    Attributes
    ----------
    response : str
    n_batches : int
        Batches with a value of the response.
    table : DataFrame
        Tidy table, columns :data:`TABLE_COLUMNS`: one row per fixed-effect term (numeric
        factor: ``effect`` per unit of the factor, with its ``level`` empty; categorical:
        one row per level against the reference level), one per random factor
        (``variance``, ``variance_share``) and one ``residual`` row. ``importance`` is the
        cross-validated permutation importance of the factor in the gradient-boosting model
        (drop of R^2 when the factor is shuffled), ``rank`` orders factors by it.
    confounded : list of dict
        Pairs of factors too closely associated to separate (``a``, ``b``, ``strength``,
        ``kind``); the second is left out of the mixed model.
    partial_dependence : dict of str -> DataFrame
        Gradient-boosting partial dependence of the response on each numeric factor
        (columns ``value``, ``response``).
    notes : tuple of str
        What was dropped, imputed or did not converge.
    model_r2 : float or None
        Cross-validated R^2 of the gradient-boosting model.
    """

    response: str
    n_batches: int
    table: pd.DataFrame
    confounded: list[dict[str, Any]]
    partial_dependence: dict[str, pd.DataFrame]
    notes: tuple[str, ...] = ()
    model_r2: float | None = None
    unit: str | None = None
    units: dict[str, str] = field(default_factory=dict)

    def ranking(self) -> list[str]:
        """Factors in order of importance (most important first)."""
        ranked = self.table.dropna(subset=["rank"]).sort_values("rank")
        return list(dict.fromkeys(ranked["factor"]))

    def summary(self, top: int = 3) -> str:
        """Plain-language summary of the largest variance shares and effects."""
        return _summary(self, top)

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary for JSON output (NaN as None)."""
        table = self.table.astype(object).where(self.table.notna(), None)
        return {
            "response": self.response,
            "unit": self.unit,
            "n_batches": self.n_batches,
            "model_r2": self.model_r2,
            "table": table.to_dict(orient="records"),
            "confounded": self.confounded,
            "partial_dependence": {
                k: v.to_dict(orient="list") for k, v in self.partial_dependence.items()
            },
            "notes": list(self.notes),
            "summary": self.summary(),
        }


def _prepare(
    data: pd.DataFrame,
    response: str,
    fixed: list[str],
    random: list[str],
    max_missing: float,
    notes: list[str],
) -> tuple[pd.DataFrame, list[str], list[str]]:
    frame = data[[response, *fixed, *random]].copy()
    frame = frame[frame[response].notna()].reset_index(drop=True)
    kept_fixed, kept_random = [], []
    for col in fixed:
        s = frame[col]
        missing = float(s.isna().mean())
        if missing > max_missing:
            notes.append(f"{col}: left out, {missing:.0%} of its values are missing.")
        elif s.nunique(dropna=True) < 2:
            notes.append(f"{col}: left out, it never varies in these batches.")
        else:
            kept_fixed.append(col)
            if not is_numeric(s):
                frame[col] = s.astype("string").fillna("missing").astype(str)
    for col in random:
        s = frame[col].astype("string").fillna("missing").astype(str)
        frame[col] = s
        levels = s.nunique()
        if levels < 2:
            notes.append(f"{col}: left out of the random effects, a single level.")
        elif levels >= len(frame) - 1:
            notes.append(
                f"{col}: every batch has its own {col}, so its variance cannot be separated "
                "from the residual (it is part of the residual variance)."
            )
        else:
            kept_random.append(col)
    return frame, kept_fixed, kept_random


def _mixed_model(
    frame: pd.DataFrame,
    response: str,
    fixed: list[str],
    random: list[str],
    alpha: float,
    notes: list[str],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    safe = {c: f"f{i}" for i, c in enumerate([response, *fixed, *random])}
    back = {v: k for k, v in safe.items()}
    work = frame.rename(columns=safe)
    for col in fixed:
        if is_numeric(frame[col]) and frame[col].isna().any():
            n = int(frame[col].isna().sum())
            notes.append(f"{col}: {n} missing value(s) set to the median in the mixed model.")
            work[safe[col]] = work[safe[col]].fillna(frame[col].median())
    terms = [safe[c] if is_numeric(frame[c]) else f"C({safe[c]})" for c in fixed]
    formula = f"{safe[response]} ~ " + (" + ".join(terms) if terms else "1")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if random:
            vc = {safe[g]: f"0 + C({safe[g]})" for g in random}
            model = smf.mixedlm(
                formula, work, groups=np.ones(len(work)), re_formula="0", vc_formula=vc
            )
            fit = model.fit(reml=True, method=["bfgs", "nm"])
            vcomp = dict(zip(model.exog_vc.names, np.asarray(fit.vcomp), strict=True))
            resid_var = float(fit.scale)
        else:
            fit = smf.ols(formula, work).fit()
            vcomp, resid_var = {}, float(fit.scale)
    for w in caught:
        if issubclass(w.category, ConvergenceWarning | RuntimeWarning | UserWarning):
            notes.append(f"mixed model: {str(w.message).splitlines()[0]}")
    ci = fit.conf_int(alpha)
    rows = []
    for name in fit.params.index:
        if name == "Intercept" or name not in ci.index or name.endswith(" Var"):
            continue
        if name.startswith("C("):
            var, level = name[2:].split(")[T.", 1)
            factor, level = back[var], level.rstrip("]")
        else:
            factor, level = back.get(name, name), None
        if factor not in fixed:
            continue
        rows.append(
            {
                "factor": factor,
                "level": level,
                "kind": "fixed",
                "effect": float(fit.params[name]),
                "ci_low": float(ci.loc[name, 0]),
                "ci_high": float(ci.loc[name, 1]),
                "p_value": float(fit.pvalues[name]),
            }
        )
    total = resid_var + sum(max(v, 0.0) for v in vcomp.values())
    variance_rows = [
        {
            "factor": back[g],
            "level": None,
            "kind": "random",
            "variance": max(float(v), 0.0),
            "variance_share": max(float(v), 0.0) / total if total > 0 else np.nan,
        }
        for g, v in vcomp.items()
    ]
    variance_rows.append(
        {
            "factor": "residual",
            "level": None,
            "kind": "residual",
            "variance": resid_var,
            "variance_share": resid_var / total if total > 0 else np.nan,
        }
    )
    return rows, variance_rows


def _boosting(
    frame: pd.DataFrame,
    response: str,
    fixed: list[str],
    n_repeats: int,
    random_state: int | None,
) -> tuple[dict[str, tuple[float, float]], dict[str, pd.DataFrame], float | None]:
    if not fixed:
        return {}, {}, None
    # Categorical factors as integer codes (trees split them into groups of codes); missing
    # numeric values at the median. OpenMP-free trees keep this fast on small machines.
    X = frame[fixed].copy()
    categorical = [c for c in fixed if not is_numeric(X[c])]
    for col in fixed:
        if col in categorical:
            X[col] = X[col].astype("category").cat.codes.astype(float)
        else:
            X[col] = X[col].astype(float).fillna(X[col].median())
    y = frame[response].to_numpy(dtype=float)

    def model() -> GradientBoostingRegressor:
        return GradientBoostingRegressor(
            n_estimators=150,
            learning_rate=0.05,
            max_depth=3,
            subsample=0.8,
            min_samples_leaf=max(5, len(X) // 40),
            random_state=random_state,
        )

    folds = KFold(n_splits=5 if len(X) >= 50 else 3, shuffle=True, random_state=random_state)
    scores = np.zeros((len(fixed), 0))
    predictions = np.empty(len(y))
    for train, test in folds.split(X):
        fitted = model().fit(X.iloc[train], y[train])
        predictions[test] = fitted.predict(X.iloc[test])
        imp = permutation_importance(
            fitted,
            X.iloc[test],
            y[test],
            n_repeats=n_repeats,
            random_state=random_state,
            scoring="r2",
        )
        scores = np.hstack([scores, imp.importances])
    r2 = float(1 - np.sum((y - predictions) ** 2) / np.sum((y - y.mean()) ** 2))
    importance = {
        col: (float(scores[i].mean()), float(scores[i].std(ddof=1) / np.sqrt(scores.shape[1])))
        for i, col in enumerate(fixed)
    }
    full = model().fit(X, y)
    pdp: dict[str, pd.DataFrame] = {}
    for i, col in enumerate(fixed):
        if col in categorical:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=FutureWarning)
            dep = partial_dependence(full, X, [i], grid_resolution=20, kind="average")
        pdp[col] = pd.DataFrame({"value": dep["grid_values"][0], "response": dep["average"][0]})
    return importance, pdp, r2


def analyse_drivers(
    data: pd.DataFrame,
    response: str,
    *,
    fixed: Sequence[str] | None = None,
    random: Sequence[str] = (),
    alpha: float = 0.05,
    n_repeats: int = 5,
    confounding_threshold: float = 0.9,
    max_missing: float = 0.3,
    random_state: int | None = 0,
    unit: str | None = None,
    units: dict[str, str] | None = None,
) -> DriverResult:
    """Rank the factors of a quality attribute with effect sizes and uncertainty.

    Parameters
    ----------
    data : DataFrame
        One row per batch: the response and every factor (numeric or categorical; missing
        values allowed).
    response : str
        Column of the quality attribute.
    fixed : sequence of str, optional
        Fixed-effect factors (process parameters, donor and transport covariates, process
        version, ...). Default: every column but the response and ``random``.
    random : sequence of str
        Grouping factors with random effects (donor, material lots, equipment, site).
    alpha : float
        1 - confidence level of the intervals.
    n_repeats : int
        Permutations per factor and fold for the importance.
    confounding_threshold : float
        Association (|Spearman rho|, Cramer's V, correlation ratio, or 1 for a nesting) at
        which two factors are flagged as confounded; the later one in the column order is
        then left out of the mixed model.
    max_missing : float
        Factors with a larger share of missing values are left out.

    Returns
    -------
    DriverResult
    """
    if not isinstance(data, pd.DataFrame) or response not in data.columns:
        raise ValidationFailed(
            f"The data must be a DataFrame with a column {response!r} (the attribute). "
            f"Got columns {list(getattr(data, 'columns', []))}."
        )
    if not is_numeric(data[response]):
        raise ValidationFailed(f"The attribute {response!r} must be numeric.")
    random = list(random)
    fixed = (
        [c for c in data.columns if c != response and c not in random]
        if fixed is None
        else list(fixed)
    )
    unknown = [c for c in [*fixed, *random] if c not in data.columns]
    if unknown:
        raise ValidationFailed(f"The data have no column(s) {', '.join(unknown)}.")
    notes: list[str] = []
    frame, kept_fixed, kept_random = _prepare(data, response, fixed, random, max_missing, notes)
    if len(frame) < 10:
        raise ValidationFailed(
            f"{len(frame)} batches with a value of {response!r} are too few to rank drivers; "
            "at least 10 are needed."
        )
    pairs = confounded_pairs(frame[[*kept_fixed, *kept_random]], confounding_threshold)
    dropped: dict[str, str] = {}
    for a, b, _, _ in pairs:
        if a in dropped or b in dropped:
            continue
        if b in kept_fixed:
            dropped[b] = a
        elif a in kept_fixed and b in kept_random:
            dropped[a] = b
    model_fixed = [c for c in kept_fixed if c not in dropped]
    if len(frame) <= len(model_fixed) + 2:
        raise ValidationFailed(
            f"{len(frame)} batches are too few for {len(model_fixed)} factors. Name fewer factors."
        )
    effects, variances = _mixed_model(frame, response, model_fixed, kept_random, alpha, notes)
    importance, pdp, r2 = _boosting(frame, response, kept_fixed, n_repeats, random_state)
    rows = []
    for row in effects:
        imp = importance.get(row["factor"], (np.nan, np.nan))
        rows.append({**row, "importance": imp[0], "importance_sd": imp[1]})
    for col, other in dropped.items():
        imp = importance.get(col, (np.nan, np.nan))
        rows.append(
            {
                "factor": col,
                "kind": "fixed",
                "importance": imp[0],
                "importance_sd": imp[1],
                "note": f"confounded with {other}: not estimated separately",
            }
        )
    rows.extend(variances)
    table = pd.DataFrame(rows)
    table = table.reindex(columns=TABLE_COLUMNS)
    order = sorted(importance, key=lambda c: -importance[c][0])
    rank = {c: i + 1 for i, c in enumerate(order)}
    table["rank"] = table["factor"].map(rank)
    return DriverResult(
        response=response,
        n_batches=len(frame),
        table=table,
        confounded=[{"a": a, "b": b, "strength": s, "kind": k} for a, b, s, k in pairs],
        partial_dependence=pdp,
        notes=tuple(notes),
        model_r2=r2,
        unit=unit,
        units=dict(units or {}),
    )


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _summary(result: DriverResult, top: int) -> str:
    t = result.table
    unit = f" {result.unit}" if result.unit else ""
    lines = []
    shares = t[t["kind"] == "random"].sort_values("variance_share", ascending=False)
    for _, r in shares.head(top).iterrows():
        if r["variance_share"] >= 0.01:
            lines.append(
                f"{r['variance_share']:.0%} of the variance in {result.response} lies between "
                f"{r['factor']} levels."
            )
    fixed = t[(t["kind"] == "fixed") & t["effect"].notna()].copy()
    fixed = fixed.sort_values("rank", na_position="last")
    shown = 0
    for _, r in fixed.iterrows():
        if shown >= top or not (r["p_value"] < 0.05):
            continue
        per = f"each {result.units.get(r['factor'], 'unit')} of {r['factor']}"
        if isinstance(r["level"], str):
            per = f"{r['factor']} = {r['level']} (against the reference level)"
        direction = "raises" if r["effect"] > 0 else "lowers"
        lines.append(
            f"{per[0].upper()}{per[1:]} {direction} {result.response} by "
            f"{_fmt(abs(r['effect']))}{unit} (95 % CI {_fmt(r['ci_low'])} to "
            f"{_fmt(r['ci_high'])})."
        )
        shown += 1
    for _, r in t[t["note"].notna() & (t["kind"] == "fixed")].iterrows():
        lines.append(f"{r['factor']} is {r['note']}.")
    if result.model_r2 is not None:
        lines.append(
            f"The non-linear model explains {max(result.model_r2, 0):.0%} of the variance "
            "out of sample."
        )
    ranking = result.ranking()[:top]
    if ranking:
        lines.append(f"Most important factors: {', '.join(ranking)}.")
    return " ".join(lines) if lines else f"No driver of {result.response} was found."
