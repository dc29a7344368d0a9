"""Helpers of the custody tests: reference identities, the standard path, setup rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from saisei.custody.events import RecordedEvent
from saisei.domain.enums import DonorType, PartyType, QualificationStatus, SubjectType
from saisei.storage.models import ChainOfIdentity, Collection, Donor, Party, Shipment
from saisei.storage.store import Store

#: Reference identities (domain.md: A999921123456 is ICCBBA ST-001's DIN, check char 3).
COI = "CHA999925000011"
DIN = "A999921123456"
OTHER_DIN = "G123498654321"  # UK Red Book annex 2 example: a valid DIN of another donation
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Step:
    """One event of the standard path through a chain."""

    event_type: str
    party: str
    kwargs: dict[str, Any]


#: The permitted path from collection to infusion, one hour apart.
PATH: tuple[Step, ...] = (
    Step("collection", "HOSP", {"din": DIN, "scans": [("BAG-1", "=A99992112345663")]}),
    Step("labelling", "HOSP", {"scans": [("BAG-1", "A9999 21 123456 3")]}),
    Step("packing", "HOSP", {"scans": [("BAG-1", DIN)]}),
    Step("hand_over", "COURIER", {"scans": [("BAG-1", DIN)]}),
    Step("receipt", "MFG", {"scans": [("BAG-1", DIN)]}),
    Step("accessioning", "MFG", {"scans": [("BAG-1", DIN)]}),
    Step("processing_start", "MFG", {"scans": [("BAG-1", DIN)]}),
    Step("fill", "MFG", {"scans": [("VIAL-1", COI)]}),
    Step("freeze", "MFG", {}),
    Step("storage", "MFG", {}),
    Step("qc_disposition", "MFG", {"qc_disposition": "approved"}),
    Step("release", "MFG", {}),
    Step("shipment_to_clinic", "MFG", {"scans": [("VIAL-1", COI)]}),
    Step("receipt_at_clinic", "CLINIC", {"scans": [("VIAL-1", COI)]}),
    Step("infusion", "CLINIC", {"scans": [("VIAL-1", COI)], "patient_coi": COI}),
)


def add_party(
    store: Store,
    code: str,
    party_type: PartyType,
    status: QualificationStatus = QualificationStatus.QUALIFIED,
    until: date | None = None,
) -> None:
    """Store a party directly (setup, not the code under test)."""
    with store.unit_of_work(actor="setup", source="test", reason="setup") as uow:
        uow.session.add(
            Party(
                code=code,
                name=f"{code} name",
                party_type=party_type,
                qualification_status=status,
                qualified_until=until,
            )
        )


def setup_chain(store: Store) -> None:
    """Four qualified parties, a donor, chain ``COI`` and collection ``DIN``."""
    for code, kind in (
        ("HOSP", PartyType.COLLECTION_SITE),
        ("COURIER", PartyType.COURIER),
        ("MFG", PartyType.MANUFACTURER),
        ("CLINIC", PartyType.CLINICAL_SITE),
    ):
        add_party(store, code, kind)
    with store.unit_of_work(actor="setup", source="test", reason="setup") as uow:
        donor = Donor(code="PT-001", donor_type=DonorType.AUTOLOGOUS)
        uow.session.add(donor)
        uow.flush()
        chain = ChainOfIdentity(coi=COI, donor_id=donor.id)
        uow.session.add(chain)
        uow.flush()
        hosp = uow.session.query(Party).filter_by(code="HOSP").one()
        uow.session.add(
            Collection(
                din=DIN,
                donor_id=donor.id,
                coi_id=chain.id,
                party_id=hosp.id,
                tissue_source="leukapheresis",
                collected_at=T0,
            )
        )


Recorder = Callable[..., RecordedEvent]


def walk(record: Recorder, steps: int) -> list[RecordedEvent]:
    """Record the first ``steps`` events of :data:`PATH`, one hour apart."""
    return [record(s.event_type, s.party, float(i), **s.kwargs) for i, s in enumerate(PATH[:steps])]


def add_shipment(
    store: Store,
    code: str,
    temperatures_c: list[float],
    *,
    condition: str = "2-8C",
    interval_min: float = 5.0,
) -> None:
    """A shipment HOSP -> MFG with one logger reading every ``interval_min`` minutes."""
    shipped = T0
    n = len(temperatures_c)
    received = shipped + timedelta(minutes=interval_min * n)
    with store.unit_of_work(actor="setup", source="test", reason="setup") as uow:
        parties = {p.code: p.id for p in uow.session.query(Party).all()}
        uow.session.add(
            Shipment(
                code=code,
                subject_type=SubjectType.COLLECTION,
                subject_ref=DIN,
                from_party_id=parties["HOSP"],
                to_party_id=parties["MFG"],
                container_id=f"BOX-{code}",
                condition_class=condition,
                shipped_at=shipped,
                received_at=received,
            )
        )
        times = [shipped + timedelta(minutes=interval_min * i) for i in range(n)]
        store.timeseries.write_segment(
            uow.session,
            pd.DataFrame(
                {
                    "variable": "temperature",
                    "t": [interval_min * i / 60.0 for i in range(n)],
                    "value": temperatures_c,
                    "unit": "degC",
                    "timestamp": times,
                }
            ),
            subject_ref=code,
            subject_type=SubjectType.SHIPMENT,
        )
