"""Real industrial data shipped by process-improve (PyPI), and its PCA as a reference.

The datasets are read from the installed package, never copied into this repository. The
LDPE folder also ships a reference PLS solution with 6 components (scores T and U, weights W,
loadings P and C, rotation R, fitted Y and Hotelling's T2), stored to about 7 significant
digits; we compare with it.
"""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pandas as pd
import pytest
import scipy.linalg

from saisei.analytics.mvda import BatchEvolutionModel, PCAMonitor, PLSMonitor
from saisei.analytics.mvda._align import DTWAligner

pi_pca = pytest.importorskip("process_improve.multivariate.methods")
pi_batch = pytest.importorskip("process_improve.batch.datasets")

LDPE = files("process_improve") / "datasets" / "multivariate" / "LDPE"


@pytest.fixture(scope="module")
def ldpe() -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = pd.read_csv(LDPE / "LDPE.csv", index_col=0)
    return frame.iloc[:, :14], frame.iloc[:, 14:]


def _reference(name: str) -> np.ndarray:
    return pd.read_csv(LDPE / f"{name}.csv", header=None).to_numpy()


def _aligned(ours: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return ours * np.sign(np.sum(ours * ref, axis=0))


def test_ldpe_pls_matches_the_shipped_reference_solution(ldpe):
    X, Y = ldpe
    model = PLSMonitor(n_components=6).fit(X, Y)
    for name, ours in [
        ("T", model.x_scores_),
        ("U", model.y_scores_),
        ("W", model.x_weights_),
        ("P", model.x_loadings_),
        ("C", model.y_loadings_),
        ("R", model.x_rotations_),
    ]:
        ref = _reference(name)
        np.testing.assert_allclose(_aligned(ours, ref), ref, atol=2e-4, err_msg=name)
    # Yhat is stored with 5 decimals (0.13262), hence the relative tolerance.
    np.testing.assert_allclose(model.predict(X), _reference("Yhat_A6"), rtol=1e-4)
    np.testing.assert_allclose(model.t2_train_, _reference("Hotellings_T2_A6")[:, 0], rtol=1e-4)
    three = PLSMonitor(n_components=3).fit(X, Y)
    np.testing.assert_allclose(three.t2_train_, _reference("Hotellings_T2_A3")[:, 0], rtol=1e-4)


def test_ldpe_pca_matches_process_improve(ldpe):
    """process-improve 2.x: MCUVScaler + PCA(n_components=3), algorithm "auto" (SVD).

    Compared: scores, Hotelling's T2 (last column of ``hotellings_t2_``), SPE (the square of
    the last column of ``spe_``, which it stores as a square root), R2 per component, and the
    limits at 99 %: ``hotellings_t2_limit(0.99)`` (F form) and ``spe_limit(0.99)`` squared
    (scaled chi-square matched to the training SPE: our ``spe_method="box-moments"``).
    """
    X, _ = ldpe
    Z = pi_pca.MCUVScaler().fit_transform(X)
    ref = pi_pca.PCA(n_components=3).fit(Z)
    ours = PCAMonitor(n_components=3, alpha=0.01, spe_method="box-moments").fit(X)
    np.testing.assert_allclose(
        _aligned(ours.scores_, ref.scores_.to_numpy()), ref.scores_.to_numpy(), atol=1e-8
    )
    np.testing.assert_allclose(ours.t2_train_, ref.hotellings_t2_.iloc[:, -1], rtol=1e-8)
    np.testing.assert_allclose(ours.spe_train_, ref.spe_.iloc[:, -1] ** 2, rtol=1e-8)
    np.testing.assert_allclose(ours.explained_variance_ratio_, ref.r2_per_component_, atol=1e-10)
    assert ours.t2_limit_ == pytest.approx(ref.hotellings_t2_limit(0.99), rel=1e-10)
    assert ours.spe_limit_ == pytest.approx(ref.spe_limit(conf_level=0.99) ** 2, rel=1e-10)


def test_ldpe_with_missing_values_agrees_with_process_improve_nipals(ldpe, rng):
    """10 % of LDPE's cells removed: our ALS fit against process-improve's NIPALS.

    Both fit the same scaled data. The two-component subspaces agree within a few degrees
    and the removed cells are reconstructed about equally well (on a 54-row set, sequential
    NIPALS is slightly more conservative than the joint least-squares fit).
    """
    X = ldpe[0].to_numpy()
    holes = rng.random(X.shape) < 0.10
    holed = X.copy()
    holed[holes] = np.nan
    ours = PCAMonitor(n_components=2).fit(holed)
    Zm = (holed - ours.mean_) / ours.scale_
    ref = pi_pca.PCA(n_components=2).fit(pd.DataFrame(Zm))
    angle = np.degrees(
        np.max(scipy.linalg.subspace_angles(ours.components_.T, ref.loadings_.to_numpy()))
    )
    assert angle < 10.0
    Z = (X - ours.mean_) / ours.scale_
    ours_rmse = np.sqrt(np.mean((ours.scores_ @ ours.components_ - Z)[holes] ** 2))
    ref_rec = ref.scores_.to_numpy() @ ref.loadings_.to_numpy().T
    ref_rmse = np.sqrt(np.mean((ref_rec - Z)[holes] ** 2))
    assert ours_rmse < 1.15 * ref_rmse


def _long(batches: dict, drop: tuple[str, ...] = ()) -> pd.DataFrame:
    parts = []
    for lot, frame in batches.items():
        wide = frame.drop(columns=list(drop)).assign(t=np.arange(len(frame), dtype=float))
        parts.append(
            wide.melt(id_vars="t", var_name="variable", value_name="value").assign(lot=lot)
        )
    return pd.concat(parts, ignore_index=True)


def test_nylon_batch_evolution_model_on_dtw_aligned_batches():
    batches = pi_batch.load_nylon()
    data = _long(batches)
    model = BatchEvolutionModel(n_components=3, aligner=DTWAligner(band=0.2)).fit(data)
    assert len(model.lots_) == 57
    # On the reference batches themselves the limits hold about their nominal rate.
    t2_rate = np.nanmean(model.t2_train_ > model.t2_limits_[None])
    spe_rate = np.nanmean(model.spe_train_ > model.spe_limits_[None])
    assert t2_rate < 0.05 and spe_rate < 0.05
    first = next(iter(batches))
    running = data[(data["lot"] == first) & (data["t"] < 40)]
    report = model.monitor(running)
    assert report["t"].max() <= model.times_[-1]
    assert set(report["lot"]) == {first}


def test_dryer_batches_of_unequal_length_align_and_monitor():
    batches = pi_batch.load_dryer()
    data = _long(batches, drop=("ClockTime",))
    lengths = data.groupby("lot")["t"].max()
    assert lengths.nunique() > 10  # genuinely unequal
    model = BatchEvolutionModel(n_components=2, aligner=DTWAligner(warp_variable="clock"))
    model.fit(data)
    assert "clock" in model.variables_
    report = model.monitor(data[data["lot"].isin(list(batches)[:5])])
    assert report.groupby("lot")["alarm"].mean().median() < 0.2
