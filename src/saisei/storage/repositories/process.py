"""Process definitions with their stages, parameters, attributes and specifications."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from saisei.storage.models import (
    ProcessDefinition,
    ProcessStage,
    QualityAttribute,
)

__all__ = ["all_processes", "find_process", "process_to_doc"]


def _loaded() -> Any:
    return select(ProcessDefinition).options(
        selectinload(ProcessDefinition.stages).selectinload(ProcessStage.parameters),
        selectinload(ProcessDefinition.attributes).selectinload(QualityAttribute.specifications),
    )


def find_process(session: Session, name: str, version: str) -> ProcessDefinition | None:
    """The process definition ``name`` ``version`` with everything loaded, or None."""
    query = _loaded().where(ProcessDefinition.name == name, ProcessDefinition.version == version)
    return session.execute(query).scalar_one_or_none()  # type: ignore[no-any-return]


def all_processes(session: Session) -> list[ProcessDefinition]:
    """Every process definition with everything loaded, by name and version."""
    query = _loaded().order_by(ProcessDefinition.name, ProcessDefinition.version)
    return list(session.execute(query).scalars())


def _pair(low: float | None, high: float | None) -> list[float | None] | None:
    return None if low is None and high is None else [low, high]


def process_to_doc(process: ProcessDefinition) -> dict[str, Any]:
    """A process definition in the ``process/*.yaml`` shape of the exchange format."""
    stages = []
    for stage in sorted(process.stages, key=lambda s: s.position):
        parameters = []
        for p in sorted(stage.parameters, key=lambda p: p.name):
            doc: dict[str, Any] = {"name": p.name, "unit": p.unit, "class": p.parameter_class.value}
            if p.target is not None:
                doc["target"] = p.target
            for key, pair in (
                ("nor", _pair(p.nor_low, p.nor_high)),
                ("par", _pair(p.par_low, p.par_high)),
            ):
                if pair is not None:
                    doc[key] = pair
            parameters.append(doc)
        stages.append({"name": stage.name, "parameters": parameters})
    attributes = []
    for a in sorted(process.attributes, key=lambda a: a.name):
        specs = [
            {
                k: v
                for k, v in (
                    ("purpose", s.purpose),
                    ("lower", s.lower),
                    ("upper", s.upper),
                    ("text", s.text),
                )
                if v is not None
            }
            for s in sorted(a.specifications, key=lambda s: s.purpose)
        ]
        doc = {"name": a.name, "unit": a.unit, "critical": a.critical}
        if a.method is not None:
            doc["method"] = a.method
        if specs:
            doc["specifications"] = specs
        attributes.append(doc)
    result: dict[str, Any] = {
        "name": process.name,
        "version": process.version,
        "product_type": process.product_type.value,
    }
    if process.description:
        result["description"] = process.description
    result["stages"] = stages
    result["attributes"] = attributes
    return result
