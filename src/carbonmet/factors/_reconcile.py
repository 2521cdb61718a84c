"""Reconciler (对账) of ``emission_factor``: every stored version's row against its audit entry.

Registered when :mod:`carbonmet.factors` is imported, so ``carbonmet audit verify`` finds a changed value, unit,
distribution or hash (``changed``), a row no entry created (``unlogged``) and a deleted row (``missing``). On a
database not (or no longer) migrated to the factor revision the table is read as empty.
"""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from carbonmet.db import Discrepancy, KeyedReconciler, register_reconciler
from carbonmet.db.audit import loads

from ._models import FACTOR, FactorRow


class FactorReconciler(KeyedReconciler):
    """:class:`carbonmet.db.KeyedReconciler` on ``factor_ref``, for a table that may not exist yet."""

    def __init__(self) -> None:
        super().__init__(FactorRow, "factor_ref")
        self._entries: dict[str, tuple[int, str]] = {}

    def add(self, seq: int, action: str, key: str, data: str) -> None:
        super().add(seq, action, key, data)
        if action == "delete":
            self._entries.pop(key, None)
        else:
            self._entries[key] = (seq, data)

    def check(self, session: Session) -> tuple[int, list[Discrepancy]]:
        if inspect(session.connection()).has_table(FACTOR):
            return super().check(session)
        return 0, [
            Discrepancy("missing", FACTOR, k, logged=loads(d), seq=s) for k, (s, d) in self._entries.items()
        ]


register_reconciler(FACTOR, FactorReconciler)
