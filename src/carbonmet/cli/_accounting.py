"""``carbonmet account …`` and ``carbonmet validate accounting`` — emission accounts (碳核算).

Thin: parse, call :mod:`carbonmet.services`, render.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ._common import (
    AsJson,
    DbOpt,
    EngineOpt,
    Enterprises,
    MasterOpt,
    Method,
    OrgOpt,
    OutJson,
    Runs,
    Seed,
    StoreDir,
    Trials,
    console,
    fail,
    print_json,
    run_validation,
    scope,
    workspace,
)

if TYPE_CHECKING:
    from ..accounting import Account

validate_app = typer.Typer(help="统计验证 statistical validation against generated truth", no_args_is_help=True)

_METHODS = ("lpu", "mcm", "both")


def register(app_: typer.Typer) -> None:
    """Add ``account`` and ``validate`` to the ``carbonmet`` command."""
    app_.command("account")(account_cmd)
    app_.add_typer(validate_app, name="validate")


def account_cmd(
    enterprise: Annotated[str | None, typer.Argument(help="企业 organisation code, e.g. E01")] = None,
    year: Annotated[int | None, typer.Option("--year", help="核算年度 accounting year")] = None,
    inventory: Annotated[Path | None, typer.Option("--inventory", exists=True, dir_okay=False,
                                                   help="清单文件 stand-alone inventory file (TOML)")] = None,
    method: Method = "both",
    trials: Trials = 100_000,
    seed: Annotated[int, typer.Option("--seed", help="随机种子 seed of the Monte Carlo run")] = 0,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="写出报表 write the reporting workbook")] = None,
    store: StoreDir = None,
    as_json: AsJson = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
    enterprises: Annotated[str | None, typer.Option(
        "--enterprises", help="多个企业 several enterprises: all, or codes separated by commas (E01,E02)")] = None,
    engine: EngineOpt = "duckdb",
    master: MasterOpt = "local[2]",
) -> None:
    """核算排放 Account an enterprise-year from its plan and data, or an inventory file (--inventory); with
    --enterprises, the accounts of many enterprises at once (--engine spark: on a Spark cluster)."""
    from ..accounting import InventoryError, write_xlsx
    from ..services import CarbonmetError, account_enterprise, account_inventory_file

    if method not in _METHODS:
        fail(f"--method 须为 lpu、mcm 或 both / must be lpu, mcm or both, got {method!r}", 2)
    if enterprises is not None:
        if enterprise is not None or inventory is not None or xlsx is not None or year is None:
            fail("--enterprises 需 --year，且不与企业代码、--inventory、--xlsx 同用 / --enterprises needs --year and "
                 "goes without an enterprise code, --inventory and --xlsx", 2)
        _many(enterprises, year, method, trials, seed, store, as_json, db, org, engine, master)
        return
    if (inventory is None) == (enterprise is None):
        fail("给出企业代码或 --inventory 其一 / give an enterprise code or --inventory (one of them)", 2)
    if inventory is None and year is None:
        fail("--year 必填 / --year is required with an enterprise", 2)
    try:
        with workspace(db, store) as ws:
            if inventory is not None:
                acc = account_inventory_file(ws, scope(org), inventory, method=method, trials=trials, seed=seed)
            else:
                assert enterprise is not None and year is not None
                acc = account_enterprise(ws, scope(org), enterprise, year, method=method, trials=trials, seed=seed)
    except InventoryError as exc:
        if as_json:
            print_json({"ok": False, "file": exc.file, "problems": [
                {"file": f, "where": w, "field": fld, "reason": r} for f, w, fld, r in exc.problems]})
            raise typer.Exit(2) from None
        fail(str(exc), 2)
    except CarbonmetError as exc:
        fail(str(exc))
    if xlsx is not None:
        write_xlsx(acc, xlsx)
    if as_json:
        print_json(acc.to_dict())
        return
    render(acc)
    if xlsx is not None:
        console.print(f"报表 workbook → {xlsx}")


def _many(enterprises: str, year: int, method: str, trials: int, seed: int, store: Path | None, as_json: bool,
          db: str | None, org: str | None, engine: str, master: str) -> None:
    """The accounts of ``--enterprises`` (``all`` or codes), one line each."""
    from rich.table import Table

    from ..services import CarbonmetError, account_enterprises

    codes = None if enterprises.strip().lower() == "all" else [e.strip() for e in enterprises.split(",") if e.strip()]
    try:
        with workspace(db, store) as ws:
            accs = account_enterprises(ws, scope(org), codes, year, engine=engine, master=master, method=method,
                                       trials=trials, seed=seed)
    except CarbonmetError as exc:
        fail(str(exc))
    if as_json:
        print_json({"year": year, "engine": engine, "accounts": {e: a.to_dict() for e, a in accs.items()}})
        return
    t = Table("企业 enterprise", "排放 tCO2", "u tCO2", "U tCO2", "有效 valid",
              title=f"{year} 年度核算 annual accounts ({len(accs)}), 引擎 engine {engine}")
    for e, a in accs.items():
        tot = a.to_dict()["total"]
        t.add_row(e, f"{tot['value']:,.0f}", f"{tot['u']:,.0f}", f"{tot['U']:,.0f}", "是 yes" if tot["valid"] else "否 no")
    console.print(t)


def render(acc: Account, *, improve: int = 5) -> None:
    """The account as tables: total, streams, the largest budget terms, what to improve, flags."""
    from rich.table import Table

    d = acc.to_dict()
    t = d["total"]
    lo, hi = t["interval"]
    valid = "" if t["valid"] else "  [bold red]含法定状态外数据, 结果无效 / contains data from instruments out of legal state[/]"
    console.print(f"[bold]{d['enterprise']} {d['year']}[/] 排放总量 total {t['value']:,.0f} tCO2, U = {t['U']:,.0f} "
                  f"(k = {t['k']:.2f}), 95 % [{lo:,.0f}, {hi:,.0f}]  — profile {d['profile']}{valid}")
    if "mcm" in t:
        m = t["mcm"]
        console.print(f"  MCM {m['trials']:,} trials: u = {m['u']:,.0f}, 95 % [{m['interval'][0]:,.0f}, "
                      f"{m['interval'][1]:,.0f}]")
    st = Table("源流 stream", "类型 kind", "排放 tCO2", "U tCO2", "层级 tier", "有效 valid", title="源流 streams")
    for s in d["streams"]:
        st.add_row(s["name"], s["kind"], f"{s['emissions']['value']:,.0f}", f"{s['emissions']['U']:,.0f}",
                   str(s["tier"].get("tier", "")), "是 yes" if s["valid"] else "[red]否 no[/]")
    console.print(st)
    bt = Table("分量 term", "u 贡献 tCO2", "占比 share", "证书 certificates", title="不确定度预算 budget (前 8 项 top 8)")
    for b in d["budget"][:8]:
        bt.add_row(b["term"], f"{b['u_contribution_t']:,.0f}", f"{100 * b['variance_share']:.1f} %",
                   ", ".join(b["certificates"][:2]))
    console.print(bt)
    it = Table("措施 action", "分量 term", "U 现 now", "U 后 after", "降低 cut", title="改进建议 what to improve")
    for i in d["improve"][:improve]:
        it.add_row(i["action"], i["term"], f"{i['U_now_t']:,.0f}", f"{i['U_after_t']:,.0f}", f"{i['reduction_pct']:.1f} %")
    console.print(it)
    for f in d["flags"]:
        console.print(f"[yellow]标记 flag[/] {f.get('stream', '')}: {f.get('message', f.get('kind'))}")


@validate_app.command("accounting")
def validate_accounting_cmd(runs: Runs = 2, enterprises: Enterprises = 12, seed: Seed = 1000, out: OutJson = None,
                            as_json: AsJson = False) -> None:
    """核算区间覆盖率 Interval coverage over generated enterprise-years (seeded regions with known truth)."""
    from ..services import Scope, validate_accounting

    got = run_validation("生成并核算 generate and account", lambda ws, progress: validate_accounting(
        ws, Scope.nobody(), runs, enterprises=enterprises, seed=seed, progress=progress), runs, out, as_json,
        omit=("rows",))
    if got is None:
        return
    v, _ = got
    console.print(f"{v.enterprise_years} 个企业年 enterprise-years: 95 % 区间覆盖真值 intervals cover the truth "
                  f"{v.covered} 次 = [bold]{100 * v.coverage:.1f} %[/] (目标 target 93–97 %)")
    console.print(f"若按各月独立 (√n) 处理系统误差 if systematic errors were independent month to month: "
                  f"{100 * v.coverage_independent:.1f} %")
    console.print(f"标记无效 flagged not valid: {v.flagged}; 其中区间外 of them outside: {v.flagged_outside}; "
                  f"未标记且区间外 outside without a flag: {v.unflagged_outside}")
