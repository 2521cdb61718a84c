"""Deadlines and rules of the monthly evidence deposit (存证期限与规则), read from ``deadlines.toml``.

Pure functions over dates: a deposit month is ``YYYY-MM`` in the platform's local time; its deadline is the
month's last day plus a number of natural days (inclusive), for the enterprise and for the authority.
"""

from __future__ import annotations

import calendar
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any, Literal
from zoneinfo import ZoneInfo

Status = Literal["on_time", "late"]
"""Whether a deposit was stored by the enterprise's deadline (按期 / 逾期)."""

_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of ``deadlines.toml`` with where it comes from."""

    value: Any
    source: str
    evidence: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DepositRules:
    """The rules of the monthly deposit (``deadlines.toml``), each with its source and evidence mark.

    Attributes
    ----------
    enterprise_days : Rule
        Natural days after the month's end within which the enterprise deposits (T+20, [V] municipal example).
    authority_days : Rule
        Natural days after the month's end within which the authority completes the month (T+40, [C]).
    frequencies : Rule
        Plan frequencies that make a parameter a monthly deposit (monthly or finer, [A]).
    parameters : Rule
        Parameter kinds that are deposited ([A], mapped from the municipal list).
    tolerance : Rule
        Relative difference [-] above which a deposit and the account differ materially ([A]).
    """

    enterprise_days: Rule
    authority_days: Rule
    frequencies: Rule
    parameters: Rule
    tolerance: Rule

    def deposited(self, parameter: str, frequency: str) -> bool:
        """Whether a plan row of this kind and frequency is deposited every month."""
        return parameter in self.parameters.value and frequency in self.frequencies.value

    def to_dict(self) -> dict[str, Any]:
        return {name: {"value": list(r.value) if isinstance(r.value, tuple) else r.value, "source": r.source,
                       "evidence": r.evidence, "reason": r.reason}
                for name, r in (("enterprise_days", self.enterprise_days), ("authority_days", self.authority_days),
                                ("frequencies", self.frequencies), ("parameters", self.parameters),
                                ("tolerance", self.tolerance))}


def _rule(doc: dict[str, Any], table: str, key: str) -> Rule:
    t = doc[table]
    v = t[key]
    return Rule(tuple(v) if isinstance(v, list) else v, str(t["source"]), str(t["evidence"]), str(t.get("reason", "")))


@lru_cache(maxsize=1)
def deposit_rules() -> DepositRules:
    """The rules shipped in ``carbonmet/deposits/deadlines.toml`` (read once)."""
    text = resources.files("carbonmet.deposits").joinpath("deadlines.toml").read_text(encoding="utf-8")
    doc = tomllib.loads(text)
    rules = DepositRules(_rule(doc, "enterprise", "days"), _rule(doc, "authority", "days"),
                         _rule(doc, "deposited", "frequencies"), _rule(doc, "deposited", "parameters"),
                         _rule(doc, "tolerance", "relative"))
    for r in (rules.enterprise_days, rules.authority_days):
        if not isinstance(r.value, int) or r.value < 0:
            raise ValueError(f"deadlines.toml: days must be a whole number ≥ 0, got {r.value!r}")
    if not 0 <= float(rules.tolerance.value) < 1:
        raise ValueError(f"deadlines.toml: tolerance.relative must be in [0, 1), got {rules.tolerance.value!r}")
    return rules


def month_problem(month: str) -> str | None:
    """Why ``month`` is not a deposit month ``YYYY-MM`` (zh-CN, English), or None."""
    m = _MONTH.fullmatch(month) if isinstance(month, str) else None
    if m is None or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2100:
        return f"月份须为 YYYY-MM (2000–2100) / the month must be YYYY-MM (2000–2100), got {month!r}"
    return None


def parse_month(month: str) -> tuple[int, int]:
    """``"2025-03"`` → ``(2025, 3)``.

    Raises
    ------
    ValueError
        Not ``YYYY-MM`` with a month 01–12 and a year 2000–2100.
    """
    problem = month_problem(month)
    if problem is not None:
        raise ValueError(problem)
    y, m = month.split("-")
    return int(y), int(m)


def month_end(month: str) -> date:
    """The last day of a deposit month ``YYYY-MM``."""
    y, m = parse_month(month)
    return date(y, m, calendar.monthrange(y, m)[1])


def deadline(month: str, days: int) -> date:
    """The last day (inclusive, local time) of the ``days`` natural days after ``month``'s end.

    Parameters
    ----------
    month : str
        ``YYYY-MM``.
    days : int
        Natural days after the month's end [d]: 20 for the enterprise, 40 for the authority in the municipal
        example (``deadlines.toml``).

    Returns
    -------
    datetime.date
        ``month_end(month) + days``: March 2025 with 20 days → 2025-04-20.

    References
    ----------
    Municipal implementation text of the national ETS monthly deposit (月度信息化存证), accounting_2025.md §2 [V].
    """
    return month_end(month) + timedelta(days=days)


def status_of(uploaded_at: datetime, month: str, days: int, tz: str) -> Status:
    """``on_time`` when ``uploaded_at`` falls on or before the deadline's last day in zone ``tz``, else ``late``."""
    if uploaded_at.tzinfo is None:
        raise ValueError("uploaded_at must be timezone-aware")
    local = uploaded_at.astimezone(ZoneInfo(tz)).date()
    return "on_time" if local <= deadline(month, days) else "late"


def month_started(month: str, tz: str) -> datetime:
    """The first instant of ``month`` in zone ``tz`` (aware)."""
    y, m = parse_month(month)
    return datetime(y, m, 1, tzinfo=ZoneInfo(tz))


def month_over(month: str, now: datetime, tz: str) -> bool:
    """Whether ``month`` has ended at ``now`` in zone ``tz`` (its monthly values are final)."""
    end = month_end(month) + timedelta(days=1)
    return now.astimezone(ZoneInfo(tz)) >= datetime(end.year, end.month, end.day, tzinfo=ZoneInfo(tz))


def months_of(year: int) -> list[str]:
    """The twelve deposit months of ``year``."""
    return [f"{year:04d}-{m:02d}" for m in range(1, 13)]
