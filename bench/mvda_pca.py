"""Benchmark of saisei's PCA/PLS monitors against scikit-learn and the open-source peers.

One run, one process, one data set: a 20 000 x 200 matrix with 10 latent factors plus noise,
5 components. Measured side by side:

1. complete-data PCA fit: saisei PCAMonitor (autoscaling, fit, T2/SPE/DModX limits included),
   scikit-learn PCA with the ``covariance_eigh`` and ``full`` solvers (on data scaled
   beforehand, so they do less work), process-improve PCA and pyphi-mvda ``pca`` (both with
   their own autoscaling);
2. complete-row scoring throughput of ``PCAMonitor.diagnose``: scores, T2, SPE, T2
   contributions and signed residuals (the SPE contributions) for every row;
3. 5 % of cells missing at random: the fit, and the scoring of 10 000 incomplete new rows, with
   the accuracy of each against the complete-data solution (largest principal angle between
   the loading subspaces; RMS error of the scores of the new rows);
4. PLS fit (one response, 5 components) against ikpls (both algorithms) and scikit-learn.

Peers that are not installed are skipped and reported as such. Times are the best of a few
repeats (``time.perf_counter``), under the BLAS thread count given by ``--threads``.

Usage: ``python bench/mvda_pca.py [--threads N] [--json out.json]``
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg
from threadpoolctl import threadpool_limits

from saisei.analytics.mvda import PCAMonitor, PLSMonitor

N_ROWS, N_COLS, N_COMPONENTS, N_NEW = 20_000, 200, 5, 10_000
MISSING_FRACTION = 0.05
PEER_TIMEOUT_S = 120.0  # a peer that takes longer is reported as not finishing


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training rows, new rows and a response, from 10 latent factors plus unit noise."""
    rng = np.random.default_rng(seed)
    loadings = rng.normal(size=(10, N_COLS))
    sd = np.array([5, 4, 3, 2.5, 2, 1, 0.8, 0.6, 0.5, 0.4])
    offsets = rng.normal(scale=10, size=N_COLS)
    scales = rng.uniform(0.5, 5, size=N_COLS)

    def rows(n: int) -> tuple[np.ndarray, np.ndarray]:
        factors = rng.normal(size=(n, 10)) * sd
        X = (factors @ loadings + rng.normal(size=(n, N_COLS))) * scales + offsets
        y = factors[:, :3] @ np.array([1.0, -0.5, 0.25]) + 0.3 * rng.normal(size=n)
        return X, y

    X, y = rows(N_ROWS)
    X_new, _ = rows(N_NEW)
    return X, X_new, y


def best_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Smallest wall time of ``repeats`` calls, and the last result (progress on stderr)."""
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    where = getattr(getattr(fn, "__wrapped__", fn), "__code__", None)
    line = where.co_firstlineno if where is not None else "?"
    print(f"  bench line {line}: {best:.4f} s", file=sys.stderr, flush=True)
    return best, result


def angle_deg(A: np.ndarray, B: np.ndarray) -> float:
    """Largest principal angle between two loading subspaces (columns), in degrees."""
    return float(np.degrees(np.max(scipy.linalg.subspace_angles(A, B))))


def score_rmse(T: np.ndarray, T_ref: np.ndarray) -> float:
    """RMS difference of scores after matching each component's sign to the reference."""
    signs = np.sign(np.sum(T * T_ref, axis=0))
    return float(np.sqrt(np.mean((T * signs - T_ref) ** 2)))


def quiet(fn: Callable[[], Any]) -> Callable[[], Any]:
    """Run ``fn`` with its prints and warnings suppressed (pyphi prints progress)."""

    def run() -> Any:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()

    run.__wrapped__ = fn  # type: ignore[attr-defined]
    return run


