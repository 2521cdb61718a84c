"""National scale: monthly totals of every point and annual accounts for 100 / 300 / 1,000 enterprises, on DuckDB
and on Spark local[2], in the same run.

Stores: one enterprise is generated (``carbonmet.refdata``, hourly, one year: E01, the coal-to-methanol route)
and its Parquet partitions are replicated under new enterprise codes (E0001 …, hard links: the same bytes, the
same layout and file sizes as a generated region, and the same work per enterprise). The catalog is
E01's points renamed. Every replica therefore holds the same readings: the engines do the full work for each
(the data are not deduplicated anywhere), the totals are identical by construction.

Accounts: in batches of ``BATCH`` enterprises (bounded memory: the hourly table of a batch, not of the region),
each batch one hourly aggregation of the plan's points (the engine) and one account per enterprise
(:func:`carbonmet.accounting.account_from_data`, LPU), the plan, laboratory results and certificate figures of
E01 applied to every replica (the registry query is not part of the measurement). On Spark the account step runs
on the executors (:func:`carbonmet.scale.spark_accounts`).

Each engine and size runs in its own process: peak memory is that process's RSS, plus for Spark the peak RSS of
the driver JVM (VmHWM). The scaling exponent b of ``time ∝ N^b`` is fitted from the smallest to the largest size.

Sizes: ``SCALE_BENCH_SIZES`` (default ``100,300,1000``), ``SCALE_BENCH_ACCOUNT_SIZES`` (default the same);
``SCALE_BENCH_PARTIAL`` (a file: the runs so far, after each), ``SCALE_BENCH_SPARK_MEMORY`` (default 8g),
``SCALE_BENCH_SPARK_MAX`` (default no limit): Spark runs only the sizes up to it (the others are recorded as not
run, for the time they would take); ``quick=True`` runs 5 and 15 enterprises.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

BATCH = 100
YEAR = 2025
#: Heap of the Spark driver (in local mode also the executor): the monthly table of 1,000 enterprises (4.8 million
#: point-months) is collected to it.
SPARK_MEMORY = os.environ.get("SCALE_BENCH_SPARK_MEMORY", "8g")

_CHILD = r"""
import dataclasses, json, os, pickle, resource, sys, time
from datetime import datetime
from zoneinfo import ZoneInfo
import pyarrow as pa, pyarrow.compute as pc
from carbonmet.metering import Store, aggregate_table
from carbonmet.accounting import account_from_data, plan_data_from_table
base, n, engine, what = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
with open(os.path.join(base, "setup.pkl"), "rb") as f:
    s = pickle.load(f)  # written by cloudpickle (the certificate figures are a closure); plain pickle reads it
root = os.path.join(base, f"store-{n}")
cat = s["catalogs"][n]
store = Store(root)
z = ZoneInfo("Asia/Shanghai")
start, end = datetime(2025, 1, 1, tzinfo=z), datetime(2026, 1, 1, tzinfo=z)
spark = eng = None
t0 = time.perf_counter()
if engine == "spark":
    from carbonmet.scale import spark_engine, local_session, spark_accounts
    spark = local_session("local[2]", shuffle_partitions=4, conf={"spark.driver.memory": os.environ["SPARK_MEM"]})
    eng = spark_engine(spark)
t_session = time.perf_counter() - t0
rows = 0
t0 = time.perf_counter()
if what == "monthly":
    t = aggregate_table(store, cat, list(cat), start, end, "month", engine=eng)
    rows = int(pc.sum(t.column("n_readings")).as_py())
    out = {"point_months": t.num_rows, "sum_measured_first": float(t.column("value_measured")[0].as_py() or 0)}
else:
    from carbonmet.scale import spark_accounts
    codes = s["codes"][:n]
    d0 = s["data"]
    totals = {}
    for b in range(0, n, s["batch"]):
        batch = codes[b:b + s["batch"]]
        pts = [f"{c}.{p.split('.', 1)[1]}" for c in batch for p in s["plan_points"]]
        t = aggregate_table(store, cat, pts, start, end, "hour", engine=eng)
        rows += int(pc.sum(t.column("n_readings")).as_py())
        ent = pc.utf8_slice_codeunits(t.column("point_id"), 0, 5)
        data = {}
        for c in batch:
            sub = t.filter(pc.equal(ent, c))
            sub = sub.set_column(0, "point_id", pc.replace_substring_regex(sub.column("point_id"), "^E[0-9]+\\.", "E01."))
            d = plan_data_from_table(d0.plan, 2025, sub, s["e01_catalog"], d0.figures, d0.lab, profile=d0.profile,
                                     points=s["plan_points"])
            data[c] = d
        accs = spark_accounts(spark, data, method="lpu")
        totals.update({c: (a.total["value"], a.total["u"]) for c, a in accs.items()})
    vals = sorted(set(totals.values()))
    out = {"accounts": len(totals), "distinct_results": len(vals), "value": vals[0][0], "u": vals[0][1]}
secs = time.perf_counter() - t0
jvm_peak = None
if spark is not None:
    pid = spark.sparkContext._gateway.proc.pid
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM"):
            jvm_peak = int(line.split()[1]) / 1024
    spark.stop()
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": secs, "session_seconds": t_session, "readings": rows,
                  "rows_per_s": rows / secs if secs else None, "peak_rss_mb": ru.ru_maxrss / 1024,
                  "jvm_peak_rss_mb": jvm_peak, **out}))
