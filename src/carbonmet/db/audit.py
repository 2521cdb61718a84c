"""The audit log's building blocks and the kit for writing a package's reconciler (审计日志构件).

:mod:`carbonmet.db` has what an application calls (:func:`~carbonmet.db.record`,
:func:`~carbonmet.db.verify`, :func:`~carbonmet.db.reconcile`). This module holds the pieces below it, for a
package that declares audited tables and for a verifier who recomputes the chain independently:

- The chain: :data:`GENESIS` (the ``prev_hash`` of entry 1), :func:`entry_hash` (SHA-256 over the fields
  joined by U+001F), :func:`canonical_json` and :func:`json_value` (the logged form of a record).
- A reconciler's helpers: :func:`stream_rows` (rows in batches of :data:`BATCH`), :func:`loads` (logged JSON
  text, None when it does not parse), :func:`row_json` (a row's columns in logged form),
  :func:`diff_fields` (the fields where a row and its logged state differ).
- Signed heads: :class:`AuditHeadSignature` (the ``audit_head_signature`` table), :func:`head_message`
  (the signed bytes, tagged :data:`HEAD_FORMAT`), :func:`key_id`, :func:`load_signing_key`.
- Re-exported from :mod:`carbonmet.db` so a reconciler imports from one place: :class:`AuditEntry`,
  :func:`record`, :func:`lock_chain`, :func:`verify`, :class:`Discrepancy`, :class:`Reconciler`,
  :class:`KeyedReconciler`, :func:`register_reconciler`.

See ``docs/audit.md``.
"""

from ._audit import GENESIS, AuditEntry, canonical_json, entry_hash, json_value, lock_chain, record, verify
from ._reconcile import (
    BATCH,
    Discrepancy,
    KeyedReconciler,
    Reconciler,
    diff_fields,
    loads,
    register_reconciler,
    row_json,
    stream_rows,
)
from ._signing import HEAD_FORMAT, AuditHeadSignature, head_message, key_id, load_signing_key

__all__ = [
    "BATCH",
    "GENESIS",
    "HEAD_FORMAT",
    "AuditEntry",
    "AuditHeadSignature",
    "Discrepancy",
    "KeyedReconciler",
    "Reconciler",
    "canonical_json",
    "diff_fields",
    "entry_hash",
    "head_message",
    "json_value",
    "key_id",
    "load_signing_key",
    "loads",
    "lock_chain",
    "record",
    "register_reconciler",
    "row_json",
    "stream_rows",
    "verify",
]
