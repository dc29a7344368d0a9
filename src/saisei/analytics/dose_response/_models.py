"""Logistic dose-response curves (4PL, 5PL), their Jacobians and robust starting values.

The four-parameter logistic (4PL), in the form of USP <1032>/<1034> and ``docs/domain.md``::

    y = D + (A - D) / (1 + (x / C) ** B)

and the five-parameter (asymmetric) logistic (5PL, Gottschalk & Dunn 2005)::

    y = D + (A - D) / (1 + (x / C) ** B) ** E

``A`` is the response at zero dose, ``D`` the response at infinite dose, ``C`` the inflection
dose (the EC50 of the 4PL) and ``B > 0`` the slope; the curve rises when ``D > A`` and falls when
``D < A``. Keeping ``B`` positive removes the 4PL's mirror symmetry ``(A, B, C, D) ==
(D, -B, C, A)`` so that every curve has one parameter vector. This is the ``LL.4``/``LL.5``
parameterisation of R's drc package with ``b = B``, ``c = D``, ``d = A``, ``e = C``, ``f = E``
(Ritz et al. 2015, PLoS ONE 10: e0146021).

Internally the fit works on ``theta = (A, B, log C, D[, log E])`` so that ``C`` and ``E`` stay
positive without bounds; the covariance is mapped back to the natural scale by the delta method.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

FloatArray = NDArray[np.float64]

#: Parameter names of each model, in the order of ``params_`` and of ``theta``.
PARAM_NAMES: dict[str, tuple[str, ...]] = {
    "4pl": ("A", "B", "C", "D"),
    "5pl": ("A", "B", "C", "D", "E"),
}
#: Positions in theta that hold a logarithm (C and, for the 5PL, E).
LOG_POSITIONS: dict[str, tuple[int, ...]] = {"4pl": (2,), "5pl": (2, 4)}


def _log_dose(dose: FloatArray) -> FloatArray:
    # log(0) is -inf on purpose: (0 / C) ** B == 0 for B > 0, so the curve at zero dose is A.
    out = np.full(dose.shape, -np.inf)
    np.log(dose, out=out, where=dose > 0)
    return out


def _shape(theta: FloatArray, log_dose: FloatArray) -> tuple[FloatArray, FloatArray, float]:
    """Return ``l = B (log x - log C)`` and ``g = (1 + e**l) ** -E`` and ``E``."""
    b, log_c = theta[1], theta[2]
    e = float(np.exp(theta[4])) if theta.size == 5 else 1.0
    lin = b * (log_dose - log_c)
    # (1 + u) ** -E computed as exp(-E log(1 + e**l)) stays finite for any l.
    g = np.exp(-e * np.logaddexp(0.0, lin))
    return lin, g, e


def curve(theta: FloatArray, dose: FloatArray) -> FloatArray:
    """Evaluate the 4PL (``theta`` of length 4) or 5PL (length 5) at ``dose``."""
    a, d = theta[0], theta[3]
    _, g, _ = _shape(theta, _log_dose(dose))
    return np.asarray(d + (a - d) * g, dtype=np.float64)


def jacobian(theta: FloatArray, dose: FloatArray) -> FloatArray:
    """Derivatives of :func:`curve` with respect to ``theta``, shape ``(n, len(theta))``."""
    a, b, d = theta[0], theta[1], theta[3]
    log_dose = _log_dose(dose)
    lin, g, e = _shape(theta, log_dose)
    # d g / d l = -E g u / (1 + u) = -E g expit(l)
    dg_dl = -e * g * expit(lin)
    positive = dose > 0
    dl_db = np.where(positive, log_dose - theta[2], 0.0)
    cols = [
        g,  # dA
        (a - d) * np.where(positive, dg_dl * dl_db, 0.0),  # dB
        (a - d) * dg_dl * (-b),  # dlogC
        1.0 - g,  # dD
    ]
    if theta.size == 5:
        cols.append((a - d) * g * (-e) * np.logaddexp(0.0, lin))  # dlogE
    return np.column_stack(cols)


def to_theta(params: FloatArray) -> FloatArray:
    """Natural parameters ``(A, B, C, D[, E])`` to the fitting scale."""
    theta = np.array(params, dtype=float)
    theta[2] = np.log(theta[2])
    if theta.size == 5:
        theta[4] = np.log(theta[4])
    return theta


def from_theta(theta: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Fitting scale to natural parameters, with the diagonal of ``d params / d theta``."""
    params = np.array(theta, dtype=float)
    scale = np.ones_like(params)
    for i in (2, 4)[: 1 + (params.size == 5)]:
        params[i] = np.exp(theta[i])
        scale[i] = params[i]
    return params, scale


