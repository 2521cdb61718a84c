"""Shared by the Spark tests: a tiny region (one generated enterprise, hourly), a hand-built minute store
(HJ 75 hours, a totaliser rollover and an instrument change, across a month boundary) and the comparisons."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from carbonmet.metering import Catalog, PointInfo, RawReading, Store
from carbonmet.services import Scope, Workspace, generate_region, import_lab, import_plan, import_registry
from carbonmet.sites import InstrumentPeriod

YEAR = 2025
SH = ZoneInfo("Asia/Shanghai")
FLOATS = ("value_measured", "value_substituted", "expected_hours", "valid_hours", "substituted_hours",
          "stopped_hours", "invalid_hours")


def region_workspace(root: Path, enterprises: int = 1) -> Workspace:
    """A generated region (hourly readings) with its registry, plans and lab results imported."""
    reg = root / "region"
    w = Workspace(f"sqlite:///{root / 'r.db'}", store_root=reg)
    generate_region(w, Scope.nobody(), reg, enterprises=enterprises, year=YEAR, seed=7, resolution="hour")
    c = Scope.centre()
    import_registry(w, c, sorted((reg / "registry").glob("*.csv")))
    for f in sorted((reg / "plans").glob("*.toml")):
        import_plan(w, c, f)
    import_lab(w, c, [reg / "lab" / "lab.csv"])
    return w


def minute_catalog() -> Catalog:
    return Catalog({
        # totaliser whose belt scale is replaced on 1 February (a break in the register)
        "E01.COAL": PointInfo(
            "E01.COAL", "E01", "t", "total", quantity="mass", carrier="raw_coal",
            instruments=(InstrumentPeriod("BS-1", "BS-1", date(2024, 1, 1), date(2025, 2, 1), 0, 2000, "t/h", 0.5),
                         InstrumentPeriod("BS-2", "BS-2", date(2025, 2, 1), None, 0, 2000, "t/h", 0.5))),
        "E01.GAS": PointInfo("E01.GAS", "E01", "Nm3/h", "rate", quantity="normal_volume_flow", carrier="natural_gas"),
        "E02.CO2": PointInfo("E02.CO2", "E02", "percent", "rate", quantity="concentration", carrier="flue_gas"),
        "E02.BATCH": PointInfo("E02.BATCH", "E02", "t", "interval", quantity="mass", carrier="fuel_coal"),
    })


def minute_store(root: Path) -> tuple[Store, Catalog, datetime, datetime]:
    """Four local days, 30 January – 2 February 2025, at minute resolution (totaliser every 10 min)."""
    cat = minute_catalog()
    st = Store(root)
    t0 = datetime(2025, 1, 30, tzinfo=SH)
    rng = np.random.default_rng(3)
    rs: list[RawReading] = []
    flags = np.array(["N", "C", "M", "S", "F"])
    for i in range(4 * 1440):
        t = t0 + timedelta(minutes=i)
        hour = i // 60
        if hour % 7 == 3 and i % 60 >= 40:  # 20 calibration minutes: an invalid hour
            f = "C"
        elif hour % 11 == 5:
            f = str(flags[hour % 5])
        else:
            f = "N"
        if hour % 13 != 8 and i % 60 < 50 + hour % 10:  # missing minutes, some hours under 45
            rs.append(RawReading(ts=t, value=float(1000 + 100 * rng.random()), point_id="E01.GAS", flag=f))
        if i % 2 == 0:
            rs.append(RawReading(ts=t, value=float(10 + rng.random()), point_id="E02.CO2", flag=f))
        if i % 240 == 0:
            rs.append(RawReading(ts=t, value=float(50 + rng.random()), point_id="E02.BATCH",
                                 flag="S" if i % 960 == 0 else "N"))
    v = 999_000.0
    for i in range(0, 4 * 1440 + 1, 10):
        t = t0 + timedelta(minutes=i)
        if t >= datetime(2025, 2, 1, tzinfo=SH) and v > 5000:
            v = 100.0  # the new scale starts its own register
        rs.append(RawReading(ts=t, value=v, point_id="E01.COAL", flag="M" if i % 370 == 0 else "N"))
        v = (v + 7.5) % 1_000_000.0  # rolls over on the first day
    rep = st.ingest_readings(rs, "minute", cat, source="test")
    assert rep.stored == len(rs), rep
    return st, cat, t0, t0 + timedelta(days=4)


def assert_same_table(a: pa.Table, b: pa.Table, rel: float = 1e-9) -> None:
    """Row for row: the same labels, counts and period bounds; floats equal to ``rel`` (nan where nan)."""
    assert a.schema == b.schema and a.num_rows == b.num_rows
    for name in a.schema.names:
        x, y = a.column(name), b.column(name)
        if name in FLOATS:
            xs, ys = x.to_numpy(), y.to_numpy()
            np.testing.assert_array_equal(np.isnan(xs), np.isnan(ys), err_msg=name)
            ok = ~np.isnan(xs)
            np.testing.assert_allclose(ys[ok], xs[ok], rtol=rel, atol=0, err_msg=name)
        else:
            assert x.equals(y), name


def same_number(x: float, y: float, rel: float = 1e-9) -> bool:
    return (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=rel, abs_tol=0.0)