"""


def _setup(base: Path, sizes: list[int]) -> None:
    """Generate E01, import it, replicate its partitions for the largest size, pickle what the children need."""
    import dataclasses
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from pyspark import cloudpickle

    from carbonmet.accounting import gather, plan_points
    from carbonmet.lab import query_results
    from carbonmet.metering import Catalog
    from carbonmet.services import (
        Scope,
        Workspace,
        generate_region,
        import_lab,
        import_plan,
        import_registry,
        point_catalog,
    )
    from carbonmet.sites import load_plan

    reg = base / "region"
    with Workspace(f"sqlite:///{base / 'r.db'}", store_root=reg) as w:
        generate_region(w, Scope.nobody(), reg, enterprises=1, year=YEAR, seed=7, resolution="hour")
        c = Scope.centre()
        import_registry(w, c, sorted((reg / "registry").glob("*.csv")))
        for f in sorted((reg / "plans").glob("*.toml")):
            import_plan(w, c, f)
        import_lab(w, c, [reg / "lab" / "lab.csv"])
        cat = point_catalog(w, c)
        z = ZoneInfo(w.time_zone)
        with w.session() as s:
            plan = load_plan(s, "E01")
            assert plan is not None
            lab = query_results(s, enterprise="E01", start=datetime(YEAR - 1, 12, 25, tzinfo=z),
                                end=datetime(YEAR + 1, 1, 1, tzinfo=z))
            d0 = gather(s, w.store(), cat, plan, YEAR, lab, tz=w.time_zone)
    e01 = {p: info for p, info in cat.items() if info.enterprise == "E01"}
    codes = [f"E{i + 1:04d}" for i in range(max(sizes))]
    src = reg / "readings" / "enterprise=E01"
    catalogs = {}
    for n in sizes:
        root = base / f"store-{n}" / "readings"
        infos = {}
        for code in codes[:n]:
            for pd in src.iterdir():
                pid = pd.name.removeprefix("point=")
                new = f"{code}.{pid.split('.', 1)[1]}"
                for md in pd.iterdir():
                    dst = root / f"enterprise={code}" / f"point={new}" / md.name
                    dst.mkdir(parents=True, exist_ok=True)
                    for f in md.iterdir():
                        os.link(f, dst / f.name)
                infos[new] = dataclasses.replace(e01[pid], point_id=new, enterprise=code)
        catalogs[n] = Catalog(infos)
    pts = [p for p in plan_points(plan) if p in e01]
    with open(base / "setup.pkl", "wb") as fh:
        cloudpickle.dump({"catalogs": catalogs, "codes": codes, "data": d0,
                     "e01_catalog": Catalog(e01), "plan_points": pts, "batch": BATCH}, fh)


def _child(base: Path, n: int, engine: str, what: str) -> dict[str, Any]:
    r = subprocess.run([sys.executable, "-c", _CHILD, str(base), str(n), engine, what], capture_output=True,
                       text=True, timeout=7200, check=False, env={**os.environ, "SPARK_MEM": SPARK_MEMORY})
    if r.returncode:
        raise RuntimeError(r.stderr[-3000:])
    return json.loads(r.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _exponent(rows: list[dict[str, Any]]) -> float | None:
    if len(rows) < 2:
        return None
    a, b = rows[0], rows[-1]
    return round(math.log(b["seconds"] / a["seconds"]) / math.log(b["enterprises"] / a["enterprises"]), 3)


def run(quick: bool = False) -> dict[str, Any]:
    env = os.environ.get("SCALE_BENCH_SIZES", "100,300,1000")
    sizes = [5, 15] if quick else [int(x) for x in env.split(",") if x]
    acc_sizes = sizes if quick else [int(x) for x in os.environ.get("SCALE_BENCH_ACCOUNT_SIZES", env).split(",") if x]
    out: dict[str, Any] = {"sizes": sizes, "account_sizes": acc_sizes, "batch": BATCH,
                           "spark_driver_memory": SPARK_MEMORY,
                           "store": "E01 of a generated region (hourly, 2025) replicated under new codes (hard links)"}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        base = Path(tmp)
        _setup(base, sorted(set(sizes) | set(acc_sizes)))
        spark_max = int(os.environ.get("SCALE_BENCH_SPARK_MAX", "0")) or None
        out["spark_max"] = spark_max
        partial = os.environ.get("SCALE_BENCH_PARTIAL")
        for what, ns in (("monthly", sizes), ("accounts", acc_sizes)):
            for engine in ("duckdb", "spark"):
                rows = []
                for n in ns:
                    if engine == "spark" and spark_max is not None and n > spark_max:
                        continue
                    r = {"enterprises": n, **_child(base, n, engine, what)}
                    print(f"   {what} {engine} {n}: {r['seconds']:.1f} s", flush=True)
                    rows.append(r)
                    if partial:  # a long run leaves what it measured so far
                        Path(partial).write_text(json.dumps({**out, f"{what}_{engine}": {"runs": rows}}, indent=1))
                out[f"{what}_{engine}"] = {"runs": rows, "exponent": _exponent(rows)}
            d, s = out[f"{what}_duckdb"]["runs"], out[f"{what}_spark"]["runs"]
            out[f"{what}_spark_over_duckdb"] = [round(b["seconds"] / a["seconds"], 2) for a, b in zip(d, s, strict=False)]
    return out
