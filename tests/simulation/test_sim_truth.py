"""Ground truth: faults, process changes, effects, outliers and the design-space evaluator."""

from __future__ import annotations

import json

import pytest

from saisei.errors import ValidationFailed
from saisei.simulation import (
    SimulationResult,
    default_programme,
    parse_faults,
    probability_in_spec,
    simulate,
)
from saisei.simulation._programme import PROGRAMMES


def test_truth_is_json_and_names_every_fault_and_change(msc_result: SimulationResult) -> None:
    truth = json.loads(msc_result.truth_json())
    assert [f["kind"] for f in truth["faults"]] == [
        "contamination",
        "freezer_failure",
        "shipment_room_temperature",
        "ph_drift",
    ]
    assert truth["faults"][0]["onset_h"] == 100.0
    assert "sterility" in truth["faults"][0]["affected_variables"]
    (change,) = truth["process_changes"]
    assert change["from_batch"] == 6
    assert change["shifts"]["potency"] < 0
    effects = truth["factor_effects"]["msc"]
    assert effects["post_thaw_viability"]["dmso_exposure_time"]["slope_per_unit"] < 0
    assert effects["potency"]["donor_age"]["slope_per_unit"] < 0
    # Dissolved oxygen far above critical hardly matters: a near-null factor.
    assert abs(effects["post_thaw_viability"]["dissolved_oxygen"]["effect_across_nor"]) < 0.1
    shipments = truth["outliers"]["msc"]["shipments"]
    assert any(s["left_at_room_temperature"] for s in shipments)
    assert len(truth["batches"]["msc"]) == 8
    assert truth["design_space"]["msc"]["factors"] == ["agitation", "cooling_rate"]


def test_probability_in_spec_is_lower_far_outside_the_nor() -> None:
    at_target = probability_in_spec("aav", {}, n=200, seed=1)
    bad_ratio = probability_in_spec("aav", {"pei_dna_ratio": 0.7}, n=200, seed=1)
    assert 0 <= bad_ratio < at_target <= 1
    assert at_target > 0.6


def test_probability_in_spec_refuses_unknown_set_points() -> None:
    with pytest.raises(ValidationFailed, match="Set-points of aav must be among"):
        probability_in_spec("aav", {"agitation": 70})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("meltdown@2", "The fault kind must be one of"),
        ("contamination", "kind@BATCH or kind@BATCH:HOURS"),
        ("contamination@99", r"must be in 1..5"),
        ("contamination@x", "must be an integer"),
        ("contamination@2:-4", "must be >= 0 h"),
    ],
)
def test_bad_fault_specifications_are_refused(spec: str, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        parse_faults(spec, 5)


def test_simulate_refuses_bad_arguments() -> None:
    with pytest.raises(ValidationFailed, match="The product must be one of msc, cart, aav"):
        simulate("ipsc", 3, 1)
    with pytest.raises(ValidationFailed, match="number of batches must be an integer"):
        simulate("msc", 0, 1)
    with pytest.raises(ValidationFailed, match="--process-change-at must be a batch in 2..3"):
        simulate("aav", 3, 1, process_change_at=7)
    with pytest.raises(ValidationFailed, match="AAV process has no inbound shipment"):
        simulate("aav", 3, 1, faults="freezer_failure@1")


def test_the_full_programme_is_the_documented_plant() -> None:
    # docs/simulator.md: 150 MSC batches with the medium change at batch 100, 40 CAR-T, 20 AAV
    plan = {product: (n, change) for product, n, change, _faults in PROGRAMMES["full"]}
    assert plan == {"msc": (150, 100), "cart": (40, None), "aav": (20, None)}
    with pytest.raises(ValidationFailed, match="size must be one of full, small. Got 'huge'"):
        default_programme(3, size="huge")


def test_default_programme_has_the_demo_shape() -> None:
    # the small programme has the full one's shape (docs/simulator.md), in a few lots
    result = default_programme(3, size="small")
    batches = result.tables["batches"]
    assert batches["product_type"].value_counts().to_dict() == {"MSC": 8, "CAR-T": 5, "AAV": 4}
    parties = result.tables["parties"]
    assert (parties["party_type"] == "collection_site").sum() == 3
    assert (parties["party_type"] == "intermediary").sum() == 1
    assert (parties["party_type"] == "manufacturer").sum() == 1
    assert result.truth["process_changes"][0]["from_batch"] == 4
    assert len(result.truth["faults"]) >= 5
    assert batches["lot"].is_unique
    # the newest three lots of each product await disposition (docs/simulator.md)
    held = result.truth["awaiting_disposition"]
    for product, lots in held.items():
        newest = batches[batches["lot"].str.startswith(product.upper())].tail(3)
        assert list(newest["lot"]) == lots
    quarantined = batches[batches["status"] == "quarantine"]
    assert sorted(quarantined["lot"]) == sorted(lot for lots in held.values() for lot in lots)
    custody = result.tables["custody_events"]
    held_cois = set(quarantined["coi"].dropna())
    decided = {"qc_disposition", "release", "shipment_to_clinic", "receipt_at_clinic"}
    assert not (custody["coi"].isin(held_cois) & custody["event_type"].isin(decided)).any()
    shipments = result.tables["shipments"]
    assert not shipments["subject_ref"].isin(quarantined["lot"]).any()
    # the decided lots keep their QC disposition, with its outcome
    dispositions = custody[custody["event_type"] == "qc_disposition"]
    assert set(dispositions["qc_disposition"]) == {"approved", "rejected"}
    # the custody fault: the newest MSC lot's chain has one hand-over fewer than the others
    (fault,) = result.truth["custody_faults"]
    assert fault["lot"] == held["msc"][-1]
    hand_overs = custody[custody["event_type"] == "hand_over"].groupby("coi").size()
    msc_cois = batches.loc[batches["product_type"] == "MSC", "coi"]
    assert hand_overs[fault["coi"]] == 1
    assert (hand_overs[msc_cois[msc_cois != fault["coi"]]] == 2).all()
