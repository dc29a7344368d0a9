"""A small plant for the API and page tests (imported by tests/api and tests/web conftests).

Stored directly as setup (not through the code under test), except the monitoring model and
the shipment evaluation, which are made by their services so that alarms and excursions are
exactly what the application shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from saisei.app import create_app
from saisei.config import Settings
from saisei.custody.shipments import evaluate_shipment
from saisei.domain.enums import (
    BatchStatus,
    DonorType,
    PartyType,
    ProductType,
    QualificationStatus,
    SubjectType,
)
from saisei.quality.users import AuthPolicy
from saisei.services.monitoring import build_model, score_lot
from saisei.storage import migrations
from saisei.storage.engine import make_engine
from saisei.storage.models import (
    Batch,
    ChainOfIdentity,
    Collection,
    Donor,
    Party,
    ProcessDefinition,
    QCResult,
    QualityAttribute,
    Shipment,
    Specification,
    User,
)
from saisei.storage.repositories import quality as quality_repo
from saisei.storage.store import Store

PASSWORD = "correct-horse-42"
#: argon2 at its cheapest so tests run fast (verification reads parameters from the hash).
CHEAP = {"argon2_time_cost": 1, "argon2_memory_kib": 64, "argon2_parallelism": 1}
CHEAP_HASH = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash(PASSWORD)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
COI = "CHA999925000011"
DIN = "A999921123456"  # ICCBBA ST-001's example DIN (domain.md)

#: user id -> (roles, printed name)
USERS: dict[str, tuple[list[str], str]] = {
    "qa.sato": (["qa"], "Aiko Sato"),
    "qc.ito": (["qc_analyst"], "Ken Ito"),
    "op.mori": (["operator"], "Rin Mori"),
    "ps.kimura": (["process_scientist"], "Jun Kimura"),
    "view.abe": (["viewer"], "Mai Abe"),
    "admin.kato": (["admin"], "Yui Kato"),
}


@dataclass(frozen=True)
class Plant:
    """Names of what :func:`build_plant` stored."""

    lot: str = "MSC-0001"
    reference_lots: tuple[str, ...] = tuple(f"MSC-R{i:02d}" for i in range(1, 7))
    model: str = "msc-expansion"
    shipment: str = "SH-EX"
    stage: str = "expansion"


def policy() -> AuthPolicy:
    """Default thresholds with cheap hashing."""
    return AuthPolicy(**CHEAP)  # type: ignore[arg-type]


def _users(store: Store) -> None:
    now = datetime.now(UTC)
    with store.unit_of_work(actor="setup", source="test", reason="test users") as uow:
        for username, (roles, name) in USERS.items():
            user = User(
                username=username,
                full_name=name,
                password_hash=CHEAP_HASH,
                active=True,
                failed_logins=0,
                password_changed_at=now,
                created_at=now,
            )
            user.roles = quality_repo.ensure_roles(uow.session, roles)
            uow.session.add(user)


def _series(lot: str, rng: np.random.Generator, fault: bool, hours: int = 48) -> pd.DataFrame:
    """Temperature, pH and dissolved oxygen every 15 min; a fault drifts temperature from 30 h."""
    t = np.arange(0, hours, 0.25)
    temperature = 37.0 + 0.05 * rng.standard_normal(t.size)
    ph = 7.2 - 0.004 * t + 0.01 * rng.standard_normal(t.size)
    do = 60.0 - 0.3 * t + 0.5 * rng.standard_normal(t.size)
    if fault:
        temperature = temperature + np.where(t > 30, 0.15 * (t - 30), 0.0)
    rows = [
        pd.DataFrame({"variable": name, "t": t, "value": values, "unit": unit})
        for name, values, unit in (
            ("temperature", temperature, "degC"),
            ("pH", ph, "1"),
            ("DO", do, "%"),
        )
    ]
    return pd.concat(rows, ignore_index=True)


def _process_and_lots(store: Store, plant: Plant) -> None:
    """MSC process with release specifications (domain.md: viability >= 70 %, CD73 >= 95 %
    (ISCT 2006), sterility "no growth"), the lot in quarantine and six completed lots."""
    rng = np.random.default_rng(11)
    with store.unit_of_work(actor="setup", source="test", reason="test plant") as uow:
        process = ProcessDefinition(name="MSC-BM", version="2.1", product_type=ProductType.MSC)
        uow.session.add(process)
        uow.flush()
        attributes = {
            name: QualityAttribute(process_id=process.id, name=name, unit=unit)
            for name, unit in (("viability", "%"), ("CD73", "%"), ("sterility", "-"))
        }
        uow.session.add_all(attributes.values())
        uow.flush()
        uow.session.add_all(
            [
                Specification(
                    attribute_id=attributes["viability"].id,
                    purpose="release",
                    lower=70.0,
                    alert_low=80.0,
                ),
                Specification(attribute_id=attributes["CD73"].id, purpose="release", lower=95.0),
                Specification(
                    attribute_id=attributes["sterility"].id,
                    purpose="release",
                    expected_text="no growth",
                ),
            ]
        )
        for i, lot in enumerate((*plant.reference_lots, plant.lot)):
            uow.session.add(
                Batch(
                    lot_number=lot,
                    product_type=ProductType.MSC,
                    process_id=process.id,
                    status=BatchStatus.QUARANTINE if lot == plant.lot else BatchStatus.COMPLETED,
                    started_at=T0 + timedelta(days=7 * i),
                )
            )
            store.timeseries.write_segment(
                uow.session,
                _series(lot, rng, fault=lot == plant.lot),
                subject_ref=lot,
                stage=plant.stage,
            )


def _custody(store: Store, plant: Plant) -> None:
    """Qualified parties, a chain of identity and a 2-8 C shipment with one excursion."""
    with store.unit_of_work(actor="setup", source="test", reason="test custody") as uow:
        parties = {}
        for code, kind in (
            ("HOSP", PartyType.COLLECTION_SITE),
            ("MFG", PartyType.MANUFACTURER),
        ):
            parties[code] = Party(
                code=code,
                name=f"{code} name",
                party_type=kind,
                qualification_status=QualificationStatus.QUALIFIED,
            )
        uow.session.add_all(parties.values())
        donor = Donor(code="PT-001", donor_type=DonorType.AUTOLOGOUS)
        uow.session.add(donor)
        uow.flush()
        chain = ChainOfIdentity(coi=COI, donor_id=donor.id)
        uow.session.add(chain)
        uow.flush()
        uow.session.add(
            Collection(
                din=DIN,
                donor_id=donor.id,
                coi_id=chain.id,
                party_id=parties["HOSP"].id,
                tissue_source="bone_marrow",
                collected_at=T0,
            )
        )
        # 12 readings 5 min apart, three of them at 9 C: one excursion above 8 C.
        temperatures = [5.0] * 4 + [9.0] * 3 + [5.0] * 5
        uow.session.add(
            Shipment(
                code=plant.shipment,
                subject_type=SubjectType.COLLECTION,
                subject_ref=DIN,
                from_party_id=parties["HOSP"].id,
                to_party_id=parties["MFG"].id,
                container_id="BOX-1",
                condition_class="2-8C",
                shipped_at=T0,
                received_at=T0 + timedelta(minutes=60),
            )
        )
        store.timeseries.write_segment(
            uow.session,
            pd.DataFrame(
                {
                    "variable": "temperature",
                    "t": [5 * i / 60 for i in range(12)],
                    "value": temperatures,
                    "unit": "degC",
                    "timestamp": [T0 + timedelta(minutes=5 * i) for i in range(12)],
                }
            ),
            subject_ref=plant.shipment,
            subject_type=SubjectType.SHIPMENT,
        )
    evaluate_shipment(store, "setup", plant.shipment, now=T0 + timedelta(hours=2))


def build_plant(store: Store) -> Plant:
    """Users, the MSC process and lots with series, a monitoring model with alarms on the
    faulty lot, and a quarantined shipment."""
    plant = Plant()
    _users(store)
    _process_and_lots(store, plant)
    build_model(
        store,
        name=plant.model,
        product="MSC",
        stage=plant.stage,
        actor="ps.kimura",
        lots=list(plant.reference_lots),
        n_components=2,
    )
    score_lot(store, plant.lot, model=plant.model, actor="op.mori")
    _custody(store, plant)
    return plant


def make_client(store: Store, home: Path) -> TestClient:
    """A test client of the application over ``store``."""
    return TestClient(create_app(Settings(home=home), store=store, policy=policy()))


def login(client: TestClient, username: str) -> dict[str, str]:
    """Sign in through the API; the Authorization header of the session."""
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def plant_database(folder: Path) -> tuple[Engine, Path]:
    """A migrated SQLite file in ``folder`` holding the committed plant, and its series root."""
    engine = make_engine(f"sqlite:///{folder / 'saisei.db'}")
    migrations.upgrade(engine)
    build_plant(Store(engine, folder / "timeseries"))
    return engine, folder / "timeseries"


@contextmanager
def rolled_back(engine: Engine, root: Path) -> Iterator[Store]:
    """A store on ``engine`` whose every change is rolled back afterwards (as tests/conftest)."""
    connection = engine.connect()
    outer = connection.begin()
    try:
        yield Store(connection, root, join_transaction_mode="create_savepoint")
    finally:
        outer.rollback()
        connection.close()


def add_results(
    store: Store, lots: tuple[str, ...], attribute: str, first: float, step: float
) -> None:
    """A valid QC result of ``attribute`` per lot: ``first``, ``first + step``, ... in order."""
    with store.unit_of_work(actor="setup", source="test", reason=f"{attribute} results") as uow:
        ids = dict(
            uow.session.execute(
                select(Batch.lot_number, Batch.id).where(Batch.lot_number.in_(lots))
            ).all()
        )
        uow.session.add_all(
            QCResult(batch_id=ids[lot], attribute=attribute, value=first + step * i)
            for i, lot in enumerate(lots)
        )
