"""``carbonmet plan …`` — monitoring plans (数据质量控制计划): import versions, show, diff, list.

Thin: parse, call :mod:`carbonmet.services`, render. The CLI acts with the centre's scope under the
``--actor`` name (who is written to the audit log).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ._common import AsJson, console, fail, print_json

if TYPE_CHECKING:
    from ..services import Workspace

app = typer.Typer(help="监测计划 monitoring plans (数据质量控制计划): import, show, diff, list", no_args_is_help=True)

DbOpt = Annotated[str | None, typer.Option("--db", help="数据库 URL database URL (default: $CARBONMET_DATABASE_URL "
                                                       "or ./.carbonmet)")]
JsonOpt = AsJson
EnterpriseArg = Annotated[str, typer.Argument(help="企业 organisation code, e.g. E01")]

#: Where a parameter's value comes from, as shown in the tables.
_SOURCE_ZH = {"point": "计量点 point", "lab": "化验 lab", "default": "缺省值 default"}
#: The kind of a source stream (streams table), as shown in the tables.
_KIND_ZH = {"fuel_combustion": "化石燃料燃烧", "raw_material": "原料", "product": "产品", "by_product": "副产品",
            "waste": "废弃物", "residue": "灰渣", "co2_recovered": "回收外供CO2", "purchased_electricity": "购入电力",
            "exported_electricity": "输出电力", "purchased_heat": "购入热力", "exported_heat": "输出热力",
            "measured_emission": "直接监测排放", "other": "其他"}


def _workspace(db: str | None) -> Workspace:
    from ..services import Workspace

    return Workspace(db)


def register(app_: typer.Typer) -> None:
    """Add ``plan`` to the ``carbonmet`` command."""
    app_.add_typer(app, name="plan")


@app.command("import")
def import_cmd(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False,
                                                help="计划文件 plan files (TOML, XLSX, CSV)")],
    actor: Annotated[str, typer.Option(help="操作人 who is importing (audit log)")] = "cli",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """导入监测计划 Import plan files: each becomes its enterprise's next version (unchanged content: nothing new)."""
    from ..services import Scope, ServiceError, import_plan
    from ..sites import PlanError

    done: list[dict[str, Any]] = []
    with _workspace(db) as ws:
        for f in files:
            try:
                v = import_plan(ws, Scope.centre(actor), f)
            except PlanError as exc:
                if as_json:
                    print_json({"ok": False, "file": exc.file, "imported_before": done,
                                "problems": [{"file": p.file, "row": p.row, "field": p.field, "reason": p.reason}
                                             for p in exc.problems]})
                    raise typer.Exit(1) from None
                fail(str(exc))
            except ServiceError as exc:
                fail(str(exc))
            done.append({"file": str(f), **v.to_dict()})
            if not as_json:
                what = (f"[green]新版本 new version[/] {v.version}" if v.created
                        else f"[yellow]内容未变 unchanged[/], 仍为第 {v.version} 版 still version {v.version}")
                console.print(f"{v.enterprise}: {what} ({v.parameters} 参数 parameters) ← {f}")
    if as_json:
        print_json({"ok": True, "plans": done})


