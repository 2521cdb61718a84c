"""Reference-method comparisons (RATA) of the reference region (seed 7, 12 enterprises, hourly) against its truth.

The region writes one paired-run file per monitored stack and vent of three pilot enterprises in December: E05
(its STACK3 flow monitor E05-I0140 drifts +8.85 %/a from 2025-04-20) and the first two enterprises without an
instrument fault on a CEMS point. Reference = hourly truth × (1 + u·z) (flow u = 2.5 %, CO2 1 %, moisture 3 % per
run); CEMS = the hourly reading in the store. A healthy instrument keeps the systematic error drawn from its
certificate (flow monitors u = 2.5 %, CO2 analysers 1 %), so a 12-run comparison, whose reference noise is
2.5 %/√12 = 0.72 % for flow, finds many healthy instruments significantly biased; what is sound to assert is that
each comparison measures the instrument's true error within its standard error, and that the drifting monitor
stands out among its enterprise's flow monitors.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from carbonmet.cems.qa import RataFile, bias_test, read_rata_file
from carbonmet.refdata import generate
from carbonmet.services import Scope, Workspace, rata_files

YEAR = 2025
CST = timezone(timedelta(hours=8))
Z95 = 1.959963984540054
U_REF = {"flow": 2.5, "co2": 1.0, "moisture": 3.0}  # per-run reference-method u [%], constants.toml [rata]
SUFFIX = {"flow": "FLOW", "co2": "CO2", "moisture": "MOIST"}


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("rata")
    reg = root / "region"
    m = generate(reg, enterprises=12, year=YEAR, seed=7, resolution="hour")
    files = {f: read_rata_file(reg / f) for f in m.outputs["cems"]["rata"]}
    with (reg / "truth" / "instrument_errors.csv").open(encoding="utf-8", newline="") as fh:
        errors = {r["point_id"]: r for r in csv.DictReader(fh)}
    with Workspace(f"sqlite:///{root / 'w.db'}", store_root=reg) as ws:
        report = rata_files(ws, Scope.nobody(), [reg / f for f in files])
    yield {"region": reg, "manifest": m, "files": files, "errors": errors, "report": report}


def _point(f: RataFile, parameter: str) -> str:
    assert f.stack is not None
    return f"{f.stack}.{SUFFIX[parameter]}"


def test_every_listed_file_reads_and_is_a_december_daytime_campaign(region: dict[str, Any]) -> None:
    reg, m, files = region["region"], region["manifest"], region["files"]
    listed = set(m.outputs["cems"]["rata"])
    assert listed == {str(p.relative_to(reg)) for p in (reg / "cems").glob("rata-*.csv")}
    camp = m.outputs["cems"]["rata_campaign"]
    assert camp["pilots"][0] == "E05" and len(camp["pilots"]) == 3 and camp["skipped"] == []
    assert all(f in m.files for f in listed)  # hashed in the manifest like every other output
    dec = (datetime(YEAR, 12, 1, tzinfo=CST), datetime(YEAR + 1, 1, 1, tzinfo=CST))
    for name, f in files.items():
        e, unit = f.stack.split(".") if f.stack else ("", "")
        assert name == f"cems/rata-{e}-{unit}-{YEAR}-12.csv" and e in camp["pilots"]
        again = read_rata_file(reg / name, period=dec)  # every run inside December
        assert again.sha256 == f.sha256
        pars = {s.parameter for s in f.series}
        assert {"flow", "co2"} <= pars and ("moisture" in pars) == (unit != "RECTISOL_VENT")
        for s in f.series:
            assert len(s.runs) >= 9
            days = {r.start.astimezone(CST).date() for r in s.runs if r.start}
            assert 2 <= len(days) <= 3
            assert all(r.start and r.end and 8 <= r.start.astimezone(CST).hour < 17
                       and r.end - r.start == timedelta(hours=1) for r in s.runs)
            assert s.runs[0].reference_method and f"u = {U_REF[s.parameter]:g} %/run [A]" in s.runs[0].reference_method
    e05 = {f.stack for f in files.values() if f.stack and f.stack.startswith("E05.")}
    assert "E05.STACK3" in e05


def test_cems_is_the_stored_hourly_reading_and_the_reference_scatters_as_stated(region: dict[str, Any]) -> None:
    reg = region["region"]
    pids = {_point(f, s.parameter) for f in region["files"].values() for s in f.series}
    t = pq.read_table(reg / "truth" / "points_hourly.parquet")
    t = t.filter(pc.is_in(t["point_id"].cast(pa.string()), value_set=pa.array(sorted(pids))))
    truth = {(p, ts): v for p, ts, v in zip(t["point_id"].to_pylist(), t["ts"].to_pylist(), t["true_value"].to_pylist(),
                                            strict=True)}
    z: list[float] = []
    for f in region["files"].values():
        e = f.stack.split(".")[0] if f.stack else ""
        for s in f.series:
            pid = _point(f, s.parameter)
            part = pq.read_table(reg / "readings" / f"enterprise={e}" / f"point={pid}" / f"month={YEAR}-12"
                                 / "part-refdata.parquet")
            store = {ts: (v, fl) for ts, v, fl in zip(part["ts"].to_pylist(), part["value"].to_pylist(),
                                                       part["flag"].to_pylist(), strict=True)}
            for r in s.runs:
                assert r.start is not None
                ts = r.start.astimezone(UTC)
                assert store[ts] == (r.cems, "N")
                z.append((r.reference / truth[(pid, ts)] - 1) * 100 / U_REF[s.parameter])
    zz = np.array(z)
    inside = float(np.mean(np.abs(zz) <= Z95))
    print(f"\nreference runs: n = {zz.size}, |z| ≤ 1.96: {inside:.3f}, mean z {zz.mean():+.3f}, sd {zz.std(ddof=1):.3f}")
    # n ≈ 370 runs: 95 % ± 1.1 % (binomial sd); mean 0 ± 0.05; sd 1 ± 0.04 (rounding adds < 0.01)
    assert zz.size >= 300
    assert 0.92 <= inside <= 0.98
    assert abs(float(zz.mean())) < 0.2 and 0.88 < float(zz.std(ddof=1)) < 1.12


def _expected_rel_pct(err: dict[str, str], runs: Any) -> float:
    """The instrument's true systematic error [%] over the runs: δ plus the drift at the mean run time."""
    rel = float(err["systematic_rel_pct"])
    rate = float(err["drift_rel_pct_per_year"] or 0.0)
    if rate:
        start = datetime.fromisoformat(err["drift_from"])
        year_h = (datetime(YEAR + 1, 1, 1, tzinfo=CST) - datetime(YEAR, 1, 1, tzinfo=CST)).total_seconds() / 3600
        mean_h = float(np.mean([(r.start - start).total_seconds() / 3600 for r in runs.runs]))
        rel += rate * max(mean_h, 0.0) / year_h
    return rel


