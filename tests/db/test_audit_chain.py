"""The audit log is append-only and any change of a stored byte breaks the hash chain (any package's entries)."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from carbonmet.db import AuditEntry, record, session_scope, verify
from carbonmet.db.audit import GENESIS, canonical_json, entry_hash

COLUMNS = ["ts", "actor", "action", "entity", "entity_key", "data", "prev_hash", "hash"]


def _disable_guard(engine: Engine) -> None:
    with engine.begin() as c:
        if engine.dialect.name == "postgresql":
            c.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))
        else:
            c.execute(text("DROP TRIGGER audit_log_no_update"))
            c.execute(text("DROP TRIGGER audit_log_no_delete"))


def _flip(s: str) -> str:
    """Change one character (the middle one) to another."""
    i = len(s) // 2
    ch = s[i]
    return s[:i] + ("0" if ch != "0" else "1") + s[i + 1 :]


@pytest.fixture
def sample(engine: Engine) -> Engine:
    """A chain of 40 entries of two made-up packages (text, numbers, dates, a blob, Chinese), in 4 transactions."""
    for batch in range(4):
        with session_scope(engine) as s:
            for i in range(10):
                n = batch * 10 + i
                record(s, actor=f"user{n % 3}", action="create" if n % 4 else "update",
                       entity="gadget" if n % 2 else "plan_item", key=f"K-{n:03d}",
                       data={"id": n, "name": f"燃气流量计 {n}", "value": n / 7, "on": date(2025, 1, 1 + n % 28),
                             "doc": f"<xml n='{n}'/>".encode(), "tags": ["a", n]})
    return engine


def test_entries_link_hashes_in_sequence(sample: Engine) -> None:
    with session_scope(sample) as s:
        entries = s.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [e.seq for e in entries] == list(range(1, 41))
    assert entries[0].prev_hash == GENESIS
    for prev, e in pairwise(entries):
        assert e.prev_hash == prev.hash
    e = entries[5]
    assert e.hash == entry_hash(e.prev_hash, e.seq, e.ts, e.actor, e.action, e.entity, e.entity_key, e.data)
    # the stored data is the canonical JSON of the record: a blob as its SHA-256, a date as ISO text
    assert e.data == canonical_json({"id": 5, "name": "燃气流量计 5", "value": 5 / 7, "on": date(2025, 1, 6),
                                     "doc": b"<xml n='5'/>", "tags": ["a", 5]})
    assert '"on":"2025-01-06"' in e.data and "燃气流量计" in e.data and "<xml" not in e.data


def test_update_and_delete_refused(sample: Engine) -> None:
    for stmt in ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1", "DELETE FROM audit_log WHERE seq = 1"):
        with pytest.raises(DBAPIError, match="append-only"), sample.begin() as c:
            c.execute(text(stmt))


def test_any_changed_byte_is_detected(sample: Engine) -> None:
    with session_scope(sample) as s:
        head = verify(s)
    assert head.ok
    n = head.entries
    _disable_guard(sample)
    targets = sorted({1, 2, n // 2, n - 1, n})
    for seq in targets:
        with sample.connect() as c:
            row = c.execute(text(f"SELECT {', '.join(COLUMNS)} FROM audit_log WHERE seq = :s"), {"s": seq}).one()
        for col, original in zip(COLUMNS, row, strict=True):
            with sample.begin() as c:
                c.execute(text(f"UPDATE audit_log SET {col} = :v WHERE seq = :s"), {"v": _flip(original), "s": seq})
            with session_scope(sample) as s:
                rep = verify(s)
            assert not rep.ok, f"change of {col} in entry {seq} not detected"
            assert rep.first_bad_seq in (seq, seq + 1), (col, seq, rep)
            with sample.begin() as c:
                c.execute(text(f"UPDATE audit_log SET {col} = :v WHERE seq = :s"), {"v": original, "s": seq})
    with session_scope(sample) as s:
        assert verify(s).ok  # restored bytes verify again


def test_removed_entries_are_detected(sample: Engine) -> None:
    with session_scope(sample) as s:
        head = verify(s)
    _disable_guard(sample)
    with sample.begin() as c:
        c.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    with session_scope(sample) as s:
        rep = verify(s)
    assert not rep.ok and rep.first_bad_seq == 4
    # truncating the tail is caught against a head hash recorded earlier
    with sample.begin() as c:
        c.execute(text("DELETE FROM audit_log WHERE seq >= 3"))
    with session_scope(sample) as s:
        assert verify(s).ok
        rep = verify(s, expected_head=head.head_hash)
    assert not rep.ok and "removed" in rep.reason


def test_savepoint_rollback_keeps_the_chain(engine: Engine) -> None:
    """Regression (review): a rolled-back savepoint must not leave a stale chain head behind."""

    def add(s: Session, code: str, name: str) -> None:
        record(s, actor="test", action="create", entity="organisation", key=code,
               data={"code": code, "name": name, "kind": "enterprise"})

    with session_scope(engine) as s:
        add(s, "A", "甲")
        nested = s.begin_nested()
        add(s, "B", "乙")
        nested.rollback()
        add(s, "C", "丙")
    with session_scope(engine) as s:
        rep = verify(s)
    assert rep.ok and rep.entries == 2
