"""One database per backend for the whole module (SQLite and PostgreSQL): each test works on an enterprise of its
own, so creating and migrating a database is paid once per module, not per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from carbonmet.db import make_engine, migrate


@pytest.fixture(scope="module")
def module_engine(module_db_url: str) -> Iterator[Engine]:
    """A migrated engine shared by a module's tests (on each kind of the root ``module_db_url``)."""
    eng = make_engine(module_db_url)
    migrate(eng)
    yield eng
    eng.dispose()
