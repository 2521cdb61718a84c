"""Report use cases (报告): the accounting report of one enterprise-year, the metrology review report of one
enterprise on a date and the capability status report across enterprises, as PDF, XLSX and HTML files stamped
with the data, profile and code versions that produced them (same inputs → same bytes). The comparison pilot's
report is written by :func:`pilot_comparison`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from carbonmet.reports import (
    account_stamp,
    render_account_html,
    render_pdf,
    render_review_html,
    review_stamp,
    write_account_xlsx,
    write_review_xlsx,
)
from carbonmet.reports.capability import (
    CapabilityData,
    capability_stamp,
    render_capability_html,
    write_capability_xlsx,
)

from ._accounting import account_enterprise
from ._deps import Organisation
from ._errors import ServiceError
from ._review import campaign_enterprises, review_campaign, review_enterprise
from ._scope import Scope
from ._usecase import use_case
from ._workspace import Workspace

FORMATS = ("pdf", "xlsx", "html")
_ACCOUNT_REPORT = "emission account report 核算报告"
_REVIEW_REPORT = "metrology review report 计量审查报告"
_CAPABILITY_REPORT = "capability status report 计量能力现状报告"


def _formats(formats: Sequence[str] | str) -> list[str]:
    fs = [f.strip().lower() for f in ([formats] if isinstance(formats, str) else formats)]
    bad = [f for f in fs if f not in FORMATS]
    if bad or not fs:
        raise ServiceError(f"报告格式须为 {', '.join(FORMATS)} / report formats must be among {', '.join(FORMATS)}, got "
                           f"{', '.join(bad) or 'none'}")
    return list(dict.fromkeys(fs))


def _org_name(ws: Workspace, code: str) -> str:
    with ws.session() as s:
        return str(s.scalar(select(Organisation.name).where(Organisation.code == code)) or "")


def _write_report(out_dir: str | Path, stem: str, fs: Sequence[str], stamp: Any, html: Callable[[], str],
                  xlsx: Callable[[Path], object]) -> dict[str, str]:
    """Write one report as ``<stem>.<format>`` for each format into ``out_dir``; the HTML is rendered once and
    serves both the HTML file and the PDF. Returns format → path as text."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    text = html() if {"pdf", "html"} & set(fs) else ""
    files: dict[str, str] = {}
    for f in fs:
        p = out / f"{stem}.{f}"
        if f == "pdf":
            p.write_bytes(render_pdf(text, stamp=stamp))
        elif f == "html":
            p.write_text(text, encoding="utf-8")
        else:
            xlsx(p)
        files[f] = str(p)
    return files


@use_case("read")
def account_report(ws: Workspace, scope: Scope, enterprise: str, year: int, out_dir: str | Path,
                   formats: Sequence[str] = ("pdf", "xlsx"), *, method: str = "both", trials: int = 100_000,
                   seed: int | None = 0, profile: str | None = None, top: int = 10,
                   generated_for: date | None = None) -> dict[str, Any]:
    """The accounting report (碳排放核算报告) of ``enterprise`` for ``year``: its account
    (:func:`account_enterprise`) written as ``account-<enterprise>-<year>.pdf`` / ``.xlsx`` / ``.html`` into
    ``out_dir``.

    Parameters
    ----------
    formats : sequence of {"pdf", "xlsx", "html"}
    method, trials, seed, profile
        As :func:`account_enterprise` (the seed makes the Monte Carlo part, and so the files, reproducible).
    top : int
        Budget terms listed in the report.
    generated_for : date, optional
        The date the report is made for (default 31 December of ``year``): the files' dates.

    Returns
    -------
    dict
        ``enterprise``, ``year``, ``files`` (format → path as text), ``stamp`` and the total (``value``, ``U``,
        ``k``, ``valid``).

    Raises
    ------
    NotInScope
        ``enterprise`` outside the read scope (checked before anything is computed or written).
    ServiceError
        An unknown format, or what :func:`account_enterprise` refuses.
    """
    scope.check_read(enterprise, _ACCOUNT_REPORT, enterprise)
    fs = _formats(formats)
    acc = account_enterprise(ws, scope, enterprise, year, method=method, trials=trials, seed=seed, profile=profile)
    name = _org_name(ws, enterprise)
    stamp = account_stamp(acc, name=name, generated_for=generated_for)
    files = _write_report(out_dir, f"account-{enterprise}-{year}", fs, stamp,
                          lambda: render_account_html(acc, stamp=stamp, name=name, top=top),
                          lambda p: write_account_xlsx(acc, p, stamp=stamp))
    t = acc.total
    return {"enterprise": enterprise, "name": name, "year": year, "files": files, "stamp": stamp.to_dict(),
            "total": {"value": t["value"], "U": t["U"], "k": t["k"], "valid": t["valid"]}}


