"""Fixtures of the quality tests: cheap argon2 parameters, users with roles, a small plant."""

from __future__ import annotations

import pytest
from quality_helpers import CHEAP, T0, Plant, add_user

from saisei.domain.enums import BatchStatus, ProductType
from saisei.quality.users import AuthPolicy
from saisei.storage.models import Batch, ProcessDefinition, QualityAttribute, Specification
from saisei.storage.store import Store


@pytest.fixture
def policy() -> AuthPolicy:
    """Default thresholds (lockout 5, 90 days, 15 min) with cheap hashing."""
    return AuthPolicy(**CHEAP)  # type: ignore[arg-type]


@pytest.fixture
def plant(store: Store) -> Plant:
    """An MSC process with release specifications, a lot in quarantine and three users.

    Specifications from shared/docs/domain.md (typical MSC release specifications): viability
    >= 70 % post-thaw (alert below 80 %), CD73 >= 95 % (ISCT 2006), sterility "no growth".
    """
    names = Plant()
    with store.unit_of_work(actor="setup", source="test", reason="test plant") as uow:
        process = ProcessDefinition(
            name=names.process, version=names.version, product_type=ProductType.MSC
        )
        uow.session.add(process)
        uow.flush()
        viability = QualityAttribute(process_id=process.id, name="viability", unit="%")
        cd73 = QualityAttribute(process_id=process.id, name="CD73", unit="%")
        sterility = QualityAttribute(process_id=process.id, name="sterility", unit="-")
        uow.session.add_all([viability, cd73, sterility])
        uow.flush()
        uow.session.add_all(
            [
                Specification(
                    attribute_id=viability.id, purpose="release", lower=70.0, alert_low=80.0
                ),
                Specification(attribute_id=cd73.id, purpose="release", lower=95.0),
                Specification(
                    attribute_id=sterility.id, purpose="release", expected_text="no growth"
                ),
            ]
        )
        uow.session.add(
            Batch(
                lot_number=names.lot,
                product_type=ProductType.MSC,
                process_id=process.id,
                status=BatchStatus.QUARANTINE,
                started_at=T0,
            )
        )
    add_user(store, names.qa, ["qa"], full_name="Aiko Sato")
    add_user(store, names.analyst, ["qc_analyst"], full_name="Ken Ito")
    add_user(store, names.admin, ["admin"], full_name="Yui Kato")
    return names
