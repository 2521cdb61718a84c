"""The public API stays small and honest: every package's ``__all__`` is short and importable, and the
package roots export nothing by accident (issue 9: "public ``__all__`` trimmed to what users call")."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import types
from pathlib import Path

import pytest

import carbonmet

MAX_NAMES = 30
SRC = Path(carbonmet.__file__).parent


def _public_modules() -> list[str]:
    """Every module and package under ``carbonmet.<package>`` whose dotted name has no private part."""
    found = []
    for info in pkgutil.walk_packages(carbonmet.__path__, "carbonmet."):
        parts = info.name.split(".")[1:]
        if any(p.startswith("_") for p in parts) or "migrations" in parts:
            continue
        found.append(info.name)
    return sorted(found)


PACKAGES = sorted(n for n in _public_modules() if n.count(".") == 1 and (SRC / n.split(".")[1]).is_dir())
MODULES = _public_modules()


def test_the_packages_are_found() -> None:
    assert {"carbonmet.db", "carbonmet.metering", "carbonmet.registry", "carbonmet.sites"} <= set(PACKAGES)
    assert {"carbonmet.db.audit", "carbonmet.registry.models", "carbonmet.metering.schemas"} <= set(MODULES)


@pytest.mark.parametrize("name", PACKAGES)
def test_each_package_declares_a_small_public_api(name: str) -> None:
    module = importlib.import_module(name)
    names = getattr(module, "__all__", None)
    assert names is not None, f"{name} has no __all__"
    assert len(set(names)) == len(names), f"{name}.__all__ lists a name twice"
    if name == "carbonmet.services":
        # the use-case catalogue: every capability adds its use cases here, and callers (CLI, web) call each
        # one; what keeps it honest is that every function is a registered use case with its tenancy, and the
        # rest (types, errors) stays within the limit
        from carbonmet.services import USE_CASES

        functions = {n for n in names if inspect.isfunction(getattr(module, n))}
        assert functions == set(USE_CASES), f"functions that are not use cases: {functions ^ set(USE_CASES)}"
        names = [n for n in names if n not in functions]
    assert len(names) <= MAX_NAMES, f"{name}.__all__ has {len(names)} names (at most {MAX_NAMES}): {names}"


@pytest.mark.parametrize("name", [m for m in MODULES if m not in ("carbonmet.__main__", "carbonmet.demo")])
def test_every_name_in_all_is_importable(name: str) -> None:
    module = importlib.import_module(name)
    names = getattr(module, "__all__", [])
    assert all(isinstance(n, str) for n in names), f"{name}.__all__ holds a non-string"
    missing = [n for n in names if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names what it does not define: {missing}"


def _explicit_reexports(package: str) -> set[str]:
    """Names the package's ``__init__`` imports as ``from ... import X as X`` (a deliberate re-export)."""
    tree = ast.parse((SRC / package.split(".", 1)[1].replace(".", "/") / "__init__.py").read_text("utf-8"))
    return {a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
            for a in node.names if a.asname == a.name}


@pytest.mark.parametrize("name", PACKAGES)
def test_a_package_root_exports_nothing_by_accident(name: str) -> None:
    """A public name at the root is in ``__all__``, a submodule, or a deliberate ``X as X`` re-export, so a
    name moved to a submodule is not still importable from the root."""
    module = importlib.import_module(name)
    allowed = set(module.__all__) | _explicit_reexports(name)
    stray = sorted(n for n, v in vars(module).items()
                   if not n.startswith("_") and not isinstance(v, types.ModuleType)
                   and type(v).__module__ != "__future__" and n not in allowed)
    assert not stray, f"{name} exposes names outside __all__: {stray}"


def test_a_moved_name_is_importable_from_its_submodule_only() -> None:
    import carbonmet.registry
    from carbonmet.registry.models import Instrument

    assert Instrument.__tablename__ == "instrument"
    assert not hasattr(carbonmet.registry, "Instrument")
