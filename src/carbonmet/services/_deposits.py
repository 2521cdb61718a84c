"""Monthly evidence deposit use cases (月度信息化存证): deposit a month's file, list, check against the plan and
the annual account, prove.

A deposit belongs to its enterprise: depositing needs it in the write scope (checked before the file is read),
reading in the read scope. The file is checked against the enterprise's monitoring plan in force for the month;
the evidence files and the deposit file are kept under the workspace's home (``home/evidence``, by SHA-256).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from carbonmet.deposits import (
    Deposit,
    DepositError,
    DepositProblem,
    DepositReport,
    Difference,
    EvidenceStore,
    Proof,
    StatusRow,
    compare_account,
    deposit_rules,
    deposit_status,
    load_deposits,
    month_end,
    plan_for_month,
    read_deposit_file,
    save_deposits,
)
from carbonmet.deposits import deposit_proof as _proof
from carbonmet.sites import load_plan

from ._accounting import account_enterprise
from ._deps import AuditKeyError, CarbonmetError, load_key
from ._errors import NotInScope, ServiceError
from ._guard import guarded_write
from ._scope import Scope
from ._usecase import use_case
from ._workspace import Workspace

_DEPOSITS = "monthly deposits 月度存证"
_PLAN = "monitoring plan 监测计划"


def _evidence(ws: Workspace) -> EvidenceStore:
    return EvidenceStore(ws.home / "evidence")


@use_case("write")
def deposit_month(ws: Workspace, scope: Scope, enterprise: str, month: str, path: str | Path, *,
                  now: datetime | None = None) -> DepositReport:
    """Deposit one month's parameters of an enterprise from a CSV/XLSX file (月度存证上传).

    Parameters
    ----------
    ws : Workspace
        Its :attr:`Workspace.home` keeps the evidence files (``home/evidence``).
    scope : Scope
        ``enterprise`` must be in its write scope.
    enterprise : str
    month : str
        ``YYYY-MM`` (local, the workspace's zone), ended at ``now``.
    path : str or Path
        The deposit file (docs/deposits.md); evidence paths are relative to it.
    now : datetime, optional
        The platform's clock (aware; default: now). Stored as each deposit's ``uploaded_at``; the deadline status
        is judged at it.

    Returns
    -------
    DepositReport
        New versions stored, and rows that equal the latest version (nothing new).

    Raises
    ------
    AccessDenied
        ``enterprise`` is not in the write scope (before anything is read).
    DepositError
        The file is refused (``file:row:field: reason`` for every problem; nothing stored): no plan in force for the
        month, a row not in the plan or otherwise bad, a correction without a reason, a month not yet over.
    ServiceError
        The workspace has no home for the evidence files.
    """
    scope.check_write(enterprise, f"deposit 月度存证 ({enterprise} {month})")
    p = Path(path)
    store = _evidence(ws)  # a workspace without a home fails before anything is read
    try:
        month_end(month)
    except ValueError as exc:
        raise DepositError(str(p), [DepositProblem(str(p), "-", "month", str(exc))]) from None
    with ws.session() as s:
        plan = plan_for_month(s, enterprise, month)
    if plan is None:
        raise DepositError(str(p), [DepositProblem(str(p), "-", "month", f"{enterprise} 在 {month} 没有生效的监测计划 / "
                                                   f"{enterprise} has no monitoring plan in force in {month} "
                                                   "(import the plan first)")])
    df = read_deposit_file(p, enterprise=enterprise, month=month, plan=plan)
    stamp = now if now is not None else datetime.now(UTC)
    with guarded_write(ws, scope, f"deposit 月度存证 ({enterprise} {month})") as s:
        return save_deposits(s, df, actor=scope.actor, now=stamp, tz=ws.time_zone, evidence=store)


@use_case("read")
def list_deposits(ws: Workspace, scope: Scope, enterprise: str, year: int, *, latest: bool = False) -> list[Deposit]:
    """An enterprise-year's deposits, every version (or only the latest of each month, stream and parameter)."""
    scope.check_read(enterprise, _DEPOSITS, enterprise)
    with ws.session() as s:
        return load_deposits(s, enterprise, year=year, latest=latest)


@dataclass
class DepositCheck:
    """An enterprise-year's deposits against its plan (status) and its annual account (differences) (存证核查).

    ``account`` is the account's total (``value``, ``U``, ``unit``, ``valid``) or None with ``account_error``
    saying why the account could not be made (no readings store, no streams table …); the status holds then too.
    """

    enterprise: str
    year: int
    today: date
    plan_version: int
    status: list[StatusRow]
    differences: list[Difference] = field(default_factory=list)
    account: dict[str, Any] | None = None
    account_error: str | None = None

    @property
    def findings(self) -> list[Difference]:
        """The differences a verifier must look at (:attr:`Difference.finding`)."""
        return [d for d in self.differences if d.finding]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.status:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"enterprise": self.enterprise, "year": self.year, "today": self.today.isoformat(),
                "plan_version": self.plan_version, "counts": self.counts(), "findings": len(self.findings),
                "account": self.account, "account_error": self.account_error, "rules": deposit_rules().to_dict(),
                "status": [r.to_dict() for r in self.status], "differences": [d.to_dict() for d in self.differences]}