def test_each_comparison_finds_the_instruments_true_error_within_its_standard_error(region: dict[str, Any]) -> None:
    z = []
    rows = []
    for f in region["files"].values():
        for s in f.series:
            err = region["errors"][_point(f, s.parameter)]
            ref = np.array([r.reference for r in s.runs])
            cem = np.array([r.cems for r in s.runs])
            observed = (cem.mean() / ref.mean() - 1) * 100
            expected = _expected_rel_pct(err, s)
            # se of CEM̄/RM̄ − 1: the reference noise over n runs (the CEMS hourly noise, σ_min/√60, is below
            # a fifth of it and is added in quadrature)
            noise = float(err["noise_rel_pct_per_minute"]) or float(err["noise_abs_per_minute"]) / cem.mean() * 100
            se = math.hypot(U_REF[s.parameter], noise / math.sqrt(60)) / math.sqrt(len(s.runs))
            z.append((observed - expected) / se)
            rows.append((f.stack, s.parameter, expected, observed, z[-1]))
    zz = np.array(z)
    print("\nstack               par       true %   seen %      z")
    for st, par, ex, ob, zi in rows:
        print(f"{st:<20}{par:<9}{ex:+8.2f}{ob:+9.2f}{zi:+7.2f}")
    assert len(z) >= 30
    assert float(np.mean(np.abs(zz) <= Z95)) >= 0.85  # ≈ 95 % expected; 33 values: binomial sd 3.8 %


