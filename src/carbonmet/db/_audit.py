"""Append-only, hash-chained audit log (审计日志).

Each entry stores who did what to which record, the record's new content as canonical JSON, the
previous entry's hash and its own hash:

.. math:: h_n = \\mathrm{SHA256}(h_{n-1} \\| n \\| t \\| \\text{actor} \\| \\text{action} \\| \\text{entity} \\| \\text{key} \\| \\text{data})

so that changing any stored byte of any entry, removing an entry or reordering entries breaks the
chain from that entry on. Truncating the newest entries can only be detected against a head hash
kept elsewhere (``carbonmet audit verify`` prints it; keep it in the report you send out).

The chain proves the log was not altered, not that the tables still match it: that is
:func:`carbonmet.db.reconcile` (对账), which ``carbonmet audit verify`` runs too.

Any package logs its changes here with :func:`record`, in the same transaction as the change; the
``entity`` is the table name and ``key`` the record's key in it, so reconciliation can find the row.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Integer, String, Text, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from ._base import Base

#: ``prev_hash`` of the first entry.
GENESIS = "0" * 64


class AuditEntry(Base):
    """Append-only, hash-chained log of every audited change of every package (审计日志)."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(96))
    action: Mapped[str] = mapped_column(String(16))
    entity: Mapped[str] = mapped_column(String(48))
    entity_key: Mapped[str] = mapped_column(String(128))
    data: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


#: The logged form of +inf and -inf (a float column keeps them on SQLite and PostgreSQL alike).
POS_INF, NEG_INF = "Infinity", "-Infinity"


def json_value(value: Any) -> Any:
    """The JSON form a value is logged in: dates as ISO text, bytes as their SHA-256, containers recursively.

    Floats that are not finite get one form on every database: NaN is logged as ``null`` (SQLite stores
    a NaN as NULL, PostgreSQL keeps it: "no value" either way), +inf and -inf as the text ``"Infinity"``
    and ``"-Infinity"`` (both databases keep them, so they stay distinct from NULL). The logged text is
    strict JSON (RFC 8259) that any parser reads. See ``docs/audit.md`` (canonical form).
    """
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            return None
        return POS_INF if value > 0 else NEG_INF
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return hashlib.sha256(value).hexdigest()  # large blobs (DCC XML) are logged by digest
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def canonical_json(data: dict[str, Any]) -> str:
    """Deterministic JSON text of a record (sorted keys, no whitespace, UTF-8 kept, strict JSON).

    Values take their :func:`json_value` form first, so no ``NaN`` or ``Infinity`` literal is written.
    """
    return json.dumps(json_value(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False)


def entry_hash(
    prev_hash: str, seq: int, ts: str, actor: str, action: str, entity: str, entity_key: str, data: str
) -> str:
    """SHA-256 (hex) of the fields joined by the unit separator U+001F, ``prev_hash`` first."""
    payload = "\x1f".join((prev_hash, str(seq), ts, actor, action, entity, entity_key, data))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def lock_chain(session: Session) -> None:
    """Hold the audit chain for this transaction: one transaction at a time extends it.

    On PostgreSQL a transaction-level advisory lock (re-entrant, released at commit or rollback); SQLite
    has one writer at a time already. :func:`record` takes it; a caller that reads the head before it
    writes (to know which entries are its own) takes it first.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7201712)"))


def record(
    session: Session, *, actor: str, action: str, entity: str, key: str, data: dict[str, Any]
) -> AuditEntry:
    """Append one entry in the caller's transaction (so the change and its log commit together).

    Parameters
    ----------
    session : Session
        The session that makes the change.
    actor : str
        Who made it (user name, ``cli``, ``system``).
    action : str
        ``create``, ``update``, ``delete`` or a package's own verb (``link``, ``results``).
    entity : str
        The table name of the record (what reconciliation reads it back from).
    key : str
        The record's key in that table (a unique code; see the table's reconciler).
    data : dict
        The record's state after the change (every column), stored as :func:`canonical_json`.

    Returns
    -------
    AuditEntry
        The flushed entry (``seq`` and ``hash`` set).
    """
    lock_chain(session)
    # the head is read every time (a primary-key lookup): a cached head would go stale when a
    # savepoint is rolled back, and a stale head would break the append-only chain for good
    last = session.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq = (last.seq + 1) if last else 1
    prev = last.hash if last else GENESIS
    ts = datetime.now(UTC).isoformat(timespec="microseconds")
    body = canonical_json(data)
    entry = AuditEntry(
        seq=seq,
        ts=ts,
        actor=actor,
        action=action,
        entity=entity,
        entity_key=key,
        data=body,
        prev_hash=prev,
        hash=entry_hash(prev, seq, ts, actor, action, entity, key, body),
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True, slots=True)
class AuditReport:
    """Result of verifying the chain."""

    ok: bool
    entries: int
    head_hash: str
    first_bad_seq: int | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head_hash": self.head_hash,
            "first_bad_seq": self.first_bad_seq,
            "reason": self.reason,
        }


def verify(session: Session, expected_head: str | None = None) -> AuditReport:
    """Walk the whole chain and recompute every hash.

    Parameters
    ----------
    session : Session
    expected_head : str, optional
        A head hash recorded earlier; if given, the chain must contain it (detects truncation
        of entries appended after that point only if it is missing).
    """
    prev = GENESIS
    n = 0
    seen_expected = expected_head is None
    rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
    for e in rows.yield_per(5000) if hasattr(rows, "yield_per") else rows:
        n += 1
        if e.seq != n:
            return AuditReport(False, n, prev, e.seq, f"sequence gap: expected {n}, found {e.seq}")
        if e.prev_hash != prev:
            return AuditReport(False, n, prev, e.seq, "prev_hash does not match the previous entry")
        h = entry_hash(e.prev_hash, e.seq, e.ts, e.actor, e.action, e.entity, e.entity_key, e.data)
        if h != e.hash:
            return AuditReport(False, n, prev, e.seq, "content does not match its hash")
        prev = e.hash
        if not seen_expected and e.hash == expected_head:
            seen_expected = True
    if not seen_expected:
        return AuditReport(False, n, prev, None, "expected head hash not found: entries were removed")
    return AuditReport(True, n, prev)
