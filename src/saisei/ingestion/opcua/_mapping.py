"""The node mapping: which OPC UA node is which process variable, and how to connect.

A mapping is a YAML file (see ``docs/live.md``)::

    sampling_interval_ms: 1000
    security:
      policy: Basic256Sha256          # None (default), Basic256Sha256, Aes128Sha256RsaOaep,
      mode: SignAndEncrypt            #   Aes256Sha256RsaPss; mode Sign or SignAndEncrypt
      certificate: certs/client.der   # paths are relative to the mapping file
      private_key: certs/client-key.pem
      server_certificate: certs/bioreactor.der
      username: saisei-acquisition
      password_env: SAISEI_OPCUA_PASSWORD
    stages:
      expansion: {start_node: "ns=2;s=BR01.expansion.StartTime"}
    nodes:
      - {node: "ns=2;s=BR01.expansion.temperature", stage: expansion,
         variable: temperature, unit: degC}

A password is never written in the file: ``password_env`` names the environment variable
that holds it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from saisei.errors import FieldError, ValidationFailed

__all__ = [
    "SECURITY_MODES",
    "SECURITY_POLICIES",
    "Mapping",
    "NodeMapping",
    "Security",
    "StageClock",
    "load_mapping",
    "parse_mapping",
]

SECURITY_POLICIES = ("None", "Basic256Sha256", "Aes128Sha256RsaOaep", "Aes256Sha256RsaPss")
SECURITY_MODES = ("Sign", "SignAndEncrypt")
_TOP_KEYS = {"sampling_interval_ms", "publishing_interval_ms", "security", "stages", "nodes"}
_NODE_KEYS = {"node", "stage", "variable", "unit", "sampling_interval_ms"}
_SECURITY_KEYS = {
    "policy",
    "mode",
    "certificate",
    "private_key",
    "server_certificate",
    "username",
    "password_env",
}


@dataclass(frozen=True)
class NodeMapping:
    """One OPC UA variable node and the process variable it carries."""

    node_id: str
    stage: str
    variable: str
    unit: str | None
    sampling_interval_ms: float


@dataclass(frozen=True)
class StageClock:
    """Where the start of a stage (``t = 0``) comes from: a fixed time or a node."""

    start: datetime | None = None
    start_node: str | None = None


@dataclass(frozen=True)
class Security:
    """Security policy, certificates and user credentials of the connection."""

    policy: str = "None"
    mode: str = "SignAndEncrypt"
    certificate: Path | None = None
    private_key: Path | None = None
    server_certificate: Path | None = None
    username: str | None = None
    password_env: str | None = None

    @property
    def secured(self) -> bool:
        """Whether messages are signed (and encrypted)."""
        return self.policy != "None"


@dataclass(frozen=True)
class Mapping:
    """A parsed node mapping."""

    nodes: tuple[NodeMapping, ...]
    stages: dict[str, StageClock] = field(default_factory=dict)
    security: Security = field(default_factory=Security)
    publishing_interval_ms: float = 1000.0
    sha256: str = ""

    def for_stage(self, stage: str | None) -> Mapping:
        """The mapping restricted to the nodes of ``stage`` (all of them when None)."""
        if stage is None:
            return self
        nodes = tuple(n for n in self.nodes if n.stage == stage)
        if not nodes:
            known = sorted({n.stage for n in self.nodes})
            raise ValidationFailed(
                f"The mapping has no node for stage {stage!r}; it maps stages "
                f"{', '.join(known)}. Give one of them with --stage, or add nodes for {stage!r}."
            )
        return Mapping(nodes, self.stages, self.security, self.publishing_interval_ms, self.sha256)

    @property
    def stage_names(self) -> list[str]:
        """Stages mapped, sorted."""
        return sorted({n.stage for n in self.nodes})


def _problem(message: str, field_name: str, value: object = None) -> ValidationFailed:
    return ValidationFailed(message, [FieldError(message, field=field_name, value=value)])


def _positive(raw: object, field_name: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw <= 0:
        raise _problem(
            f"'{field_name}' in the mapping must be a positive number of milliseconds. "
            f"Got {raw!r}.",
            field_name,
            raw,
        )
    return float(raw)


def _unknown(keys: set[str], allowed: set[str], where: str) -> None:
    extra = sorted(keys - allowed)
    if extra:
        raise _problem(
            f"Unknown key(s) {', '.join(extra)} in {where} of the mapping; allowed: "
            f"{', '.join(sorted(allowed))}.",
            where,
            extra,
        )


def _path(raw: object, base: Path, name: str) -> Path | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw:
        raise _problem(f"security.{name} must be a file path. Got {raw!r}.", name, raw)
    path = Path(raw)
    return path if path.is_absolute() else base / path


def _security(raw: object, base: Path) -> Security:
    if raw is None:
        return Security()
    if not isinstance(raw, dict):
        raise _problem(f"'security' must be a mapping of settings. Got {raw!r}.", "security")
    if "password" in raw:
        raise _problem(
            "A password must not be written in the mapping file. Put it in an environment "
            "variable and name that variable with 'password_env'.",
            "security.password",
        )
    _unknown(set(raw), _SECURITY_KEYS, "'security'")
    policy = str(raw.get("policy", "None"))
    if policy not in SECURITY_POLICIES:
        raise _problem(
            f"security.policy must be one of {', '.join(SECURITY_POLICIES)}. Got {policy!r}.",
            "security.policy",
            policy,
        )
    mode = str(raw.get("mode", "SignAndEncrypt"))
    if mode not in SECURITY_MODES:
        raise _problem(
            f"security.mode must be one of {', '.join(SECURITY_MODES)}. Got {mode!r}.",
            "security.mode",
            mode,
        )
    security = Security(
        policy=policy,
        mode=mode,
        certificate=_path(raw.get("certificate"), base, "certificate"),
        private_key=_path(raw.get("private_key"), base, "private_key"),
        server_certificate=_path(raw.get("server_certificate"), base, "server_certificate"),
        username=raw.get("username"),
        password_env=raw.get("password_env"),
    )
    if security.secured and (security.certificate is None or security.private_key is None):
        raise _problem(
            f"security.policy {policy} needs the client's 'certificate' and 'private_key' "
            "files (the server must trust that certificate).",
            "security.certificate",
        )
    if (security.username is None) != (security.password_env is None):
        raise _problem(
            "security.username and security.password_env go together: give both or neither.",
            "security.username",
        )
    return security


def _start(raw: object, stage: str) -> StageClock:
    if not isinstance(raw, dict):
        raise _problem(
            f"stages.{stage} must be a mapping with 'start' or 'start_node'. Got {raw!r}.",
            f"stages.{stage}",
        )
    _unknown(set(raw), {"start", "start_node"}, f"stages.{stage}")
    start = raw.get("start")
    if start is not None:
        when = start if isinstance(start, datetime) else None
        if when is None:
            try:
                when = datetime.fromisoformat(str(start))
            except ValueError:
                when = None
        if when is None or when.tzinfo is None:
            raise _problem(
                f"stages.{stage}.start must be an ISO 8601 time with its UTC offset, e.g. "
                f"2026-01-05T02:16:01Z. Got {start!r}.",
                f"stages.{stage}.start",
                start,
            )
        return StageClock(start=when.astimezone(UTC))
    node = raw.get("start_node")
    return StageClock(start_node=str(node) if node is not None else None)


def _node(raw: object, index: int, default_ms: float) -> NodeMapping:
    where = f"nodes[{index}]"
    if not isinstance(raw, dict):
        raise _problem(f"{where} must be a mapping of node settings. Got {raw!r}.", where)
    _unknown(set(raw), _NODE_KEYS, where)
    for key in ("node", "stage", "variable"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise _problem(
                f"{where} needs '{key}' (a non-empty text). Got {raw.get(key)!r}.",
                f"{where}.{key}",
                raw.get(key),
            )
    interval = raw.get("sampling_interval_ms")
    return NodeMapping(
        node_id=raw["node"].strip(),
        stage=raw["stage"].strip(),
        variable=raw["variable"].strip(),
        unit=str(raw["unit"]) if raw.get("unit") is not None else None,
        sampling_interval_ms=default_ms
        if interval is None
        else _positive(interval, f"{where}.sampling_interval_ms"),
    )


def parse_mapping(raw: object, *, base: Path | None = None, sha256: str = "") -> Mapping:
    """Check and parse a mapping read from YAML.

    Parameters
    ----------
    raw : object
        The YAML document.
    base : Path, optional
        Folder relative certificate paths are taken from.

    Raises
    ------
    ValidationFailed
        Naming the key that is wrong and what it must be.
    """
    if not isinstance(raw, dict):
        raise _problem(
            f"A mapping file must be a YAML mapping with a 'nodes' list. Got {type(raw).__name__}.",
            "nodes",
        )
    _unknown(set(raw), _TOP_KEYS, "the top level")
    default_ms = _positive(raw.get("sampling_interval_ms", 1000), "sampling_interval_ms")
    nodes_raw = raw.get("nodes")
    if not isinstance(nodes_raw, list) or not nodes_raw:
        raise _problem("The mapping needs a non-empty 'nodes' list.", "nodes", nodes_raw)
    nodes = tuple(_node(item, i, default_ms) for i, item in enumerate(nodes_raw))
    seen: dict[str, int] = {}
    pairs: dict[tuple[str, str], int] = {}
    for i, node in enumerate(nodes):
        if node.node_id in seen:
            raise _problem(
                f"Node {node.node_id!r} is mapped twice (nodes[{seen[node.node_id]}] and "
                f"nodes[{i}]); map each node once.",
                f"nodes[{i}].node",
                node.node_id,
            )
        if (node.stage, node.variable) in pairs:
            raise _problem(
                f"Variable {node.variable!r} of stage {node.stage!r} is mapped to two nodes "
                f"(nodes[{pairs[node.stage, node.variable]}] and nodes[{i}]).",
                f"nodes[{i}].variable",
                node.variable,
            )
        seen[node.node_id] = i
        pairs[node.stage, node.variable] = i
    stages_raw = raw.get("stages") or {}
    if not isinstance(stages_raw, dict):
        raise _problem(f"'stages' must be a mapping by stage name. Got {stages_raw!r}.", "stages")
    stages = {str(name): _start(value, str(name)) for name, value in stages_raw.items()}
    publishing = raw.get("publishing_interval_ms")
    return Mapping(
        nodes=nodes,
        stages=stages,
        security=_security(raw.get("security"), base or Path.cwd()),
        publishing_interval_ms=default_ms
        if publishing is None
        else _positive(publishing, "publishing_interval_ms"),
        sha256=sha256,
    )


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file.

    Raises
    ------
    ValidationFailed
        If the file is missing, is not YAML or does not describe a mapping.
    """
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise _problem(
            f"Cannot read the mapping file {path}: {exc.strerror}.", "mapping", str(path)
        ) from exc
    try:
        raw: Any = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        raise _problem(f"The mapping file {path} is not valid YAML: {exc}", "mapping") from exc
    return parse_mapping(raw, base=path.parent, sha256=hashlib.sha256(content).hexdigest())
