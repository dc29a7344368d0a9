"""Multi-start nonlinear least squares with an honest convergence diagnosis.

Shared by the single-curve fit and the joint (parallel / non-parallel) fits of relative potency.
Estimates are ordinary (or weighted) least squares, i.e. normal maximum likelihood; the
covariance is the usual asymptotic ``s**2 (J' W J)**-1`` with ``s**2 = SSE_w / (n - p)``
(Bates & Watts 1988, sec. 2.3), which is what R's ``nls`` and drc's ``vcov`` report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from ._models import FloatArray

# Above this condition number of the Jacobian the parameters are not identified by the data.
_MAX_CONDITION = 1e10


@dataclass(frozen=True)
class Solution:
    """Best least-squares point found and what is known about it."""

    theta: FloatArray
    sse: float
    jac: FloatArray
    covariance: FloatArray
    dof: int
    n_evaluations: int
    converged: bool
    message: str

    @property
    def residual_variance(self) -> float:
        return self.sse / self.dof if self.dof > 0 else float("nan")


def solve(
    residuals: Callable[[FloatArray], FloatArray],
    jacobian: Callable[[FloatArray], FloatArray],
    starts: Sequence[FloatArray],
    *,
    lower: FloatArray,
    upper: FloatArray,
    max_iter: int,
) -> Solution:
    """Minimise ``sum(residuals(theta) ** 2)`` from every start and keep the best.

    ``residuals`` and ``jacobian`` are already multiplied by ``sqrt(weights)``.
    """
    best = None
    evaluations = 0
    # least_squares needs a strictly feasible start; nudge starts off finite bounds.
    finite_low, finite_high = np.isfinite(lower), np.isfinite(upper)
    inner_low, inner_high = lower.copy(), upper.copy()
    inner_low[finite_low] += 1e-6 * (np.abs(lower[finite_low]) + 1)
    inner_high[finite_high] -= 1e-6 * (np.abs(upper[finite_high]) + 1)
    for start in starts:
        x0 = np.clip(start, inner_low, inner_high)
        if not np.all(np.isfinite(x0)):
            continue
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            res = least_squares(
                residuals,
                x0,
                jac=jacobian,
                bounds=(lower, upper),
                method="trf",
                x_scale="jac",
                max_nfev=max_iter,
                xtol=1e-12,
                ftol=1e-12,
                gtol=1e-12,
            )
        evaluations += int(res.nfev)
        if not np.isfinite(res.cost):
            continue
        if best is None or res.cost < best.cost - 1e-12 * max(1.0, best.cost):
            best = res
    if best is None:
        raise FloatingPointError("no starting point gave a finite sum of squares")
    return _diagnose(best, evaluations, max_iter, jacobian)


def _observed_information(
    theta: FloatArray,
    resid: FloatArray,
    jac: FloatArray,
    jacobian: Callable[[FloatArray], FloatArray],
) -> FloatArray:
    """Half the Hessian of the sum of squares: ``J'J + sum_i r_i d2 r_i``.

    The second-order term comes from central differences of the analytic Jacobian. Using the
    full Hessian rather than the Gauss-Newton ``J'J`` is what R's drc does (``optim(hessian =
    TRUE)``), so standard errors agree with drc's published output.
    """
    p = theta.size
    info = jac.T @ jac
    for j in range(p):
        step = np.zeros(p)
        step[j] = 1e-5 * max(1.0, abs(theta[j]))
        d_jac = (jacobian(theta + step) - jacobian(theta - step)) / (2.0 * step[j])
        info[:, j] += resid @ d_jac
    return (info + info.T) / 2.0


def _diagnose(
    res: object, evaluations: int, max_iter: int, jacobian: Callable[[FloatArray], FloatArray]
) -> Solution:
    theta = np.asarray(res.x, dtype=np.float64)  # type: ignore[attr-defined]
    jac = np.asarray(res.jac, dtype=np.float64)  # type: ignore[attr-defined]
    sse = float(2.0 * res.cost)  # type: ignore[attr-defined]
    n, p = jac.shape
    dof = n - p
    singular = np.linalg.svd(jac, compute_uv=False)
    condition = singular[0] / singular[-1] if singular[-1] > 0 else np.inf
    message = "converged"
    converged = True
    if res.status <= 0:  # type: ignore[attr-defined]
        converged = False
        message = (
            f"the optimiser stopped after {max_iter} function evaluations (max_iter) without "
            "meeting its convergence tolerance"
        )
    elif np.any(res.active_mask != 0):  # type: ignore[attr-defined]
        converged = False
        message = "a parameter ended on its bound, so the optimum lies outside the allowed region"
    elif not np.isfinite(condition) or condition > _MAX_CONDITION:
        converged = False
        message = (
            "the parameters are not identifiable from these data (the Jacobian is singular): "
            "the response may be flat, or the doses may not span the transition"
        )
    covariance = np.full((p, p), np.nan)
    if converged:
        info = _observed_information(theta, np.asarray(res.fun), jac, jacobian)  # type: ignore[attr-defined]
        if np.all(np.linalg.eigvalsh(info) > 0):
            covariance = (sse / max(dof, 1)) * np.linalg.inv(info)
        else:
            converged = False
            message = "the point found is a saddle, not a minimum, of the sum of squares"
    return Solution(theta, sse, jac, covariance, dof, evaluations, converged, message)
