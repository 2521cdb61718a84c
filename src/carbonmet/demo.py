"""``make demo``: the main job on the embedded default (SQLite registry + Parquet/DuckDB readings).

1. generate the reference region (12 coal-chemical enterprises, 2025, hourly) with known truth;
2. load its instrument & certificate registry (CSV + DCC XML) into SQLite, audited;
3. ingest one enterprise's meter CSV through validation (counts always add up);
4. the metrologist's questions: what is overdue, and what does the out-of-tolerance standard affect;
5. activity data as measured quantities, checked against the truth; an uncertainty evaluation
   (GUM + Monte Carlo) of the carbon entering a boiler, checked against the truth;
6. verify the audit chain.
"""

from __future__ import annotations

import shutil
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv
from rich.console import Console
from rich.table import Table

OUT = Path("demo-out")
console = Console()


def _step(n: int, zh: str, en: str) -> None:
    console.rule(f"[bold]{n}. {zh} · {en}")


def main(out: Path = OUT) -> int:
    from sqlalchemy import select

    from .db import make_engine, migrate, session_scope
    from .db import verify as verify_audit
    from .metering import Store, activity_data, file_batch_id, read_file
    from .refdata import generate
    from .registry import catalog_from_registry, due_list, import_dcc, import_files, trace_back
    from .registry.models import Certificate
    from .registry.write import find_instrument, record_incident
    from .uncertainty import InputSet, Model, evaluate
    from .uncertainty.distributions import Normal, type_a

    t_start = time.perf_counter()
    if out.exists():
        shutil.rmtree(out)
    region = out / "region"

    _step(1, "生成参考数据集", "generate the reference region")
    t0 = time.perf_counter()
    manifest = generate(region, enterprises=12, year=2025, seed=7, resolution="hour")
    console.print(f"{manifest.enterprises} 家企业 enterprises, {manifest.counts.get('readings', 0):,} 条读数 readings, "
                  f"{len(manifest.faults)} 处注入故障 injected faults, {len(manifest.noncompliance)} 项不符合 "
                  f"non-compliances — {time.perf_counter() - t0:.1f} s → {region}")

    _step(2, "导入器具与证书台账", "load the registry")
    engine = make_engine(f"sqlite:///{out / 'registry.db'}")
    migrate(engine)
    t0 = time.perf_counter()
    reports = import_files(engine, sorted((region / "registry").glob("*.csv")), actor="demo")
    notes: list[str] = []
    dcc_files = sorted((region / "registry" / "dcc").glob("*.xml"))
    with session_scope(engine) as s:
        for f in dcc_files:
            _, n = import_dcc(s, f.read_bytes(), actor="demo")
            notes += n
    counts = {t: n for r in reports for t, n in r.tables.items()}
    console.print("已导入 imported: " + ", ".join(f"{k} {v}" for k, v in counts.items())
                  + f"; DCC {len(dcc_files)} — {time.perf_counter() - t0:.1f} s")

    _step(3, "计量数据入库与校验", "ingest meter data with validation")
    store_dir = out / "store"
    csv_file = next((region / "input").glob("readings-*.csv"))
    with session_scope(engine) as s:
        catalog = catalog_from_registry(s)
    t0 = time.perf_counter()
    with Store(store_dir) as st:
        raw = csv_file.read_bytes()
        rep = st.ingest(read_file(csv_file), file_batch_id(raw), catalog, source="file", raw=raw, raw_ext=".csv",
                        origin=str(csv_file))
    console.print(f"{csv_file.name}: 接收 received {rep.received:,} = 入库 stored {rep.stored:,} + 隔离 quarantined "
                  f"{rep.quarantined:,} + 重复 duplicates {rep.duplicates:,} — {time.perf_counter() - t0:.1f} s")
    for reason, count in sorted(rep.by_reason.items(), key=lambda kv: -kv[1])[:6]:
        console.print(f"  隔离原因 reason {reason}: {count}")

    _step(4, "到期与超差追溯", "due list and reverse traceability")
    with session_scope(engine) as s:
        items = due_list(s, date(2025, 12, 31), within_days=30)
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
        with session_scope(engine) as s:
            record_incident(s, oot["standard_code"], d0, d1, oot.get("detail", ""), actor="demo")
            r = trace_back(s, oot["standard_code"], d0, d1)
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
    truth = {(r["stream"], r["direction"]): r for r in pacsv.read_csv(region / "truth" / "carbon_streams.csv")
             .to_pylist() if r["enterprise"] == ent and str(r["period"]) == "2025"}
    start, end = datetime(2024, 12, 31, 16, tzinfo=UTC), datetime(2025, 12, 31, 16, tzinfo=UTC)
    region_store = Store(region)
    t = Table("计量点 point", "测得 measured", "u (k=1)", "完整性 completeness", "真值 truth", "|Δ|/u",
              title=f"{ent} 年度活动数据 annual activity data (2025)")
    ad = {}
    for point, stream in ((f"{ent}.GASIFIER_COAL", "gasifier_coal"), (f"{ent}.BOILER_COAL", "boiler_coal"),
                          (f"{ent}.METHANOL", "methanol")):
        a = activity_data(region_store, catalog, point, start, end, name=point)
        ad[stream] = a
        tr = truth.get((stream, "in")) or truth.get((stream, "out"))
        true_t = float(tr["amount"]) if tr else float("nan")
        q = a.total
        u_text = f"{q.u:,.0f}" if q.u == q.u else "未评定 not evaluated"  # no MPE stated for the meter
        t.add_row(point, f"{q.value:,.0f} {q.unit}", u_text, f"{a.completeness:.1%}", f"{true_t:,.0f}",
                  f"{abs(q.value - true_t) / q.u:.2f}" if q.u == q.u and q.u > 0 else "—")
    console.print(t)

    # carbon into the boilers = coal mass × mean carbon content of the lab samples × (1 + analyser error)
    lab = [r for r in pacsv.read_csv(region / "lab" / "lab.csv").to_pylist()
           if r["point_id"] == f"{ent}.BOILER_COAL.LAB" and r["analyte"] == "carbon_content"]
    cc = np.array([r["value"] for r in lab], dtype=float)
    # the analyser's error is common to every sample (averaging does not reduce it): take its relative
    # standard uncertainty from the certificate in the registry (U/k of a calibration, MPE/√3 of a 检定)
    analyser = lab[0]["instrument_id"]
    with session_scope(engine) as s:
        inst = find_instrument(s, analyser)
        cert = s.scalars(select(Certificate).where(Certificate.instrument_id == inst.id,
                                                   Certificate.calibration_date <= date(2025, 12, 31))
                         .order_by(Certificate.calibration_date.desc())).first()
        if cert is not None and cert.kind == "calibration" and cert.expanded_u:
            u_an, an_src = cert.expanded_u / (cert.coverage_factor or 2.0), f"{cert.cert_no} U/k"
        else:
            u_an, an_src = (inst.mpe_rel or 0.0) / np.sqrt(3), f"{inst.code} MPE/√3"
    fc = ad["boiler_coal"].total
    inputs = InputSet()
    inputs.add("FC", Normal(fc.value, fc.u), unit="t", description="belt-scale annual total, u from MPE/√3")
    inputs.add("C_ar", type_a(cc), unit="%", description=f"mean of {len(cc)} lot samples, type A")
    inputs.add("d_an", Normal(0.0, u_an), unit="%", description=f"carbon analyser error ({an_src})")
    model = Model.from_expression("FC * C_ar / 100 * (1 + d_an / 100)", inputs, output="C_boiler", unit="tC")
    ev = evaluate(model, trials=200_000, seed=7)
    true_c = float(truth[("boiler_coal", "in")]["carbon_t"])
    assert ev.lpu is not None  # evaluate() runs the LPU unless asked not to
    lo, hi = ev.mcm.interval if ev.mcm else ev.lpu.interval
    console.print(f"锅炉入炉煤碳量 carbon into boilers: LPU {ev.lpu.value:,.0f} ± {ev.lpu.U:,.0f} tC (k={ev.lpu.k:.2f}); "
                  f"MCM 95 % [{lo:,.0f}, {hi:,.0f}] tC; 真值 truth {true_c:,.0f} tC → "
                  f"{'在区间内 inside' if lo <= true_c <= hi else '在区间外 OUTSIDE'}")
    assert ev.lpu is not None
    for row in ev.lpu.budget:
        console.print(f"  不确定度分量 budget {row.input}: 贡献 contribution {row.u_contribution:,.0f} tC, "
                      f"方差占比 variance share {row.variance_share:.0%}")
    console.print(f"  样本数 lab samples: {len(cc)} (化验仪器 analyser {analyser}); 验证 validation LPU vs MCM: "
                  f"{'一致 agrees' if ev.validation and ev.validation.agrees else '不一致 does not agree'}")

    _step(6, "审计链校验", "verify the audit chain")
    with session_scope(engine) as s:
        audit = verify_audit(s)
    console.print(f"{'[green]完整 intact' if audit.ok else '[red]被篡改 BROKEN'}[/]: {audit.entries:,} 条 entries, "
                  f"head {audit.head_hash}")
    console.print(f"\n演示完成 demo done in {time.perf_counter() - t_start:.0f} s — "
                  f"registry {out / 'registry.db'}, readings {region / 'readings'}, ingest store {store_dir}")
    return 0 if audit.ok else 1


if __name__ == "__main__":
    sys.exit(main())
