"""``carbonmet cems annual``, ``carbonmet compare`` and ``carbonmet validate cems`` — CEMS emissions and their
comparison with the account (碳监测与核算比对).

Thin: parse, call :mod:`carbonmet.services`, render.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ._common import (
    AsJson,
    DbOpt,
    Method,
    OrgOpt,
    StoreDir,
    Trials,
    console,
    fail,
    print_json,
    scope,
    workspace,
)

if TYPE_CHECKING:
    from ..cems import Comparison

_METHODS = ("lpu", "mcm", "both")
YearOpt = typer.Option("--year", help="年度 year")
RuleOpt = typer.Option("--rule-set", help="缺失数据替代规则 substitution rule set: hjt75_2007 | hj75_2017 | part75")


def _call(db: str | None, store: Path | None, org: str | None, use_case: Callable[..., Any], *args: Any,
          **kw: Any) -> Any:
    """Run a read use case in the workspace; a refused input (unknown rule set) exits 2, other errors 1."""
    from ..services import CarbonmetError

    try:
        with workspace(db, store) as ws:
            return use_case(ws, scope(org), *args, **kw)
    except CarbonmetError as exc:
        fail(str(exc), 2 if "rule set" in str(exc) else 1)


def register(app_: typer.Typer, cems_app: typer.Typer, validate_app: typer.Typer) -> None:
    """Add ``cems annual`` to ``cems_app``, ``compare`` and ``balance`` to the top level and ``validate cems``."""
    cems_app.command("annual")(annual_cmd)
    app_.command("compare")(compare_cmd)
    app_.command("balance")(balance_cmd)
    validate_app.command("cems")(validate_cems_cmd)


def annual_cmd(
    enterprise: Annotated[str, typer.Argument(help="企业 organisation code, e.g. E05")],
    year: Annotated[int, YearOpt],
    rule_set: Annotated[str, RuleOpt] = "hjt75_2007",
    method: Method = "both",
    trials: Trials = 100_000,
    store: StoreDir = None,
    as_json: AsJson = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """CEMS 年排放量 CEMS annual CO2 of an enterprise, per monitored source, with uncertainty and budget."""
    from rich.table import Table

    from ..cems import stream_hours
    from ..services import cems_enterprise

    if method not in _METHODS:
        fail(f"--method 须为 lpu、mcm 或 both / must be lpu, mcm or both, got {method!r}", 2)
    acc = _call(db, store, org, cems_enterprise, enterprise, year, rule_set=rule_set, method=method, trials=trials)
    d = acc.to_dict()
    hours = {h["stream"]: h for h in stream_hours(acc)}
    if as_json:
        print_json(d | {"hours": list(hours.values())})
        return
    t = d["total"]
    console.print(f"[bold]{enterprise} {year}[/] CEMS 直接监测排放 total {t['value']:,.0f} tCO2, U = {t['U']:,.0f} "
                  f"(k = {t['k']:.2f}) — 替代规则 rule set {rule_set}")
    tab = Table("源流 stream", "排放 tCO2", "U tCO2", "有效小时 valid h", "替代 substituted h", "停运 stopped h",
                title="监测源 monitored sources")
    for s in d["streams"]:
        h = hours.get(s["name"], {})
        tab.add_row(s["name"], f"{s['emissions']['value']:,.0f}", f"{s['emissions']['U']:,.0f}",
                    str(h.get("valid_hours", "—")), str(h.get("substituted_hours", "—")), str(h.get("stopped_hours", "—")))
    console.print(tab)
    bt = Table("分量 term", "u 贡献 tCO2", "占比 share", title="不确定度预算 budget (前 6 项 top 6)")
    for b in d["budget"][:6]:
        bt.add_row(b["label"] or b["term"], f"{b['u_contribution_t']:,.0f}", f"{100 * b['variance_share']:.1f} %")
    console.print(bt)
    for f in d["flags"]:
        console.print(f"[yellow]标记 flag[/] {f.get('stream', '')}: {f.get('message', f.get('kind'))}")


def compare_cmd(
    enterprise: Annotated[str, typer.Argument(help="企业 organisation code, e.g. E05")],
    year: Annotated[int, YearOpt],
    rule_set: Annotated[str, RuleOpt] = "hjt75_2007",
    store: StoreDir = None,
    as_json: AsJson = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """CEMS 与核算比对 CEMS against the account, per month and for the year (E_n with shared inputs)."""
    from ..services import compare_enterprise

    cmp = _call(db, store, org, compare_enterprise, enterprise, year, rule_set=rule_set)
    if as_json:
        print_json(cmp.to_dict())
        return
    render_comparison(cmp)


def render_comparison(cmp: Comparison) -> None:
    """The comparison as a table per month and the verdict lines."""
    from rich.table import Table

    d = cmp.to_dict()
    tab = Table("期间 period", "CEMS tCO2", "核算 accounting", "差值 D", "相对偏差 %", "u(D)", "u(D) 朴素 naive", "E_n",
                "结论 verdict", title=f"{cmp.enterprise} {cmp.year} CEMS vs 核算 accounting (k = {d['k']:g})")
    for r in d["periods"]:
        tab.add_row(r["period"], f"{r['cems']:,.0f}", f"{r['accounting']:,.0f}", f"{r['difference']:+,.0f}",
                    f"{r['relative_deviation_pct']:+.2f}", f"{r['u_difference']:,.0f}", f"{r['u_difference_naive']:,.0f}",
                    f"{r['En']:+.2f}", ("[green]" if r["consistent"] else "[red]") + r["verdict"].split(" / ")[0] + "[/]")
    console.print(tab)
    st = d["stability"]
    if "p" in st:
        console.print(f"月度偏差稳定性 stability: 全年变化 change over the year {st['change_over_year_pct']:+.2f} %, "
                      f"p = {st['p']:.4f} → {'[red]不稳定 unstable[/]' if st['unstable'] else '稳定 stable'}")
    for s in d["steps"]:
        if s["significant"]:
            console.print(f"[red]校准后偏差突变 step at recalibration[/] {s['instrument']} ({s['point']}) {s['date']}: "
                          f"{s['step_pct']:+.2f} %, p(adj) = {s['p_adjusted']:.4f}")
    console.print(f"核算数据实测率 measured-parameter share of the account: {100 * (d['measured_parameter_share'] or 0):.0f} %"
                  f" — {d['published']}")
    if d["shared_inputs"]:
        console.print("共用输入 shared inputs: " + ", ".join(x["term"] for x in d["shared_inputs"]))
    console.print(f"[bold]结论 verdict[/]: {d['verdict']}; 监控标记 surveillance flag: "
                  f"{'[red]是 yes[/]' if d['flagged'] else '否 no'}"
                  + (f"; 指向 points at {', '.join(d['suspects'])}" if d["suspects"] else ""))


def validate_cems_cmd(
    runs: Annotated[int, typer.Option("--runs", help="生成区域数 regions to generate")] = 1,
    enterprises: Annotated[int, typer.Option("--enterprises", help="每区域企业数 enterprises per region")] = 12,
    seed: Annotated[int, typer.Option("--seed", help="首个区域种子 seed of the first region")] = 2000,
    rule_set: Annotated[str, RuleOpt] = "hjt75_2007",
    out: Annotated[Path | None, typer.Option("--out", help="写出 JSON write the result as JSON")] = None,
    as_json: AsJson = False,
) -> None:
    """CEMS 验证 CEMS intervals against the truth and the comparison's confusion table over generated regions."""
    from rich.progress import Progress
    from rich.table import Table

    from ..services import Scope, validate_cems

    with Progress(console=console, transient=True) as bar, workspace() as ws:
        task = bar.add_task("生成、监测、核算、比对 generate, CEMS, account, compare", total=runs)
        v = validate_cems(ws, Scope.nobody(), runs, enterprises=enterprises, seed=seed, rule_set=rule_set,
                          progress=lambda i, n: bar.update(task, completed=i))
    res: dict[str, Any] = v.to_dict()
    if out is not None:
        out.write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    if as_json:
        print_json({k: x for k, x in res.items() if k != "rows"})
        return
    console.print(f"健康监测源 healthy monitored sources: {v.stacks}; 95 % 区间覆盖真值 intervals cover the truth "
                  f"{v.stacks_covered} = [bold]{100 * v.coverage:.1f} %[/]")
    c, t = v.confusion, v.table
    tab = Table("注入故障 injected fault", "标记 flagged", "未标记 not flagged",
                title="比对标记 × 注入故障 comparison flag × injected fault (企业年 enterprise-years)")
    for key, label in (("cems", "CEMS 监测仪 (漂移/失准标准器校准) CEMS monitor (drift / faulty standard)"),
                       ("accounting", "核算计量器具 (漂移/失准标准器校准) a meter of the account"),
                       ("healthy", "无 none (健康 healthy)")):
        tab.add_row(label, str(t[key]["flagged"]), str(t[key]["not_flagged"]))
    console.print(tab)
    cems_n = t["cems"]["flagged"] + t["cems"]["not_flagged"]
    console.print(f"CEMS 故障检出率 recall on CEMS faults {t['cems']['flagged']}/{cems_n}; 全部故障 all faults "
                  f"{c['tp']}/{c['tp'] + c['fn']}; 健康企业误报 false alarms on healthy enterprises {c['fp']}/"
                  f"{c['fp'] + c['tn']}; 指向正确器具 suspects include the faulty instrument: {v.suspects_right}/{c['tp']}")
    b = res["balance"]
    if b["flows"]:
        console.print(f"碳平衡协调 balance: {b['flows']} 个年度实测流 annual measured flows; 协调后更接近真值 reconciled "
                      f"closer to the truth {b['closer']} ({100 * b['closer'] / b['flows']:.0f} %); RMS 相对误差 relative "
                      f"error raw {100 * b['rms_rel_raw']:.2f} % → reconciled {100 * b['rms_rel_reconciled']:.2f} %; "
                      f"95 % 区间覆盖 intervals cover {100 * b['covered'] / b['flows']:.1f} %; 以实测 u 计的 RMS 误差 "
                      f"RMS error in units of the raw u {b['rms_z_raw']:.3f} → {b['rms_z_reconciled']:.3f}")
        b0 = res["balance_without_books"]
        if b0["flows"]:
            console.print(f"  不用台账(煤场、罐区)时 without the books (coal yards, tanks): closer {100 * b0['closer'] / b0['flows']:.0f} %; "
                          f"RMS {100 * b0['rms_rel_raw']:.2f} % → {100 * b0['rms_rel_reconciled']:.2f} %; 覆盖 cover "
                          f"{100 * b0['covered'] / b0['flows']:.1f} %; RMS/u {b0['rms_z_raw']:.3f} → {b0['rms_z_reconciled']:.3f}")
        console.print(f"系统偏差检验 systematic-bias test on the plants as generated: 无故障电厂报警 alarms on plants "
                      f"without a faulty balance meter {b['clean_false_alarms']}/{b['clean_runs']}")
        for cls, label in (("nameable", "偏差 ≥ 最小可指名偏差 off by ≥ the nameable bias"),
                           ("detectable", "可检出但不可指名 detectable, not nameable"),
                           ("below_detection", "低于可检出偏差 below the detectable bias")):
            x = res["real_faults"].get(cls)
            if x:
                console.print(f"  真实故障计量点 real faulty meters (漂移/失准标准器/检定不合格 drift, faulty standard, "
                              f"failed verification), {label}: {x['faults']}; 检出 detected {x['detected']}, 唯一指名 "
                              f"named alone {x['named']}, 在候选集 in the set {x['in_candidates']}")
        console.print(f"注入过失误差 injected gross errors — 可指名 nameable: max(5u, 1.2·MDB, 1.2·MNB) ≤ 20 %; 仅可检出 "
                      f"detect-only: max(5u, 1.2·MDB) ≤ 20 % < 1.2·MNB; 超出 beyond 20 %: {b['undetectable']}")
        rows = list(res["balance_by_seed"].items()) + [("合计 all", b)]
        for sd, x in rows:
            console.print(f"  {sd}: 健康电厂误报 false alarms {x['clean_false_alarms']}/{x['clean_runs']}; 可指名 nameable "
                          f"{x['nameable_injected']}: 检出 detected {x['nameable_detected']}, 唯一指名 named alone "
                          f"{x['nameable_named']}, 候选集 in set {x['nameable_in_candidates']}; 仅可检出 detect-only "
                          f"{x['detect_only_injected']}: 检出 detected {x['detect_only_detected']}, 候选集 in set "
                          f"{x['detect_only_in_candidates']}; 误指健康计量点 a healthy meter named {x['wrong_named']}")
        if res["not_nameable"]:
            console.print("无法唯一指名的计量点 (无冗余区分其偏差特征) meters that cannot be named alone below 20 % "
                          "(no redundancy separates their signature):")
            for nm, x in sorted(res["not_nameable"].items(), key=lambda kv: -kv[1]["count"]):
                twins = ", ".join(f"{k} ×{n}" for k, n in sorted(x["nearest"].items(), key=lambda kv: -kv[1]))
                console.print(f"  {nm}: {x['count']} 次 times; 最相近 nearest signature {twins}")


