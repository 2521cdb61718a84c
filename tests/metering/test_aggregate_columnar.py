"""aggregate_table against a plain-Python reference of its rules, cell by cell, on varied stores.

The reference below is written from the rules in the module docstring of the aggregation (HJ 75-2017
hourly means with the 45-minute rule, flags N valid / S substituted / F stopped / C, M, D … invalid;
totaliser differences interpolated linearly to the period boundaries with the rollover rule; interval
amounts summed). It reads the readings back from the store (validation may have flagged or
quarantined some) and loops over readings, hours and periods in Python. Every column of every row is
compared: strings, times and counts exactly, ``nan`` at the same places, sums to 1e-12 (DuckDB may add
in another order).
"""

from __future__ import annotations

import math
import tempfile
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonmet.metering import RawReading, Store, aggregate_table
from carbonmet.sites import Catalog, PointInfo

SH = ZoneInfo("Asia/Shanghai")
H = 3_600_000_000  # µs per hour
OFF = 8 * H  # Asia/Shanghai, UTC+8, no DST
CAT = Catalog({
    "FLOW": PointInfo("FLOW", "E01", "Nm3/h", "rate"),  # amount: time integral of hourly means
    "O2": PointInfo("O2", "E01", "percent", "rate"),  # mean of valid hourly means
    "COAL": PointInfo("COAL", "E01", "t", "total"),  # totaliser, 6-digit register with rollovers
    "BATCH": PointInfo("BATCH", "E01", "t", "interval"),  # weighings; coverage only with a nominal step
    "LOAD": PointInfo("LOAD", "E01", "t", "interval"),  # no nominal step given: coverage not evaluated
    "NONE": PointInfo("NONE", "E01", "t/h", "rate"),  # no readings at all
})
STEPS = {"BATCH": 600.0}
T0 = datetime(2025, 3, 30, tzinfo=SH)  # the data run across the end of March (two month partitions)


def _store(root: Path, seed: int, p_gap: float, p_bad: float) -> Store:
    """Minute data with gaps and flags C/M/F/S, calibration blocks that make hours invalid, plant stops,
    a totaliser read every 10 minutes that rolls over, and irregular weighings."""
    rng = np.random.default_rng(seed)
    rs: list[RawReading] = []
    bad = ["C", "M", "D", "S", "F"]
    stop = (int(rng.integers(0, 60 * 60)), int(rng.integers(60, 300)))  # a plant stop [start min, length)
    cal = int(rng.integers(0, 60))  # minute of the day a 20-minute calibration block starts
    for m in range(-4 * 60, 3 * 24 * 60 + 4 * 60):  # 4 h either side of the range
        t = T0 + timedelta(minutes=m)
        for p, mu in (("FLOW", 5000.0), ("O2", 8.0)):
            if rng.random() < p_gap:
                continue
            if stop[0] <= m < stop[0] + stop[1]:
                flag = "F"
            elif cal <= m % 1440 < cal + 20:
                flag = "C"
            else:
                flag = str(rng.choice(bad)) if rng.random() < p_bad else "N"
            rs.append(RawReading(t, float(mu * (1 + 0.05 * rng.standard_normal())), p, flag=flag))
    v = 999_000.0 + float(rng.uniform(0, 900))
    for i in range(-24, 3 * 24 * 6 + 24):
        v = (v + float(rng.uniform(0, 40))) % 1_000_000.0
        if rng.random() < p_gap:
            continue
        flag = str(rng.choice(bad)) if rng.random() < p_bad else "N"
        rs.append(RawReading(T0 + timedelta(minutes=10 * i + int(rng.integers(0, 5))), v, "COAL", flag=flag))
    for p in ("BATCH", "LOAD"):
        for _ in range(int(rng.integers(5, 60))):
            t = T0 + timedelta(minutes=int(rng.integers(-120, 3 * 24 * 60 + 120)))
            flag = str(rng.choice(bad)) if rng.random() < p_bad else "N"
            rs.append(RawReading(t, float(rng.uniform(10, 40)), p, flag=flag))
    rs.sort(key=lambda r: (r.point_id or "", r.ts))
    st_ = Store(root)
    st_.ingest_readings(rs, "synthetic", CAT, source="test")
    return st_


def _stored(st_: Store, p: str) -> list[tuple[int, float, str, str]]:
    """(local µs, value, flag, source) of the stored readings of ``p``, in time order."""
    t = st_.readings(p)
    ts = t.column("ts").cast(pa.int64()).to_pylist()
    return sorted(zip([x + OFF for x in ts], t.column("value").to_pylist(),
                      [str(f) for f in t.column("flag").to_pylist()],
                      [str(s) for s in t.column("source").to_pylist()], strict=True))


