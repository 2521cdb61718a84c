"""``carbonmet lab …`` — laboratory analyses (化验数据): import result files, list results, check them.

Thin: parse, call :mod:`carbonmet.services`, render. Acts as the centre unless ``--org`` names an enterprise.
``lab import`` exits 0 when every file was stored (or held nothing new), 2 when a file was rejected (each
refused field printed as ``file:row:field: reason``), 1 on any other error.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ._common import AsJson, console, err_console, fail, print_json, scope, use_case, workspace

if TYPE_CHECKING:
    from ..lab import LabImport

app = typer.Typer(help="化验数据 laboratory analyses: import result files, list results, check flags and frequency",
                  no_args_is_help=True)

EnterpriseArg = Annotated[str, typer.Argument(help="企业 organisation code, e.g. E01")]
DbOpt = Annotated[str | None, typer.Option("--db", help="数据库 URL database URL (default: $CARBONMET_DATABASE_URL "
                                                       "or ./.carbonmet)")]
JsonOpt = AsJson
OrgOpt = Annotated[str | None, typer.Option("--org", help="以企业身份运行 act as this enterprise (its data only; "
                                                         "default: the centre, all data)")]
YearOpt = Annotated[int, typer.Option("--year", help="年份 calendar year (local time)")]

#: Most rejects printed per file (the JSON output has them all).
MAX_PRINTED = 200


def register(app_: typer.Typer) -> None:
    """Add ``lab`` to the ``carbonmet`` command."""
    app_.add_typer(app, name="lab")


def _print_import(f: LabImport) -> None:
    status = {"stored": "[green]已入库 stored[/]", "duplicate": "[yellow]无新数据 nothing new[/]",
              "rejected": "[red]已拒绝 rejected[/]"}[f.status]
    console.print(f"{f.file}: {status} — {f.rows} 行 rows = {f.stored} 入库 stored + {f.duplicates} 重复 duplicates "
                  f"+ {f.quarantined} 隔离 quarantined" + (f" (import #{f.import_id})" if f.import_id else ""))
    for r in f.rejects[:MAX_PRINTED]:
        (err_console if f.status == "rejected" else console).print(str(r), markup=False, highlight=False)
    if len(f.rejects) > MAX_PRINTED:
        err_console.print(f"… 另有 {len(f.rejects) - MAX_PRINTED} 处 / and {len(f.rejects) - MAX_PRINTED} more "
                          "(--json lists all)")
    for fl in f.flags[:MAX_PRINTED]:
        console.print(f"[yellow]疑点 flag[/] {fl.kind}: {fl.sample_id} {fl.analyte}: {fl.detail}", highlight=False)


@app.command("import")
def import_cmd(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, help="化验结果文件 lab files (CSV, XLSX)")],
    enterprise: Annotated[str | None, typer.Option("--enterprise", help="文件所属企业 the enterprise every row "
                                                   "belongs to (default: each sample point's)")] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="无时区时间的时区 zone for times without UTC offset, e.g. "
                                           "Asia/Shanghai (default: such times are refused)")] = None,
    actor: Annotated[str, typer.Option(help="操作人 who is importing (audit log)")] = "cli",
    org: OrgOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """导入化验结果 Import lab result files: validate against the rules and the registry, store, quarantine, flag."""
    from ..services import import_lab

    report = use_case(db, scope(org, actor), import_lab, files, enterprise=enterprise, time_zone=tz, code=1)
    if as_json:
        print_json(report.to_dict())
    else:
        for f in report.files:
            _print_import(f)
    if not report.ok:
        raise typer.Exit(2)


@app.command("list")
def list_cmd(
    enterprise: EnterpriseArg,
    year: YearOpt,
    point: Annotated[list[str] | None, typer.Option("--point", help="只看采样点 only this sample point")] = None,
    analyte: Annotated[list[str] | None, typer.Option("--analyte", help="只看化验项目 only this analyte")] = None,
    org: OrgOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """列出化验结果 An enterprise's stored lab results of a year (value, U, k, analyser, report, flags)."""
    from zoneinfo import ZoneInfo

    from rich.table import Table

    from ..services import CarbonmetError, lab_results

    try:
        with workspace(db) as ws:
            rows = lab_results(ws, scope(org), enterprise, year=year, point_ids=point or None,
                               analytes=analyte or None)
            zone = ZoneInfo(ws.time_zone)
    except CarbonmetError as exc:
        fail(str(exc))
    if as_json:
        print_json([r.to_dict() for r in rows])
        return
    t = Table(title=f"{enterprise} {year} 化验结果 lab results ({len(rows)})")
    for col in ("采样点 point", "采样 sampled", "项目 analyte", "值 value", "U (k)", "样品 sample", "分析仪 analyser",
                "方法 method", "报告 report", "疑点 flags"):
        t.add_column(col, overflow="fold")
    for r in rows:
        window = (f"{r.sampled_from.astimezone(zone):%Y-%m-%d %H:%M} … {r.sampled_to.astimezone(zone):%Y-%m-%d %H:%M}")
        t.add_row(r.point_id, window, r.analyte, f"{r.value:g} {r.unit}", f"{r.U:g} ({r.k:g})", r.sample_id,
                  r.instrument_id, r.method, r.report_no, ", ".join(r.flags))
    console.print(t)


@app.command("check")
def check_cmd(
    enterprise: EnterpriseArg,
    year: YearOpt,
    org: OrgOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """核查化验数据 Flags (reused sample id, C/NCV inconsistent, analyser without valid certificate) and the
    periods or batches without a result against the monitoring plan."""
    from rich.table import Table

    from ..services import lab_findings

    fi = use_case(db, org, lab_findings, enterprise, year, code=1)
    if as_json:
        print_json(fi.to_dict())
        return
    plan = f"计划第 {fi.plan_version} 版 plan v{fi.plan_version}" if fi.plan_version else \
        "无监测计划，未核查频次 / no monitoring plan stored: frequency not checked"
    console.print(f"{enterprise} {year}: {fi.results} 个化验结果 results, {len(fi.flags)} 个疑点 flags, "
                  f"{len(fi.frequency)} 处频次缺失 frequency findings ({plan})")
    if fi.flags:
        t = Table(title="疑点 flags")
        for col in ("类型 kind", "样品 sample", "采样点 point", "项目 analyte", "值 value", "说明 detail"):
            t.add_column(col, overflow="fold")
        for f in fi.flags:
            t.add_row(f.kind, f.sample_id, f.point_id, f.analyte, "" if math.isnan(f.value) else f"{f.value:.5f}",
                      f.detail)
        console.print(t)
    if fi.frequency:
        t = Table(title="频次缺失 frequency findings")
        for col in ("源流 stream", "采样点 point", "参数 parameter", "频次 frequency", "缺失 missing", "说明 detail"):
            t.add_column(col, overflow="fold")
        for g in fi.frequency:
            t.add_row(g.source_stream, g.point_id, g.parameter, g.frequency, g.period, g.detail)
        console.print(t)
