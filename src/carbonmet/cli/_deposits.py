"""``carbonmet deposit …`` — monthly evidence deposit (月度信息化存证): add a month's file, list, check, prove.

Thin: parse, call :mod:`carbonmet.services`, render. Exit code 2 when a deposit file is refused (every problem
named with file, row and field; nothing stored).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ._common import AsJson, DbOpt, OrgOpt, console, fail, print_json, scope, use_case, workspace

if TYPE_CHECKING:
    from ..services import DepositCheck

app = typer.Typer(help="月度存证 monthly evidence deposit (月度信息化存证): add, list, check, proof",
                  no_args_is_help=True)

EnterpriseArg = Annotated[str, typer.Argument(help="企业 organisation code, e.g. E01")]
YearOpt = Annotated[int, typer.Option("--year", help="年度 year")]
JsonOpt = AsJson

#: How a finding is named in the table of `deposit check`.
_KIND = {"compared": "[red]超差 exceeds[/]", "not_deposited": "[yellow]未存证 not deposited[/]",
         "not_comparable": "[red]单位不符 not comparable[/]"}
#: How a month's status is shown in the matrix of `deposit check`.
_MARK = {"on_time": "[green]●[/]", "late": "[yellow]◐[/]", "missing": "[red]✗[/]", "not_due": "[dim]·[/]"}


def register(app_: typer.Typer) -> None:
    """Add ``deposit`` to the ``carbonmet`` command."""
    app_.add_typer(app, name="deposit")


@app.command("add")
def add_cmd(
    enterprise: EnterpriseArg,
    month: Annotated[str, typer.Argument(help="月份 month YYYY-MM")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="存证文件 deposit file (CSV, XLSX)")],
    actor: Annotated[str, typer.Option(help="操作人 who deposits (audit log)")] = "cli",
    as_json: JsonOpt = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """上传月度存证 Deposit a month's parameters and supporting files (exit 2 when the file is refused)."""
    from ..deposits import DepositError
    from ..services import CarbonmetError, deposit_month

    try:
        with workspace(db) as ws:
            rep = deposit_month(ws, scope(org, actor), enterprise, month, file)
    except DepositError as exc:
        if as_json:
            print_json({"ok": False, "file": exc.file, "problems": [p.to_dict() for p in exc.problems]})
            raise typer.Exit(2) from None
        fail(str(exc), 2)
    except CarbonmetError as exc:
        fail(str(exc))
    if as_json:
        print_json({"ok": True, **rep.to_dict()})
        return
    console.print(f"{enterprise} {month}: [green]新存证 stored[/] {len(rep.stored)}, 未变 unchanged {len(rep.unchanged)} "
                  f"(行 rows {rep.rows}) ← {file}")
    for d in rep.stored:
        status = "按期 on time" if d.status == "on_time" else "[yellow]逾期 late[/]"
        console.print(f"  {d.key}  {d.value:.12g} {d.unit}  {status}  {d.content_hash[:16]}…")


