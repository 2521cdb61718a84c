"""Measured-minus-truth statistics per instrument, computed with DuckDB over the written files."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import duckdb


def instrument_stats(root: Path) -> list[dict]:
    """One dict per installed instrument: stated u, recorded δ, estimated δ̂ and residual noise sd [%]."""
    man = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    con = duckdb.connect()
    con.execute("create table faults(point_id varchar, t0 bigint, t1 bigint)")
    rows = [(f["point_id"], int(datetime.fromisoformat(f["start"]).timestamp() * 1e6),
             int(datetime.fromisoformat(f["end"]).timestamp() * 1e6)) for f in man["faults"] if f["point_id"]]
    if rows:
        con.executemany("insert into faults values (?, ?, ?)", rows)
    con.execute(f"""
        create view m as
        select point as point_id, epoch_us(ts) as t, value, flag::varchar as flag
        from read_parquet('{root}/readings/*/*/*/*.parquet', hive_partitioning = true)""")
    con.execute(f"""
        create view tr as select point_id::varchar as point_id, epoch_us(ts) as t, true_value
        from read_parquet('{root}/truth/points_hourly.parquet')""")
    con.execute("""
        create table j as
        select m.point_id, m.t, m.value, tr.true_value from m join tr using (point_id, t)
        where m.flag = 'N'
          and not exists (select 1 from faults f where f.point_id = m.point_id and m.t >= f.t0 and m.t < f.t1)""")
    kinds = {r["point_id"]: r["reading_kind"] for r in csv.DictReader((root / "registry/points.csv").open())}
    rate = {p: (d, s, n) for p, d, s, n in con.execute("""
        select point_id, sum(value - true_value) / sum(true_value),
               stddev_samp(value / true_value - 1), count(*)
        from j where true_value > 0 group by point_id""").fetchall()}
    total = {p: (d, n) for p, d, n in con.execute("""
        select point_id, (arg_max(value, t) - arg_min(value, t)) / (arg_max(true_value, t) - arg_min(true_value, t)) - 1,
               count(*)
        from j group by point_id""").fetchall()}
    out = []
    for r in csv.DictReader((root / "truth/instrument_errors.csv").open()):
        pid = r["point_id"]
        if not pid or pid not in kinds:
            continue
        kind = kinds[pid]
        if kind == "total":
            dhat, n = total[pid]
            sd = None
        else:
            dhat, sd, n = rate[pid]
        out.append({
            "instrument_id": r["instrument_id"], "point_id": pid, "kind": kind, "type": r["type"],
            "model": r["error_model"], "u": float(r["u_rel_pct"]), "delta": float(r["systematic_rel_pct"]),
            "dhat": 100.0 * dhat, "sd": None if sd is None else 100.0 * sd, "n": n,
            "noise_rel": float(r["noise_rel_pct_per_minute"]), "noise_abs": float(r["noise_abs_per_minute"]),
            "resolution": float(r["resolution"]),
        })
    return out
