"""Shipments: qualified parties only, logger evaluation, receipt decision, acknowledgement."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from custody_helpers import DIN, T0, add_party, add_shipment

from saisei.custody.parties import list_parties, qualify_party
from saisei.custody.shipments import (
    acknowledge_shipment_excursion,
    create_shipment,
    evaluate_shipment,
    load_specs,
)
from saisei.domain.enums import PartyType, QualificationStatus
from saisei.errors import Conflict, CustodyBreak, NotFound, ValidationFailed
from saisei.storage.models import Shipment
from saisei.storage.store import Store

NOW = datetime(2025, 3, 2, tzinfo=UTC)


def _stored(store: Store, code: str) -> tuple[str, dict[str, object]]:
    with store.reader() as session:
        shipment = session.query(Shipment).filter_by(code=code).one()
        return shipment.status.value, dict(shipment.evaluation)


def test_a_shipment_within_spec_is_accepted(chain_store: Store) -> None:
    add_shipment(chain_store, "SH-OK", [5.0] * 12)
    result = evaluate_shipment(chain_store, "qa.lead", "SH-OK", now=NOW)
    assert result.decision == "accept" and result.status == "accepted"
    logger = result.evaluation["loggers"][0]
    # MKT of a constant temperature is that temperature (closed form of USP <1079.2>).
    assert logger["mkt_c"] == pytest.approx(5.0, abs=1e-9)
    assert (logger["min_c"], logger["max_c"], logger["time_out_of_range_h"]) == (5.0, 5.0, 0.0)
    status, stored = _stored(chain_store, "SH-OK")
    assert status == "accepted" and stored["decision"] == "accept"


def test_an_excursion_quarantines_until_acknowledged_with_a_comment(chain_store: Store) -> None:
    add_shipment(chain_store, "SH-EX", [5.0] * 4 + [9.0] * 3 + [5.0] * 5)
    result = evaluate_shipment(chain_store, "qa.lead", "SH-EX", now=NOW)
    assert result.status == "quarantined"
    (excursion,) = result.evaluation["excursions"]
    # Three 5-minute logging intervals above 8 C: 3 x 5 min = 0.25 h (logger convention).
    assert excursion["duration_h"] == pytest.approx(0.25)
    assert excursion["max_c"] == 9.0 and not excursion["acknowledged"]
    assert any("not acknowledged with a comment" in r for r in result.reasons)
    with pytest.raises(ValidationFailed, match="requires a comment"):
        acknowledge_shipment_excursion(chain_store, "qa.lead", "SH-EX", 1, "  ", now=NOW)
    with pytest.raises(ValidationFailed, match="excursion 2 does not exist"):
        acknowledge_shipment_excursion(chain_store, "qa.lead", "SH-EX", 2, "x", now=NOW)
    done = acknowledge_shipment_excursion(
        chain_store, "qa.lead", "SH-EX", 1, "door opened at hub, 15 min", now=NOW
    )
    assert done.status == "accepted" and done.evaluation["excursions"][0]["acknowledged"]
    status, stored = _stored(chain_store, "SH-EX")
    assert status == "accepted"
    assert stored["acknowledgements"][0]["comment"] == "door opened at hub, 15 min"  # type: ignore[index]
    with pytest.raises(Conflict, match="already acknowledged by qa.lead"):
        acknowledge_shipment_excursion(chain_store, "qa.lead", "SH-EX", 1, "again", now=NOW)
    # Evaluating again with the same specification keeps the acknowledgement.
    assert evaluate_shipment(chain_store, "qa.lead", "SH-EX", now=NOW).status == "accepted"


def test_an_excursion_beyond_its_allowance_stays_quarantined(chain_store: Store) -> None:
    add_shipment(chain_store, "SH-BAD", [5.0] * 2 + [10.0] * 8 + [5.0] * 2)
    result = evaluate_shipment(chain_store, "qa.lead", "SH-BAD", now=NOW)
    # 8 x 5 min = 0.67 h outside 2-8 C, more than the 0.5 h allowed by the default table.
    assert any("0.67 h outside band '2-8 C'" in r for r in result.reasons)
    done = acknowledge_shipment_excursion(chain_store, "qa.lead", "SH-BAD", 1, "seen", now=NOW)
    assert done.status == "quarantined"


def test_a_yaml_file_overrides_the_default_specification(
    chain_store: Store, tmp_path: Path
) -> None:
    specs = tmp_path / "specs.yaml"
    specs.write_text(
        "2-8C:\n  name: lenient 2-8 C\n  rules:\n"
        "    - {band: '2-8 C', low_c: 2, high_c: 8, max_continuous_h: 1.0}\n",
        "utf-8",
    )
    add_shipment(chain_store, "SH-BAD", [5.0] * 2 + [10.0] * 8 + [5.0] * 2)
    table = load_specs(specs)
    assert table["LN2_dry_shipper"].rules[0].band.high_c == -150.0  # defaults kept
    evaluate_shipment(chain_store, "qa.lead", "SH-BAD", specs=table, now=NOW)
    done = acknowledge_shipment_excursion(chain_store, "qa.lead", "SH-BAD", 1, "seen", now=NOW)
    assert done.status == "accepted" and done.evaluation["spec"]["name"] == "lenient 2-8 C"


def test_bad_specification_files_and_classes_are_named(chain_store: Store, tmp_path: Path) -> None:
    specs = tmp_path / "specs.yaml"
    specs.write_text("2-8C:\n  rules: []\n  colour: red\n", "utf-8")
    with pytest.raises(ValidationFailed, match="transport specification '2-8C' is not valid"):
        load_specs(specs)
    add_shipment(chain_store, "SH-X", [5.0] * 3, condition="37C")
    with pytest.raises(ValidationFailed, match="No transport specification for .*'37C'"):
        evaluate_shipment(chain_store, "qa.lead", "SH-X", now=NOW)


def test_a_shipment_without_logger_data_is_quarantined(chain_store: Store) -> None:
    add_shipment(chain_store, "SH-NOLOG", [5.0])
    with chain_store.unit_of_work(actor="setup", source="test", reason="setup") as uow:
        uow.session.query(Shipment).filter_by(code="SH-NOLOG").one().code = "SH-NODATA"
    result = evaluate_shipment(chain_store, "qa.lead", "SH-NODATA", now=NOW)
    assert result.status == "quarantined" and "no logger data for the shipment" in result.reasons


def _create(store: Store, sender: str, receiver: str, code: str = "SH-NEW") -> dict[str, object]:
    return create_shipment(
        store,
        "wh.lead",
        code=code,
        subject_type="collection",
        subject_ref=DIN,
        from_party=sender,
        to_party=receiver,
        shipped_at=T0,
        condition_class="2-8C",
    )


def test_shipments_from_or_to_unqualified_parties_are_refused(chain_store: Store) -> None:
    add_party(chain_store, "NEWCO", PartyType.COURIER, QualificationStatus.PENDING)
    add_party(chain_store, "OLDCO", PartyType.MANUFACTURER, until=date(2025, 2, 28))
    with pytest.raises(CustodyBreak, match="shipment from party NEWCO .* status is 'pending'"):
        _create(chain_store, "NEWCO", "MFG")
    with pytest.raises(CustodyBreak, match="shipment to party OLDCO .* expired on 2025-02-28"):
        _create(chain_store, "HOSP", "OLDCO")
    with pytest.raises(NotFound, match="No party 'NOBODY'"):
        _create(chain_store, "HOSP", "NOBODY")
    with pytest.raises(ValidationFailed, match="needs a reason"):
        qualify_party(chain_store, "qa.lead", "NEWCO", status="qualified", reason=" ")
    qualify_party(
        chain_store,
        "qa.lead",
        "NEWCO",
        status="qualified",
        reason="audit 2025-02 passed",
        qualified_until=date(2099, 1, 1),
    )
    assert _create(chain_store, "NEWCO", "MFG")["status"] == "in_transit"
    with pytest.raises(Conflict, match="already stored"):
        _create(chain_store, "NEWCO", "MFG")
    views = {p.code: p for p in list_parties(chain_store)}
    assert views["NEWCO"].qualification_status == "qualified"
    assert views["NEWCO"].qualified_until == date(2099, 1, 1)


def test_evaluation_quarantines_a_shipment_between_unqualified_parties(
    chain_store: Store,
) -> None:
    add_shipment(chain_store, "SH-OK", [5.0] * 12)
    qualify_party(chain_store, "qa.lead", "MFG", status="suspended", reason="audit finding")
    result = evaluate_shipment(chain_store, "qa.lead", "SH-OK", now=NOW)
    assert result.status == "quarantined"
    assert any("party MFG" in r and "'suspended'" in r for r in result.reasons)


def test_qualify_refuses_unknown_status(chain_store: Store) -> None:
    with pytest.raises(ValidationFailed, match="must be one of pending, qualified"):
        qualify_party(chain_store, "qa.lead", "MFG", status="great", reason="x")
