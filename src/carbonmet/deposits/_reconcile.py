"""Reconciler (对账) of ``monthly_deposit``: every version's row against its audit entry.

======================= ============================================ =======================================
entity (table)          entity_key                                   data (the state as stored)
======================= ============================================ =======================================
monthly_deposit         ``E01/2025-03/boiler_coal/activity_data/v1`` every column of the row (with its id),
                                                                     the content hash among them
======================= ============================================ =======================================

Registered when :mod:`carbonmet.deposits` is imported, so ``carbonmet audit verify`` finds a changed value,
unit, evidence list, status or hash (``changed``), a row no entry created (``unlogged``) and a deleted row
(``missing``).
"""

from __future__ import annotations

from ..db import KeyedReconciler, register_reconciler
from ._models import DEPOSIT, DepositRecord

register_reconciler(DEPOSIT, lambda: KeyedReconciler(DepositRecord, "deposit_key"))
