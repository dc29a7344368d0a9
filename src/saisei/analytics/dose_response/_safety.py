"""In-vitro safety: IC50 per compound and cell type, safety margins and hazard bands.

The safety margin is ``IC50 / Cmax,free`` (both in the same concentration unit); e.g. a margin
of 30 between the hERG IC50 and the free therapeutic plasma concentration is the classical
threshold of Redfern et al. 2003 (Cardiovasc Res 58: 32-45). Bands are set by the user.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from saisei.errors import ValidationFailed

from ._fit import DoseResponseConvergenceWarning, DoseResponseModel

__all__ = [
    "DEFAULT_HAZARD_BANDS",
    "HazardBand",
    "SafetyMargin",
    "SafetyResult",
    "classify",
    "safety_margins",
]


@dataclass(frozen=True)
class HazardBand:
    """A hazard class: margins from ``min_margin`` (inclusive) up to the next band's."""

    name: str
    min_margin: float


#: Example bands (Redfern et al. 2003's 30-fold margin); configure your own per assay.
DEFAULT_HAZARD_BANDS: tuple[HazardBand, ...] = (
    HazardBand("high", 0.0),
    HazardBand("moderate", 10.0),
    HazardBand("low", 30.0),
)


@dataclass(frozen=True)
class SafetyMargin:
    """IC50 and safety margin of one compound in one cell type.

    ``ic50*`` are in dose units; ``margin*`` are dimensionless; ``band`` classifies the point
    estimate and ``band_conservative`` the lower confidence limit of the margin. ``band`` is
    ``"not determined"`` when the fit did not converge.
    """

    compound: str
    cell_type: str
    ic50: float
    ic50_ci_low: float
    ic50_ci_high: float
    cmax: float
    margin: float
    margin_ci_low: float
    margin_ci_high: float
    band: str
    band_conservative: str
    extrapolated: bool
    converged: bool


@dataclass(frozen=True)
class SafetyResult:
    """Safety margins of every compound x cell type."""

    margins: tuple[SafetyMargin, ...]
    bands: tuple[HazardBand, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per compound and cell type."""
        return pd.DataFrame([vars(m) for m in self.margins])

    def summary(self) -> str:
        """Human-readable table."""
        edges = ", ".join(f"{b.name} >= {b.min_margin:g}" for b in self.bands)
        return f"Safety margins (IC50 / Cmax,free); bands: {edges}\n" + self.to_frame()[
            ["compound", "cell_type", "ic50", "cmax", "margin", "band", "converged"]
        ].to_string(index=False)


def _check_bands(bands: object) -> tuple[HazardBand, ...]:
    items = tuple(bands) if isinstance(bands, list | tuple) else ()
    mins = [b.min_margin for b in items if isinstance(b, HazardBand)]
    if not items or len(mins) != len(items) or mins != sorted(set(mins)) or mins[0] != 0:
        raise ValidationFailed(
            "The 'bands' parameter of safety_margins must be HazardBand items with strictly "
            f"increasing min_margin starting at 0. Got {bands!r} instead."
        )
    return items


def classify(margin: float, bands: tuple[HazardBand, ...]) -> str:
    """Name of the band holding ``margin`` (``"not determined"`` for NaN)."""
    if np.isnan(margin):
        return "not determined"
    return [b.name for b in bands if max(margin, 0.0) >= b.min_margin][-1]


def safety_margins(
    data: pd.DataFrame,
    cmax: Mapping[str, float],
    *,
    bands: tuple[HazardBand, ...] | list[HazardBand] = DEFAULT_HAZARD_BANDS,
    model: str = "4pl",
    ci_level: float = 0.95,
    ci_method: str = "profile",
) -> SafetyResult:
    """IC50 per compound and cell type, margin over free Cmax, and hazard band.

    Parameters
    ----------
    data : DataFrame
        Columns ``compound``, ``cell_type``, ``dose`` and ``response`` (e.g. viability,
        beating rate); rows flagged ``outlier`` are left out when that column is present.
    cmax : mapping of compound to float
        Free (unbound) therapeutic plasma Cmax, in the unit of ``dose``.
    bands : sequence of HazardBand
        Strictly increasing ``min_margin`` starting at 0.
    model : {"4pl", "5pl"}
    ci_level : float
    ci_method : {"profile", "delta"}, default "profile"
        Interval of the IC50 (see :class:`DoseResponseModel`); profile intervals stay positive.

    Returns
    -------
    SafetyResult
        A fit that does not converge gives NaN IC50 and band ``"not determined"`` rather than
        an exception, so one bad curve does not hide the others.
    """
    bands = _check_bands(bands)
    missing = {"compound", "cell_type", "dose", "response"} - set(data.columns)
    if missing:
        raise ValidationFailed(
            "The 'data' of safety_margins must have columns compound, cell_type, dose and "
            f"response. Missing {sorted(missing)}."
        )
    free_cmax = {str(k): float(v) for k, v in cmax.items()}
    absent = sorted(set(data["compound"].astype(str)) - set(free_cmax))
    bad = [c for c, v in free_cmax.items() if not (np.isfinite(v) and v > 0)]
    if absent or bad:
        raise ValidationFailed(
            "safety_margins needs a positive free Cmax for every compound. "
            f"Missing {absent}; not positive {bad}."
        )
    if "outlier" in data.columns:
        data = data.loc[~data["outlier"].astype(bool)]
    margins = []
    for (compound, cell_type), group in data.groupby(["compound", "cell_type"], sort=True):
        fit = DoseResponseModel(model, ci_level=ci_level, ci_method=ci_method)
        with warnings.catch_warnings():
            # Reported per row through 'converged' and the band instead.
            warnings.simplefilter("ignore", DoseResponseConvergenceWarning)
            fit.fit(group["dose"], group["response"])
        c = free_cmax[str(compound)]
        ic50 = fit.ec50_ if fit.converged_ else np.nan
        low, high = fit.ec50_ci_ if fit.converged_ else (np.nan, np.nan)
        dose = group["dose"].to_numpy(dtype=float)
        extrapolated = bool(not dose[dose > 0].min() <= fit.ec50_ <= dose.max())
        margins.append(
            SafetyMargin(
                str(compound),
                str(cell_type),
                ic50,
                low,
                high,
                c,
                ic50 / c,
                low / c,
                high / c,
                classify(ic50 / c, bands),
                classify(low / c, bands),
                extrapolated,
                fit.converged_,
            )
        )
    return SafetyResult(tuple(margins), bands)
