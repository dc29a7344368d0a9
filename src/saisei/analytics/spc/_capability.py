"""Process capability and performance indices with confidence intervals.

Definitions (Montgomery, *Introduction to Statistical Quality Control*, chapter 8; ISO
22514-2): ``Cp = (USL - LSL) / 6 sigma_within``, ``Cpu = (USL - mean) / 3 sigma_within``,
``Cpl = (mean - LSL) / 3 sigma_within``, ``Cpk = min(Cpu, Cpl)``; Pp, Ppu, Ppl, Ppk the same with
the overall standard deviation. One-sided specifications give only the one-sided indices.

Confidence intervals: chi-square for Cp and Pp (Montgomery eq. 8.19),
``C sqrt(chi2_{a/2, N-1} / (N-1)) <= C <= C sqrt(chi2_{1-a/2, N-1} / (N-1))``; Bissell (1990),
Biometrics 46, for Cpk, Ppk and the one-sided indices,
``C +/- z_{1-a/2} sqrt(1 / (9N) + C^2 / (2(N-1)))``.

Non-normal data: ``method="boxcox"`` transforms data and limits with the maximum-likelihood
Box-Cox lambda and computes the normal indices there; ``method="percentile"`` replaces
``mean +/- 3 sigma`` by the 0.135 and 99.865 percentiles and the mean by the median (Clements
1989, Quality Progress 22(9); ISO 22514-2 method with quantiles).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from saisei.errors import ValidationFailed

from ._constants import chart_constants

__all__ = ["CapabilityResult", "NonNormalDataWarning", "capability"]

_WITHIN = ("auto", "moving_range", "range", "std", "pooled")
_METHODS = ("normal", "boxcox", "percentile")
_TAIL = stats.norm.cdf(-3.0)  # 0.00135: the 3-sigma tail used by the percentile method


class NonNormalDataWarning(UserWarning):
    """The data fail a normality test, so normal-theory capability indices may mislead."""


@dataclass(frozen=True)
class CapabilityResult:
    """Capability (within) and performance (overall) indices.

    Attributes
    ----------
    n : int
        Number of observations.
    mean, median : float
        Location of the data (data units; transformed units for Box-Cox).
    sigma_within, sigma_overall : float
        Short-term and overall standard deviations (NaN for the percentile method).
    lsl, usl : float or None
        Specification limits as given (data units).
    cp, cpl, cpu, cpk : float
        Capability indices; NaN where a limit is missing (``cp`` needs both).
    pp, ppl, ppu, ppk : float
        Performance indices, same convention.
    cp_ci, cpk_ci, pp_ci, ppk_ci : tuple of float
        Two-sided confidence intervals (NaN for the percentile method).
    confidence : float
        Confidence level of the intervals.
    method : str
        "normal", "boxcox" or "percentile".
    boxcox_lambda : float or None
        Box-Cox lambda used (method "boxcox").
    normality_pvalue : float
        Shapiro-Wilk p-value of the data (n <= 5000) or of D'Agostino-Pearson (larger n).
    ppm_below, ppm_above : float
        Expected parts per million outside LSL and USL from the overall normal model (or the
        empirical fraction for the percentile method); NaN where the limit is missing.
    """

    n: int
    mean: float
    median: float
    sigma_within: float
    sigma_overall: float
    lsl: float | None
    usl: float | None
    cp: float
    cpl: float
    cpu: float
    cpk: float
    pp: float
    ppl: float
    ppu: float
    ppk: float
    cp_ci: tuple[float, float]
    cpk_ci: tuple[float, float]
    pp_ci: tuple[float, float]
    ppk_ci: tuple[float, float]
    confidence: float
    method: str
    boxcox_lambda: float | None
    normality_pvalue: float
    ppm_below: float
    ppm_above: float

    def to_frame(self) -> pd.DataFrame:
        """One row per index: ``index``, ``estimate``, ``ci_low``, ``ci_high``."""
        cis = {"cp": self.cp_ci, "cpk": self.cpk_ci, "pp": self.pp_ci, "ppk": self.ppk_ci}
        rows = []
        for name in ("cp", "cpl", "cpu", "cpk", "pp", "ppl", "ppu", "ppk"):
            low, high = cis.get(name, (np.nan, np.nan))
            rows.append(
                {"index": name, "estimate": getattr(self, name), "ci_low": low, "ci_high": high}
            )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """Plain-text account of the indices and their intervals."""
        lines = [
            f"Capability ({self.method}), n={self.n}, LSL={self.lsl!r}, USL={self.usl!r}",
            f"  mean={self.mean!r} sigma_within={self.sigma_within!r} "
            f"sigma_overall={self.sigma_overall!r} normality p={self.normality_pvalue:.4g}",
        ]
        frame = self.to_frame()
        for name, est, low, high in zip(
            frame["index"], frame["estimate"], frame["ci_low"], frame["ci_high"], strict=True
        ):
            ci = "" if np.isnan(low) else f" [{low:.4g}, {high:.4g}]"
            lines.append(f"  {name}: {est:.4g}{ci}")
        lines.append(
            f"  expected ppm below LSL {self.ppm_below:.4g}, above USL {self.ppm_above:.4g}"
        )
        return "\n".join(lines)


def _data(x: object) -> tuple[np.ndarray, np.ndarray | None]:
    """Flat data and, for 2-D input, the subgroups (rows)."""
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ValidationFailed(
            f"The 'x' parameter of capability must be an array of numbers. "
            f"Got {type(x).__name__} instead."
        ) from None
    if arr.ndim not in (1, 2) or arr.size < 3 or not np.all(np.isfinite(arr)):
        raise ValidationFailed(
            "The 'x' parameter of capability must be a 1-D array (individuals) or 2-D array "
            "(subgroups x observations) of at least 3 finite numbers. "
            f"Got shape {arr.shape} with {np.count_nonzero(~np.isfinite(arr))} non-finite."
        )
    if arr.ndim == 2 and not 2 <= arr.shape[1] <= 100:
        raise ValidationFailed(
            "The 'x' parameter of capability must have 2 to 100 observations per subgroup "
            f"(columns). Got shape {arr.shape} instead."
        )
    return arr.ravel(), (arr if arr.ndim == 2 else None)


def _sigma_within(flat: np.ndarray, groups: np.ndarray | None, within: str) -> float:
    if within == "auto":
        within = "moving_range" if groups is None else "std"
    if within == "moving_range":
        return float(np.mean(np.abs(np.diff(flat)))) / chart_constants(2).d2
    if groups is None:
        raise ValidationFailed(
            f"The 'within' parameter of capability can be {within!r} only for 2-D subgrouped "
            "data. Got 1-D data; use 'moving_range' or 'auto'."
        )
    c = chart_constants(groups.shape[1])
    if within == "range":
        return float(np.mean(np.ptp(groups, axis=1))) / c.d2
    if within == "std":
        return float(np.mean(groups.std(axis=1, ddof=1))) / c.c4
    # Pooled: sqrt(mean of subgroup variances) / c4(d + 1), d = m (n - 1) (Minitab, ISO 22514-2).
    dof = groups.shape[0] * (groups.shape[1] - 1)
    return float(np.sqrt(np.mean(groups.var(axis=1, ddof=1)))) / _c4_dof(dof + 1)


def _c4_dof(n: int) -> float:
    return float(
        np.sqrt(2.0 / (n - 1)) * np.exp(special.gammaln(n / 2) - special.gammaln((n - 1) / 2))
    )


def _indices(
    center: float, lo_spread: float, hi_spread: float, lsl: float | None, usl: float | None
) -> tuple[float, float, float, float]:
    """(C, Cl, Cu, Ck) for a center and the half-widths below/above it (3 sigma each)."""
    nan = float("nan")
    cl = (center - lsl) / lo_spread if lsl is not None else nan
    cu = (usl - center) / hi_spread if usl is not None else nan
    c = (usl - lsl) / (lo_spread + hi_spread) if lsl is not None and usl is not None else nan
    ck = float(np.nanmin([cl, cu]))
    return c, cl, cu, ck


def _chi_ci(value: float, n: int, alpha: float) -> tuple[float, float]:
    # Montgomery eq. 8.19.
    if not np.isfinite(value):
        return (np.nan, np.nan)
    df = n - 1
    return (
        value * np.sqrt(stats.chi2.ppf(alpha / 2, df) / df),
        value * np.sqrt(stats.chi2.ppf(1 - alpha / 2, df) / df),
    )


def _bissell_ci(value: float, n: int, alpha: float) -> tuple[float, float]:
    # Bissell (1990): Var(Cpk-hat) ~ 1 / (9n) + Cpk^2 / (2(n - 1)).
    if not np.isfinite(value):
        return (np.nan, np.nan)
    half = stats.norm.ppf(1 - alpha / 2) * np.sqrt(1 / (9 * n) + value**2 / (2 * (n - 1)))
    return (value - half, value + half)


def _check_inputs(
    lsl: float | None,
    usl: float | None,
    confidence: float,
    within: str,
    method: str,
    normality_alpha: float,
) -> None:
    for name, value in (("lsl", lsl), ("usl", usl)):
        if value is not None and not np.isfinite(value):
            raise ValidationFailed(
                f"The '{name}' parameter of capability must be a finite number or None. "
                f"Got {value!r} instead."
            )
    if lsl is None and usl is None:
        raise ValidationFailed(
            "The 'lsl' and 'usl' parameters of capability must not both be None. Got neither."
        )
    if lsl is not None and usl is not None and not lsl < usl:
        raise ValidationFailed(
            f"The 'lsl' parameter of capability must be below 'usl'. Got lsl={lsl!r}, usl={usl!r}."
        )
    for name, value in (("confidence", confidence), ("normality_alpha", normality_alpha)):
        if not 0 < value < 1:
            raise ValidationFailed(
                f"The '{name}' parameter of capability must be a float in (0, 1). "
                f"Got {value!r} instead."
            )
    if within not in _WITHIN:
        raise ValidationFailed(
            f"The 'within' parameter of capability must be one of {list(_WITHIN)}. "
            f"Got {within!r} instead."
        )
    if method not in _METHODS:
        raise ValidationFailed(
            f"The 'method' parameter of capability must be one of {list(_METHODS)}. "
            f"Got {method!r} instead."
        )


def _normality_pvalue(flat: np.ndarray) -> float:
    if np.ptp(flat) == 0:
        return float("nan")
    if flat.size <= 5000:
        return float(stats.shapiro(flat).pvalue)
    return float(stats.normaltest(flat).pvalue)


def capability(
    x: Iterable[float] | np.ndarray,
    *,
    lsl: float | None = None,
    usl: float | None = None,
    within: str = "auto",
    method: str = "normal",
    confidence: float = 0.95,
    normality_alpha: float = 0.05,
) -> CapabilityResult:
    """Capability (Cp, Cpk, Cpl, Cpu) and performance (Pp, Ppk, Ppl, Ppu) indices.

    Parameters
    ----------
    x : array_like of float, shape (N,) or (m, n)
        Individual values in time order, or subgroups as rows (data units).
    lsl, usl : float, optional
        Lower and upper specification limits (data units); at least one.
    within : {"auto", "moving_range", "range", "std", "pooled"}, default "auto"
        Within-subgroup sigma: MR-bar / d2(2) for 1-D data, R-bar / d2, S-bar / c4 or the
        pooled standard deviation for subgroups. "auto" is "moving_range" for 1-D data and
        "std" for subgroups.
    method : {"normal", "boxcox", "percentile"}, default "normal"
        Normal theory; normal theory after a Box-Cox transform of data and limits (data must
        be positive, as must the limits); or the percentile method (no within indices, no
        confidence intervals).
    confidence : float, default 0.95
        Level of the two-sided confidence intervals.
    normality_alpha : float, default 0.05
        Level of the normality test (Shapiro-Wilk) behind the warning.

    Returns
    -------
    CapabilityResult

    Warns
    -----
    NonNormalDataWarning
        When ``method="normal"`` and the normality test rejects at ``normality_alpha`` (on the
        transformed data for Box-Cox).
    """
    flat, groups = _data(x)
    lsl = None if lsl is None else float(lsl)
    usl = None if usl is None else float(usl)
    _check_inputs(lsl, usl, confidence, within, method, normality_alpha)
    alpha = 1.0 - confidence
    if method == "percentile":
        return _percentile(flat, lsl, usl, confidence, _normality_pvalue(flat))
    lam = None
    t_lsl, t_usl = lsl, usl
    if method == "boxcox":
        flat, groups, t_lsl, t_usl, lam = _boxcox(flat, groups, lsl, usl)
    pvalue = _normality_pvalue(flat)
    if pvalue < normality_alpha:
        where = "after the Box-Cox transform" if lam is not None else ""
        warnings.warn(
            f"Normality is rejected {where} (p = {pvalue:.3g} < {normality_alpha}); normal-theory "
            "capability indices may mislead. Consider method='boxcox' or 'percentile'.",
            NonNormalDataWarning,
            stacklevel=2,
        )
    n = flat.size
    mean = float(flat.mean())
    s_within = _sigma_within(flat, groups, within)
    s_overall = float(flat.std(ddof=1))
    if s_within <= 0 or s_overall <= 0:
        raise ValidationFailed(
            "The 'x' parameter of capability must vary: its standard deviation is 0."
        )
    cp, cpl, cpu, cpk = _indices(mean, 3 * s_within, 3 * s_within, t_lsl, t_usl)
    pp, ppl, ppu, ppk = _indices(mean, 3 * s_overall, 3 * s_overall, t_lsl, t_usl)
    nan = float("nan")
    below = stats.norm.cdf((t_lsl - mean) / s_overall) * 1e6 if t_lsl is not None else nan
    above = stats.norm.sf((t_usl - mean) / s_overall) * 1e6 if t_usl is not None else nan
    return CapabilityResult(
        n=n,
        mean=mean,
        median=float(np.median(flat)),
        sigma_within=s_within,
        sigma_overall=s_overall,
        lsl=lsl,
        usl=usl,
        cp=cp,
        cpl=cpl,
        cpu=cpu,
        cpk=cpk,
        pp=pp,
        ppl=ppl,
        ppu=ppu,
        ppk=ppk,
        cp_ci=_chi_ci(cp, n, alpha),
        cpk_ci=_bissell_ci(cpk, n, alpha),
        pp_ci=_chi_ci(pp, n, alpha),
        ppk_ci=_bissell_ci(ppk, n, alpha),
        confidence=confidence,
        method=method,
        boxcox_lambda=lam,
        normality_pvalue=pvalue,
        ppm_below=float(below),
        ppm_above=float(above),
    )


def _boxcox(
    flat: np.ndarray, groups: np.ndarray | None, lsl: float | None, usl: float | None
) -> tuple[np.ndarray, np.ndarray | None, float | None, float | None, float]:
    limits = [v for v in (lsl, usl) if v is not None]
    if np.any(flat <= 0) or any(v <= 0 for v in limits):
        raise ValidationFailed(
            "The 'x', 'lsl' and 'usl' parameters of capability must be positive for "
            "method='boxcox'. Got a value <= 0; use method='percentile'."
        )
    _, lam = stats.boxcox(flat)
    lam = float(lam)

    def tf(v: np.ndarray | float) -> np.ndarray:
        return np.asarray(special.boxcox(v, lam), dtype=float)

    t_groups = tf(groups) if groups is not None else None
    t_lsl = float(tf(lsl)) if lsl is not None else None
    t_usl = float(tf(usl)) if usl is not None else None
    return tf(flat), t_groups, t_lsl, t_usl, lam


def _percentile(
    flat: np.ndarray, lsl: float | None, usl: float | None, confidence: float, pvalue: float
) -> CapabilityResult:
    lo, med, hi = np.quantile(flat, [_TAIL, 0.5, 1.0 - _TAIL])
    if not lo < med < hi:
        raise ValidationFailed(
            "The 'x' parameter of capability must have distinct 0.135%, 50% and 99.865% "
            "percentiles for method='percentile'. Got a degenerate sample."
        )
    pp, ppl, ppu, ppk = _indices(float(med), med - lo, hi - med, lsl, usl)
    nan = float("nan")
    below = float(np.mean(flat < lsl)) * 1e6 if lsl is not None else nan
    above = float(np.mean(flat > usl)) * 1e6 if usl is not None else nan
    nan2 = (nan, nan)
    return CapabilityResult(
        n=flat.size,
        mean=float(flat.mean()),
        median=float(med),
        sigma_within=nan,
        sigma_overall=nan,
        lsl=lsl,
        usl=usl,
        cp=nan,
        cpl=nan,
        cpu=nan,
        cpk=nan,
        pp=pp,
        ppl=ppl,
        ppu=ppu,
        ppk=ppk,
        cp_ci=nan2,
        cpk_ci=nan2,
        pp_ci=nan2,
        ppk_ci=nan2,
        confidence=confidence,
        method="percentile",
        boxcox_lambda=None,
        normality_pvalue=pvalue,
        ppm_below=below,
        ppm_above=above,
    )