def in_child(fn: Callable[[], dict[str, float]], timeout_s: float) -> dict[str, float]:
    """Run ``fn`` in a forked process; give up after ``timeout_s`` (slow peers)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=lambda: queue.put(fn()))
    process.start()
    process.join(timeout_s)
    if process.is_alive():
        process.terminate()
        process.join()
        return {"seconds": float("nan"), "did_not_finish_within_s": timeout_s}
    return queue.get()


def optional(module: str) -> Any:
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads", type=int, default=1, help="BLAS threads for every library (0: library default)"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    limit = None if args.threads == 0 else args.threads
    with threadpool_limits(limits=limit):
        results = run(args.repeats)
    results["threads"] = args.threads
    print(json.dumps(results, indent=2))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)
    return 0


def run(repeats: int) -> dict[str, Any]:
    from sklearn.cross_decomposition import PLSRegression
    from sklearn.decomposition import PCA

    pyphi = optional("pyphi.calc")
    pi = optional("process_improve.multivariate.methods")
    ikpls = optional("ikpls.numpy")
    out: dict[str, Any] = {
        "data": f"{N_ROWS} x {N_COLS}, {N_COMPONENTS} components, {N_NEW} new rows",
        "peers": {
            "pyphi-mvda": pyphi is not None,
            "process-improve": pi is not None,
            "ikpls": ikpls is not None,
        },
    }
    X, X_new, y = make_data()
    Z = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)

    # 1. complete-data fit -------------------------------------------------------------
    fit: dict[str, float] = {}
    fit["saisei PCAMonitor (scaling + fit + limits)"], model = best_time(
        lambda: PCAMonitor(N_COMPONENTS).fit(X), repeats
    )
    fit["sklearn PCA covariance_eigh (pre-scaled)"], _ = best_time(
        lambda: PCA(N_COMPONENTS, svd_solver="covariance_eigh").fit(Z), repeats
    )
    fit["sklearn PCA full SVD (pre-scaled)"], _ = best_time(
        lambda: PCA(N_COMPONENTS, svd_solver="full").fit(Z), max(1, repeats // 2)
    )
    if pi is not None:
        fit["process-improve PCA (MCUVScaler + fit)"], _ = best_time(
            quiet(lambda: pi.PCA(N_COMPONENTS).fit(pi.MCUVScaler().fit_transform(X))), 2
        )
    if pyphi is not None:
        fit["pyphi-mvda pca (mean-centred, autoscaled, SVD)"], _ = best_time(
            quiet(lambda: pyphi.pca(X, N_COMPONENTS, mcs=True, force_nipals=False, shush=True)),
            2,
        )
    out["complete_fit_s"] = fit
    out["complete_fit_ratio_to_covariance_eigh"] = (
        fit["saisei PCAMonitor (scaling + fit + limits)"]
        / fit["sklearn PCA covariance_eigh (pre-scaled)"]
    )
    reference_P = model.components_.T
    reference_T_new = model.transform(X_new)

    # 2. complete-row scoring throughput -------------------------------------------------
    big = np.tile(X_new, (10, 1))  # 100 000 rows
    seconds, _ = best_time(lambda: model.diagnose(big), repeats)
    transform_s, _ = best_time(lambda: model.transform(big), repeats)
    sk = PCA(N_COMPONENTS, svd_solver="covariance_eigh").fit(Z)
    sk_s, _ = best_time(
        lambda: sk.transform((big - X.mean(axis=0)) / X.std(axis=0, ddof=1)), repeats
    )
    out["complete_scoring_rows_per_s"] = {
        "saisei diagnose (scores, T2, SPE, contributions)": big.shape[0] / seconds,
        "saisei transform (scores only)": big.shape[0] / transform_s,
        "sklearn transform (scores only, incl. scaling)": big.shape[0] / sk_s,
    }

    # 3. missing data --------------------------------------------------------------------
    rng = np.random.default_rng(1)
    holed = X.copy()
    holed[rng.random(X.shape) < MISSING_FRACTION] = np.nan
    holed_new = X_new.copy()
    holed_new[rng.random(X_new.shape) < MISSING_FRACTION] = np.nan
    missing_fit: dict[str, dict[str, float]] = {}
    seconds, holed_model = best_time(lambda: PCAMonitor(N_COMPONENTS).fit(holed), repeats)
    missing_fit["saisei PCAMonitor (ALS)"] = {
        "seconds": seconds,
        "iterations": holed_model.n_iter_,
        "angle_deg": angle_deg(holed_model.components_.T, reference_P),
    }
    if pyphi is not None:
        seconds, phi_model = best_time(
            quiet(lambda: pyphi.pca(holed, N_COMPONENTS, mcs=True, shush=True)), 1
        )
        missing_fit["pyphi-mvda pca (NIPALS)"] = {
            "seconds": seconds,
            "angle_deg": angle_deg(np.asarray(phi_model["P"]), reference_P),
        }
    if pi is not None:
        scaled_holed = pi.MCUVScaler().fit_transform(holed)

        def pi_missing_fit() -> dict[str, float]:
            seconds, pi_model = best_time(quiet(lambda: pi.PCA(N_COMPONENTS).fit(scaled_holed)), 1)
            return {
                "seconds": seconds,
                "angle_deg": angle_deg(np.asarray(pi_model.loadings_), reference_P),
            }

        missing_fit["process-improve PCA (NIPALS)"] = in_child(pi_missing_fit, PEER_TIMEOUT_S)
    out["missing_fit"] = missing_fit

    scoring: dict[str, dict[str, float]] = {}
    for projection in ("tsr", "pmp"):
        scorer = PCAMonitor(N_COMPONENTS, projection=projection).fit(X)
        seconds, result = best_time(lambda s=scorer: s.diagnose(holed_new), repeats)
        scoring[f"saisei diagnose, {projection.upper()} (scores, T2, SPE, contributions)"] = {
            "seconds": seconds,
            "score_rmse": score_rmse(result.scores, reference_T_new),
        }
    if pyphi is not None:
        phi_complete = quiet(
            lambda: pyphi.pca(X, N_COMPONENTS, mcs=True, force_nipals=False, shush=True)
        )()
        seconds, pred = best_time(quiet(lambda: pyphi.pca_pred(holed_new, phi_complete)), 2)
        scoring["pyphi-mvda pca_pred (PMP loop)"] = {
            "seconds": seconds,
            "score_rmse": score_rmse(pred["Tnew"], reference_T_new),
        }
    if pi is not None:
        scaler = pi.MCUVScaler().fit(X)
        pi_complete = quiet(lambda: pi.PCA(N_COMPONENTS).fit(scaler.transform(X)))()
        scaled_new = scaler.transform(holed_new)

        def pi_projection() -> dict[str, float]:
            seconds, projected = best_time(quiet(lambda: pi_complete.project(scaled_new)), 1)
            return {
                "seconds": seconds,
                "score_rmse": score_rmse(np.asarray(projected.scores), reference_T_new),
            }

        scoring["process-improve PCA.project (TSR)"] = in_child(pi_projection, PEER_TIMEOUT_S)
    out["missing_scoring_10000_rows"] = scoring

    # 4. PLS -----------------------------------------------------------------------------
    pls: dict[str, float] = {}
    pls["saisei PLSMonitor (no CV: fit + limits)"], _ = best_time(
        lambda: PLSMonitor(N_COMPONENTS, cv_folds=None).fit(X, y), repeats
    )
    pls["saisei PLSMonitor (with 7-fold Q2)"], _ = best_time(
        lambda: PLSMonitor(N_COMPONENTS).fit(X, y), repeats
    )
    if ikpls is not None:
        for algorithm in (1, 2):
            pls[f"ikpls numpy algorithm {algorithm} (ddof=1 scaling)"], _ = best_time(
                lambda a=algorithm: ikpls.PLS(algorithm=a, ddof=1).fit(X, y, N_COMPONENTS), repeats
            )
    pls["sklearn PLSRegression"], _ = best_time(
        lambda: PLSRegression(N_COMPONENTS).fit(X, y), repeats
    )
    out["pls_fit_s"] = pls
    return out


if __name__ == "__main__":
    sys.exit(main())
