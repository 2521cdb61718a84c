"""Which monthly deposits are in, late, missing or not yet due (存证状态)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from ..sites import MonitoringPlan
from ._reader import plan_rows_for_month
from ._rules import DepositRules, deadline, deposit_rules, months_of
from ._types import Deposit, StatusRow


def deposit_status(plan: MonitoringPlan, deposits: Iterable[Deposit], year: int, today: date,
                   rules: DepositRules | None = None) -> list[StatusRow]:
    """Per plan row to be deposited monthly and per month of ``year``: deposited on time or late, missing, not due.

    Parameters
    ----------
    plan : MonitoringPlan
        The enterprise's plan: its rows of a deposited kind measured monthly or finer (``deadlines.toml``
        ``[deposited]``), in the months their validity overlaps.
    deposits : iterable of Deposit
        The enterprise's stored deposits (every version; other enterprises' are ignored).
    year : int
    today : datetime.date
        The local date the status is judged at.
    rules : DepositRules, optional
        Default :func:`deposit_rules`.

    Returns
    -------
    list of StatusRow
        Ordered by source stream, parameter and month. A deposited month takes the status of its first version
        (when it was first deposited), with the number of versions and the latest version's status; a month not
        deposited is ``missing`` once ``today`` is after its enterprise deadline (month end + 20 days), else
        ``not_due``.
    """
    rules = rules or deposit_rules()
    days, adays = int(rules.enterprise_days.value), int(rules.authority_days.value)
    by: dict[tuple[str, str, str], list[Deposit]] = {}
    for d in deposits:
        if d.enterprise == plan.enterprise:
            by.setdefault((d.month, d.source_stream, d.parameter), []).append(d)
    out: list[StatusRow] = []
    for month in months_of(year):
        for (stream, param), r in plan_rows_for_month(plan, month).items():
            if not rules.deposited(param, r.frequency):
                continue
            due, adue = deadline(month, days), deadline(month, adays)
            versions = sorted(by.get((month, stream, param), []), key=lambda d: d.version)
            if versions:
                first, last = versions[0], versions[-1]
                out.append(StatusRow(stream, param, month, first.status, due, adue,  # type: ignore[arg-type]
                                     len(versions), first.uploaded_at, last.status))
            else:
                out.append(StatusRow(stream, param, month, "missing" if today > due else "not_due", due, adue))
    out.sort(key=lambda s: (s.source_stream, s.parameter, s.month))
    return out
