"""``carbonmet pilot comparison`` — the comparison pilot report (碳监测与碳核算比对验证试点报告) for ≥ 3
enterprises: XLSX, HTML and one PNG per chart into ``--out``.

Thin: parse, call :func:`carbonmet.services.pilot_comparison`, render. Exit 2 on bad input (fewer than three
enterprises, an unknown rule set), 1 on other errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import DbOpt, OrgOpt, console, fail, print_json, scope, workspace

app = typer.Typer(help="比对验证试点 comparison pilot: CEMS against accounting for ≥ 3 enterprises, as a report",
                  no_args_is_help=True)

#: Enterprises the pilot needs at least (the same number carbonmet.reports.MIN_ENTERPRISES holds; kept here so
#: that parsing the command line imports nothing heavy; the tests check the message states the same number).
MIN_ENTERPRISES = 3


@app.callback()
def _pilot() -> None:
    """比对验证试点 comparison pilot."""


@app.command("comparison")
def comparison_cmd(
    enterprises: Annotated[str, typer.Option("--enterprises", help="企业代码, 逗号分隔, 至少 3 家 organisation codes, "
                                                                    "comma-separated, at least 3 (E01,E05,E12)")],
    year: Annotated[int, typer.Option("--year", help="年度 year")],
    out: Annotated[Path, typer.Option("--out", help="输出目录 output directory (created if missing)")],
    rule_set: Annotated[str, typer.Option("--rule-set", help="缺失数据替代规则 substitution rule set: hjt75_2007 | "
                                                             "hj75_2017 | part75")] = "hjt75_2007",
    rata: Annotated[list[Path] | None, typer.Option("--rata", exists=True, dir_okay=False,
                                                    help="参比方法比对文件 paired-run (RATA) file, repeatable")] = None,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="同时写出 PDF also write the PDF")] = True,
    store: Annotated[Path | None, typer.Option("--store", help="数据存储目录 readings store directory")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="机器可读输出 machine-readable JSON")] = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """碳监测与碳核算比对验证试点报告 The comparison pilot report: method, data, results, charts, findings."""
    codes = [c.strip() for c in enterprises.split(",") if c.strip()]
    if len(codes) < MIN_ENTERPRISES:
        fail(f"比对试点至少需要 {MIN_ENTERPRISES} 家企业, 给出 {len(codes)} 家 ({', '.join(codes) or '—'}) / the comparison "
             f"pilot needs at least {MIN_ENTERPRISES} enterprises (--enterprises E01,E05,E12), got {len(codes)}", 2)
    from ..services import CarbonmetError, pilot_comparison

    try:
        with workspace(db, store) as ws:
            res = pilot_comparison(ws, scope(org), codes, year, out, rule_set=rule_set, rata_files=rata or None,
                                   pdf=pdf)
    except CarbonmetError as exc:
        fail(str(exc), 2 if "rule set" in str(exc) or "enterprises" in str(exc) else 1)
    if as_json:
        print_json(res)
        return
    from rich.table import Table

    tab = Table("企业 enterprise", "E_n", "相对偏差 %", "结论 verdict", "标记 flagged", "指向 suspects", "碳平衡 balance",
                "标记发现 flagged findings", title=f"{year} 比对验证试点 comparison pilot ({rule_set})")
    for e in res["enterprises"]:
        bal = "—" if e["balance_passed"] is None else ("通过 passed" if e["balance_passed"] else "[red]未通过 failed[/]")
        tab.add_row(e["enterprise"], f"{e['En']:+.2f}", f"{e['relative_deviation_pct']:+.2f}",
                    ("[green]" if e["consistent"] else "[red]") + e["verdict"].split(" / ")[0] + "[/]",
                    "[red]是 yes[/]" if e["flagged"] else "否 no", ", ".join(e["suspects"]) or "—", bal,
                    str(e["flagged_findings"]))
    console.print(tab)
    files = ", ".join(p for p in (res["xlsx"], res["html"], res["pdf"]) if p)
    console.print(f"报告 report → {files}; 图 charts: {len(res['charts'])}")
