"""Architecture: the import-linter contracts hold and cover every top-level module."""

from __future__ import annotations

import ast
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


def _private_imports_across_packages(root: Path) -> list[str]:
    """``from saisei.X._y import ...`` or ``import saisei.X._y`` (or a private name) made from
    outside top-level package X."""
    found = []
    for path in sorted(root.rglob("*.py")):
        package = path.relative_to(root).parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [(node.module, [a.name for a in node.names])]
            elif isinstance(node, ast.Import):
                modules = [(a.name, []) for a in node.names]
            else:
                continue
            for module, names in modules:
                parts = module.split(".")
                if parts[0] != "saisei" or len(parts) < 2 or parts[1] == package:
                    continue
                if any(p.startswith("_") for p in parts[1:]) or any(
                    n.startswith("_") for n in names
                ):
                    found.append(f"{path.relative_to(root)}: {module} {names}")
    return found


def test_no_package_imports_another_packages_private_modules() -> None:
    """What one package uses of another is that package's public API (no ``_`` modules)."""
    assert _private_imports_across_packages(Path(saisei.__file__).parent) == []


def test_the_private_import_check_can_fail(tmp_path: Path) -> None:
    (tmp_path / "scale").mkdir()
    (tmp_path / "scale" / "m.py").write_text(
        "from saisei.analytics.mvda._pls import _vip\nfrom saisei.scale._x import y\n"
    )
    assert _private_imports_across_packages(tmp_path) == [
        "scale/m.py: saisei.analytics.mvda._pls ['_vip']"
    ]
