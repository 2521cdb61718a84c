"""A registry import refused inside the write guard is rolled back once, by the guard, on SQLite and PostgreSQL.

The importer used to write in a second session joined to the guard's connection: a rejected file made that
session roll back the guard's transaction under it, and the guard's own rollback then warned
"transaction already deassociated from connection" (SAWarning). It now writes in the guard's session.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import SAWarning

from carbonmet.db import AuditEntry, reconcile, verify
from carbonmet.registry.models import Organisation
from carbonmet.services import AccessDenied, ImportRejected, Scope, Workspace, import_registry

DATA = Path(__file__).parents[1] / "registry" / "data"
TABLES = ["organisations", "sites", "points", "standards", "instruments", "certificates"]


@pytest.fixture
def ws(db_url: str, tmp_path: Path) -> Iterator[Workspace]:
    w = Workspace(db_url, store_root=tmp_path / "store")
    import_registry(w, Scope.centre(), [DATA / f"{t}.csv" for t in TABLES])
    yield w
    w.close()


def _state(ws: Workspace) -> tuple[int, list[tuple[str, str]]]:
    with ws.session() as s:
        entries = s.scalar(select(func.count()).select_from(AuditEntry)) or 0
        orgs = [(o.code, o.name) for o in s.scalars(select(Organisation).order_by(Organisation.code))]
        assert verify(s).ok and reconcile(s).ok
    return entries, orgs


def test_a_rejected_import_is_rolled_back_once_by_the_guard(ws: Workspace, tmp_path: Path) -> None:
    before = _state(ws)
    renamed = tmp_path / "a-organisations.csv"
    renamed.write_text("org_code,name,kind\nE01,改名的企业,enterprise\n", encoding="utf-8")
    bad = tmp_path / "b-sites.csv"
    bad.write_text("site_code,org_code,name\nS9,E01,ok\n../S9,E01,bad code\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SAWarning)
        with pytest.raises(ImportRejected) as exc:
            import_registry(ws, Scope.centre(), [renamed, bad])  # all or nothing over both files
    assert exc.value.imported == [] and "b-sites.csv:3" in str(exc.value)
    assert _state(ws) == before
    # the guard's refusal after a successful import is a single rollback too
    other = tmp_path / "organisations.csv"
    other.write_text("org_code,name,kind\nNIM,被改名的研究院,metrology_institute\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SAWarning)
        with pytest.raises(AccessDenied):
            import_registry(ws, Scope.enterprise("E01"), [other])
    assert _state(ws) == before
    # and a good import still commits
    import_registry(ws, Scope.centre(), [renamed])
    entries, orgs = _state(ws)
    assert entries == before[0] + 1 and ("E01", "改名的企业") in orgs
