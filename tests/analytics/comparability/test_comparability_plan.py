"""The study-plan value types and evaluate_plan."""

from __future__ import annotations

import json
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.weightstats import ttost_paired

from saisei.analytics.comparability import (
    ComparabilityPlan,
    CqaCriterion,
    LotSelection,
    Tier,
    Verdict,
    evaluate_plan,
    hotelling_t2,
    tost_power,
    tost_power_estimated_margin,
)
from saisei.errors import ValidationFailed

PRE = LotSelection(process_versions=("v1",))
POST = LotSelection(process_versions=("v2",), produced_from=date(2025, 1, 1))


def _plan(*cqas: CqaCriterion, **kwargs) -> ComparabilityPlan:
    return ComparabilityPlan(name="medium change", cqas=cqas, reference_lots=PRE,
                             test_lots=POST, **kwargs)  # fmt: skip


# --- value types -------------------------------------------------------------------------


def test_criterion_defaults_follow_the_tiered_conventions():
    criterion = CqaCriterion("viability", tier=1)
    assert criterion.tier is Tier.EQUIVALENCE
    assert (criterion.margin, criterion.margin_k, criterion.alpha) == (None, 1.5, 0.05)
    assert (criterion.range_k, criterion.min_fraction) == (3.0, 0.9)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tier": 4}, r"The 'tier' field of CqaCriterion must be 1 \(equivalence\), 2 \(quality "
         r"range\) or 3 \(graphical\)\. Got 4 instead\."),
        ({"margin": -1.0}, r"The 'margin' field of CqaCriterion must be None or a finite float "
         r"> 0\. Got -1\.0 instead\."),
        ({"alpha": 0.5}, r"The 'alpha' field of CqaCriterion must be a float in \(0, 0\.5\)"),
        ({"min_fraction": 0.0}, r"The 'min_fraction' field of CqaCriterion must be a float in "
         r"\(0, 1\]"),
        ({"margin_k": math.inf}, r"The 'margin_k' field of CqaCriterion must be a finite float"),
        ({"name": " "}, r"The 'name' field of CqaCriterion must be a non-empty string"),
        ({"equal_var": "yes"}, r"The 'equal_var' field of CqaCriterion must be True or False"),
    ],
)  # fmt: skip
def test_criterion_refuses_invalid_fields(kwargs, match):
    values = {"name": "viability", "tier": 1, **kwargs}
    with pytest.raises(ValidationFailed, match=match):
        CqaCriterion(**values)


def test_lot_selection_by_rule_and_by_list():
    assert PRE.matches("L1", process_version="v1")
    assert not PRE.matches("L1", process_version="v2")
    assert POST.matches("L9", process_version="v2", produced_on=date(2025, 1, 1))  # inclusive
    assert not POST.matches("L9", process_version="v2", produced_on=date(2024, 12, 31))
    assert not POST.matches("L9", process_version="v2")  # no date: criterion not met
    listed = LotSelection(lot_ids=("L1", "L2"))
    assert listed.matches("L2") and not listed.matches("L3")
    assert listed.describe() == "lots L1, L2"
    assert POST.describe() == "process version v2, produced 2025-01-01 to ..."


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, r"must name lots, process versions or a production-date window"),
        ({"lot_ids": ("L1",), "process_versions": ("v1",)}, r"either by an explicit 'lot_ids' "
         r"list or by process version and production dates, not both"),
        ({"produced_from": date(2025, 2, 1), "produced_to": date(2025, 1, 1)},
         r"must not be after 'produced_to'\. Got 2025-02-01 > 2025-01-01"),
        ({"process_versions": "v1"}, r"The 'process_versions' field of LotSelection must be a "
         r"sequence of non-empty strings"),
        ({"produced_from": "2025-01-01"}, r"must be a datetime\.date or None"),
    ],
)  # fmt: skip
def test_lot_selection_refuses_invalid_definitions(kwargs, match):
    with pytest.raises(ValidationFailed, match=match):
        LotSelection(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cqas": ()}, r"The 'cqas' field of ComparabilityPlan must be a non-empty sequence"),
        ({"cqas": (CqaCriterion("a", 1), CqaCriterion("a", 2))}, r"CQAs with unique names\. "
         r"Got \"duplicates \['a'\]\""),
        ({"design": "crossover"}, r"The 'design' field of ComparabilityPlan must be "
         r"'independent' or 'paired'"),
        ({"multivariate": ("a", "zz")}, r"The 'multivariate' field of ComparabilityPlan must be "
         r"empty or two or more distinct CQA names"),
        ({"multivariate": ("a",)}, r"two or more distinct CQA names"),
        ({"reference_lots": "v1"}, r"The 'reference_lots' field of ComparabilityPlan must be a "
         r"LotSelection"),
    ],
)  # fmt: skip
def test_plan_refuses_invalid_definitions(kwargs, match):
    values = {"name": "s", "cqas": (CqaCriterion("a", 1), CqaCriterion("b", 2)),
              "reference_lots": PRE, "test_lots": POST, **kwargs}  # fmt: skip
    with pytest.raises(ValidationFailed, match=match):
        ComparabilityPlan(**values)


