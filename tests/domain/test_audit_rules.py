"""Audit tags and the hash of one chain link."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saisei.domain.audit import GENESIS_HASH, AuditRecord, canonical_json, chain_hash, make_tag
from saisei.errors import ValidationFailed

RECORD = AuditRecord(
    seq=1,
    tag="system:home:initialise",
    actor="system",
    occurred_at=datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC),
    entity_type="home",
    entity_id="/data",
    old_values="{}",
    new_values='{"a":1}',
    reason=None,
    prev_hash=GENESIS_HASH,
)


def test_hash_is_sha256_of_the_canonical_document() -> None:
    # The document written out by hand: keys sorted, no spaces, UTC ISO 8601 time.
    document = (
        '{"actor":"system","entity_id":"/data","entity_type":"home",'
        '"new_values":"{\\"a\\":1}","occurred_at":"2026-01-02T03:04:05.600000+00:00",'
        '"old_values":"{}","prev_hash":"' + "0" * 64 + '","reason":null,"seq":1,'
        '"tag":"system:home:initialise"}'
    )
    assert chain_hash(RECORD) == hashlib.sha256(document.encode()).hexdigest()


def test_same_instant_in_another_zone_hashes_the_same() -> None:
    tokyo = RECORD.occurred_at.astimezone(timezone(timedelta(hours=9)))
    assert chain_hash(RECORD) == chain_hash(AuditRecord(**{**vars(RECORD), "occurred_at": tokyo}))


@given(
    field=st.sampled_from(["seq", "tag", "actor", "entity_id", "new_values", "reason", "prev_hash"])
)
def test_any_field_change_changes_the_hash(field: str) -> None:
    changed = {
        "seq": 2,
        "tag": "cli:home:initialise",
        "actor": "x",
        "entity_id": "/other",
        "new_values": '{"a":2}',
        "reason": "r",
        "prev_hash": "1" * 64,
    }[field]
    assert chain_hash(AuditRecord(**{**vars(RECORD), field: changed})) != chain_hash(RECORD)


def test_tags_are_three_lower_case_parts() -> None:
    assert make_tag("import", "qc_result", "create") == "import:qc_result:create"
    with pytest.raises(ValidationFailed, match="audit tag subject must be lower-case"):
        make_tag("cli", "Batch", "create")
    with pytest.raises(ValidationFailed, match="Got 'a:b'"):
        make_tag("cli", "batch", "a:b")


def test_canonical_json_refuses_nan() -> None:
    with pytest.raises(ValueError, match="(?i)out of range float"):
        canonical_json({"x": float("nan")})
