"""Stored process definitions as documents: stages, parameters (class, target, NOR, PAR) and
quality attributes with their specifications, in the shape of the exchange format's
``process/*.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from saisei.domain.audit import jsonable
from saisei.errors import Conflict, ValidationFailed
from saisei.quality.access import authorize
from saisei.services._processes import parse_process_text, store_process
from saisei.storage.repositories.process import all_processes, process_to_doc
from saisei.storage.store import Store

__all__ = ["MAX_PROCESS_BYTES", "ProcessImport", "import_process", "list_processes"]

#: Largest process-definition document accepted (bytes); real ones are a few kilobytes.
MAX_PROCESS_BYTES = 1_000_000


@dataclass(frozen=True)
class ProcessImport:
    """The outcome of importing one process-definition YAML.

    Attributes
    ----------
    name, version : str
        The process definition and version the file holds.
    created : bool
        True when it was stored now; False when that version was already stored with the same
        content (importing a file again changes nothing).
    """

    name: str
    version: str
    created: bool

    def to_dict(self) -> dict[str, Any]:
        """The outcome as a JSON document."""
        return {"name": self.name, "version": self.version, "created": self.created}


def list_processes(store: Store) -> list[dict[str, Any]]:
    """Every stored process definition and version, by name and version.

    Returns
    -------
    list of dict
        The ``process/*.yaml`` document of each (``name``, ``version``, ``product_type``,
        ``stages`` with ``parameters``, ``attributes`` with ``specifications``) plus
        ``created_at`` (UTC).
    """
    with store.reader() as session:
        return [
            {**process_to_doc(p), "created_at": jsonable(p.created_at)}
            for p in all_processes(session)
        ]


def import_process(
    store: Store,
    actor: str,
    content: str | bytes,
    *,
    filename: str = "process.yaml",
    reason: str | None = None,
    source: str = "processes",
) -> ProcessImport:
    """Store one process definition given as the YAML of a ``process/*.yaml`` file.

    The document is checked with the same schema and messages as the folder import
    (``saisei import``); the new rows are audited in the same transaction. Importing the same
    content again changes nothing; a new version is added beside the older ones.

    Parameters
    ----------
    store : Store
        The home.
    actor : str
        The user importing; needs the ``processes.import`` permission (administrators and
        process scientists).
    content : str or bytes
        The YAML document (bytes must be UTF-8).
    filename : str, default "process.yaml"
        The name the messages give the document (the uploaded file's name).
    reason : str, optional
        Why, for the audit trail.
    source : str, default "processes"
        Where the change came from (``web``, ``api``, ...), for the audit trail.

    Returns
    -------
    ProcessImport
        Name, version and whether it was stored now.

    Raises
    ------
    AuthenticationFailed, PermissionDenied
        Unless ``actor`` is an active user allowed ``processes.import_process``.
    ValidationFailed
        When the YAML is malformed or breaks the schema; each problem names the file and the
        field.
    Conflict
        When that name and version are already stored with different content (a changed
        process needs a new version).
    """
    if len(content) > MAX_PROCESS_BYTES:
        raise ValidationFailed(
            f"The process definition {filename} is larger than {MAX_PROCESS_BYTES} bytes; a "
            "process definition is one YAML document of a few kilobytes."
        )
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationFailed(
                f"The process definition {filename} is not UTF-8 text ({exc}); save it as "
                "UTF-8 YAML."
            ) from None
    doc, errors = parse_process_text(content, filename)
    label = f"{doc['name']} {doc['version']}" if doc is not None else filename
    with store.unit_of_work(
        actor=actor, source=source, reason=reason or f"process definition {label} imported"
    ) as uow:
        authorize(uow.session, actor, "processes.import_process")
        if doc is None:
            raise ValidationFailed(
                f"The process definition {filename} was refused; fix and import it again: "
                + "; ".join(str(e) for e in errors),
                errors=errors,
            )
        created, refusal = store_process(uow.session, doc, filename)
        if refusal is not None:
            raise Conflict(str(refusal))
    return ProcessImport(name=str(doc["name"]), version=str(doc["version"]), created=created)