@app.command("show")
def show_cmd(
    enterprise: EnterpriseArg,
    version: Annotated[int | None, typer.Option("--version", "-v", help="版本 version (default: current)")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """显示监测计划 Every parameter of a plan version with its source, method, frequency, instruments, responsible;
    the kind of each source stream when the plan states it; the change log."""
    from rich.table import Table

    from ..services import Scope, ServiceError, show_plan

    with _workspace(db) as ws:
        try:
            plan = show_plan(ws, Scope.centre(), enterprise, version)
        except ServiceError as exc:
            fail(str(exc))
    if as_json:
        print_json({"plan": plan.header.model_dump(mode="json"),
                    "parameters": [r.model_dump(mode="json") for r in plan.parameters],
                    "changes": [c.model_dump(mode="json") for c in plan.changes],
                    "streams": [r.model_dump(mode="json") for r in plan.streams]})
        return
    h = plan.header
    title = f"{h.enterprise} 监测计划 monitoring plan v{h.version} (自 from {h.valid_from.isoformat()})"
    t = Table(title=title, caption=h.title or None)
    for col in ("源流 source stream", "参数 parameter", "单位 unit", "来源 source", "计量点/化验/缺省值 ref",
                "方法 method", "频次 frequency", "器具 instruments", "负责 responsible", "有效期 valid"):
        t.add_column(col, overflow="fold")
    for r in plan.parameters:
        valid = "" if not (r.valid_from or r.valid_to) else \
            f"{r.valid_from.isoformat() if r.valid_from else '…'} – {r.valid_to.isoformat() if r.valid_to else '…'}"
        t.add_row(r.source_stream, r.parameter, r.unit, _SOURCE_ZH.get(r.source, r.source), r.ref, r.method or "",
                  r.frequency, "; ".join(r.instruments), r.responsible, valid)
    console.print(t)
    if plan.streams:
        st = Table(title="源流类别 source streams")
        for col in ("源流 source stream", "类别 kind", "品种 material", "算法 form", "碳平衡/燃料 balance",
                    "焓 enthalpy [kJ/kg]", "u_rel [%]", "备注 note"):
            st.add_column(col, overflow="fold")
        for sr in plan.streams:
            st.add_row(sr.source_stream, f"{_KIND_ZH.get(sr.kind, '')} {sr.kind}".strip(), sr.material or "",
                       sr.form or "", sr.balance or "",
                       "" if sr.enthalpy_kj_per_kg is None else f"{sr.enthalpy_kj_per_kg:g}",
                       "" if sr.enthalpy_u_rel is None else f"{sr.enthalpy_u_rel:g}", sr.note or "")
        console.print(st)
    if plan.changes:
        c = Table(title="修订记录 change log")
        for col in ("版本 version", "日期 date", "修订人 by", "原因 reason"):
            c.add_column(col, overflow="fold")
        for ch in plan.changes:
            c.add_row(str(ch.version), ch.changed_on.isoformat(), ch.by, ch.reason)
        console.print(c)


@app.command("diff")
def diff_cmd(
    enterprise: EnterpriseArg,
    old: Annotated[int | None, typer.Option("--from", help="旧版本 old version (default: the one before --to)")] = None,
    new: Annotated[int | None, typer.Option("--to", help="新版本 new version (default: current)")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """比较计划版本 What changed between two versions of a plan (default: previous → current)."""
    from rich.table import Table

    from ..services import Scope, ServiceError, diff_plans

    with _workspace(db) as ws:
        try:
            d = diff_plans(ws, Scope.centre(), enterprise, old, new)
        except ServiceError as exc:
            fail(str(exc))
    rows = d.rows()
    if as_json:
        print_json({"enterprise": enterprise, "from": d.old_version, "to": d.new_version, "changes": rows})
        return
    if not rows:
        console.print(f"{enterprise} v{d.old_version} → v{d.new_version}: 无变化 no changes")
        return
    t = Table(title=f"{enterprise} 监测计划 v{d.old_version} → v{d.new_version}")
    for col in ("变化 change", "源流 source stream", "参数 parameter", "字段 field", "原 old", "新 new"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(r["change"], r["source_stream"], r["parameter"], r["field"], r["old"], r["new"])
    console.print(t)


@app.command("list")
def list_cmd(
    enterprise: Annotated[str | None, typer.Argument(help="只看某企业 only this organisation")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """列出计划版本 Stored plan versions (who imported each, when, content hash)."""
    from rich.table import Table

    from ..services import Scope, ServiceError, list_plans

    with _workspace(db) as ws:
        try:
            versions = list_plans(ws, Scope.centre(), enterprise)
        except ServiceError as exc:
            fail(str(exc))
    if as_json:
        print_json([v.to_dict() for v in versions])
        return
    t = Table(title=f"监测计划版本 plan versions ({len(versions)})")
    for col in ("企业 enterprise", "版本 version", "生效 valid from", "参数 parameters", "导入人 by", "导入时间 at",
                "内容哈希 hash"):
        t.add_column(col, overflow="fold")
    for v in versions:
        t.add_row(v.enterprise, str(v.version), v.valid_from.isoformat(), str(v.parameters), v.imported_by or "",
                  (v.imported_at or "")[:19], v.content_hash[:12])
    console.print(t)
