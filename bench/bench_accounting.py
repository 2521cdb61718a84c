"""Accounting: full-year accounts of the reference region against the metering aggregation of the same
activity data (same run, pair by pair), 1,000 synthetic inventories with MCM against plain NumPy, and the
interval coverage over generated enterprise-years.

Goals (issue #11): accounting adds ≤ 30 % on top of the hourly aggregation it reads; 1,000 annual inventories
with MCM in ≤ 10 s; 95 % intervals cover the truth 93–97 % of ≥ 200 enterprise-years.
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from carbonmet.accounting import (
    Inventory,
    account_from_data,
    account_inventory,
    gather,
    inventory_from_dict,
    plan_points,
)
from carbonmet.accounting.formulas import combustion_per_heat
from carbonmet.lab import query_results
from carbonmet.metering import aggregate_table
from carbonmet.services import (
    Scope,
    Workspace,
    generate_region,
    import_lab,
    import_plan,
    import_registry,
    point_catalog,
    validate_accounting,
)
from carbonmet.sites import load_plan

YEAR = 2025
TZ = "Asia/Shanghai"


def _region(root: Path, enterprises: int) -> tuple[Workspace, list[str]]:
    reg = root / "region"
    ws = Workspace(f"sqlite:///{root / 'b.db'}", store_root=reg)
    centre = Scope.centre()
    generate_region(ws, centre, reg, enterprises=enterprises, year=YEAR, seed=7, resolution="hour")
    import_registry(ws, centre, sorted((reg / "registry").glob("*.csv")))
    for f in sorted((reg / "plans").glob("*.toml")):
        import_plan(ws, centre, f)
    import_lab(ws, centre, [reg / "lab" / "lab.csv"])
    return ws, [f"E{i:02d}" for i in range(1, enterprises + 1)]


def _aggregation(ws: Workspace, cat: Any, plans: dict[str, Any], ents: list[str]) -> float:
    """The baseline: hourly aggregation of every activity point the accounts read (one call per enterprise)."""
    z = ZoneInfo(TZ)
    t0 = time.perf_counter()
    for e in ents:
        aggregate_table(ws.store(), cat, [p for p in plan_points(plans[e]) if p in cat],
                        datetime(YEAR, 1, 1, tzinfo=z), datetime(YEAR + 1, 1, 1, tzinfo=z), "hour", tz=TZ)
    return time.perf_counter() - t0


def _accounts(ws: Workspace, cat: Any, plans: dict[str, Any], ents: list[str], method: str) -> tuple[float, list[Any]]:
    z = ZoneInfo(TZ)
    t0 = time.perf_counter()
    out = []
    with ws.session() as s:
        for e in ents:
            lab = query_results(s, enterprise=e, start=datetime(YEAR - 1, 12, 24, tzinfo=z),
                                end=datetime(YEAR + 1, 1, 1, tzinfo=z))
            d = gather(s, ws.store(), cat, plans[e], YEAR, lab, tz=TZ)
            out.append(account_from_data(d, method=method, trials=100_000, seed=1))  # type: ignore[arg-type]
    return time.perf_counter() - t0, out


def _pairs(ws: Workspace, cat: Any, plans: dict[str, Any], ents: list[str], method: str, reps: int) -> dict[str, Any]:
    base, acc = [], []
    for _ in range(reps):  # A/B pair by pair, so load on the machine hits both alike
        base.append(_aggregation(ws, cat, plans, ents))
        acc.append(_accounts(ws, cat, plans, ents, method)[0])
    b, a = statistics.median(base), statistics.median(acc)
    return {"enterprises": len(ents), "method": method, "aggregation_s": round(b, 3), "account_s": round(a, 3),
            "overhead_pct": round(100 * (a - b) / b, 1), "goal_overhead_pct": 30, "reps": reps,
            "aggregation_runs_s": [round(x, 3) for x in base], "account_runs_s": [round(x, 3) for x in acc]}


def synthetic_inventory(i: int, rng: np.random.Generator) -> dict[str, Any]:
    """A coal-to-methanol-like annual inventory with random plant size and instrument classes."""
    cap = float(rng.uniform(2e5, 2e6))
    mpe = [0.2, 0.5, 1.0]
    return {
        "inventory": {"enterprise": f"S{i:05d}", "year": YEAR},
        "instruments": [
            {"id": "BS-G", "mpe_rel": float(rng.choice(mpe))}, {"id": "BS-B", "mpe_rel": float(rng.choice(mpe))},
            {"id": "CF-M", "certificate": "calibration", "U_rel": 0.2, "k": 2},
            {"id": "EM", "mpe_rel": 0.5}, {"id": "CS", "certificate": "calibration", "U_rel": 1.0, "k": 2},
            {"id": "CAL", "certificate": "calibration", "U_rel": 0.4, "k": 2},
        ],
        "streams": [
            {"name": "gasification", "kind": "carbon_balance",
             "inputs": [{"name": "coal", "amount": {"value": 1.5 * cap, "unit": "t", "instrument": "BS-G"},
                         "carbon": {"value": float(rng.uniform(55, 68)), "unit": "%", "analyser": "CS",
                                    "samples": 150, "u_sample_rel": 1.0}}],
             "outputs": [{"name": "methanol", "material": "methanol",
                          "amount": {"value": cap, "unit": "t", "instrument": "CF-M"}}]},
            {"name": "boiler_coal", "kind": "fuel_combustion", "fuel": "bituminous_coal",
             "activity": {"value": 0.5 * cap, "unit": "t", "instrument": "BS-B"},
             "ncv": {"value": float(rng.uniform(17, 24)), "unit": "GJ/t", "analyser": "CAL", "samples": 150,
                     "u_sample_rel": 0.5}},
            {"name": "electricity", "kind": "purchased_electricity",
             "activity": {"value": 0.15 * cap, "unit": "MWh", "instrument": "EM"}},
        ],
    }


def _inventory(d: dict[str, Any]) -> Inventory:
    return inventory_from_dict(d, f"synthetic {d['inventory']['enterprise']}")


def _synthetic(n: int, trials: int) -> dict[str, Any]:
    rng = np.random.default_rng(5)
    dicts = [synthetic_inventory(i, rng) for i in range(n)]
    t0 = time.perf_counter()
    invs = [_inventory(d) for d in dicts]
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    totals = [account_inventory(inv, method="both", trials=trials, seed=i).total["value"] for i, inv in enumerate(invs)]
    t_acc = time.perf_counter() - t0
    # baseline: plain NumPy, the same totals and an independent-input MCM of the same size, all enterprises at once
    t0 = time.perf_counter()
    g = rng.standard_normal((trials, 3))
    base = []
    for d in dicts:
        s = d["streams"]
        c_in = s[0]["inputs"][0]["amount"]["value"] * s[0]["inputs"][0]["carbon"]["value"] / 100
        c_out = s[0]["outputs"][0]["amount"]["value"] * 0.3749
        boiler = combustion_per_heat(s[1]["activity"]["value"], s[1]["ncv"]["value"], 0.0261, 0.93)
        v = (c_in - c_out) * 3.664191 + boiler + s[2]["activity"]["value"] * 0.5703
        base.append(float(np.std(v * (1 + 0.01 * g[:, 0]))))
    t_np = time.perf_counter() - t0
    return {"enterprises": n, "trials_per_enterprise": trials, "read_s": round(t_read, 3),
            "account_lpu_and_mcm_s": round(t_acc, 3), "goal_s": 10.0, "numpy_baseline_s": round(t_np, 3),
            "ratio_to_numpy": round(t_acc / t_np, 1) if t_np > 0 else None,
            "mean_total_t": round(float(np.mean(totals)), 1)}


def run(quick: bool = False) -> dict[str, Any]:
    ents = 4 if quick else 12
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        ws, names = _region(Path(tmp), ents)
        with ws:
            cat = point_catalog(ws, Scope.centre())
            with ws.session() as s:
                plans = {e: load_plan(s, e) for e in names}
            _accounts(ws, cat, plans, names[:1], "lpu")  # warm caches (store partitions, imports)
            reps = 2 if quick else 3
            out["one_enterprise_lpu"] = _pairs(ws, cat, plans, names[:1], "lpu", reps)
            out["one_enterprise_mcm_1e5"] = _pairs(ws, cat, plans, names[:1], "both", reps)
            out["region_lpu"] = _pairs(ws, cat, plans, names, "lpu", reps)
            out["region_mcm_1e5"] = _pairs(ws, cat, plans, names, "both", reps)
    out["synthetic_1000"] = _synthetic(100 if quick else 1000, 10_000)
    runs = 1 if quick else 17
    t0 = time.perf_counter()
    with Workspace("sqlite://") as ws:
        v = validate_accounting(ws, Scope.nobody(), runs, enterprises=12, seed=1000)
    res = v.to_dict()
    z = np.array([r["z"] for r in res["rows"] if math.isfinite(r["z"])])
    out["coverage"] = {k: res[k] for k in ("runs", "enterprise_years", "covered", "coverage",
                                            "coverage_independent_periods", "flagged", "flagged_outside",
                                            "unflagged_outside")}
    out["coverage"].update(goal="93–97 % of ≥ 200 enterprise-years", z_mean=round(float(z.mean()), 3),
                           z_sd=round(float(z.std()), 3), seconds=round(time.perf_counter() - t0, 1))
    return out
