"""Profile-likelihood confidence interval of an effective dose.

Profile-t method (Bates & Watts 1988, sec. 6.1; Venzon & Moolgavkar 1988): for a fixed value
``v`` of ``log ED_p`` the other parameters are re-optimised, giving ``S(v)``; the interval is
``{v : S(v) - S_hat <= s**2 t(1 - alpha/2; n - p) ** 2}``, found by root finding on each side.
With ``v`` fixed, ``log C = v - log u(E) / B`` (see ``_models.log_effective_dose``).
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.optimize import brentq, least_squares

from . import _models
from ._models import FloatArray
from ._solver import Solution

_MAX_DOUBLINGS = 40


def profile_interval(
    x: FloatArray,
    y: FloatArray,
    sqrt_w: FloatArray,
    sol: Solution,
    percent: float,
    level: float,
) -> tuple[float, float]:
    """Profile-likelihood interval of ``ED_percent`` on the dose scale."""
    theta_hat = sol.theta
    nuisance = [i for i in range(theta_hat.size) if i != 2]
    v_hat, grad = _models.log_effective_dose(theta_hat, percent)
    critical = sol.residual_variance * stats.t.ppf(0.5 + level / 2.0, sol.dof) ** 2
    lower = np.full(len(nuisance), -np.inf)
    lower[nuisance.index(1)] = 0.0

    def theta_at(phi: FloatArray, v: float) -> FloatArray:
        theta = np.empty_like(theta_hat)
        theta[nuisance] = phi
        theta[2] = 0.0
        log_ed0, _ = _models.log_effective_dose(theta, percent)
        theta[2] = v - log_ed0  # log ED is linear in log C with slope 1
        return theta

    def excess(v: float) -> float:
        def res(phi: FloatArray) -> FloatArray:
            return sqrt_w * (_models.curve(theta_at(phi, v), x) - y)

        def jac(phi: FloatArray) -> FloatArray:
            theta = theta_at(phi, v)
            full = sqrt_w[:, None] * _models.jacobian(theta, x)
            _, g = _models.log_effective_dose(theta, percent)
            # Chain rule through log C(phi): d log C / d theta_j = -d log ED / d theta_j.
            return full[:, nuisance] - np.outer(full[:, 2], g[nuisance])

        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            fit = least_squares(
                res,
                theta_hat[nuisance],
                jac=jac,
                bounds=(lower, np.inf),
                method="trf",
                x_scale="jac",
                xtol=1e-12,
                ftol=1e-12,
            )
        return float(2.0 * fit.cost - sol.sse - critical)

    step = float(np.sqrt(grad @ (sol.covariance @ grad)))
    step = step if np.isfinite(step) and step > 0 else 0.1
    ends = []
    for direction in (-1.0, 1.0):
        near, far = v_hat, v_hat + direction * step
        for _ in range(_MAX_DOUBLINGS):
            if excess(far) > 0:
                break
            near, far = far, v_hat + 2.0 * (far - v_hat)
        else:
            ends.append(direction * np.inf)
            continue
        ends.append(brentq(excess, near, far, xtol=1e-10) if excess(near) < 0 else near)
    return float(np.exp(ends[0])), float(np.exp(ends[1]))