@use_case("read")
def deposit_check(ws: Workspace, scope: Scope, enterprise: str, year: int, *, today: date | None = None,
                  account: Mapping[str, Any] | None = None) -> DepositCheck:
    """Which months are deposited, late, missing or not due, and where the annual account differs from the
    deposits (存证核查).

    Parameters
    ----------
    ws : Workspace
    scope : Scope
    enterprise : str
    year : int
    today : datetime.date, optional
        The local date the status is judged at (default: today in the workspace's zone).
    account : mapping, optional
        The annual account to compare with, as ``Account.to_dict()`` (e.g. the report as submitted, saved by
        ``carbonmet account --json``); it must be ``enterprise``'s for ``year``. Default: made now from the plan and
        the data by :func:`account_enterprise` (LPU).

    Raises
    ------
    NotInScope
        The enterprise is not readable, or it has no stored monitoring plan.
    ServiceError
        ``account`` is another enterprise's or another year's.
    """
    scope.check_read(enterprise, _DEPOSITS, enterprise)
    with ws.session() as s:
        plan = load_plan(s, enterprise)
        deposits = load_deposits(s, enterprise, year=year)
    if plan is None:
        raise NotInScope(_PLAN, enterprise)
    day = today if today is not None else datetime.now(ZoneInfo(ws.time_zone)).date()
    check = DepositCheck(enterprise, year, day, plan.version, deposit_status(plan, deposits, year, day))
    if account is not None:
        if (account.get("enterprise"), account.get("year")) != (enterprise, year):
            raise ServiceError(f"核算结果属于 {account.get('enterprise')} {account.get('year')} / the account given is "
                               f"{account.get('enterprise')}'s for {account.get('year')}, not {enterprise}'s for {year}")
        acc = account
    else:
        try:
            acc = account_enterprise(ws, scope, enterprise, year, method="lpu").to_dict()
        except CarbonmetError as exc:
            check.account_error = str(exc)
            return check
    tot = acc.get("total", {})
    check.account = {k: tot.get(k) for k in ("value", "U", "unit", "valid")}
    check.differences = compare_account(deposits, acc)
    return check


@use_case("read")
def deposit_proof(ws: Workspace, scope: Scope, enterprise: str, year: int) -> Proof:
    """The proof of an enterprise-year's deposits (存证证明): the latest version of each with its content hash, its
    audit entry, the evidence files re-hashed (when the workspace has a home) and the chain's and signed heads'
    status (signatures checked with the workspace's audit key, when it has one).

    Raises
    ------
    ServiceError
        The audit key cannot be read.
    """
    scope.check_read(enterprise, _DEPOSITS, enterprise)
    try:
        key = load_key(ws.audit_key) if ws.audit_key is not None else None
    except AuditKeyError as exc:
        raise ServiceError(str(exc)) from None
    try:
        store: EvidenceStore | None = _evidence(ws)
    except ServiceError:
        store = None
    with ws.session() as s:
        return _proof(s, enterprise, year, evidence=store, key=key)