def test_plan_round_trips_through_json():
    plan = _plan(
        CqaCriterion("viability", 1, unit="%", margin=2.0, assumed_difference=0.5),
        CqaCriterion("cd73", 2, range_k=2.5, min_fraction=1.0),
        CqaCriterion("morphology", 3),
        multivariate=("viability", "cd73"),
        description="New serum-free medium",
    )
    data = json.loads(json.dumps(plan.to_dict()))
    assert data["cqas"][0]["tier"] == 1 and data["test_lots"]["produced_from"] == "2025-01-01"
    assert ComparabilityPlan.from_dict(data) == plan
    assert list(data) == ["name", "description", "design", "reference_lots", "test_lots", "cqas",
                          "multivariate"]  # fmt: skip
    assert plan.cqa("cd73").range_k == 2.5
    with pytest.raises(ValidationFailed, match=r"The plan 'medium change' has no CQA 'x'"):
        plan.cqa("x")


@settings(max_examples=20, deadline=None)
@given(
    names=st.lists(st.text(alphabet="abcXYZ _-7", min_size=1, max_size=8).filter(str.strip),
                   min_size=1, max_size=4, unique=True),
    tiers=st.lists(st.sampled_from([1, 2, 3]), min_size=4, max_size=4),
    margin=st.one_of(st.none(), st.floats(0.01, 100)),
    ids=st.lists(st.text(alphabet="L0123", min_size=1, max_size=5), min_size=1, max_size=3),
)  # fmt: skip
def test_plan_round_trip_property(names, tiers, margin, ids):
    cqas = tuple(CqaCriterion(n, t, margin=margin) for n, t in zip(names, tiers, strict=False))
    plan = ComparabilityPlan("p", cqas, LotSelection(lot_ids=tuple(ids)), POST, design="paired")
    assert ComparabilityPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan


def test_from_dict_refuses_unknown_and_missing_keys():
    data = _plan(CqaCriterion("a", 1)).to_dict()
    with pytest.raises(ValidationFailed, match=r"Got unknown key\(s\) \['colour'\]"):
        ComparabilityPlan.from_dict({**data, "colour": "red"})
    del data["test_lots"]
    with pytest.raises(ValidationFailed, match=r"missing key\(s\) \['test_lots'\]"):
        ComparabilityPlan.from_dict(data)


# --- evaluate_plan ------------------------------------------------------------------------


@pytest.fixture
def study(rng):
    reference = pd.DataFrame({
        "viability": rng.normal(90.0, 2.0, 10),
        "potency": rng.normal(100.0, 5.0, 10),
        "cd73": rng.normal(98.0, 0.5, 10),
        "morphology": rng.normal(1.0, 0.1, 10),
    })  # fmt: skip
    test = pd.DataFrame({
        "viability": rng.normal(90.2, 2.0, 8),
        "potency": rng.normal(130.0, 5.0, 8),  # shifted by 6 SD: must fail
        "cd73": rng.normal(98.0, 0.5, 8),
        "morphology": rng.normal(1.0, 0.1, 8),
    })  # fmt: skip
    return reference, test


