"""Batch evolution and batch level models on a synthetic culture with injected faults."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from mvda_helpers import VARIABLES, cube_as_long, culture_batch, culture_cube

from saisei.analytics.mvda import BatchEvolutionModel, BatchLevelModel, to_cube
from saisei.errors import ValidationFailed

FAULTS = {"oxygen_drift": "oxygen", "temperature_step": "temperature", "feed": "glucose"}
ONSET = 30


@pytest.fixture(scope="module")
def reference():
    rng = np.random.default_rng(7)
    cube = culture_cube(rng, 40)
    lots = [f"REF{i:02d}" for i in range(40)]
    return cube_as_long(cube, lots)


@pytest.fixture(scope="module")
def evolution(reference):
    return BatchEvolutionModel(n_components=2).fit(reference)


def test_fit_from_long_table_equals_fit_from_cube(reference, evolution):
    cube = to_cube(reference, ("lot", "t", "variable", "value"), "test").values
    from_cube = BatchEvolutionModel(n_components=2).fit(cube)
    np.testing.assert_allclose(from_cube.t2_limits_, evolution.t2_limits_)
    np.testing.assert_allclose(from_cube.spe_limits_, evolution.spe_limits_)
    assert evolution.variables_ == tuple(sorted(VARIABLES))


def test_normal_batches_rarely_alarm(evolution):
    rng = np.random.default_rng(11)
    normal = cube_as_long(culture_cube(rng, 30), [f"N{i}" for i in range(30)])
    report = evolution.monitor(normal)
    assert len(report) == 30 * 60
    # 99 % limits on T2 and SPE: at most 5 % of normal samples alarm.
    assert report["alarm"].mean() <= 0.05


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_injected_faults_are_detected_quickly_and_diagnosed(evolution, fault):
    rng = np.random.default_rng(13)
    cube = np.stack([culture_batch(rng, fault=fault, onset=ONSET) for _ in range(10)])
    report = evolution.monitor(cube_as_long(cube, [f"F{i}" for i in range(10)]))
    delays = []
    for _, rows in report.groupby("lot"):
        after = rows[rows["t"] >= ONSET]
        alarms = after[after["alarm"]]
        assert len(alarms) > 0, "every faulty batch is detected"
        delays.append(alarms["t"].iloc[0] - ONSET)
        persistent = after[after["t"] >= ONSET + 10]
        assert persistent["alarm"].mean() > 0.8
        first = alarms.iloc[0]
        names = first["top_variables"]
        assert FAULTS[fault] in names[:2]
    assert np.median(delays) <= 5


def test_running_batch_gives_the_same_rows_as_the_finished_batch(evolution):
    rng = np.random.default_rng(17)
    batch = cube_as_long(culture_batch(rng, fault="temperature_step")[None], ["RUN"])
    full = evolution.monitor(batch)
    partial = evolution.monitor(batch[batch["t"] <= 35])
    assert partial["t"].max() == 35
    pd.testing.assert_frame_equal(
        partial.reset_index(drop=True), full[full["t"] <= 35].reset_index(drop=True)
    )


def test_monitor_tolerates_missing_values(evolution):
    rng = np.random.default_rng(19)
    batch = cube_as_long(culture_batch(rng)[None], ["GAP"])
    batch = batch.drop(index=batch.sample(frac=0.1, random_state=1).index)
    report = evolution.monitor(batch)
    assert report["t2"].notna().all()
    assert report["alarm"].mean() <= 0.1


def test_limits_frame_and_pickle(evolution):
    frame = evolution.limits_frame()
    assert list(frame["t"]) == list(range(60))
    assert {"t2_limit", "spe_limit", "score_1_mean", "score_1_std"} <= set(frame)
    again = pickle.loads(pickle.dumps(evolution))
    np.testing.assert_array_equal(again.spe_limits_, evolution.spe_limits_)


def test_errors_name_the_problem(reference):
    with pytest.raises(
        ValidationFailed,
        match=r"needs the columns \['lot', 't', 'variable', "
        r"'value'\]",
    ):
        BatchEvolutionModel().fit(reference.rename(columns={"value": "v"}))
    with pytest.raises(ValidationFailed, match="repeat a \\(lot, t, variable\\) key"):
        BatchEvolutionModel().fit(pd.concat([reference, reference.iloc[:1]]))
    with pytest.raises(ValidationFailed, match="at least 3 reference batches"):
        BatchEvolutionModel().fit(reference[reference["lot"].isin(["REF00", "REF01"])])
    renamed = reference.rename(columns={"lot": "batch"})
    model = BatchEvolutionModel(2, columns=("batch", "t", "variable", "value")).fit(renamed)
    assert len(model.lots_) == 40


# ---------------------------------------------------------------- batch level model
@pytest.fixture(scope="module")
def quality_data():
    rng = np.random.default_rng(23)
    cube = culture_cube(rng, 50)
    # End-of-batch quality driven by the final density and the lactate made on the way.
    quality = 2.0 * cube[:, -1, 0] - 1.5 * cube[:, 40, 2] + rng.normal(0, 0.2, 50)
    lots = [f"B{i:02d}" for i in range(50)]
    return cube, pd.Series(quality, index=lots, name="potency"), lots


def test_batch_level_model_predicts_quality_from_the_whole_batch(quality_data):
    cube, quality, lots = quality_data
    model = BatchLevelModel().fit(cube_as_long(cube[:40], lots[:40]), quality)
    predicted = model.predict(cube_as_long(cube[40:], lots[40:]))
    assert list(predicted.columns) == ["potency"]
    assert list(predicted.index) == lots[40:]
    error = predicted["potency"] - quality[lots[40:]]
    assert np.sqrt(np.mean(error**2)) < 0.6 * quality.std()


@pytest.mark.parametrize("impute", ["tsr", "zero", "current"])
def test_prediction_from_partial_batches(quality_data, impute):
    cube, quality, lots = quality_data
    model = BatchLevelModel(n_components=3, impute=impute).fit(
        cube_as_long(cube[:40], lots[:40]), quality
    )
    test = cube_as_long(cube[40:], lots[40:])
    half = model.predict(test, up_to=45)
    truncated = model.predict(test[test["t"] <= 45])
    pd.testing.assert_frame_equal(half, truncated)  # up_to is the same as the data so far
    rmse = np.sqrt(np.mean((half["potency"] - quality[lots[40:]]) ** 2))
    if impute == "tsr":
        # Trimmed score regression uses the correlation between past and future.
        assert rmse < 0.6 * quality.std()


def test_tsr_beats_zero_future_early_in_the_batch(quality_data):
    cube, quality, lots = quality_data
    data = cube_as_long(cube[:40], lots[:40])
    test = cube_as_long(cube[40:], lots[40:])
    errors = {}
    for impute in ("tsr", "zero"):
        model = BatchLevelModel(n_components=3, impute=impute).fit(data, quality)
        pred = model.predict(test, up_to=35)["potency"]
        errors[impute] = np.sqrt(np.mean((pred - quality[lots[40:]]) ** 2))
    assert errors["tsr"] <= errors["zero"]


def test_batch_level_diagnosis_flags_faulty_batches(quality_data):
    cube, _, _lots = quality_data
    model = BatchLevelModel(n_components=3).fit(cube)
    rng = np.random.default_rng(29)
    faulty = np.stack([culture_batch(rng, fault="feed", onset=ONSET) for _ in range(5)])
    report = model.diagnose(faulty)
    assert report["alarm"].all()
    assert all("glucose" in tops or "x1" in tops for tops in report["top_variables"])
    normal = model.diagnose(cube[:10])
    assert normal["alarm"].mean() <= 0.2
    partial = model.diagnose(faulty, up_to=ONSET + 8)
    assert partial["alarm"].mean() >= 0.6
    assert (partial["t"] == ONSET + 8).all()


def test_predict_without_quality_is_refused(quality_data):
    cube, _, _ = quality_data
    with pytest.raises(ValidationFailed, match="fitted with end-of-batch quality"):
        BatchLevelModel(n_components=2).fit(cube).predict(cube[:2])


def test_batch_models_with_aligners_pickle_and_clone(quality_data):
    from sklearn.base import clone

    from saisei.analytics.mvda import DTWAligner

    cube, quality, lots = quality_data
    data = cube_as_long(cube[:20], lots[:20])
    model = BatchLevelModel(n_components=2, aligner=DTWAligner(n_iter=1)).fit(data, quality)
    again = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(again.predict(data, up_to=30), model.predict(data, up_to=30))
    fresh = clone(model)
    assert fresh.get_params()["n_components"] == 2
    assert not hasattr(fresh, "model_")
