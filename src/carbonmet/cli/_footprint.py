"""``carbonmet footprint …`` and ``carbonmet validate footprint`` — product carbon footprint (产品碳足迹).

Thin: parse, call :mod:`carbonmet.services`, render.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ._common import (
    AsJson,
    DbOpt,
    Enterprises,
    OrgOpt,
    OutJson,
    Runs,
    Seed,
    StoreDir,
    console,
    fail,
    print_json,
    run_validation,
    scope,
    workspace,
)


def register(app_: typer.Typer, validate_app: typer.Typer) -> None:
    """Add ``footprint`` to the ``carbonmet`` command and ``footprint`` to ``validate``."""
    app_.command("footprint")(footprint_cmd)
    validate_app.command("footprint")(validate_footprint_cmd)


def footprint_cmd(
    enterprise: Annotated[str, typer.Argument(help="企业 organisation code, e.g. E01")],
    product: Annotated[str, typer.Option("--product", help="产品 methanol | meg | polyethylene | polypropylene")],
    year: Annotated[int, typer.Option("--year", help="年度 year")],
    allocation: Annotated[str | None, typer.Option("--allocation", help="分配方法 mass | energy | economic | "
                                                   "system_expansion (默认: 产品规则 default: the product rule's)")] = None,
    mc: Annotated[int, typer.Option("--mc", help="蒙特卡洛次数 Monte Carlo trials (0: LPU only)")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="随机种子 seed")] = 0,
    pact: Annotated[Path | None, typer.Option("--pact", help="写出 PACT v3 JSON write the PACT v3 document")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="写出足迹报告 write the footprint report (HTML + XLSX "
                                                "+ PDF) into this directory")] = None,
    store: StoreDir = None,
    as_json: AsJson = False,
    db: str | None = DbOpt,
    org: str | None = OrgOpt,
) -> None:
    """产品碳足迹 Cradle-to-gate footprint of a product from the enterprise's account, with its uncertainty."""
    from rich.table import Table

    from ..services import CarbonmetError, footprint_enterprise, footprint_report

    try:
        with workspace(db, store) as ws:
            out = footprint_enterprise(ws, scope(org), enterprise, year, product, allocation=allocation, mc=mc,
                                       seed=seed)
            rep = footprint_report(ws, scope(org), enterprise, year, product, report, ("html", "xlsx", "pdf"),
                                   allocation=allocation, mc=mc, seed=seed) if report is not None else None
    except CarbonmetError as exc:
        fail(str(exc), 2)
    if pact is not None:
        pact.write_text(json.dumps(out.pact, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    d = out.to_dict()
    if as_json:
        print_json(d)
        return
    lo, hi = d["interval"]
    console.print(f"[bold]{enterprise} {year} {d['name']}[/] 摇篮到大门 cradle-to-gate: [bold]{d['value']:.3f}[/] "
                  f"kgCO2e/kg, U = {d['U']:.3f} (k = 2) → [{lo:.3f}, {hi:.3f}]; 仅计量 measurement only "
                  f"u = {d['u_measurement']:.4f}; 分配 allocation {d['allocation']}")
    if d["captured_co2_kg_per_kg"] > 0:
        console.print(f"回收/捕集 CO2 captured (reported apart, not netted): {d['captured_co2_kg_per_kg']:.4f} kg/kg")
    t = Table("阶段 stage", "kgCO2e/kg", "占比 share", title="阶段贡献 contribution by stage")
    for k, v in sorted(d["by_stage"].items(), key=lambda x: -x[1]):
        t.add_row(k, f"{v:.4f}", f"{100 * v / d['value']:.1f} %" if d["value"] else "—")
    console.print(t)
    b = Table("不确定度来源 source", "u kgCO2e/kg", "方差占比 share", title="不确定度预算 budget")
    for r in d["budget"][:8]:
        b.add_row(r["label"], f"{r['u_contribution']:.4f}", f"{100 * r['share']:.1f} %")
    console.print(b)
    a = Table("分配方法 allocation", "kgCO2e/kg", "相对 vs chosen", title="分配敏感性 allocation sensitivity")
    for r in d["allocation_sensitivity"]:
        ok = r["value"] == r["value"]
        a.add_row(r["method"] + (" ✓" if r["chosen"] else ""), f"{r['value']:.4f}" if ok else "—",
                  f"{100 * r['relative_to_chosen']:+.2f} %" if ok else (r["note"][:60] or "—"))
    console.print(a)
    if d["mc"]:
        m = d["mc"]["total"]
        console.print(f"蒙特卡洛 Monte Carlo ({d['mc']['trials']}): mean {m['mean']:.4f}, sd {m['sd']:.4f}, "
                      f"95 % [{m['interval'][0]:.4f}, {m['interval'][1]:.4f}]")
    console.print(f"一次数据占比 primary data share {100 * d['primary_data_share']:.1f} %; DQI {d['dqi']}; "
                  f"标记 flags: {', '.join(d['flags']) or '—'}")
    if pact is not None:
        console.print(f"PACT v3 → {pact}")
    if rep is not None:
        console.print(f"足迹报告 report → {', '.join(rep['files'].values())}")


def validate_footprint_cmd(runs: Runs = 2, enterprises: Enterprises = 12, seed: Seed = 3000, out: OutJson = None,
                           as_json: AsJson = False) -> None:
    """足迹区间覆盖率 Interval coverage of product footprints over generated regions with known truth."""
    from ..services import Scope, validate_footprint

    got = run_validation("生成、核算并计算足迹 generate, account, footprint", lambda ws, progress: validate_footprint(
        ws, Scope.nobody(), runs, enterprises=enterprises, seed=seed, progress=progress), runs, out, as_json,
        omit=("rows",))
    if got is None:
        return
    _, res = got
    console.print(f"{res['footprints']} 个产品足迹 product footprints: 值 ± 2u(计量) 覆盖真值 value ± 2u(measurement) "
                  f"covers the truth [bold]{100 * res['coverage_measurement']:.1f} %[/] (目标 target 93–97 %); "
                  f"含背景因子不确定度 with background factors uncertain {100 * res['coverage_total']:.1f} %; "
                  f"z mean {res['z_mean']:.3f}, sd {res['z_sd']:.3f}")
