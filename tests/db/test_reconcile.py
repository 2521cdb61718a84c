"""Reconciliation of a table of any package against the audit log: a test-only table keyed by a code.

The model is declared on carbonmet.db.Base but in its own MetaData, so it never enters the one chain or
the other tests' databases; its reconciler is passed to reconcile() explicitly.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Date, Engine, Float, MetaData, String, text
from sqlalchemy.orm import Mapped, mapped_column

from carbonmet.db import (
    NAMING_CONVENTION,
    Base,
    KeyedReconciler,
    reconcile,
    record,
    session_scope,
)
from carbonmet.db.audit import canonical_json


class _TestBase(Base):
    __abstract__ = True
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Gadget(_TestBase):
    """A made-up audited table of a package that does not exist."""

    __tablename__ = "test_gadget"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    value: Mapped[float | None] = mapped_column(Float)
    since: Mapped[date | None] = mapped_column(Date)


def _save(s: Any, code: str, value: float | None, since: date | None, action: str = "create") -> None:
    g = s.query(Gadget).filter_by(code=code).one_or_none()
    if g is None:
        g = Gadget(code=code)
        s.add(g)
    g.value, g.since = value, since
    s.flush()
    record(s, actor="test", action=action, entity="test_gadget", key=code,
           data={"id": g.id, "code": code, "value": value, "since": since})


@pytest.fixture
def gadgets(engine: Engine) -> Iterator[Engine]:
    _TestBase.metadata.create_all(engine)
    with session_scope(engine) as s:
        _save(s, "G1", 1.5, date(2025, 1, 1))
        _save(s, "G2", None, None)
        _save(s, "G3", 3.0, date(2025, 3, 1))
        _save(s, "G1", 1.75, date(2025, 1, 2), action="update")
    yield engine
    _TestBase.metadata.drop_all(engine)


def _check(engine: Engine) -> Any:
    with session_scope(engine) as s:
        return reconcile(s, [KeyedReconciler(Gadget, "code")])


def _sql(engine: Engine, stmt: str, **params: Any) -> None:
    with engine.begin() as c:
        c.execute(text(stmt), params)


def test_rows_written_with_their_entries_reconcile(gadgets: Engine) -> None:
    rep = _check(gadgets)
    assert rep.ok and rep.discrepancies == ()
    assert rep.entries == 4 and rep.rows == {"test_gadget": 3} and rep.unchecked == {}


def test_raw_update_is_changed_with_the_logged_and_current_values(gadgets: Engine) -> None:
    _sql(gadgets, "UPDATE test_gadget SET since = :d, value = 9 WHERE code = 'G1'", d=date(2024, 12, 31))
    rep = _check(gadgets)
    assert rep.counts() == {"changed": 2}
    found = {(d.key, d.field, d.logged, d.current, d.seq) for d in rep.discrepancies}
    assert found == {("G1", "since", "2025-01-02", "2024-12-31", 4), ("G1", "value", 1.75, 9.0, 4)}


def test_raw_insert_is_unlogged_and_raw_delete_is_missing(gadgets: Engine) -> None:
    _sql(gadgets, "INSERT INTO test_gadget (id, code, value) VALUES (99, 'G9', 2.0)")
    _sql(gadgets, "DELETE FROM test_gadget WHERE code = 'G3'")
    rep = _check(gadgets)
    found = {(d.kind, d.key): d for d in rep.discrepancies}
    assert set(found) == {("unlogged", "G9"), ("missing", "G3")}
    assert found["unlogged", "G9"].current == {"id": 99, "code": "G9", "value": 2.0, "since": None}
    assert found["missing", "G3"].logged == {"id": 3, "code": "G3", "value": 3.0, "since": "2025-03-01"}
    assert found["missing", "G3"].seq == 3


def test_a_logged_delete_is_no_finding(gadgets: Engine) -> None:
    with session_scope(gadgets) as s:
        s.query(Gadget).filter_by(code="G3").delete()
        record(s, actor="test", action="delete", entity="test_gadget", key="G3", data={})
    assert _check(gadgets).ok


def test_unknown_kinds_are_counted_and_unreadable_entries_reported(gadgets: Engine) -> None:
    with session_scope(gadgets) as s:
        record(s, actor="test", action="create", entity="someone_elses_table", key="X", data={"a": 1})
    rep = _check(gadgets)
    assert rep.ok and rep.unchecked == {"someone_elses_table": 1}
    # an entry whose data is not a JSON object (only possible by writing the log by hand)
    reconciler = KeyedReconciler(Gadget, "code")
    for seq, key, data in ((1, "G1", "not json"), (2, "G2", canonical_json({"id": 2, "code": "G2"}))):
        reconciler.add(seq, "create", key, data)
    reconciler.add(3, "create", "G3", canonical_json({"id": 3, "code": "G3", "value": 3.0, "since": "2025-03-01"}))
    with session_scope(gadgets) as s:
        rows, found = reconciler.check(s)
    assert rows == 3
    assert [(d.kind, d.key, d.seq) for d in found] == [("unreadable", "G1", 1)]


def test_report_to_dict_is_json_ready(gadgets: Engine) -> None:
    _sql(gadgets, "UPDATE test_gadget SET value = 5 WHERE code = 'G3'")
    doc = _check(gadgets).to_dict()
    assert doc["ok"] is False and doc["counts"] == {"changed": 1} and doc["rows"] == {"test_gadget": 3}
    assert doc["discrepancies"] == [{"kind": "changed", "table": "test_gadget", "key": "G3", "field": "value",
                                     "logged": 3.0, "current": 5.0, "seq": 3}]