def _buckets(period: str, s_l: int, e_l: int) -> list[tuple[int, int]]:
    """Periods [start, end) in local µs cut from [s_l, e_l) (hour or day)."""
    n = H if period == "hour" else 24 * H
    return [(b, b + n) for b in range(s_l // n * n, e_l, n)]


def _ref_hourly(rows: list[tuple[int, float, str, str]], s_l: int, e_l: int, interval: bool,
                buckets: list[tuple[int, int]]) -> dict[int, dict[str, Any]]:
    """Rate and interval points: HJ 75 hours (minute data), then periods; NULL sums as None."""
    hours: dict[int, dict[str, Any]] = {}
    for t, v, flag, source in rows:
        if not s_l <= t < e_l:
            continue
        h = hours.setdefault(t // H, {"n": 0, "ok": [], "mins": set(), "sub": [], "stp": 0})
        h["n"] += 1
        if flag == "N" and source != "substituted":
            h["ok"].append(v)
            h["mins"].add((t // 60_000_000) % 60)
        if source == "substituted" or flag == "S":
            h["sub"].append(v)
        h["stp"] += flag == "F"
    out: dict[int, dict[str, Any]] = {}
    for bs, be in buckets:
        hs = [hours[k] for k in sorted(hours) if bs <= k * H < be]
        if not hs:
            continue
        valid = [len(h["ok"]) > 0 if interval else len(h["mins"]) >= 45 for h in hs]
        sub_h = [bool(h["sub"]) and (interval or not ok) for h, ok in zip(hs, valid, strict=True)]
        if interval:
            measured = [sum(h["ok"]) for h in hs if h["ok"]]
            substituted = [sum(h["sub"]) for h in hs if h["sub"]]
        else:
            measured = [sum(h["ok"]) / len(h["ok"]) for h, ok in zip(hs, valid, strict=True) if ok]
            substituted = [sum(h["sub"]) / len(h["sub"]) for h, s in zip(hs, sub_h, strict=True) if s]
        out[bs] = {
            "measured": sum(measured) if measured else None,
            "substituted": sum(substituted) if substituted else None,
            "valid_hours": float(sum(valid)), "subst_hours": float(sum(sub_h)),
            "stopped_hours": float(sum(h["stp"] > 0 and not ok and not h["sub"] for h, ok in zip(hs, valid, strict=True))),
            "invalid_hours": float(sum(not ok and not h["sub"] and not h["stp"] for h, ok in zip(hs, valid, strict=True))),
            "n": sum(h["n"] for h in hs), "n_valid": sum(len(h["ok"]) for h in hs),
        }
    return out


def _delta(p: float, x: float) -> float | None:
    """Register difference: plain, or + 10^(⌊log10 p⌋+1) for a rollover (0.9 / 0.1 of the modulus)."""
    if x >= p:
        return x - p
    m = 10.0 ** (math.floor(math.log10(p)) + 1) if p > 0 else math.nan
    if p > 0 and x >= 0 and p >= 0.9 * m and x < 0.1 * m:
        return x - p + m
    return None


def _ref_total(rows: list[tuple[int, float, str, str]], s_l: int, e_l: int,
               buckets: list[tuple[int, int]]) -> dict[int, dict[str, Any]]:
    """Totaliser: anchors (valid or substituted readings) grouped by closing hour; the difference inside a
    group and between groups spread over the periods in proportion to time, clipped to the range."""
    groups: dict[int, list[tuple[int, float, bool]]] = defaultdict(list)
    for t, v, flag, source in rows:
        sub = source == "substituted" or flag == "S"
        if flag == "N" or sub:
            groups[(t - 1) // H].append((t, v, sub))
    pieces = []  # (a, b, delta, substituted)
    prev: tuple[int, float, bool] | None = None
    for hc in sorted(groups):
        g = groups[hc]
        (t0, v0, sub0), (t1, v1, _) = g[0], g[-1]
        if t1 > t0:
            pieces.append((t0, t1, _delta(v0, v1), any(s for _, _, s in g)))
        if prev is not None and t0 > prev[0]:
            pieces.append((prev[0], t0, _delta(prev[1], v0), prev[2] or sub0))
        prev = g[-1]
    out: dict[int, dict[str, Any]] = {}
    for bs, be in buckets:
        amt: dict[bool, list[float]] = {False: [], True: []}
        dur = {False: 0, True: 0}
        touched = False
        for a, b, d, sub in pieces:
            ov = min(b, e_l, be) - max(a, s_l, bs)
            if ov <= 0:
                continue
            touched = True
            if d is not None:
                amt[sub].append(d * (ov / (b - a)))
                dur[sub] += ov
        n = [(f, s) for t, _, f, s in rows if s_l < t <= e_l and bs <= (t - 1) // H * H < be]
        if not touched and not n:
            continue
        out[bs] = {
            "measured": sum(amt[False]) if amt[False] else None, "substituted": sum(amt[True]),
            "valid_hours": dur[False] / H, "subst_hours": dur[True] / H, "stopped_hours": 0.0,
            "invalid_hours": 0.0, "n": len(n), "n_valid": sum(f == "N" and s != "substituted" for f, s in n),
        }
    return out


def _reference(st_: Store, period: str, s_l: int, e_l: int) -> list[dict[str, Any]]:
    """The expected table rows: every point of CAT and every period, in point order then time."""
    buckets = _buckets(period, s_l, e_l)
    out = []
    for p, info in CAT.items():
        rows = _stored(st_, p)
        if info.reading_kind == "total":
            got = _ref_total(rows, s_l, e_l, buckets)
        else:
            got = _ref_hourly(rows, s_l, e_l, info.reading_kind == "interval", buckets)
        step = STEPS.get(p)
        kind = "mean" if p == "O2" else "amount"
        for bs, be in buckets:
            lo, hi = max(bs, s_l), min(be, e_l)
            expected = (hi - lo) / H
            r = got.get(bs)
            row: dict[str, Any] = {"point_id": p, "period_start": lo - OFF, "period_end": hi - OFF, "kind": kind,
                                   "expected_hours": expected}
            if r is None:
                no_cov = math.nan if info.reading_kind == "interval" and step is None else 0.0
                row.update(value_measured=math.nan, value_substituted=math.nan, valid_hours=no_cov,
                           substituted_hours=0.0, stopped_hours=0.0, invalid_hours=0.0, n_readings=0, n_valid=0)
                out.append(row)
                continue
            sm = math.nan if r["measured"] is None else r["measured"]
            ss = math.nan if r["substituted"] is None else r["substituted"]
            vh = r["valid_hours"]
            if info.reading_kind == "interval":
                vh = min(expected, r["n_valid"] * step * 1e6 / H) if step is not None else math.nan
                vm = sm
            elif kind == "mean":
                vm = sm / vh if vh > 0 else math.nan
            else:
                vm = sm if (vh > 0 or info.reading_kind == "total") else math.nan
            if kind == "mean":
                vs = ss / r["subst_hours"] if r["subst_hours"] > 0 else math.nan
            else:
                vs = ss if math.isfinite(ss) else 0.0
            row.update(value_measured=vm, value_substituted=vs, valid_hours=min(vh, expected) if math.isfinite(vh) else vh,
                       substituted_hours=r["subst_hours"], stopped_hours=r["stopped_hours"],
                       invalid_hours=r["invalid_hours"], n_readings=r["n"], n_valid=r["n_valid"])
            out.append(row)
    return out


def _check(st_: Store, period: str, start: datetime, end: datetime) -> None:
    tab = aggregate_table(st_, CAT, list(CAT), start, end, period, steps_s=STEPS)  # type: ignore[arg-type]
    s_l, e_l = round(start.timestamp() * 1e6) + OFF, round(end.timestamp() * 1e6) + OFF
    want = _reference(st_, period, s_l, e_l)
    got = tab.to_pylist()
    assert tab.schema.field("period_start").type == pa.timestamp("us", tz="Asia/Shanghai")
    assert tab.schema.field("n_readings").type == pa.int64() and tab.schema.field("valid_hours").type == pa.float64()
    assert len(got) == len(want)
    units = {"FLOW": "Nm3", "O2": "%", "COAL": "t", "BATCH": "t", "LOAD": "t", "NONE": "t"}
    for g, w in zip(got, want, strict=True):
        where = (w["point_id"], w["period_start"])
        assert g["point_id"] == w["point_id"] and g["kind"] == w["kind"] and g["unit"] == units[w["point_id"]], where
        assert round(g["period_start"].timestamp() * 1e6) == w["period_start"], where
        assert round(g["period_end"].timestamp() * 1e6) == w["period_end"], where
        assert (g["n_readings"], g["n_valid"]) == (w["n_readings"], w["n_valid"]), where
        for c in ("value_measured", "value_substituted", "expected_hours", "valid_hours", "substituted_hours",
                  "stopped_hours", "invalid_hours"):
            x, y = g[c], w[c]
            assert isinstance(x, float), (where, c)
            assert math.isnan(x) == math.isnan(y), (where, c, x, y)
            if not math.isnan(y):
                assert x == pytest.approx(y, rel=1e-12, abs=1e-9), (where, c)


@pytest.mark.parametrize("period", ["hour", "day"])
def test_table_equals_plain_python_reference(tmp_path: Path, period: str) -> None:
    st_ = _store(tmp_path, seed=11, p_gap=0.1, p_bad=0.08)
    # whole days, then a range cut inside hours' days (partial first and last day)
    _check(st_, period, T0, T0 + timedelta(days=3))
    _check(st_, period, T0 + timedelta(hours=5), T0 + timedelta(days=2, hours=19))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), p_gap=st.sampled_from([0.0, 0.05, 0.3]), p_bad=st.sampled_from([0.0, 0.1, 0.5]),
       period=st.sampled_from(["hour", "day"]), first=st.integers(0, 30), hours=st.integers(1, 40))
def test_table_equals_reference_on_random_stores(seed: int, p_gap: float, p_bad: float, period: str, first: int,
                                                 hours: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        st_ = _store(Path(d), seed, p_gap, p_bad)
        start = T0 + timedelta(hours=first)
        _check(st_, period, start, start + timedelta(hours=hours))
