"""Importing process definitions from ``process/*.yaml`` (part of the importer)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from saisei.domain.enums import ParameterClass, ProductType
from saisei.errors import FieldError
from saisei.storage.models import (
    ProcessDefinition,
    ProcessParameter,
    ProcessStage,
    QualityAttribute,
    Specification,
)
from saisei.storage.repositories.process import find_process, process_to_doc
from saisei.storage.types import Session

__all__ = ["import_process_file", "parse_process_text", "store_process"]


def _range(value: Any) -> tuple[float | None, float | None]:
    if value is None:
        return None, None
    low, high = value
    return (None if low is None else float(low)), (None if high is None else float(high))


def _problems(doc: Any, name: str) -> list[FieldError]:
    if not isinstance(doc, dict):
        return [FieldError("a process definition must be a YAML mapping", file=name)]
    errors = [
        FieldError(f"required key {key!r} is missing", file=name, field=key)
        for key in ("name", "version", "product_type", "stages")
        if key not in doc
    ]
    if "product_type" in doc and doc["product_type"] not in {p.value for p in ProductType}:
        errors.append(
            FieldError(
                f"must be one of {', '.join(p.value for p in ProductType)}",
                file=name,
                field="product_type",
                value=doc["product_type"],
            )
        )
    stages = doc.get("stages") or []
    if not isinstance(stages, list) or not all(
        isinstance(stage, dict) and "name" in stage for stage in stages
    ):
        errors.append(
            FieldError(
                "must be a list of stages, each a mapping with a 'name'", file=name, field="stages"
            )
        )
        return errors
    for stage in stages:
        for parameter in stage.get("parameters") or []:
            if not isinstance(parameter, dict) or "name" not in parameter:
                errors.append(
                    FieldError(
                        "each parameter must be a mapping with a 'name'",
                        file=name,
                        field=f"stages.{stage['name']}.parameters",
                        value=parameter,
                    )
                )
                continue
            kind = parameter.get("class", "non-critical")
            if kind not in {c.value for c in ParameterClass}:
                errors.append(
                    FieldError(
                        f"must be one of {', '.join(c.value for c in ParameterClass)}",
                        file=name,
                        field=f"stages.{stage.get('name')}.{parameter.get('name')}.class",
                        value=kind,
                    )
                )
    return errors


def _build(doc: dict[str, Any]) -> ProcessDefinition:
    process = ProcessDefinition(
        name=str(doc["name"]),
        version=str(doc["version"]),
        product_type=ProductType(doc["product_type"]),
        description=doc.get("description"),
    )
    for position, stage_doc in enumerate(doc.get("stages") or []):
        stage = ProcessStage(name=stage_doc["name"], position=position, process=process)
        for p in stage_doc.get("parameters") or []:
            nor_low, nor_high = _range(p.get("nor"))
            par_low, par_high = _range(p.get("par"))
            ProcessParameter(
                stage=stage,
                name=p["name"],
                unit=p.get("unit", "1"),
                parameter_class=ParameterClass(p.get("class", "non-critical")),
                target=p.get("target"),
                nor_low=nor_low,
                nor_high=nor_high,
                par_low=par_low,
                par_high=par_high,
            )
    for a in doc.get("attributes") or []:
        attribute = QualityAttribute(
            process=process,
            name=a["name"],
            unit=a.get("unit", "1"),
            critical=bool(a.get("critical", True)),
            method=a.get("method"),
        )
        for spec in a.get("specifications") or []:
            Specification(
                attribute=attribute,
                purpose=spec.get("purpose", "release"),
                lower=spec.get("lower"),
                upper=spec.get("upper"),
                text=spec.get("text"),
                # the YAML's ``text`` is the required result of a qualitative test, which the
                # quality system reads as the specification's expected text
                expected_text=spec.get("text"),
            )
    return process


def parse_process_text(text: str, name: str) -> tuple[dict[str, Any] | None, list[FieldError]]:
    """The process-definition document in ``text`` (the YAML of file ``name``) and its
    problems against the schema of ``process/*.yaml``; the document is None when any."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return None, [FieldError(f"is not valid UTF-8 YAML: {exc}", file=name)]
    errors = _problems(doc, name)
    return (None, errors) if errors else (doc, [])


def store_process(
    session: Session, doc: dict[str, Any], name: str
) -> tuple[bool, FieldError | None]:
    """Add the checked document ``doc`` unless its name and version exist.

    Returns whether it was added, and the refusal when that version is already stored with
    different content: a changed process is a new version, never an edit of an approved one.
    """
    existing = find_process(session, str(doc["name"]), str(doc["version"]))
    if existing is None:
        session.add(_build(doc))
        session.flush()
        return True, None
    if process_to_doc(existing) != process_to_doc(_build(doc)):
        return False, FieldError(
            f"process {doc['name']!r} version {doc['version']!r} is already stored with "
            "different content; give the changed process a new version",
            file=name,
            field="version",
            value=doc["version"],
        )
    return False, None


def import_process_file(session: Session, path: Path) -> list[FieldError]:
    """Add the process definition in ``path`` unless that name and version exist.

    An existing version with different content is refused: a changed process is a new
    version, never an edit of an approved one.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return [FieldError(f"is not valid UTF-8 YAML: {exc}", file=path.name)]
    doc, errors = parse_process_text(text, path.name)
    if doc is None:
        return errors
    _created, refusal = store_process(session, doc, path.name)
    return [] if refusal is None else [refusal]
