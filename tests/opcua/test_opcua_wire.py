"""The acquirer against an OPC UA server on loopback: quality flags, duplicates, security."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
from pathlib import Path

import pytest
from asyncua import ua
from asyncua.crypto import cert_gen
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from opcua_helpers import free_port

from saisei.errors import ConfigurationError
from saisei.ingestion.opcua import (
    ConnectionEvent,
    EquipmentServer,
    OpcUaAcquirer,
    Playback,
    Reading,
    parse_mapping,
)

EMPTY = Playback(lot="WIRE-1", channels=(), stage_offsets_s={})
STAGE = "expansion"


def _certificate(
    folder: Path, name: str, uri: str, use: x509.ObjectIdentifier
) -> tuple[Path, Path]:
    key = cert_gen.generate_private_key()
    cert = cert_gen.generate_self_signed_app_certificate(
        key,
        name,
        {},
        [x509.UniformResourceIdentifier(uri), x509.DNSName(socket.gethostname())],
        [use],
        days=2,
    )
    cert_path, key_path = folder / f"{name}.der", folder / f"{name}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    key_path.write_bytes(cert_gen.dump_private_key_as_pem(key))
    return cert_path, key_path


class _Sink:
    def __init__(self) -> None:
        self.readings: list[Reading] = []
        self.events: list[ConnectionEvent] = []

    async def __call__(self, readings: list[Reading], events: list[ConnectionEvent]) -> None:
        self.readings.extend(readings)
        self.events.extend(events)


async def _write_samples(server: EquipmentServer) -> list[dt.datetime]:
    await asyncio.sleep(0.8)  # subscribed by now
    stamps = [await server.write(STAGE, "pH", 7.1)]
    stamps.append(
        await server.write(
            STAGE,
            "pH",
            6.2,
            status=ua.StatusCode(ua.UInt32(ua.StatusCodes.UncertainLastUsableValue)),
        )
    )
    stamps.append(
        await server.write(
            STAGE, "pH", 0.0, status=ua.StatusCode(ua.UInt32(ua.StatusCodes.BadSensorFailure))
        )
    )
    stamps.append(await server.write(STAGE, "pH", 7.0))
    # A value sent with a source timestamp already seen is a duplicate: not stored twice.
    await server.write(STAGE, "pH", 7.5, timestamp=stamps[-1])
    return stamps


def test_bad_and_uncertain_values_are_flagged_not_dropped_over_a_secured_link(
    tmp_path: Path,
) -> None:
    server_cert, server_key = _certificate(
        tmp_path, "plant", "urn:freeopcua:python:server", ExtendedKeyUsageOID.SERVER_AUTH
    )
    client_cert, client_key = _certificate(
        tmp_path, "saisei", "urn:saisei:acquisition", ExtendedKeyUsageOID.CLIENT_AUTH
    )
    mapping = parse_mapping(
        {
            "sampling_interval_ms": 50,
            "publishing_interval_ms": 50,
            "stages": {STAGE: {"start": "2026-01-01T00:00:00Z"}},
            "security": {
                "policy": "Basic256Sha256",
                "mode": "SignAndEncrypt",
                "certificate": str(client_cert),
                "private_key": str(client_key),
                "username": "acq",
                "password_env": "UNUSED_IN_THIS_TEST",
            },
            "nodes": [{"node": "ns=2;s=BR01.expansion.pH", "stage": STAGE, "variable": "pH"}],
        }
    )
    server = EquipmentServer(
        EMPTY,
        port=free_port(),
        extra_channels=[(STAGE, "pH", None)],
        certificate=server_cert,
        private_key=server_key,
        users={"acq": "s3cret"},
        allow_anonymous=False,
    )
    sink = _Sink()

    async def main() -> list[dt.datetime]:
        async with server:
            acquirer = OpcUaAcquirer(
                server.endpoint, mapping, on_batch=sink, flush_seconds=0.2, password="s3cret"
            )
            writer = asyncio.create_task(_write_samples(server))
            await acquirer.run(duration_s=2.0)
            refused = OpcUaAcquirer(
                server.endpoint, mapping, on_batch=sink, password="wrong", connect_timeout_s=3
            )
            with pytest.raises(ConfigurationError, match="refused the connection"):
                await refused.run(duration_s=5)
            return await writer

    stamps = asyncio.run(main())
    assert [r.timestamp for r in sink.readings] == stamps
    assert [r.quality for r in sink.readings] == [
        "good",
        "uncertain:UncertainLastUsableValue",
        "bad:BadSensorFailure",
        "good",
    ]
    # Part 4, 7.7.1: a Bad value carries no value; it is kept, flagged, with no number.
    assert [r.value for r in sink.readings] == [7.1, 6.2, None, 7.0]
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert sink.readings[0].t_h == pytest.approx((stamps[0] - start).total_seconds() / 3600)
    assert sink.events[0].kind == "connected"
    assert sink.events[0].detail["security"] == "Basic256Sha256"


def test_an_unreachable_server_or_unknown_node_is_a_clear_error() -> None:
    mapping = parse_mapping({"nodes": [{"node": "ns=2;s=Nope", "stage": STAGE, "variable": "pH"}]})

    async def unreachable() -> None:
        await OpcUaAcquirer(
            f"opc.tcp://127.0.0.1:{free_port()}", mapping, on_batch=_Sink(), connect_timeout_s=0.5
        ).run(duration_s=5)

    with pytest.raises(ConfigurationError, match="Cannot reach the OPC UA server"):
        asyncio.run(unreachable())

    async def unknown_node() -> None:
        async with EquipmentServer(
            EMPTY, port=free_port(), extra_channels=[(STAGE, "pH", None)]
        ) as srv:
            await OpcUaAcquirer(srv.endpoint, mapping, on_batch=_Sink()).run(duration_s=5)

    with pytest.raises(ConfigurationError, match="Mapped node ns=2;s=Nope .* cannot be read"):
        asyncio.run(unknown_node())
    with pytest.raises(ConfigurationError, match="must be an opc.tcp:// URL"):
        OpcUaAcquirer("http://plant", mapping, on_batch=_Sink())
