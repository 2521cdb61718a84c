"""The architecture as a test: the layer and privacy contracts hold, and breaking them is caught."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(src: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([str(LINT), "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                          check=False)


def test_the_import_contracts_hold_on_the_source_tree() -> None:
    run = _lint(ROOT / "src")
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_registry_module_importing_the_metering_store_privately_breaks_the_contracts(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "src" / "carbonmet", tmp_path / "carbonmet", ignore=shutil.ignore_patterns("__pycache__"))
    module = tmp_path / "carbonmet" / "registry" / "__init__.py"
    module.write_text(module.read_text() + "\nfrom carbonmet.metering._store import Store  # noqa\n")
    run = _lint(tmp_path)
    assert run.returncode == 1
    out = " ".join(run.stdout.split())
    assert "carbonmet.registry -> carbonmet.metering._store" in out
    assert "private module of another package" in out
    assert "carbonmet.registry is not allowed to import carbonmet.metering" in out


def _private_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "carbonmet" and any(p.startswith("_") and not p.startswith("__") for p in parts[1:]):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    return found


@pytest.mark.parametrize("folder", ["tests", "bench"])
def test_tests_and_benchmarks_use_public_apis_only(folder: str) -> None:
    found = [hit for p in sorted((ROOT / folder).rglob("*.py")) for hit in _private_imports(p)]
    assert not found, "\n".join(found)


def test_importing_the_registry_loads_neither_the_mqtt_client_nor_duckdb() -> None:
    """Issue 9: the registry no longer depends on metering (which brings aiomqtt, paho and DuckDB)."""
    code = "import sys, carbonmet.registry; print(sorted(m for m in ('aiomqtt', 'paho', 'duckdb', 'carbonmet.metering') " \
           "if m in sys.modules))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert run.stdout.strip() == "[]"