def log_effective_dose(theta: FloatArray, percent: float) -> tuple[float, FloatArray]:
    """``log ED_p`` and its gradient with respect to ``theta``.

    ``ED_p`` is the dose at which the response has moved ``p`` % of the way from ``A`` to ``D``
    (drc's ``ED(type = "relative")``): ``ED_p = C * ((1 - q) ** (-1 / E) - 1) ** (1 / B)`` with
    ``q = p / 100``; for the 4PL (``E = 1``) this is ``C * (q / (1 - q)) ** (1 / B)``.
    """
    q = percent / 100.0
    b = theta[1]
    e = float(np.exp(theta[4])) if theta.size == 5 else 1.0
    u = (1.0 - q) ** (-1.0 / e) - 1.0
    log_u = np.log(u)
    value = theta[2] + log_u / b
    grad = np.zeros(theta.size)
    grad[1] = -log_u / b**2
    grad[2] = 1.0
    if theta.size == 5:
        du_de = (1.0 - q) ** (-1.0 / e) * np.log(1.0 - q) / e**2
        grad[4] = e * du_de / (b * u)
    return float(value), grad


def start_values(dose: FloatArray, response: FloatArray, model: str) -> list[FloatArray]:
    """Data-driven starting points (on the theta scale), most plausible first.

    Medians per dose level resist outliers; the asymptotes start at the medians of the lowest
    and highest dose; ``C`` starts where the medians cross half-way (interpolated on log dose)
    and ``B`` from the slope of the linearised logit ``log((A - y) / (y - D))`` against
    ``log x`` (the classical self-starter, Seber & Wild 1989, sec. 7.3). Alternative slopes
    and inflection points follow as fall-backs for the multi-start search.
    """
    levels, inverse = np.unique(dose, return_inverse=True)
    medians = np.array([np.median(response[inverse == i]) for i in range(levels.size)])
    a0, d0 = medians[0], medians[-1]
    positive = levels > 0
    log_levels = np.log(levels[positive])
    if log_levels.size == 0:
        log_levels = np.zeros(1)
    log_c0 = _crossing(log_levels, medians[positive], (a0 + d0) / 2.0)
    b0 = _logit_slope(dose, response, a0, d0)
    e_extra = (0.0,) if model == "5pl" else ()
    starts = [np.array([a0, b, log_c0, d0, *e_extra]) for b in (b0, 1.0, 3.0, 0.5)]
    span = log_levels.max() - log_levels.min()
    for frac in (0.25, 0.75):
        starts.append(np.array([a0, b0, log_levels.min() + frac * span, d0, *e_extra]))
    return starts


def _crossing(log_levels: FloatArray, medians: FloatArray, half: float) -> float:
    if medians.size < 2:
        return float(np.mean(log_levels))
    above = medians > half
    flips = np.nonzero(above[1:] != above[:-1])[0]
    if flips.size == 0:
        return float(np.mean(log_levels))
    i = flips[0]
    y0, y1 = medians[i], medians[i + 1]
    t = (half - y0) / (y1 - y0)
    return float(log_levels[i] + t * (log_levels[i + 1] - log_levels[i]))


def _logit_slope(dose: FloatArray, response: FloatArray, a0: float, d0: float) -> float:
    # Widen the asymptotes by 5 % of the span so that every point lies strictly inside.
    pad = 0.05 * abs(a0 - d0)
    hi, lo = max(a0, d0) + pad, min(a0, d0) - pad
    top, bottom = (hi, lo) if a0 >= d0 else (lo, hi)
    inside = (dose > 0) & (response > lo) & (response < hi)
    if inside.sum() < 2 or np.ptp(np.log(dose[inside])) == 0 or pad == 0:
        return 1.0
    z = np.log((top - response[inside]) / (response[inside] - bottom))
    slope = np.polyfit(np.log(dose[inside]), z, 1)[0]
    return float(np.clip(slope, 0.2, 10.0)) if slope > 0 else 1.0
