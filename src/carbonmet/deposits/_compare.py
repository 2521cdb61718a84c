"""Where the annual account differs from the monthly deposits (核算与存证比对).

The account comes as the JSON object of ``carbonmet.accounting.Account.to_dict()`` (this package does not import
the accounting engine). Per source stream it carries the monthly figures the deposits are compared with:

* ``activity["periods"]`` — the amount per month [``activity["unit"]``] of fuels, purchased/exported electricity
  and heat;
* ``factor["carbon_content_periods"]`` [``factor["carbon_unit"]``] and ``factor["ncv_periods"]``
  [``factor["ncv_unit"]``] — the lots' amount-weighted monthly mean of a fuel;
* for a carbon-balance group, ``activity["items"][<stream>]["periods"]`` (amount) and ``["carbon_periods"]``
  (carbon content, a mass fraction for amounts in mass, t/Nm3 for amounts in normal volume).

A ``co2_recovered`` stream's activity is the pure CO2 (amount × purity), not the metered gas: its deposits are
reported ``not_in_account``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from ..quantities import UnitError, convert, is_convertible
from ._rules import deposit_rules
from ._types import Deposit, Difference

Figures = dict[tuple[str, str, str], tuple[float, str]]


def _periods(periods: Any, stream: str, parameter: str, unit: str, out: Figures) -> None:
    for p in periods or []:
        v = p.get("value") if isinstance(p, Mapping) else None
        if v is None or not isinstance(v, int | float) or not math.isfinite(v):
            continue
        out[(stream, parameter, str(p["period"]))] = (float(v), unit)


def _carbon_unit(amount_unit: str) -> str:
    """The accounting engine's unit of carbon content for an amount in ``amount_unit`` (mass fraction or t/Nm3)."""
    return "t/Nm3" if is_convertible(amount_unit, "Nm3") else "1"


def account_figures(account: Mapping[str, Any]) -> Figures:
    """The monthly figures an account carries: (source stream, parameter, ``YYYY-MM``) → (value, unit)."""
    out: Figures = {}
    for s in account.get("streams", []):
        name, kind = str(s.get("name")), str(s.get("kind"))
        act, fac = s.get("activity") or {}, s.get("factor") or {}
        items = act.get("items")
        if isinstance(items, Mapping):
            for item, it in items.items():
                unit = str(it.get("unit") or "")
                _periods(it.get("periods"), str(item), "activity_data", unit, out)
                _periods(it.get("carbon_periods"), str(item), "carbon_content", _carbon_unit(unit), out)
            continue
        if kind != "co2_recovered":
            _periods(act.get("periods"), name, "activity_data", str(act.get("unit") or ""), out)
        if fac.get("carbon_content_periods"):
            _periods(fac["carbon_content_periods"], name, "carbon_content", str(fac.get("carbon_unit") or "1"), out)
        if fac.get("ncv_periods"):
            _periods(fac["ncv_periods"], name, "ncv", str(fac.get("ncv_unit") or "GJ/t"), out)
    return out


def compare_account(deposits: Iterable[Deposit], account: Mapping[str, Any], *,
                    tolerance: float | None = None) -> list[Difference]:
    """Each latest deposit against the account's figure for the same stream, parameter and month, and the months
    the account used that were never deposited.

    Parameters
    ----------
    deposits : iterable of Deposit
        The enterprise's deposits (every version: the latest of each month, stream and parameter is compared);
        only those of the account's enterprise and year count.
    account : mapping
        ``Account.to_dict()`` of the enterprise-year.
    tolerance : float, optional
        Relative difference [-] above which a pair differs materially; default ``deadlines.toml``
        ``[tolerance] relative`` (0.5 %, [A]).

    Returns
    -------
    list of Difference
        ``compared`` (deposit converted to the account's unit — a carbon content deposited in % against the
        account's mass fraction —, difference, relative difference, ``exceeds``), ``not_in_account``,
        ``not_comparable`` and ``not_deposited``, ordered by stream, parameter and month.

    Notes
    -----
    ``difference = deposit − account`` [account unit]; ``relative = difference / |account|``; ``exceeds`` when
    ``|relative| > tolerance``, or when the account's figure is 0 and the deposit's is not.
    """
    tol = float(deposit_rules().tolerance.value) if tolerance is None else float(tolerance)
    enterprise, year = account.get("enterprise"), account.get("year")
    figures = account_figures(account)
    latest: dict[tuple[str, str, str], Deposit] = {}
    for d in sorted(deposits, key=lambda d: d.version):
        if (enterprise is None or d.enterprise == enterprise) and (year is None or d.month[:4] == f"{year:04d}"):
            latest[(d.source_stream, d.parameter, d.month)] = d
    out: list[Difference] = []
    for k, d in latest.items():
        base: dict[str, Any] = {"source_stream": d.source_stream, "parameter": d.parameter, "month": d.month, "version": d.version,
                "deposited_value": d.value, "deposited_unit": d.unit, "content_hash": d.content_hash}
        fig = figures.get(k)
        if fig is None:
            out.append(Difference("not_in_account", **base, note="核算未使用该参数该月的数值 / the account uses no such "
                                  "figure for this month"))
            continue
        a, unit = fig
        try:
            v = float(convert(d.value, d.unit, unit))
        except UnitError as exc:
            out.append(Difference("not_comparable", **base, unit=unit, account_value=a,
                                  note=f"单位无法换算 / units do not convert: {exc}"))
            continue
        diff = v - a
        rel = diff / abs(a) if a != 0 else None
        exceeds = abs(rel) > tol if rel is not None else diff != 0
        out.append(Difference("compared", **base, unit=unit, deposit_value=v, account_value=a, difference=diff,
                              relative=rel, exceeds=exceeds, tolerance=tol,
                              note=(f"相差 {100 * rel:+.3f} %，超过容差 {100 * tol:g} % / differs by {100 * rel:+.3f} %, "
                                    f"over the {100 * tol:g} % tolerance" if exceeds and rel is not None else
                                    "核算值为 0 而存证值不为 0 / the account has 0, the deposit does not" if exceeds
                                    else "")))
    for k, (a, unit) in figures.items():
        if k not in latest:
            out.append(Difference("not_deposited", k[0], k[1], k[2], unit=unit, account_value=a,
                                  note="核算使用了未存证的月度数值 / the account used a monthly figure that was never "
                                       "deposited"))
    out.sort(key=lambda x: (x.source_stream, x.parameter, x.month, x.kind))
    return out
