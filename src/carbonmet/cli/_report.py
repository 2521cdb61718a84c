"""``carbonmet report account|review|capability …`` — stamped PDF/XLSX/HTML reports (报告).

Thin: parse, call :mod:`carbonmet.services`, render. Without a format flag the report is written as PDF and XLSX.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from ._common import DbOpt, OrgOpt, console, fail, print_json, scope, workspace

app = typer.Typer(help="报告 stamped reports (PDF, XLSX, HTML): account, review, capability", no_args_is_help=True)

PdfOpt = typer.Option("--pdf", help="写出 PDF write the PDF")
XlsxOpt = typer.Option("--xlsx", help="写出 XLSX write the workbook")
HtmlOpt = typer.Option("--html", help="写出 HTML write the page")


def _formats(pdf: bool, xlsx: bool, html: bool) -> list[str]:
    fs = [f for f, on in (("pdf", pdf), ("xlsx", xlsx), ("html", html)) if on]
    return fs or ["pdf", "xlsx"]


def _done(res: dict, as_json: bool) -> None:
    if as_json:
        print_json(res)
        return
    st = res["stamp"]
    for f, p in res["files"].items():
        console.print(f"{f.upper():5} → {p}")
    console.print(f"数据 data {st['data_version']} · 方法 profile {st['profile_version']} · 代码 code "
                  f"{st['code_version']} · 报告日期 generated for {st['generated_for']}", highlight=False)


@app.command("account")
def account_cmd(
    enterprise: Annotated[str, typer.Argument(help="企业 organisation code, e.g. E01")],
    year: Annotated[int, typer.Option("--year", help="核算年度 accounting year")],
    out: Annotated[Path, typer.Option("--out", help="输出目录 output directory (created if missing)")],
    pdf: Annotated[bool, PdfOpt] = False,
    xlsx: Annotated[bool, XlsxOpt] = False,
    html: Annotated[bool, HtmlOpt] = False,
    method: Annotated[str, typer.Option("--method", help="lpu | mcm | both")] = "both",
    trials: Annotated[int, typer.Option("--trials", help="蒙特卡洛次数 Monte Carlo trials")] = 100_000,
    seed: Annotated[int, typer.Option("--seed", help="随机种子 seed of the Monte Carlo run")] = 0,
    store: Annotated[Path | None, typer.Option("--store", help="数据存储目录 readings store directory")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="机器可读输出 machine-readable JSON")] = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """碳排放核算报告 The accounting report of an enterprise-year: totals with U and k, streams, budget, sources, flags."""
    if method not in ("lpu", "mcm", "both"):
        fail(f"--method 须为 lpu、mcm 或 both / must be lpu, mcm or both, got {method!r}", 2)
    from ..services import CarbonmetError, account_report

    try:
        with workspace(db, store) as ws:
            res = account_report(ws, scope(org), enterprise, year, out, _formats(pdf, xlsx, html), method=method,
                                 trials=trials, seed=seed)
    except CarbonmetError as exc:
        fail(str(exc))
    _done(res, as_json)


@app.command("review")
def review_cmd(
    enterprise: Annotated[str, typer.Argument(help="企业 organisation code, e.g. E01")],
    on: Annotated[str, typer.Option("--date", help="审查日期 review date YYYY-MM-DD")],
    out: Annotated[Path, typer.Option("--out", help="输出目录 output directory (created if missing)")],
    pdf: Annotated[bool, PdfOpt] = False,
    xlsx: Annotated[bool, XlsxOpt] = False,
    html: Annotated[bool, HtmlOpt] = False,
    profile: Annotated[str, typer.Option("--profile", help="审查方案 review profile")] = "gb17167_ccm",
    local_rules: Annotated[Path | None, typer.Option("--rules", exists=True,
                                                     help="本地规则集 local rule set (directory or CSV file)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="机器可读输出 machine-readable JSON")] = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """计量审查报告 The metrology review report of an enterprise on a date: findings by instrument with evidence."""
    try:
        day = date.fromisoformat(on)
    except ValueError:
        fail(f"--date 须为 YYYY-MM-DD / --date must be YYYY-MM-DD, got {on!r}", 2)
    from ..services import CarbonmetError, review_report

    try:
        with workspace(db) as ws:
            res = review_report(ws, scope(org), enterprise, day, out, _formats(pdf, xlsx, html), profile=profile,
                                local_rules=local_rules)
    except CarbonmetError as exc:
        fail(str(exc), 2)
    _done(res, as_json)


@app.command("capability")
def capability_cmd(
    out: Annotated[Path, typer.Option("--out", help="输出目录 output directory (created if missing)")],
    enterprises: Annotated[str, typer.Option("--enterprises", help="企业 all, or codes A,B,…")] = "all",
    year: Annotated[int | None, typer.Option("--year", help="年度 year (reviewed on 31 December)")] = None,
    on: Annotated[str | None, typer.Option("--date", help="审查日期 review date YYYY-MM-DD (instead of --year)")] = None,
    pdf: Annotated[bool, PdfOpt] = False,
    xlsx: Annotated[bool, XlsxOpt] = False,
    html: Annotated[bool, HtmlOpt] = False,
    profile: Annotated[str, typer.Option("--profile", help="审查方案 review profile")] = "gb17167_ccm",
    local_rules: Annotated[Path | None, typer.Option("--rules", exists=True,
                                                     help="本地规则集 local rule set (directory or CSV file)")] = None,
    tiers: Annotated[bool, typer.Option("--tiers", help="计算核算层级 also compute the accounts' tiers")] = False,
    store: Annotated[Path | None, typer.Option("--store", help="数据存储目录 readings store (for --tiers)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="机器可读输出 machine-readable JSON")] = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """计量能力现状和问题建议报告 The capability status report across enterprises: fit-out rates, accuracy,
    overdue calibrations, traceability gaps, top problems with recommendations, a gap list per enterprise."""
    if (year is None) == (on is None):
        fail("给出 --year 或 --date 之一 / give one of --year or --date", 2)
    when: date | int
    if on is not None:
        try:
            when = date.fromisoformat(on)
        except ValueError:
            fail(f"--date 须为 YYYY-MM-DD / --date must be YYYY-MM-DD, got {on!r}", 2)
    else:
        assert year is not None
        when = year
    from rich.progress import Progress

    from ..services import CarbonmetError, capability_report

    try:
        with Progress(console=console, transient=True, disable=as_json) as bar, workspace(db, store) as ws:
            task = bar.add_task("批量审查 reviewing", total=None)
            res = capability_report(ws, scope(org), enterprises, when, out, _formats(pdf, xlsx, html),
                                    profile=profile, local_rules=local_rules, tiers=tiers,
                                    progress=lambda i, n, e: bar.update(task, completed=i, total=n,
                                                                        description=f"审查 reviewing {e}"))
    except CarbonmetError as exc:
        fail(str(exc), 2)
    _done(res, as_json)
