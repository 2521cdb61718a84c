"""Reconciler (对账) of ``monthly_deposit``: every version's row against its audit entry.

======================= ============================================ =======================================
entity (table)          entity_key                                   data (the state as stored)
======================= ============================================ =======================================
monthly_deposit         ``E01/2025-03/boiler_coal/activity_data/v1`` every column of the row (with its id),
                                                                     the content hash among them
======================= ============================================ =======================================

Registered when :mod:`carbonmet.deposits` is imported, so ``carbonmet audit verify`` finds a changed value,
unit, evidence list, status or hash (``changed``), a row no entry created (``unlogged``) and a deleted row
(``missing``). On a database not (or no longer) migrated to the deposits revision the table is read as empty:
nothing to check, or every logged deposit ``missing``.
"""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from ..db import Discrepancy, KeyedReconciler, register_reconciler
from ..db.audit import loads
from ._models import DEPOSIT, DepositRecord


class DepositReconciler(KeyedReconciler):
    """:class:`carbonmet.db.KeyedReconciler` on ``deposit_key``, for a table that may not exist yet."""

    def __init__(self) -> None:
        super().__init__(DepositRecord, "deposit_key")
        self._entries: dict[str, tuple[int, str]] = {}

    def add(self, seq: int, action: str, key: str, data: str) -> None:
        super().add(seq, action, key, data)
        if action == "delete":
            self._entries.pop(key, None)
        else:
            self._entries[key] = (seq, data)

    def check(self, session: Session) -> tuple[int, list[Discrepancy]]:
        if inspect(session.connection()).has_table(DEPOSIT):
            return super().check(session)
        return 0, [Discrepancy("missing", DEPOSIT, k, logged=loads(d), seq=s) for k, (s, d) in self._entries.items()]


register_reconciler(DEPOSIT, DepositReconciler)