def test_e05_stack3_names_the_flow_monitor_and_not_the_co2_analyser(region: dict[str, Any]) -> None:
    rep = next(r for r in region["report"] if r["stack"] == "E05.STACK3")
    d = rep["diagnosis"]
    assert d["suspect"] == "flow", d["verdict"]
    comp = {c["parameter"]: c for c in d["components"]}
    flow = comp["flow"]
    # drift at the runs (11–15 Dec): 8.85 %/a × 0.64 a ≈ +5.7 %, with δ = −0.78 %: the monitor reads ≈ +4.9 % high
    assert flow["biased"] and flow["relative_bias_pct"] > 3.0
    assert abs(flow["mass_effect_pct"]) > abs(comp["co2"]["mass_effect_pct"])
    assert "流量监测仪" in d["verdict"] and "flow monitor" in d["verdict"]
    b = rep["parameters"]["flow"]["bias"]
    # ec_co2 (flow's default) has no bias criterion: the Part 75 t-test is used, and says so
    assert b["rule_set"] == "part75" and "part75" in b["note"]
    res = b["result"]
    assert res["direction"] == "high" and res["d_mean"] < -abs(res["cc"])
    # Part 75 §7.6.5 adjusts a LOW bias only: a monitor that reads high over-states the emission, BAF stays 1
    assert res["baf_applies"] and res["baf"] == 1.0


def test_the_drifting_monitor_is_the_worst_flow_monitor_of_its_enterprise(region: dict[str, Any]) -> None:
    table = []
    for rep in region["report"]:
        d = rep["diagnosis"]
        comp = {c["parameter"]: c for c in d["components"]}
        fl = rep["parameters"]["flow"]
        table.append((rep["stack"], fl["rata"]["ra_pct"], comp["flow"]["relative_bias_pct"],
                      fl["bias"]["result"]["direction"], comp["co2"]["relative_bias_pct"], d["suspect"]))
    print("\nstack               flow RA %  flow bias %  bias   co2 bias %  suspect")
    for st, ra, fb, dirn, cb, sus in table:
        print(f"{st:<20}{ra:9.2f}{fb:+12.2f}  {dirn:<6}{cb:+11.2f}  {sus}")
    healthy = [t for t in table if not t[0].startswith("E05.")]
    blamed = sum(t[5] is not None for t in healthy)
    print(f"healthy pilots: {blamed} of {len(healthy)} stacks/vents have a component the QA points at "
          "(certificate-sized systematic errors are significant against a 12-run comparison)")
    e05 = [t for t in table if t[0].startswith("E05.") and t[0] != "E05.RECTISOL_VENT"]
    worst = max(e05, key=lambda t: abs(t[2]))
    assert worst[0] == "E05.STACK3" and max(e05, key=lambda t: t[1])[0] == "E05.STACK3"
    # every flow monitor passes the EC RA ≤ 10 % limit (|δ| ≲ 3.4 u for a healthy one); the drift is found by the
    # bias, not the RA
    assert all(t[1] <= 10.0 for t in table)


def test_the_report_is_plain_data(region: dict[str, Any]) -> None:
    rep = region["report"]
    assert len(rep) == len(region["files"]) and json.loads(json.dumps(rep, default=str))
    assert all(r["diagnosis"] is not None and not r["diagnosis_error"] for r in rep)
    assert all(p["rata"] is not None for r in rep for p in r["parameters"].values())
    # the same bias result as calling the QA module directly
    f = region["files"]["cems/rata-E05-STACK3-2025-12.csv"]
    direct = bias_test(f.get("flow"), "part75").to_dict()
    got = next(r for r in rep if r["stack"] == "E05.STACK3")["parameters"]["flow"]["bias"]["result"]
    assert got == direct
