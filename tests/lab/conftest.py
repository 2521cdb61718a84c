"""A one-enterprise reference region (generated once per module that asks for it) and a registry database per
module on SQLite and on PostgreSQL, with the region's registry and monitoring plan imported by the centre."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from carbonmet.refdata import Manifest, generate
from carbonmet.services import Scope, Workspace, import_plan, import_registry

PG_ADMIN_URL = os.environ.get("CARBONMET_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REGISTRY = ("organisations", "sites", "points", "standards", "instruments", "certificates")


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("region")
    return out, generate(out, enterprises=1, year=2025, seed=11, resolution="hour")


@pytest.fixture(scope="module")
def ws(module_db_url: str, region: tuple[Path, Manifest]) -> Iterator[Workspace]:
    """The region's registry and E01's monitoring plan, imported by the centre."""
    root, _ = region
    w = Workspace(module_db_url)
    import_registry(w, Scope.centre(), [root / "registry" / f"{t}.csv" for t in REGISTRY])
    import_plan(w, Scope.centre(), root / "plans" / "E01.toml")
    yield w
    w.close()
