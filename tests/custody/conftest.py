"""Fixtures of the custody tests: a store with a small supply chain and an event recorder."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from custody_helpers import COI, T0, Recorder, setup_chain

from saisei.custody.events import RecordedEvent, record_event
from saisei.storage.store import Store


@pytest.fixture
def chain_store(store: Store) -> Store:
    """The store with four qualified parties, a donor, chain ``COI`` and collection ``DIN``."""
    setup_chain(store)
    return store


@pytest.fixture
def record(chain_store: Store) -> Recorder:
    """Record one event on chain ``COI`` (hours after ``T0``)."""

    def _record(event_type: str, party: str, hours: float, **kwargs: Any) -> RecordedEvent:
        return record_event(
            chain_store,
            coi=COI,
            event_type=event_type,
            actor="op.test",
            party=party,
            occurred_at=T0 + timedelta(hours=hours),
            now=T0 + timedelta(hours=hours, minutes=5),
            **kwargs,
        )

    return _record
