"""Architecture: the import-linter contracts hold and cover every top-level module."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import saisei

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["importlinter"][
    "contracts"
]
TOP_LEVEL = sorted(f"saisei.{m.name}" for m in pkgutil.iter_modules(saisei.__path__))

#: The one module each "only X imports Y" contract exempts.
EXEMPT = {
    "Only storage imports sqlalchemy and alembic": {"saisei.storage"},
    "Only cli imports typer": {"saisei.cli"},
    "Only scale imports dask": {"saisei.scale"},
    "Only api, web and app import fastapi": {"saisei.api", "saisei.web", "saisei.app"},
    "Settings are built only in app and cli": {
        "saisei.app",
        "saisei.cli",
        "saisei.config",
        "saisei.errors",
    },
}


def test_import_linter_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("name", sorted(EXEMPT))
def test_every_top_level_module_is_bound_by_the_contract(name: str) -> None:
    """A new package must be added to each contract, or it would escape the rules."""
    (contract,) = [c for c in CONTRACTS if c["name"] == name]
    missing = set(TOP_LEVEL) - set(contract["source_modules"]) - EXEMPT[name]
    assert not missing, f"add {sorted(missing)} to the source_modules of '{name}'"


def test_every_top_level_package_is_a_layer() -> None:
    (layers,) = [c for c in CONTRACTS if c["type"] == "layers"]
    named = {part.strip(" ()") for layer in layers["layers"] for part in layer.split("|")}
    assert set(TOP_LEVEL) - {"saisei.config"} <= named