@app.command("list")
def list_cmd(
    enterprise: EnterpriseArg,
    year: YearOpt,
    latest: Annotated[bool, typer.Option("--latest", help="只列最新版本 latest version of each only")] = False,
    as_json: JsonOpt = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """列出存证 The deposits of an enterprise-year, every version (corrections included)."""
    from rich.table import Table

    from ..services import list_deposits

    deposits = use_case(db, org, list_deposits, enterprise, year, latest=latest, code=1)
    if as_json:
        print_json([d.to_dict() for d in deposits])
        return
    t = Table(title=f"{enterprise} {year} 月度存证 monthly deposits ({len(deposits)})")
    for col in ("月份 month", "源流 stream", "参数 parameter", "版本 v", "数值 value", "单位 unit", "状态 status",
                "上传 uploaded (UTC)", "材料 evidence", "原因 reason", "哈希 hash"):
        t.add_column(col, overflow="fold")
    for d in deposits:
        t.add_row(d.month, d.source_stream, d.parameter, str(d.version), f"{d.value:.12g}", d.unit, d.status,
                  d.uploaded_at.isoformat(timespec="seconds"), "; ".join(f"{e.name} ({e.kind})" for e in d.evidence),
                  d.reason or "", d.content_hash[:12])
    console.print(t)


@app.command("check")
def check_cmd(
    enterprise: EnterpriseArg,
    year: YearOpt,
    store: Annotated[Path | None, typer.Option("--store", help="数据存储目录 readings store (for the account)")] = None,
    today: Annotated[str | None, typer.Option("--today", help="按此日期判定 judge the status at this date "
                                                              "(YYYY-MM-DD; default today)")] = None,
    account: Annotated[Path | None, typer.Option("--account", exists=True, dir_okay=False,
                                                 help="核算结果 JSON (carbonmet account --json) to compare with "
                                                      "instead of accounting now")] = None,
    as_json: JsonOpt = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """存证核查 Which months are deposited, late, missing, and where the annual account differs from the deposits."""
    from ..services import deposit_check

    try:
        day = date.fromisoformat(today) if today is not None else None
    except ValueError:
        fail(f"--today 须为 YYYY-MM-DD / must be YYYY-MM-DD, got {today!r}", 2)
    acc = None
    if account is not None:
        try:
            acc = json.loads(account.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            fail(f"{account}: 核算结果无法读取 / cannot read the account JSON: {exc}", 2)
        if not isinstance(acc, dict):
            fail(f"{account}: 核算结果须为 JSON 对象 / the account must be a JSON object", 2)
    chk = use_case(db, org, deposit_check, enterprise, year, today=day, account=acc, code=1, store=store)
    if as_json:
        print_json(chk.to_dict())
        return
    _render_check(chk)


def _render_check(chk: DepositCheck) -> None:
    from rich.table import Table

    months = [f"{m:02d}" for m in range(1, 13)]
    t = Table(title=f"{chk.enterprise} {chk.year} 存证状态 deposit status (计划 plan v{chk.plan_version}, "
                    f"{chk.today.isoformat()})",
              caption="● 按期 on time  ◐ 逾期 late  ✗ 缺失 missing  · 未到期 not due  (+n 修正 corrections)")
    t.add_column("源流 stream")
    t.add_column("参数 parameter")
    for m in months:
        t.add_column(m, justify="center")
    cells: dict[tuple[str, str], dict[str, str]] = {}
    for r in chk.status:
        mark = _MARK[r.status] + (f"+{r.versions - 1}" if r.versions > 1 else "")
        cells.setdefault((r.source_stream, r.parameter), {})[r.month[5:]] = mark
    for (stream, param), by in cells.items():
        t.add_row(stream, param, *[by.get(m, "") for m in months])
    console.print(t)
    counts = chk.counts()
    console.print("  ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    if chk.account is None:
        console.print(f"[yellow]未能核算 no account[/]: {chk.account_error}")
        return
    a = chk.account
    console.print(f"核算 account: {a['value']:.1f} ± {a['U']:.1f} {a['unit']} (valid: {a['valid']}); "
                  f"差异 findings: {len(chk.findings)}")
    if not chk.findings:
        console.print("[green]核算与存证一致 the account agrees with the deposits[/]")
        return
    f = Table(title="核算与存证的差异 where the account differs from the deposits",
              caption=f"容差 tolerance {100 * chk.findings[0].tolerance:g} %" if chk.findings[0].tolerance else None)
    for col in ("差异 finding", "源流 stream", "参数 parameter", "月份 month", "存证 deposit", "核算 account", "单位 unit",
                "相对差 rel."):
        f.add_column(col, overflow="fold")
    for d in chk.findings:
        f.add_row(_KIND.get(d.kind, d.kind), d.source_stream, d.parameter, d.month,
                  "" if d.deposit_value is None else f"{d.deposit_value:.6g}",
                  "" if d.account_value is None else f"{d.account_value:.6g}", d.unit or "",
                  "" if d.relative is None else f"{100 * d.relative:+.3f} %")
    console.print(f)


@app.command("proof")
def proof_cmd(
    enterprise: EnterpriseArg,
    year: YearOpt,
    as_json: JsonOpt = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """存证证明 The latest version of every deposit with its content hash and audit entry; exit 1 when anything
    fails to re-check."""
    from rich.table import Table

    from ..services import deposit_proof

    proof = use_case(db, org, deposit_proof, enterprise, year, code=1)
    if as_json:
        print_json(proof.to_dict())
        raise typer.Exit(0 if proof.ok else 1)
    t = Table(title=f"{enterprise} {year} 存证证明 deposit proof ({len(proof.entries)})")
    for col in ("存证键 key", "内容哈希 content hash", "复算 rehash", "审计条目 audit #", "日志一致 logged", "签名 signed",
                "材料 evidence"):
        t.add_column(col, overflow="fold")
    for e in proof.entries:
        ev = ", ".join(f"{x.name}: {'ok' if x.rehash_ok else ('—' if x.rehash_ok is None else '[red]changed[/]')}"
                       for x in e.evidence)
        t.add_row(e.deposit.key, e.deposit.content_hash[:16], "ok" if e.rehash_ok else "[red]no[/]",
                  str(e.audit_seq or "—"), "ok" if e.logged_ok else "[red]no[/]",
                  "—" if e.signed is None else ("ok" if e.signed else "[yellow]no[/]"), ev)
    console.print(t)
    chain = proof.chain
    console.print(f"审计链 chain: {'ok' if chain['ok'] else '[red]broken[/] ' + str(chain['reason'])}; "
                  f"head {chain['head_hash'][:16]}… ({chain['entries']} entries); "
                  f"signatures checked: {proof.signatures.get('checked')}")
    if not proof.ok:
        raise typer.Exit(1)
