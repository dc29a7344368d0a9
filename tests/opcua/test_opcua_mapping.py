"""The YAML node mapping: what is accepted, and what each mistake says."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from asyncua import ua

from saisei.errors import ValidationFailed
from saisei.ingestion.opcua import load_mapping, parse_mapping, quality_of

NODES = [
    {
        "node": "ns=2;s=BR01.expansion.temperature",
        "stage": "expansion",
        "variable": "temperature",
        "unit": "degC",
    },
    {
        "node": "ns=2;s=BR01.freeze.chamber",
        "stage": "freeze",
        "variable": "chamber_temperature",
        "sampling_interval_ms": 250,
    },
]


def _doc(**extra: Any) -> dict[str, Any]:
    return {"sampling_interval_ms": 1000, "nodes": NODES, **extra}


def test_a_mapping_file_is_read_with_its_security_and_stage_clocks(tmp_path: Path) -> None:
    document = _doc(
        security={
            "policy": "Basic256Sha256",
            "mode": "Sign",
            "certificate": "certs/client.der",
            "private_key": "/etc/saisei/client-key.pem",
            "username": "acq",
            "password_env": "OPCUA_PW",
        },
        stages={
            "expansion": {"start": "2026-01-05T02:16:01Z"},
            "freeze": {"start_node": "ns=2;s=F.Start"},
        },
    )
    path = tmp_path / "map.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    mapping = load_mapping(path)
    assert [n.sampling_interval_ms for n in mapping.nodes] == [1000.0, 250.0]
    assert mapping.nodes[0].unit == "degC" and mapping.nodes[1].unit is None
    assert mapping.security.certificate == tmp_path / "certs" / "client.der"
    assert mapping.security.private_key == Path("/etc/saisei/client-key.pem")
    assert mapping.security.mode == "Sign" and mapping.security.secured
    assert mapping.stages["expansion"].start == datetime(2026, 1, 5, 2, 16, 1, tzinfo=UTC)
    assert mapping.stages["freeze"].start_node == "ns=2;s=F.Start"
    assert len(mapping.sha256) == 64
    assert [n.variable for n in mapping.for_stage("freeze").nodes] == ["chamber_temperature"]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (_doc(security={"password": "x"}), "A password must not be written in the mapping"),
        (
            _doc(security={"policy": "Basic128Rsa15"}),
            "security.policy must be one of None, Basic256Sha256",
        ),
        (
            _doc(security={"policy": "Basic256Sha256"}),
            "needs the client's 'certificate' and 'private_key'",
        ),
        (_doc(security={"username": "u"}), "username and security.password_env go together"),
        (
            _doc(sampling_interval_ms=0),
            "'sampling_interval_ms' in the mapping must be a positive number",
        ),
        (
            _doc(stages={"expansion": {"start": "2026-01-05 02:16"}}),
            "must be an ISO 8601 time with its UTC offset",
        ),
        (_doc(extra=1), r"Unknown key\(s\) extra in the top level"),
        ({"nodes": []}, "needs a non-empty 'nodes' list"),
        ({"nodes": [{"node": "ns=2;i=1", "variable": "pH"}]}, r"nodes\[0\] needs 'stage'"),
        ({"nodes": [NODES[0], NODES[0]]}, "is mapped twice"),
        ({"nodes": [NODES[0], {**NODES[0], "node": "ns=2;i=9"}]}, "is mapped to two nodes"),
        ([1, 2], "must be a YAML mapping with a 'nodes' list"),
    ],
)
def test_mapping_mistakes_are_named(document: object, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        parse_mapping(document)


def test_unknown_stage_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="The mapping has no node for stage 'fill'"):
        parse_mapping(_doc()).for_stage("fill")
    with pytest.raises(ValidationFailed, match="Cannot read the mapping file"):
        load_mapping(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("nodes: [", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="is not valid YAML"):
        load_mapping(bad)


@pytest.mark.parametrize(
    ("code", "quality"),
    [
        # Codes from the OPC Foundation's StatusCode.csv (UA-Nodeset); severity = top two
        # bits (OPC UA Part 4, 7.39); info bits (low 16) say how a value was delivered.
        (0x00000000, "good"),
        (0x00000080, "good"),  # Good with the Overflow info bit
        (0x40900000, "uncertain:UncertainLastUsableValue"),
        (0x40940000, "uncertain:UncertainEngineeringUnitsExceeded"),
        (0x808C0000, "bad:BadSensorFailure"),
        (0x808D0480, "bad:BadOutOfService"),
    ],
)
def test_status_codes_become_quality_flags(code: int, quality: str) -> None:
    assert quality_of(ua.StatusCode(ua.UInt32(code))) == quality