def test_each_tier_runs_its_own_test(study):
    reference, test = study
    plan = _plan(
        CqaCriterion("viability", 1, margin=5.0),
        CqaCriterion("potency", 1),
        CqaCriterion("cd73", 2),
        CqaCriterion("morphology", 3),
    )
    result = evaluate_plan(plan, reference, test)
    viability, potency, cd73, morphology = result.outcomes
    assert viability.verdict is Verdict.PASS and viability.margin_source == "plan"
    assert potency.verdict is Verdict.FAIL
    # Margin 1.5 x SD_R computed here with numpy (ddof 1).
    assert potency.margin == pytest.approx(1.5 * np.std(reference["potency"], ddof=1))
    assert potency.margin_source == "1.5 x SD_R"
    # Tier 1 interval: Welch 90 % CI written out with scipy.
    ref, new = reference["viability"].to_numpy(), test["viability"].to_numpy()
    v1, v2 = ref.var(ddof=1) / 10, new.var(ddof=1) / 8
    dof = (v1 + v2) ** 2 / (v1**2 / 9 + v2**2 / 7)
    half = stats.t.ppf(0.95, dof) * math.sqrt(v1 + v2)
    diff = new.mean() - ref.mean()
    assert (viability.tost.ci_low, viability.tost.ci_high) == pytest.approx(
        (diff - half, diff + half), rel=1e-10
    )
    assert viability.power == pytest.approx(
        tost_power(margin=5.0, sigma=float(np.std(ref, ddof=1)), n_reference=10, n_test=8)
    )
    # Tier 2 range: mean_R +/- 3 SD_R, by hand.
    cd = reference["cd73"]
    assert cd73.quality_range.low == pytest.approx(cd.mean() - 3 * cd.std(ddof=1))
    assert cd73.verdict is Verdict.PASS and cd73.tost is None
    assert morphology.verdict is Verdict.DESCRIPTIVE
    assert morphology.tost is None and morphology.quality_range is None
    assert not result.passed  # potency failed
    frame = result.to_frame()
    assert list(frame["verdict"]) == ["pass", "fail", "pass", "descriptive"]
    assert "criteria NOT all met" in result.summary()


def test_plan_passes_when_all_decisive_cqas_pass(study):
    reference, test = study
    result = evaluate_plan(_plan(CqaCriterion("viability", 1, margin=5.0),
                                 CqaCriterion("morphology", 3)), reference, test)  # fmt: skip
    assert result.passed and "all tier 1 and tier 2 criteria met" in result.summary()


def test_missing_values_are_left_out_and_counted(study):
    reference, test = study
    reference.loc[[0, 3], "viability"] = np.nan
    outcome = evaluate_plan(_plan(CqaCriterion("viability", 1, margin=5.0)), reference,
                            test).outcome("viability")  # fmt: skip
    assert (outcome.n_reference, outcome.n_test) == (8, 8)
    assert outcome.mean_reference == pytest.approx(reference["viability"].mean())


def test_mappings_of_arrays_are_accepted():
    plan = _plan(CqaCriterion("a", 2))
    result = evaluate_plan(plan, {"a": [9.0, 10.0, 11.0]}, {"a": [10.0, 12.0]})
    assert result.outcome("a").quality_range.high == pytest.approx(13.0)  # 10 + 3 x 1


def test_unusable_cqa_is_inconclusive_not_passed():
    plan = _plan(CqaCriterion("a", 1), CqaCriterion("b", 2))
    reference = {"a": [5.0, 5.0, 5.0], "b": [1.0, 2.0, 3.0]}
    result = evaluate_plan(plan, reference, {"a": [5.0, 5.0], "b": [2.0, 2.0]})
    outcome = result.outcome("a")
    assert outcome.verdict is Verdict.INCONCLUSIVE and "SD_R cannot be estimated" in outcome.note
    assert not result.passed


