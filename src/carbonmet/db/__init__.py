"""Persistence and audit (持久化与审计): the one boundary every package's tables go through.

Public API:

* the declarative :class:`Base` (one ``MetaData`` with :data:`NAMING_CONVENTION`) every package
  declares its models on, and the one Alembic chain in ``carbonmet/db/migrations`` (:func:`migrate`);
* :class:`Settings` (``CARBONMET_*`` environment, read once, passed explicitly), :func:`default_url`,
  :func:`make_engine`, :func:`session_factory`, :func:`session_scope`;
* the append-only, hash-chained audit log (审计日志): :class:`AuditEntry`, :func:`record`, :func:`lock_chain`,
  :func:`verify` (→ :class:`AuditReport`), :func:`canonical_json`, :func:`json_value`;
* reconciliation of the tables against the log (对账): :func:`reconcile` (→ :class:`ReconcileReport`
  of :class:`Discrepancy`), the :class:`Reconciler` protocol, :class:`KeyedReconciler`,
  :func:`register_reconciler`, :func:`audited_tables`, and the helpers :func:`diff_fields`,
  :func:`stream_rows`, :func:`loads`, :func:`row_json` for a package's own reconcilers.
"""

from ._audit import (
    GENESIS,
    AuditEntry,
    AuditReport,
    canonical_json,
    entry_hash,
    json_value,
    lock_chain,
    record,
    verify,
)
from ._base import NAMING_CONVENTION, Base
from ._engine import alembic_config, make_engine, migrate, session_factory, session_scope
from ._reconcile import (
    BATCH,
    Discrepancy,
    KeyedReconciler,
    Reconciler,
    ReconcileReport,
    audited_tables,
    diff_fields,
    loads,
    reconcile,
    register_reconciler,
    row_json,
    stream_rows,
)
from ._settings import Settings, default_url

__all__ = [
    "BATCH",
    "GENESIS",
    "NAMING_CONVENTION",
    "AuditEntry",
    "AuditReport",
    "Base",
    "Discrepancy",
    "KeyedReconciler",
    "ReconcileReport",
    "Reconciler",
    "Settings",
    "alembic_config",
    "audited_tables",
    "canonical_json",
    "default_url",
    "diff_fields",
    "entry_hash",
    "json_value",
    "loads",
    "lock_chain",
    "make_engine",
    "migrate",
    "reconcile",
    "record",
    "register_reconciler",
    "row_json",
    "session_factory",
    "session_scope",
    "stream_rows",
    "verify",
]