@use_case("read")
def review_report(ws: Workspace, scope: Scope, enterprise: str, on: date, out_dir: str | Path,
                  formats: Sequence[str] = ("pdf", "xlsx"), *, profile: str = "gb17167_ccm",
                  local_rules: str | Path | None = None) -> dict[str, Any]:
    """The metrology review report (计量审查报告) of ``enterprise`` on ``on``: the findings of
    :func:`review_enterprise` by instrument with their evidence, written as
    ``review-<enterprise>-<on>.pdf`` / ``.xlsx`` / ``.html`` into ``out_dir``.

    Returns
    -------
    dict
        ``enterprise``, ``on``, ``files`` (format → path as text), ``stamp``, ``counts`` by severity.

    Raises
    ------
    NotInScope
        ``enterprise`` outside the read scope (checked before anything is computed or written).
    ServiceError
        An unknown format.
    carbonmet.review.ReviewError
        Unknown profile, or a bad local rule file (file, row and field named).
    """
    scope.check_read(enterprise, _REVIEW_REPORT, enterprise)
    fs = _formats(formats)
    res = review_enterprise(ws, scope, enterprise, on, profile=profile, local_rules=local_rules)
    name = _org_name(ws, enterprise)
    stamp = review_stamp(res, name=name)
    files = _write_report(out_dir, f"review-{enterprise}-{on.isoformat()}", fs, stamp,
                          lambda: render_review_html(res, stamp=stamp, name=name),
                          lambda p: write_review_xlsx(res, p, stamp=stamp))
    return {"enterprise": enterprise, "name": name, "on": on.isoformat(), "files": files, "stamp": stamp.to_dict(),
            "counts": res.counts(), "findings": len(res.findings)}


@use_case("read")
def footprint_report(ws: Workspace, scope: Scope, enterprise: str, year: int, product: str, out_dir: str | Path,
                     formats: Sequence[str] = ("html", "xlsx"), *, allocation: str | None = None, mc: int = 0,
                     seed: int = 0) -> dict[str, Any]:
    """The product carbon footprint report (产品碳足迹报告, ISO 14067 / GB/T 24067-2024) of ``product`` made by
    ``enterprise`` in ``year`` (:func:`footprint_enterprise`), written as ``footprint-<enterprise>-<product>-<year>``
    ``.html`` / ``.xlsx`` / ``.pdf`` into ``out_dir``, stamped; the same inputs give the same bytes.

    Raises
    ------
    NotInScope
        ``enterprise`` outside the read scope (checked before anything is computed or written).
    ServiceError
        An unknown format, or what :func:`footprint_enterprise` refuses.
    """
    from carbonmet.reports.footprint import footprint_stamp, render_footprint_html, write_footprint_xlsx

    from ._footprint import footprint_enterprise

    scope.check_read(enterprise, _ACCOUNT_REPORT, enterprise)
    fs = _formats(formats)
    fp = footprint_enterprise(ws, scope, enterprise, year, product, allocation=allocation, mc=mc, seed=seed).to_dict()
    name = _org_name(ws, enterprise)
    stamp = footprint_stamp(fp, name=name)
    files = _write_report(out_dir, f"footprint-{enterprise}-{product}-{year}", fs, stamp,
                          lambda: render_footprint_html(fp, stamp=stamp, name=name),
                          lambda p: write_footprint_xlsx(fp, p, stamp=stamp))
    return {"enterprise": enterprise, "product": product, "year": year, "files": files, "stamp": stamp.to_dict(),
            "value": fp["value"], "U": fp["U"]}