def test_missing_cqa_column_is_refused(study):
    reference, test = study
    with pytest.raises(ValidationFailed, match=r"The 'test_values' given to evaluate_plan must "
                       r"have a column for every CQA of the plan 'medium change'\. Got no column "
                       r"for \['viability'\]\."):  # fmt: skip
        evaluate_plan(
            _plan(CqaCriterion("viability", 1)), reference, test.drop(columns="viability")
        )
    with pytest.raises(ValidationFailed, match=r"must be a DataFrame or a mapping"):
        evaluate_plan(_plan(CqaCriterion("viability", 1)), [1, 2], test)


def test_paired_plan_matches_pairs_by_label(rng):
    donors = [f"D{i}" for i in range(8)]
    level = rng.normal(70.0, 8.0, 8)  # donor-to-donor variation, cancels within pairs
    reference = pd.DataFrame({"viability": level + rng.normal(0, 1, 8)}, index=donors)
    test = pd.DataFrame({"viability": level + 0.3 + rng.normal(0, 1, 8)}, index=donors)
    test = pd.concat([test.iloc[::-1], pd.DataFrame({"viability": [50.0]}, index=["D99"])])
    plan = _plan(CqaCriterion("viability", 1, margin=3.0), design="paired")
    result = evaluate_plan(plan, reference, test)
    outcome = result.outcome("viability")
    assert outcome.tost.method == "paired TOST" and outcome.n_test == 8
    assert "0 reference and 1 test rows had no partner" in result.notes[0]
    # statsmodels' ttost_paired on the pairs aligned here by donor.
    aligned = test.loc[donors, "viability"].to_numpy()
    sm_p, _, _ = ttost_paired(aligned, reference["viability"].to_numpy(), -3.0, 3.0)
    assert outcome.tost.pvalue == pytest.approx(sm_p, rel=1e-9)
    assert outcome.verdict is Verdict.PASS  # within-pair SD ~1.4 against a margin of 3


def test_multivariate_supporting_view(study):
    reference, test = study
    plan = _plan(CqaCriterion("viability", 1), CqaCriterion("cd73", 2),
                 multivariate=("viability", "cd73"))  # fmt: skip
    result = evaluate_plan(plan, reference, test)
    expected = hotelling_t2(reference[["viability", "cd73"]], test[["viability", "cd73"]])
    assert result.hotelling.t2 == pytest.approx(expected.t2)
    assert result.pca.scores.shape == (18, 2)
    assert "Supporting: Hotelling T2" in result.summary()
    few = evaluate_plan(plan, reference.iloc[:1], test.iloc[:1])
    assert few.hotelling is None and few.notes[0].startswith("Multivariate view not computed")


def test_pass_rate_over_simulated_studies_matches_the_power_calculation():
    # "Done when" of issue 8 in miniature: an unshifted CQA passes at the rate the power
    # calculation predicts (fixed margin: tost_power; margin 1.5 x SD_R of the same lots:
    # tost_power_estimated_margin), and a CQA shifted beyond the margin passes at most at alpha.
    gen = np.random.default_rng(7)
    plan = _plan(
        CqaCriterion("same", 1, margin=1.5, equal_var=True),
        CqaCriterion("same_k", 1),
        CqaCriterion("shifted", 1, margin=1.5, equal_var=True),
    )
    studies, passes = 400, {"same": 0, "same_k": 0, "shifted": 0}
    for _ in range(studies):
        reference = {name: gen.normal(0, 1, 6) for name in passes}
        test = {"same": gen.normal(0, 1, 6), "same_k": gen.normal(0, 1, 6),
                "shifted": gen.normal(2.0, 1, 6)}  # fmt: skip
        result = evaluate_plan(plan, reference, test)
        for name in passes:
            passes[name] += result.outcome(name).verdict is Verdict.PASS
    predicted = {
        "same": tost_power(margin=1.5, sigma=1.0, n_reference=6, n_test=6),
        "same_k": tost_power_estimated_margin(n_reference=6, n_test=6),
    }
    assert result.outcome("same_k").power == pytest.approx(predicted["same_k"])
    for name, expected in predicted.items():
        tolerance = 4.5 * math.sqrt(expected * (1 - expected) / studies)
        assert passes[name] / studies == pytest.approx(expected, abs=tolerance)
    assert passes["shifted"] / studies <= 0.05 + 4.5 * math.sqrt(0.05 * 0.95 / studies)
