"""docs/exchange-format.md is generated from the schemas and must be current."""

from __future__ import annotations

from pathlib import Path

from saisei.ingestion.schemas import SCHEMAS, TABLE_ORDER, exchange_format_reference

DOC = Path(__file__).resolve().parents[2] / "docs" / "exchange-format.md"


def test_reference_page_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == exchange_format_reference(), (
        "docs/exchange-format.md is stale; regenerate it with 'make docs'"
    )


def test_every_table_is_imported_in_dependency_order() -> None:
    assert sorted(TABLE_ORDER) == sorted(SCHEMAS)
    position = {name: i for i, name in enumerate(TABLE_ORDER)}
    for name, schema in SCHEMAS.items():
        for column in schema.columns:
            if column.references:
                target = column.references.split(".")[0]
                assert position[target] <= position[name], (name, column.name)