def _stream_tiers(streams: Sequence[Any]) -> list[dict[str, Any]]:
    """The tier each stream's activity data achieve (``stream``, ``tier``, ``U_rel_pct``, ``threshold_pct``); a
    stream of several activity items (a carbon balance) gives one row per item, named ``stream/item``."""
    out = []
    for st in streams:
        tier = st.tier or {}
        items = tier.get("items") or {"": tier}
        for item, t in sorted(items.items()):
            out.append({"stream": f"{st.name}/{item}" if item else st.name, "tier": t.get("tier"),
                        "U_rel_pct": t.get("U_rel_pct"), "threshold_pct": t.get("threshold_pct")})
    return out


@use_case("read")
def capability_report(ws: Workspace, scope: Scope, enterprises: Sequence[str] | str, on: date | int,
                      out_dir: str | Path, formats: Sequence[str] = ("html", "xlsx"), *,
                      profile: str = "gb17167_ccm", local_rules: str | Path | None = None, tiers: bool = False,
                      top: int = 10, progress: Callable[[int, int, str], None] | None = None) -> dict[str, Any]:
    """The capability status report across enterprises (全国煤化工行业碳排放计量能力现状和问题建议报告): a review
    campaign (:func:`review_campaign`) written as ``capability-<date>.html`` / ``.xlsx`` / ``.pdf`` into
    ``out_dir`` — fit-out rates (when the reviews compute them), accuracy compliance, overdue calibrations,
    traceability gaps, achieved tiers (``tiers=True``), the top problems with counts and the rules'
    recommendations, and a gap list per enterprise; stamped, the same inputs give the same bytes.

    Parameters
    ----------
    enterprises : "all", sequence of str or comma-separated str
        As :func:`review_campaign`.
    on : date or int
        The review date, or a year (reviewed on 31 December of it).
    formats : sequence of {"pdf", "xlsx", "html"}
    profile, local_rules, top
        As :func:`review_campaign`.
    tiers : bool
        Also compute each reviewed enterprise's account of the year (LPU) for the tier its streams' activity
        data achieve; an enterprise whose account cannot be computed is named in the report, not fatal.
    progress : callable, optional
        ``progress(done, total, enterprise)`` after each enterprise's review.

    Returns
    -------
    dict
        ``on``, ``files`` (format → path as text), ``stamp``, the campaign's ``totals`` and ``problems``.

    Raises
    ------
    NotInScope
        A listed enterprise outside the read scope (checked before anything is computed or written).
    ServiceError
        An unknown format, no enterprise, or one given twice.
    carbonmet.review.ReviewError
        Unknown profile, or a bad local rule file (file, row and field named).
    """
    day = date(on, 12, 31) if isinstance(on, int) else on
    fs = _formats(formats)
    codes = campaign_enterprises(ws, scope, enterprises, _CAPABILITY_REPORT)
    camp = review_campaign(ws, scope, codes, day, profile=profile, local_rules=local_rules, top=top,
                           progress=progress)
    with ws.session() as s:
        names = {c: str(n or "") for c, n in s.execute(select(Organisation.code, Organisation.name)
                                                       .where(Organisation.code.in_(codes)))}
    data = CapabilityData(camp, names)
    if tiers:
        data.tiers, data.year = {}, day.year
        for code in camp.results:
            try:
                acc = account_enterprise(ws, scope, code, day.year, method="lpu")
            except Exception as exc:  # noqa: BLE001 - an enterprise without an account is named, not fatal
                data.tier_errors[code] = f"{type(exc).__name__}: {exc}"
                continue
            data.tiers[code] = _stream_tiers(acc.streams)
    stamp = capability_stamp(data)
    files = _write_report(out_dir, f"capability-{day.isoformat()}", fs, stamp,
                          lambda: render_capability_html(data, stamp=stamp),
                          lambda p: write_capability_xlsx(data, p, stamp=stamp))
    return {"on": day.isoformat(), "files": files, "stamp": stamp.to_dict(), "totals": camp.totals(),
            "problems": [p.to_dict() for p in camp.problems]}
