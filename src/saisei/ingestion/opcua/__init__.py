"""Live acquisition from equipment over OPC UA (asyncua).

- :func:`load_mapping` reads the YAML node mapping (node id -> stage, variable, unit;
  sampling; security policy and credentials);
- :class:`OpcUaAcquirer` subscribes to the mapped nodes, buffers, reconnects with back-off,
  back-fills gaps with HistoryRead, drops duplicates, and hands batches of :class:`Reading`
  to a callback (storage is the caller's business: ``saisei.services.acquisition``);
- :class:`EquipmentServer` is a simulated plant: an OPC UA server that plays a
  :class:`Playback` in real or accelerated time, with history.

See ``docs/live.md``.
"""

from saisei.ingestion.opcua._client import AcquisitionStats, BatchSink, OpcUaAcquirer
from saisei.ingestion.opcua._mapping import (
    SECURITY_MODES,
    SECURITY_POLICIES,
    Mapping,
    NodeMapping,
    Security,
    StageClock,
    load_mapping,
    parse_mapping,
)
from saisei.ingestion.opcua._readings import ConnectionEvent, Reading, quality_of
from saisei.ingestion.opcua._server import EquipmentServer, Playback, PlaybackChannel

__all__ = [
    "SECURITY_MODES",
    "SECURITY_POLICIES",
    "AcquisitionStats",
    "BatchSink",
    "ConnectionEvent",
    "EquipmentServer",
    "Mapping",
    "NodeMapping",
    "OpcUaAcquirer",
    "Playback",
    "PlaybackChannel",
    "Reading",
    "Security",
    "StageClock",
    "load_mapping",
    "parse_mapping",
    "quality_of",
]
