"""Append-only, hash-chained audit log (审计日志).

Each entry stores who did what to which record, the record's new content as canonical JSON, the
previous entry's hash and its own hash:

.. math:: h_n = \\mathrm{SHA256}(h_{n-1} \\| n \\| t \\| \\text{actor} \\| \\text{action} \\| \\text{entity} \\| \\text{key} \\| \\text{data})

so that changing any stored byte of any entry, removing an entry or reordering entries breaks the
chain from that entry on. Truncating the newest entries can only be detected against a head hash
kept elsewhere (``carbonmet audit verify`` prints it; keep it in the report you send out).

The chain proves the log was not altered, not that the tables still match it: that is
:func:`carbonmet.registry.reconcile` (对账, ``_reconcile.py``), which ``carbonmet audit verify`` runs too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ._models import AuditEntry

GENESIS = "0" * 64


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return hashlib.sha256(value).hexdigest()  # large blobs (DCC XML) are logged by digest
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def canonical_json(data: dict[str, Any]) -> str:
    """Deterministic JSON text of a record (sorted keys, no whitespace, UTF-8 kept)."""
    return json.dumps(_jsonable(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def entry_hash(
    prev_hash: str, seq: int, ts: str, actor: str, action: str, entity: str, entity_key: str, data: str
) -> str:
    payload = "\x1f".join((prev_hash, str(seq), ts, actor, action, entity, entity_key, data))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(
    session: Session, *, actor: str, action: str, entity: str, key: str, data: dict[str, Any]
) -> AuditEntry:
    """Append one entry in the caller's transaction (so the change and its log commit together)."""
    if session.get_bind().dialect.name == "postgresql":
        # serialise writers of the chain: one transaction at a time extends it (re-entrant in a transaction)
        session.execute(text("SELECT pg_advisory_xact_lock(7201712)"))
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
