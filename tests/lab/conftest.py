"""A one-enterprise reference region (generated once per module that asks for it) and a registry database per
module on SQLite and on PostgreSQL, with the region's registry and monitoring plan imported by the centre."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from carbonmet.refdata import Manifest, generate
from carbonmet.services import Scope, Workspace, import_plan, import_registry

PG_ADMIN_URL = os.environ.get("CARBONMET_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REGISTRY = ("organisations", "sites", "points", "standards", "instruments", "certificates")


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("region")
    return out, generate(out, enterprises=1, year=2025, seed=11, resolution="hour")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def module_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database for the module: a SQLite file, or a PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'lab.db'}"
        return
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as c:
            c.execute(text("SELECT 1"))
    except OperationalError:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432 (CI must test on it)")
        pytest.skip("PostgreSQL not reachable")
    name = f"cm_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def ws(module_db_url: str, region: tuple[Path, Manifest]) -> Iterator[Workspace]:
    """The region's registry and E01's monitoring plan, imported by the centre."""
    root, _ = region
    w = Workspace(module_db_url)
    import_registry(w, Scope.centre(), [root / "registry" / f"{t}.csv" for t in REGISTRY])
    import_plan(w, Scope.centre(), root / "plans" / "E01.toml")
    yield w
    w.close()
