"""``make demo``: the main job on the embedded default (SQLite registry + Parquet/DuckDB readings).

Every step calls a use case of :mod:`carbonmet.services` (a :class:`~carbonmet.services.Workspace`
on the demo's SQLite file and store, the centre's all-access :class:`~carbonmet.services.Scope`):

1. generate the reference region (12 coal-chemical enterprises, 2025, hourly) with known truth;
2. load its instrument & certificate registry (CSV + DCC XML) into SQLite, audited;
3. ingest one enterprise's meter CSV through validation (counts always add up);
4. the metrologist's questions: what is overdue, and what does the out-of-tolerance standard affect;
5. activity data as measured quantities, checked against the truth; an uncertainty evaluation
   (GUM + Monte Carlo) of the carbon entering a boiler over measured quantities (the belt scale's
   activity data, the type A mean of the lab samples, the analyser's certificate), in tC and, through
   ``CO2_PER_C``, in tCO2, checked against the truth;
6. load the laboratory results and verify the audit chain;
7. the region's accounts (碳核算): every enterprise accounted from its monitoring plan, the readings store,
   its lab results and the registry's certificates (LPU + MCM), against the truth; one enterprise's budget
   and what to improve; flags for instruments out of their legal state; one enterprise's accounting report
   as PDF and XLSX (docs/reports.md);
8. CEMS against the accounts and the carbon balance; 9. product footprints and PACT;
10. one demo user per role (centre, regulator, a verifier of E01 and E05, one user per enterprise), with the
    demo password :data:`DEMO_PASSWORD` — a demo on the local machine.

``carbonmet demo`` (``make demo``) runs :func:`build`, then serves the platform over the demo's workspace
(docs/web.md, "Demo"); ``python -m carbonmet.demo`` and ``carbonmet demo --no-serve`` stop after building.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np
from rich.console import Console
from rich.table import Table

from .services import (
    Scope,
    Workspace,
    account_enterprise,
    account_report,
    assign_verifier,
    balance_enterprise,
    compare_enterprise,
    create_user,
    due_items,
    evaluate_quantities,
    footprint_enterprise,
    generate_region,
    import_dcc_certificate,
    import_lab,
    import_plan,
    import_registry,
    ingest_files,
    instrument_quantity,
    point_activity,
    record_incident,
    show_plan,
    trace_standard,
    type_a_quantity,
    verify_audit_log,
)

if TYPE_CHECKING:
    from .quantities import Provenance

OUT = Path("demo-out")
console = Console()


def _step(n: int, zh: str, en: str) -> None:
    console.rule(f"[bold]{n}. {zh} · {en}")


def _provenance(p: Provenance | None, tz: str) -> str:
    """One line naming where a budget input comes from: instruments, certificates, period (local
    dates in ``tz``, end exclusive), method, note."""
    if p is None:
        return "来源未记录 provenance not recorded"
    parts = []
    if p.instruments:
        parts.append("器具 instrument " + ", ".join(p.instruments))
    if p.certificates:
        parts.append("证书 certificate " + ", ".join(p.certificates))
    if p.period:
        a, b = (d.astimezone(ZoneInfo(tz)).date().isoformat() for d in p.period)
        parts.append(f"期间 period {a} … {b} (end exclusive)")
    if p.method:
        parts.append(p.method)
    if p.note:
        parts.append(p.note)
    return "; ".join(parts) or "来源未记录 provenance not recorded"


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """A demo user: its role, its enterprise (enterprise users) or the enterprises it verifies, its password."""

    username: str
    role: str
    password: str
    orgs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DemoSite:
    """What the demo built: the registry database, the readings store the platform serves, the logins."""

    out: Path
    database_url: str
    store_root: Path
    home: Path
    logins: tuple[DemoLogin, ...]


#: The demo's one password for every demo user — a DEMO on the local machine, never for real data.
DEMO_PASSWORD = "carbonmet-demo"
#: The verifier's two assigned enterprises: E01 (the budget showcase) and E05 (the CEMS showcase).
VERIFIER_ORGS = ("E01", "E05")
_ROLE_ZH = {"centre": "计量中心", "regulator": "主管部门", "verifier": "核查机构", "enterprise": "企业"}


def demo_logins(enterprises: list[str], verifier_orgs: tuple[str, ...] = VERIFIER_ORGS) -> tuple[DemoLogin, ...]:
    """One user per role — the centre, the regulator, a verifier of ``verifier_orgs`` — and one enterprise user
    per enterprise (``e01`` for E01, …), all with :data:`DEMO_PASSWORD`."""
    return (DemoLogin("centre", "centre", DEMO_PASSWORD), DemoLogin("regulator", "regulator", DEMO_PASSWORD),
            DemoLogin("verifier", "verifier", DEMO_PASSWORD, verifier_orgs),
            *(DemoLogin(e.lower(), "enterprise", DEMO_PASSWORD, (e,)) for e in sorted(enterprises)))


def create_demo_users(ws: Workspace, centre: Scope, enterprises: list[str],
                      verifier_orgs: tuple[str, ...] = VERIFIER_ORGS) -> tuple[DemoLogin, ...]:
    """Create the users of :func:`demo_logins` through the users use cases (the verifier's assignments too)."""
    logins = demo_logins(enterprises, verifier_orgs)
    for lg in logins:
        create_user(ws, centre, lg.username, lg.password, lg.role, org=lg.orgs[0] if lg.role == "enterprise" else None,
                    display_name=f"演示 demo {_ROLE_ZH[lg.role]}")
        if lg.role == "verifier":
            for org in lg.orgs:
                assign_verifier(ws, centre, lg.username, org)
    return logins


def print_logins(logins: tuple[DemoLogin, ...], url: str | None = None) -> None:
    """The demo's logins as a table (and the URL when the platform is served)."""
    t = Table("用户名 user", "口令 password", "角色 role", "可读企业 reads",
              title="演示账号 demo logins (演示口令，仅供本机演示 demo passwords, local demo only)")
    for lg in logins:
        reads = ("全部 all" if lg.role in ("centre", "regulator") else ", ".join(lg.orgs))
        t.add_row(lg.username, lg.password, f"{_ROLE_ZH[lg.role]} {lg.role}", reads)
    console.print(t)
    if url is not None:
        console.print(f"网址 URL: [bold]{url}[/]  (API 文档 OpenAPI: {url}/docs; 令牌 token: POST {url}/api/v1/auth/token)",
                      highlight=False)


def build(out: Path = OUT) -> DemoSite | None:
    """Run every step of the demo into ``out`` (emptied first); ``None`` when a check failed."""
    t_start = time.perf_counter()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    region = out / "region"
    store_dir = out / "store"
    url = f"sqlite:///{out / 'registry.db'}"
    centre = Scope.centre(actor="demo")  # 计量中心: the demo loads and reads every enterprise
    with Workspace(url, store_root=store_dir) as ws:
        logins = _run(ws, centre, out, region, store_dir)
    console.print(f"\n演示完成 demo done in {time.perf_counter() - t_start:.0f} s — "
                  f"registry {out / 'registry.db'}, readings {region / 'readings'}, ingest store {store_dir}")
    if logins is None:
        return None
    return DemoSite(out, url, region, out / "home", logins)


def main(out: Path = OUT) -> int:
    """``python -m carbonmet.demo``: every step, then the logins; serving is ``carbonmet demo``."""
    site = build(out)
    if site is None:
        return 1
    print_logins(site.logins)
    console.print("启动网页服务 to serve it: carbonmet demo (或 or make demo)")
    return 0


def _run(ws: Workspace, centre: Scope, out: Path, region: Path, store_dir: Path) -> tuple[DemoLogin, ...] | None:
    _step(1, "生成参考数据集", "generate the reference region")
    t0 = time.perf_counter()
    manifest = generate_region(ws, centre, region, enterprises=12, year=2025, seed=7, resolution="hour")
    console.print(f"{manifest.enterprises} 家企业 enterprises, {manifest.counts.get('readings', 0):,} 条读数 readings, "
                  f"{len(manifest.faults)} 处注入故障 injected faults, {len(manifest.noncompliance)} 项不符合 "
                  f"non-compliances — {time.perf_counter() - t0:.1f} s → {region}")

    _step(2, "导入器具与证书台账及监测计划", "load the registry and the monitoring plans")
    t0 = time.perf_counter()
    reports = import_registry(ws, centre, sorted((region / "registry").glob("*.csv")))
    notes: list[str] = []
    dcc_files = sorted((region / "registry" / "dcc").glob("*.xml"))
    for f in dcc_files:
        notes += import_dcc_certificate(ws, centre, f.read_bytes())["notes"]
    counts = {t: n for r in reports for t, n in r.tables.items()}
    console.print("已导入 imported: " + ", ".join(f"{k} {v}" for k, v in counts.items())
                  + f"; DCC {len(dcc_files)} — {time.perf_counter() - t0:.1f} s")

    # the data-quality control plan (数据质量控制计划) of every enterprise: which parameter comes from which
    # point, lab stream or default, stored as audited versions
    plan_files = sorted((region / "plans").glob("*.toml"))
    versions = [import_plan(ws, centre, f) for f in plan_files]
    e01 = show_plan(ws, centre, "E01")
    by_source: dict[str, int] = {}
    for prow in e01.parameters:
        by_source[prow.source] = by_source.get(prow.source, 0) + 1
    console.print(f"监测计划 monitoring plans: {sum(v.created for v in versions)} 家企业已存第 1 版 enterprises "
                  f"stored at version 1; E01: {len(e01.parameters)} 个参数 parameters — "
                  + ", ".join(f"{k} {v}" for k, v in sorted(by_source.items())))
    t = Table("源流 source stream", "参数 parameter", "来源 source", "引用 ref", "频次 frequency",
              title="E01 监测计划（节选）monitoring plan (first rows; all: carbonmet plan show E01)")
    for prow in e01.parameters[:6]:
        t.add_row(prow.source_stream, prow.parameter, prow.source, prow.ref, prow.frequency)
    console.print(t)

    _step(3, "计量数据入库与校验", "ingest meter data with validation")
    csv_file = next((region / "input").glob("readings-*.csv"))
    t0 = time.perf_counter()
    rep, _ = ingest_files(ws, centre, [csv_file])
    console.print(f"{csv_file.name}: 接收 received {rep.received:,} = 入库 stored {rep.stored:,} + 隔离 quarantined "
                  f"{rep.quarantined:,} + 重复 duplicates {rep.duplicates:,} — {time.perf_counter() - t0:.1f} s")
    for reason, count in sorted(rep.by_reason.items(), key=lambda kv: -kv[1])[:6]:
        console.print(f"  隔离原因 reason {reason}: {count}")

    _step(4, "到期与超差追溯", "due list and reverse traceability")
    items = due_items(ws, centre, date(2025, 12, 31), 30)
    by_status: dict[str, int] = {}
    for i in items:
        by_status[i.status] = by_status.get(i.status, 0) + 1
    console.print("2025-12-31 到期清单 due list: " + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items())))
    t = Table("器具 instrument", "类型 type", "计量点 point", "到期 due", "状态 status", title="超期/不合格 overdue or failed")
    for i in [i for i in items if i.status in ("overdue", "failed")][:8]:
        t.add_row(i.instrument, i.type, i.point or "", i.due.isoformat() if i.due else "", i.status)
    console.print(t)
    for oot in manifest.out_of_tolerance:
        d0, d1 = date.fromisoformat(oot["window_from"]), date.fromisoformat(oot["window_to"])
        record_incident(ws, centre, oot["standard_code"], d0, d1, oot.get("detail", ""))
        r = trace_standard(ws, centre, oot["standard_code"], d0, d1)
        t = Table("计量点 point", "器具 instrument", "自 from", "至 to", "证书 certificate",
                  title=f"{oot['standard_code']} 超差 {d0}…{d1}: 受影响数据期间 affected data periods")
        for p in r.data_periods:
            t.add_row(p.point, p.instrument, p.start.isoformat(), p.end.isoformat() if p.end else "至今 now",
                      p.certificate)
        console.print(t)
        expected = {c["cert_no"] for c in oot["affected_certificates"]}
        found = {c.cert_no for c in r.certificates if c.subject_kind == "instrument"}
        console.print(f"与真值清单一致 matches the manifest: {'是 yes' if found == expected else '否 NO'}")

    _step(5, "活动数据与不确定度", "activity data as measured quantities, with uncertainty")
    ent = "E01"
    truth = {(r["stream"], r["direction"]): r for r in _read_csv(region / "truth" / "carbon_streams.csv")
             if r["enterprise"] == ent and r["period"] == "2025"}
    start, end = datetime(2024, 12, 31, 16, tzinfo=UTC), datetime(2025, 12, 31, 16, tzinfo=UTC)
    t = Table("计量点 point", "测得 measured", "u (k=1)", "完整性 completeness", "真值 truth", "|Δ|/u",
              title=f"{ent} 年度活动数据 annual activity data (2025)")
    # the generated readings of the whole region: a second workspace on the same registry
    with Workspace(engine=ws.engine, store_root=region, time_zone=ws.time_zone) as region_ws:
        ad = {}
        for point, stream in ((f"{ent}.GASIFIER_COAL", "gasifier_coal"), (f"{ent}.BOILER_COAL", "boiler_coal"),
                              (f"{ent}.METHANOL", "methanol")):
            a = point_activity(region_ws, centre, point, start, end)
            ad[stream] = a
            tr = truth.get((stream, "in")) or truth.get((stream, "out"))
            true_t = float(tr["amount"]) if tr else math.nan
            q = a.total
            evaluated = not math.isnan(q.u)  # no MPE stated for the meter: nan, shown as such, never 0
            u_text = f"{q.u:,.0f}" if evaluated else f"未评定 not evaluated ({a.u_not_evaluated or 'u nan'})"
            t.add_row(point, f"{q.value:,.0f} {q.unit}", u_text, f"{a.completeness:.1%}", f"{true_t:,.0f}",
                      f"{abs(q.value - true_t) / q.u:.2f}" if evaluated and q.u > 0 else "—")
    console.print(t)

    # carbon into the boilers = coal mass × mean carbon content of the lab samples × (1 + analyser error)
    lab = [r for r in _read_csv(region / "lab" / "lab.csv")
           if r["point_id"] == f"{ent}.BOILER_COAL.LAB" and r["analyte"] == "carbon_content"]
    units = {r["unit"] for r in lab}
    if units != {"%"}:
        console.print(f"[red]{region / 'lab' / 'lab.csv'}: carbon_content 单位应为 % / unit must be %, got {units}")
        return None
    cc = np.array([float(r["value"]) for r in lab]) / 100.0  # mass fraction % → tC/t
    analyser = lab[0]["instrument_id"]
    fc = ad["boiler_coal"].total  # the belt scale's activity data: u from its MPE/√3, its provenance
    c_ar = type_a_quantity(ws, centre, cc.tolist(), "tC/t", name="C_ar", instruments=[analyser],
                           period=(start, end), method=f"type A mean of {len(cc)} lot samples (A 类评定)")
    # the analyser's error is common to every sample (averaging does not reduce it): its relative
    # standard uncertainty from the certificate covering it at the end of the period
    d_an = instrument_quantity(ws, centre, analyser, date(2025, 12, 31), name="d_an")
    inputs = {"FC": fc, "C_ar": c_ar, "d_an": d_an}
    carbon = "FC * C_ar * (1 + d_an / 100)"
    ev = evaluate_quantities(ws, centre, carbon, inputs, output="C_boiler", unit="tC", trials=200_000, seed=7)
    ev_co2 = evaluate_quantities(ws, centre, f"{carbon} * CO2_PER_C", inputs, output="CO2_boiler", unit="tCO2",
                                 trials=200_000, seed=7)
    true_c = float(truth[("boiler_coal", "in")]["carbon_t"])
    assert ev.lpu is not None and ev_co2.lpu is not None  # evaluate() runs the LPU unless asked not to
    lo, hi = ev.mcm.interval if ev.mcm else ev.lpu.interval
    console.print(f"锅炉入炉煤碳量 carbon into boilers: LPU {ev.lpu.value:,.0f} ± {ev.lpu.U:,.0f} tC (k={ev.lpu.k:.2f}); "
                  f"MCM 95 % [{lo:,.0f}, {hi:,.0f}] tC; 真值 truth {true_c:,.0f} tC → "
                  f"{'在区间内 inside' if lo <= true_c <= hi else '在区间外 OUTSIDE'}")
    lo2, hi2 = ev_co2.mcm.interval if ev_co2.mcm else ev_co2.lpu.interval
    console.print(f"折合二氧化碳 as CO2 (× CO2_PER_C, 44/12): LPU {ev_co2.lpu.value:,.0f} ± {ev_co2.lpu.U:,.0f} tCO2 "
                  f"(k={ev_co2.lpu.k:.2f}); MCM 95 % [{lo2:,.0f}, {hi2:,.0f}] tCO2")
    for row in ev.lpu.budget:
        console.print(f"  不确定度分量 budget {row.input}: 贡献 contribution {row.u_contribution:,.0f} tC, "
                      f"方差占比 variance share {row.variance_share:.0%} — 来源 source: {_provenance(row.provenance, ws.time_zone)}")
    console.print(f"  样本数 lab samples: {len(cc)} (化验仪器 analyser {analyser}); 验证 validation LPU vs MCM: "
                  f"{'一致 agrees' if ev.validation and ev.validation.agrees else '不一致 does not agree'}")

    _step(6, "化验数据入库与审计链校验", "load the lab results, verify the audit chain")
    t0 = time.perf_counter()
    lab_rep = import_lab(ws, centre, [region / "lab" / "lab.csv"])
    console.print(f"化验数据 lab results: {lab_rep.stored:,} 入库 stored, {lab_rep.quarantined} 隔离 quarantined, "
                  f"{len(lab_rep.flags)} 标记 flags — {time.perf_counter() - t0:.1f} s")
    audit = verify_audit_log(ws, centre)
    rec = audit.get("reconcile") or {}
    console.print(f"{'[green]完整 intact' if audit['chain_ok'] else '[red]被篡改 BROKEN'}[/]: {audit['entries']:,} 条 "
                  f"entries, head {audit['head_hash']}; 台账与日志一致 tables match the log: "
                  f"{'是 yes' if rec.get('ok', True) else '否 NO'}")
    if not audit["ok"]:
        return None

    _step(7, "区域碳核算", "the region's accounts: every enterprise from its plan, data and certificates")
    truth_e = {r["enterprise"]: r for r in _read_csv(region / "truth" / "enterprises.csv")}
    t = Table("企业", "路线 route", "核算 kt CO2", "U (95 %)", "真值 truth", "z", "有效 valid",
              title="2025 年度排放核算 annual accounts (kt CO2; LPU + MCM 10⁵) vs 真值 ground truth")
    t0 = time.perf_counter()
    accounts = {}
    inside = 0
    with Workspace(engine=ws.engine, store_root=region, time_zone=ws.time_zone) as region_ws:
        for e in sorted(truth_e):
            acc = account_enterprise(region_ws, centre, e, 2025, method="both", trials=100_000, seed=1)
            accounts[e] = acc
            tot = acc.total
            tr = truth_e[e]
            true_t = (float(tr["direct_emitted_co2_t"]) + float(tr["indirect_electricity_co2_t"])
                      + float(tr["indirect_steam_co2_t"]))
            lo, hi = tot["interval"]
            inside += lo <= true_t <= hi
            t.add_row(e, tr["route"], f"{tot['value'] / 1e3:,.1f}", f"{tot['U'] / 1e3:,.1f}", f"{true_t / 1e3:,.1f}",
                      f"{(tot['value'] - true_t) / tot['u']:+.2f}", "是 yes" if tot["valid"] else "[red]否 no *[/]")
    console.print(t)
    console.print(f"{inside}/{len(accounts)} 个区间包含真值 intervals contain the truth — "
                  f"{time.perf_counter() - t0:.1f} s for {len(accounts)} accounts; * 含法定状态外器具的数据 uses data of "
                  "an instrument out of its legal state (flags below)")
    d = accounts[ent].to_dict()
    bt = Table("分量 term", "u 贡献 tCO2", "占比 share", "证书 certificates",
               title=f"{ent} 不确定度预算 budget (前 6 项 top 6; 全部 all: carbonmet account {ent} --year 2025)")
    for b in d["budget"][:6]:
        bt.add_row(b["term"], f"{b['u_contribution_t']:,.0f}", f"{b['variance_share']:.0%}",
                   ", ".join(b["certificates"][:2]))
    console.print(bt)
    it = Table("措施 action", "分量 term", "U 现 now", "U 后 after", "降低 cut", title=f"{ent} 改进建议 what to improve")
    for i in d["improve"][:5]:
        it.add_row(i["action"], i["term"], f"{i['U_now_t']:,.0f}", f"{i['U_after_t']:,.0f}",
                   f"{i['reduction_pct']:.1f} %")
    console.print(it)
    for e, acc in accounts.items():
        for flag in acc.flags:
            if flag["kind"] == "legal_state":
                console.print(f"[yellow]标记 flag[/] {e} {flag.get('stream')}: {flag['message']}")
    with Workspace(engine=ws.engine, store_root=region, time_zone=ws.time_zone) as region_ws:
        arep = account_report(region_ws, centre, ent, 2025, out / "reports", method="both", trials=100_000, seed=1)
    console.print(f"{ent} 核算报告 account report (PDF + XLSX, 同一输入逐字节相同 same inputs, same bytes): "
                  f"{', '.join(arep['files'].values())}; 数据 data {arep['stamp']['data_version']}, 代码 code "
                  f"{arep['stamp']['code_version']}", highlight=False)

    _step(8, "碳监测与核算比对、碳平衡", "CEMS against the accounts, and the carbon balance")
    t0 = time.perf_counter()
    ct = Table("企业", "CEMS kt", "核算 kt", "偏差 %", "E_n", "全年变化 %", "标记 flagged", "指向 points at",
               title="CEMS vs 核算 (直接排放, 2025) — 监控标记: 全年不一致 / 月度不稳定 / 校准日突变")
    flagged = []
    with Workspace(engine=ws.engine, store_root=region, time_zone=ws.time_zone) as region_ws:
        for e in sorted(truth_e):
            cmp = compare_enterprise(region_ws, centre, e, 2025)
            y = cmp.year_row
            if cmp.flagged:
                flagged.append(e)
            ct.add_row(e, f"{y['cems'] / 1e3:,.1f}", f"{y['accounting'] / 1e3:,.1f}",
                       f"{y['relative_deviation_pct']:+.2f}", f"{y['En']:+.2f}",
                       f"{cmp.stability.get('change_over_year_pct', 0):+.2f}",
                       "[red]是 yes[/]" if cmp.flagged else "否 no", ", ".join(cmp.suspects))
        console.print(ct)
        manifest_faults = {f["point_id"].split(".")[0] for f in manifest.faults
                           if f["kind"] == "drift" and f["point_id"].endswith(".FLOW")}
        console.print(f"标记 flagged: {', '.join(flagged)}; 注入的 CEMS 流量漂移 injected CEMS flow drift: "
                      f"{', '.join(sorted(manifest_faults))} — {time.perf_counter() - t0:.1f} s")
        show = "E05"  # the CEMS showcase: its stack flow monitor drifts from April
        bal = balance_enterprise(region_ws, centre, show, 2025)
    b = bal.to_dict()
    a, tw = b["annual"], b["three_way"]["periods"][-1]
    png = out / f"carbon-flows-{show}.png"
    png.write_bytes(bal.reconciliation.png())
    console.print(f"{show} 碳平衡 carbon balance: χ² = {a['chi2']} (dof {a['dof']}), p = {a['p']:.3f} → "
                  f"{'通过 passed' if a['passed'] else '未通过 failed'}; 三方 three-way (kt CO2): CEMS "
                  f"{tw['cems'] / 1e3:,.1f}, 核算 accounting {tw['accounting'] / 1e3:,.1f}, 协调 reconciled "
                  f"{tw['reconciled'] / 1e3:,.1f} ± {tw['u_reconciled'] / 1e3:,.1f}; 碳流图 carbon-flow diagram → {png}")

    _step(9, "产品碳足迹与 PACT", "product footprints from the accounts, and PACT v3")
    t0 = time.perf_counter()
    truth_fp = {(r["enterprise"], r["product"]): r for r in _read_csv(region / "truth" / "footprints.csv")}
    ft = Table("企业", "产品 product", "kgCO2e/kg", "U (k=2)", "u 计量 meas.", "真值 truth", "z (计量 meas.)",
               "一次数据 primary", title="摇篮到大门产品碳足迹 cradle-to-gate footprints (2025) vs 真值 ground truth")
    pacts = out / "pact"
    pacts.mkdir(parents=True, exist_ok=True)
    with Workspace(engine=ws.engine, store_root=region, time_zone=ws.time_zone) as region_ws:
        for (e, prod), tr in sorted(truth_fp.items()):
            if prod in ("diesel", "naphtha", "lpg"):  # coal-to-liquids products: no product rule yet
                continue
            fo = footprint_enterprise(region_ws, centre, e, 2025, prod)
            pf = fo.footprint
            true_fp = float(tr["cradle_to_gate_t_per_t"])
            ft.add_row(e, f"{pf.rule.name_zh} {prod}", f"{pf.value:.3f}", f"{pf.U:.3f}", f"{pf.u_measurement:.4f}",
                       f"{true_fp:.3f}", f"{(pf.value - true_fp) / pf.u_measurement:+.2f}",
                       f"{pf.primary_data_share:.0%}")
            (pacts / f"{e}-{prod}.json").write_text(json.dumps(fo.pact, ensure_ascii=False, indent=1) + "\n",
                                                    encoding="utf-8")
    console.print(ft)
    console.print(f"PACT v3.0.3 ProductFootprint → {pacts} ({time.perf_counter() - t0:.1f} s); 捕集/回收 CO2 单列不抵扣 "
                  "captured CO2 in its own field, never netted; 详情 details: carbonmet footprint E02 --product "
                  "polyethylene --year 2025", highlight=False)

    _step(10, "演示用户", "demo users, one per role")
    t0 = time.perf_counter()
    logins = create_demo_users(ws, centre, sorted(truth_e))
    console.print(f"{len(logins)} 个用户 users ({', '.join(sorted({lg.role for lg in logins}))}) — "
                  f"{time.perf_counter() - t0:.1f} s")
    return logins


if __name__ == "__main__":
    sys.exit(main())