def balance_cmd(
    enterprise: Annotated[str, typer.Argument(help="企业 organisation code, e.g. E05")],
    year: Annotated[int, YearOpt],
    rule_set: Annotated[str, RuleOpt] = "hjt75_2007",
    png: Annotated[Path | None, typer.Option("--png", help="写出碳流图 write the carbon-flow diagram (PNG)")] = None,
    store: StoreDir = None,
    as_json: AsJson = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """碳平衡协调 Reconcile the plant's carbon balance (monthly and annual), test the meters, draw the 碳流图."""
    from rich.table import Table

    from ..services import balance_enterprise

    res = _call(db, store, org, balance_enterprise, enterprise, year, rule_set=rule_set)
    if png is not None:
        png.write_bytes(res.reconciliation.png())
    d = res.to_dict()
    if as_json:
        print_json(d)
        return
    tab = Table("流 flow", "从 from", "到 to", "实测 raw tC", "u", "协调 reconciled tC", "u", title=f"{enterprise} {year} 碳平衡 carbon balance")
    for f in d["flows"]:
        tab.add_row(f["flow"], f["from"] or "—", f["to"] or "—",
                    "—" if f["raw_tC"] is None else f"{f['raw_tC']:,.0f}", "—" if f["raw_u_tC"] is None else f"{f['raw_u_tC']:,.0f}",
                    "—" if f["reconciled_tC"] is None else f"{f['reconciled_tC']:,.0f}",
                    "—" if f["reconciled_u_tC"] is None else f"{f['reconciled_u_tC']:,.0f}")
    console.print(tab)
    a = d["annual"]
    console.print(f"年度平衡检验 annual balance test: χ² = {a['chi2']}, dof = {a['dof']}, p = {a['p']:.4f} → "
                  f"{'通过 passed' if a['passed'] else '[red]未通过 failed[/]'}")
    closure = [m["relative_closure"] for m in d["monthly"] if m["relative_closure"] is not None]
    if closure:
        console.print(f"月度闭合度 monthly relative closure: {min(closure):+.4f} … {max(closure):+.4f}")
    t = d["systematic_bias_test"]
    msg = ("未发现超出证书不确定度的计量偏差 / no meter reads beyond its certificate" if not t["detected"] else
           f"[red]计量偏差 meter bias[/]: {t['named'] or '无法区分 not separable: ' + ', '.join(t['candidates'])}")
    console.print(f"跨月系统偏差检验 systematic-bias test: χ² = {t['chi2']} (dof {t['dof']}), p = {t['p']:.4f}; {msg}")
    if png is not None:
        console.print(f"碳流图 carbon-flow diagram → {png}")
