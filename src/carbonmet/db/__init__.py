"""Persistence and audit (持久化与审计): the one boundary every package's tables go through.

Public API:

* the declarative :class:`Base` (one ``MetaData`` with :data:`NAMING_CONVENTION`) every package
  declares its models on, and the one Alembic chain in ``carbonmet/db/migrations`` (:func:`migrate`,
  :func:`alembic_config`);
* :class:`Settings` (``CARBONMET_*`` environment, read once, passed explicitly), :func:`default_url`,
  :func:`make_engine`, :func:`session_factory`, :func:`session_scope`;
* the append-only, hash-chained audit log (审计日志): :class:`AuditEntry`, :func:`record`, :func:`lock_chain`,
  :func:`verify` (→ :class:`AuditReport`);
* signed heads (审计链头签名): the operator's Ed25519 key signs the chain's head after each write
  (:func:`sign_head`, stored in ``audit_head_signature``), :func:`verify_signatures` (→
  :class:`SignatureReport`) checks them against a trusted key or an exported :class:`SignedHead`
  (:func:`export_head`); keys: :func:`generate_key`, :func:`load_key`, errors :class:`AuditKeyError`;
* reconciliation of the tables against the log (对账): :func:`reconcile` (→ :class:`ReconcileReport`
  of :class:`Discrepancy`), the :class:`Reconciler` protocol, :class:`KeyedReconciler`,
  :func:`register_reconciler`, :func:`audited_tables`.

The building blocks of the log (hashing, canonical JSON) and the helpers a package's own reconciler
uses (:func:`~carbonmet.db.audit.diff_fields`, :func:`~carbonmet.db.audit.stream_rows`, …) are in
:mod:`carbonmet.db.audit`.
"""

from ._audit import AuditEntry, AuditReport, lock_chain, record, verify
from ._base import NAMING_CONVENTION, Base
from ._engine import alembic_config, make_engine, migrate, session_factory, session_scope
from ._reconcile import (
    Discrepancy,
    KeyedReconciler,
    Reconciler,
    ReconcileReport,
    audited_tables,
    reconcile,
    register_reconciler,
)
from ._settings import Settings, default_url
from ._signing import (
    AuditKeyError,
    SignatureReport,
    SignedHead,
    export_head,
    generate_key,
    load_key,
    sign_head,
    verify_signatures,
)

__all__ = [
    "NAMING_CONVENTION",
    "AuditEntry",
    "AuditKeyError",
    "AuditReport",
    "Base",
    "Discrepancy",
    "KeyedReconciler",
    "ReconcileReport",
    "Reconciler",
    "Settings",
    "SignatureReport",
    "SignedHead",
    "alembic_config",
    "audited_tables",
    "default_url",
    "export_head",
    "generate_key",
    "load_key",
    "lock_chain",
    "make_engine",
    "migrate",
    "reconcile",
    "record",
    "register_reconciler",
    "session_factory",
    "session_scope",
    "sign_head",
    "verify",
    "verify_signatures",
]
