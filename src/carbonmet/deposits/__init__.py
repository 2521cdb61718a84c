"""Monthly evidence deposit (月度信息化存证): per parameter and month the value, unit and supporting files,
stored with their hashes, upload time and deadline status, appended to the audit chain.

The national ETS's 2024 sector guidelines carry the key parameters of the data-quality control plan and their
supporting materials (lab report, invoice, ledger), deposited month by month, into the annual report
(accounting_2025.md §2, [V]). This package lets a verifier prove that an annual account was built from what was
deposited, and lets the account say where it differs.

Public API
----------
Rules (``deadlines.toml``, each value with source and evidence mark)
    :func:`deposit_rules` → :class:`DepositRules`; :func:`deadline` (month end + days), :func:`month_end`.
Reading a deposit file (CSV/XLSX through :mod:`carbonmet.tabular`)
    :func:`read_deposit_file` → :class:`DepositFile` of :class:`DepositInput`; refused files raise
    :class:`DepositError` listing :class:`DepositProblem` (file, row, field, reason).
Storage (table ``monthly_deposit``, audited, reconciled by ``carbonmet audit verify``)
    :func:`save_deposits` → :class:`DepositReport`; :func:`load_deposits`; :func:`plan_for_month`;
    :class:`Deposit` with its :class:`Evidence`, :func:`content_hash`, :func:`deposit_key`;
    :class:`EvidenceStore` (evidence bytes by SHA-256).
Checks and proof
    :func:`deposit_status` → :class:`StatusRow`; :func:`deposit_proof` → :class:`Proof`;
    :func:`compare_account` → :class:`Difference` (the account as ``Account.to_dict()``).
"""

from . import _reconcile  # noqa: F401  (registers monthly_deposit with carbonmet.db.reconcile)
from ._compare import compare_account
from ._evidence import EvidenceStore
from ._proof import deposit_proof
from ._reader import DepositFile, DepositInput, read_deposit_file
from ._rules import DepositRules, deadline, deposit_rules, month_end
from ._status import deposit_status
from ._store import DepositReport, load_deposits, plan_for_month, save_deposits
from ._types import (
    EVIDENCE_KINDS,
    Deposit,
    DepositError,
    DepositProblem,
    Difference,
    Evidence,
    Proof,
    StatusRow,
    content_hash,
    deposit_key,
)

__all__ = [
    "EVIDENCE_KINDS",
    "Deposit",
    "DepositError",
    "DepositFile",
    "DepositInput",
    "DepositProblem",
    "DepositReport",
    "DepositRules",
    "Difference",
    "Evidence",
    "EvidenceStore",
    "Proof",
    "StatusRow",
    "compare_account",
    "content_hash",
    "deadline",
    "deposit_key",
    "deposit_proof",
    "deposit_rules",
    "deposit_status",
    "load_deposits",
    "month_end",
    "plan_for_month",
    "read_deposit_file",
    "save_deposits",
]
