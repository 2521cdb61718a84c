"""The audit log is append-only and any change of a stored byte breaks the hash chain."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from carbonmet.db import session_scope, verify

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
    from carbonmet.registry import OrganisationRow, upsert_organisation

    with session_scope(engine) as s:
        upsert_organisation(s, OrganisationRow(org_code="A", name="甲", kind="enterprise"))
        nested = s.begin_nested()
        upsert_organisation(s, OrganisationRow(org_code="B", name="乙", kind="enterprise"))
        nested.rollback()
        upsert_organisation(s, OrganisationRow(org_code="C", name="丙", kind="enterprise"))
    with session_scope(engine) as s:
        rep = verify(s)
    assert rep.ok and rep.entries == 2
