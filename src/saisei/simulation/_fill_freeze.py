"""Fill and freeze: aliquot volumes, time in DMSO, controlled-rate freezer curves, survival.

The product is cooled from 4 C at the programmed rate; it supercools to a nucleation
temperature (about -8 C, Morris & Acton 2013), the latent heat then lifts it to the melting
point of the cryomedium (about -2.5 C) for a few minutes, and it cools on to -100 C. The
cooling rate is read back as the slope of the product curve between -10 and -40 C, the window
domain.md names. Post-thaw survival is an inverted U in the logarithm of the cooling rate
around -1 C/min (Mazur 1984 two-factor hypothesis; Hunt 2011), times the loss from time spent
in DMSO before freezing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from saisei.simulation._params import FREEZE

_MELT_C = -2.5


def freeze_survival(rate_c_per_min: np.ndarray, dmso_min: np.ndarray) -> np.ndarray:
    """Fraction of viable cells that survive freezing and thawing (0..1).

    ``rate_c_per_min`` is the magnitude of the cooling rate; ``dmso_min`` the time from the
    addition of DMSO to the start of freezing.
    """
    rate = np.maximum(np.asarray(rate_c_per_min, dtype=float), 1e-3)
    shape = np.exp(
        -(np.log(rate / FREEZE.optimum_rate_c_per_min) ** 2) / (2 * FREEZE.survival_log_width**2)
    )
    dmso = np.exp(-FREEZE.dmso_loss_per_h * np.asarray(dmso_min, dtype=float) / 60.0)
    return FREEZE.survival_at_optimum * shape * dmso


@dataclass
class FreezeRun:
    """Freezer curves (n, minutes) and what was read from them."""

    minutes: np.ndarray
    product_c: np.ndarray
    chamber_c: np.ndarray
    nucleation_c: np.ndarray
    measured_rate_c_per_min: np.ndarray
    survival: np.ndarray


def freeze_curves(
    rate_c_per_min: np.ndarray, dmso_min: np.ndarray, rng: np.random.Generator | None
) -> FreezeRun:
    """Controlled-rate freezer runs at the actual cooling rates (C/min, positive)."""
    n = rate_c_per_min.shape[0]
    minutes = np.arange(0, FREEZE.curve_duration_min + 1, FREEZE.curve_interval_min, dtype=float)
    rate = np.maximum(rate_c_per_min, 1e-3)[:, None]
    if rng is None:
        nucleation = np.full(n, FREEZE.nucleation_mean_c)
        plateau = np.full(n, 4.0)
    else:
        nucleation = np.clip(
            np.asarray(rng.normal(FREEZE.nucleation_mean_c, FREEZE.nucleation_sd_c, n)),
            -15.0,
            -4.0,
        )
        plateau = np.asarray(rng.uniform(3.0, 6.0, n))
    t_nuc = ((FREEZE.start_temperature_c - nucleation) / rate[:, 0])[:, None]
    t_after = t_nuc + plateau[:, None]
    t = minutes[None, :]
    cooling = FREEZE.start_temperature_c - rate * t
    frozen = _MELT_C - rate * (t - t_after)
    product = np.where(t < t_nuc, cooling, np.where(t < t_after, _MELT_C, frozen))
    product = np.maximum(product, FREEZE.end_temperature_c)
    # The chamber runs ahead of the product and dips to absorb the latent heat.
    dip = np.where((t >= t_nuc) & (t < t_after), -15.0, 0.0)
    chamber = np.maximum(product - 2.0 * rate + dip, FREEZE.end_temperature_c - 5)
    if rng is not None:
        product = product + rng.normal(0, 0.15, product.shape)
        chamber = chamber + rng.normal(0, 0.15, chamber.shape)
    window = (product <= -10.0) & (product >= -40.0)
    measured = _window_slope(minutes, product, window)
    return FreezeRun(
        minutes=minutes,
        product_c=product,
        chamber_c=chamber,
        nucleation_c=nucleation,
        measured_rate_c_per_min=-measured,
        survival=freeze_survival(rate_c_per_min, dmso_min),
    )


def _window_slope(minutes: np.ndarray, y: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Least-squares slope of each row of ``y`` over its ``window`` (NaN if < 2 points)."""
    w = window.astype(float)
    count = w.sum(axis=1)
    x = np.broadcast_to(minutes, y.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = (w * x).sum(axis=1) / count
        my = (w * np.where(window, y, 0.0)).sum(axis=1) / count
        sxy = (w * (x - mx[:, None]) * (np.where(window, y, 0.0) - my[:, None])).sum(axis=1)
        sxx = (w * (x - mx[:, None]) ** 2).sum(axis=1)
        return np.where(count >= 2, sxy / sxx, np.nan)


@dataclass
class Fill:
    """Units filled per batch and their volumes."""

    n_units: np.ndarray
    unit_volume_ml: np.ndarray  # mean actual volume per unit
    dmso_min: np.ndarray  # time in DMSO before the freezer starts


def fill(
    total_cells: np.ndarray,
    target_cells_per_unit: float,
    volume_ml: float,
    max_units: int,
    dmso_setpoint_min: np.ndarray,
    rng: np.random.Generator | None,
) -> Fill:
    """Formulate and fill: whole units of ``target_cells_per_unit`` (at least one unit)."""
    n_units = np.clip(np.floor(total_cells / target_cells_per_unit), 1, max_units).astype(int)
    if rng is None:
        return Fill(
            n_units=n_units,
            unit_volume_ml=np.full(n_units.shape, volume_ml),
            dmso_min=dmso_setpoint_min + 1.5 * n_units,
        )
    volumes = volume_ml * (1.0 + rng.normal(0, 0.01, n_units.shape))
    # Filling takes time: about 1.5 min a unit on top of the planned hold.
    dmso = dmso_setpoint_min + 1.5 * n_units + rng.gamma(2.0, 2.0, n_units.shape)
    return Fill(n_units=n_units, unit_volume_ml=volumes, dmso_min=dmso)
