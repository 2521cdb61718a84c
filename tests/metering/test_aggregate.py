"""Aggregation: HJ 75 hourly validity, totaliser rollover, substitution kept apart, equality with an
independent DuckDB query and a plain-Python computation over the same stored data."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pytest

from carbonmet.metering import Catalog, PointInfo, RawReading, Store, activity_data, aggregate
from carbonmet.metering.aggregation import integral_unit

SH = ZoneInfo("Asia/Shanghai")
L0 = datetime(2025, 1, 1, tzinfo=SH)  # local midnight


def _r(point: str, t: datetime, v: float, flag: str = "N") -> RawReading:
    return RawReading(ts=t, value=v, point_id=point, flag=flag)


def test_integral_unit() -> None:
    assert integral_unit("t/h") == ("t", 1.0)
    assert integral_unit("kg/s") == ("kg", 3600.0)
    assert integral_unit("percent") is None


def test_rate_hourly_validity_and_substitution(tmp_path: Path, catalog: Catalog) -> None:
    """Hand-built hours: HJ 75-2017 45-minute rule (accounting_methods.md §3.2)."""
    st_ = Store(tmp_path)
    rs: list[RawReading] = []
    # hour 0: 60 valid minutes at 1000 + m
    rs += [_r("E01.GAS", L0 + timedelta(minutes=m), 1000.0 + m) for m in range(60)]
    # hour 1: 40 valid + 20 calibration minutes → invalid (40 < 45)
    rs += [_r("E01.GAS", L0 + timedelta(hours=1, minutes=m), 1200.0, "C" if m >= 40 else "N") for m in range(60)]
    # hour 2: 50 valid minutes, 10 missing → valid, mean of the 50
    rs += [_r("E01.GAS", L0 + timedelta(hours=2, minutes=m), 2000.0 + 2 * m) for m in range(50)]
    # hour 3: substituted values (flag S) only
    rs += [_r("E01.GAS", L0 + timedelta(hours=3, minutes=m), 900.0, "S") for m in range(60)]
    # hour 4: plant stopped
    rs += [_r("E01.GAS", L0 + timedelta(hours=4, minutes=m), 0.0, "F") for m in range(60)]
    rep = st_.ingest_readings(rs, "h", catalog, source="test")
    assert rep.stored == len(rs)
    out = aggregate(st_, catalog, ["E01.GAS"], L0, L0 + timedelta(hours=6), "hour")
    assert [a.period_start for a in out] == [L0 + timedelta(hours=h) for h in range(6)]
    h0, h1, h2, h3, h4, h5 = out
    assert h0.value_measured == pytest.approx(np.mean([1000.0 + m for m in range(60)]))  # × 1 h → Nm3
    assert h0.unit == "Nm3" and h0.completeness == 1.0
    assert math.isnan(h1.value_measured) and h1.invalid_hours == 1 and h1.completeness == 0
    assert h2.value_measured == pytest.approx(np.mean([2000.0 + 2 * m for m in range(50)]))
    assert math.isnan(h3.value_measured) and h3.value_substituted == pytest.approx(900.0) and h3.substituted_hours == 1
    assert h4.stopped_hours == 1 and h4.completeness == 1.0 and math.isnan(h4.value_measured)
    assert math.isnan(h5.value_measured) and h5.completeness == 0 and h5.missing_hours == 1  # no data: not zero
    day = aggregate(st_, catalog, ["E01.GAS"], L0, L0 + timedelta(days=1), "day")[0]
    assert day.value_measured == pytest.approx(h0.value_measured + h2.value_measured)
    assert day.value_substituted == pytest.approx(900.0)
    assert (day.valid_hours, day.substituted_hours, day.stopped_hours, day.invalid_hours) == (2, 1, 1, 1)
    assert day.missing_hours == 19
    assert day.completeness == pytest.approx(3 / 24)


def test_totaliser_difference_with_rollover_across_days(tmp_path: Path, catalog: Catalog) -> None:
    st_ = Store(tmp_path)
    # every 10 min for 2 days, +7 t per step, register of 6 digits starting near the top
    vals, t = [], []
    v = 999_500.0
    for i in range(2 * 24 * 6):
        t.append(L0 + timedelta(minutes=10 * i))
        vals.append(v)
        v = (v + 7.0) % 1_000_000.0
    st_.ingest_readings([_r("E01.COAL", a, b) for a, b in zip(t, vals)], "tot", catalog, source="test")
    d1, d2 = aggregate(st_, catalog, ["E01.COAL"], L0, L0 + timedelta(days=2), "day")
    # a reading at t closes the period ending at t: day 1 runs from the reading at 00:00 to the one at
    # 24:00 (144 steps, one rollover); day 2 from 24:00 to the last reading at 47:50 (143 steps)
    assert d1.value_measured == pytest.approx(7.0 * 144)
    assert d2.value_measured == pytest.approx(7.0 * 143)
    assert d1.valid_hours == 24 and d2.valid_hours == pytest.approx(23 + 50 / 60)
    assert d1.completeness == 1.0


def test_mean_and_interval_points(tmp_path: Path, catalog: Catalog) -> None:
    st_ = Store(tmp_path)
    rs = [_r("E02.CO2", L0 + timedelta(minutes=m), 10.0 + (m // 60)) for m in range(120)]
    rs += [_r("E02.BATCH", L0 + timedelta(hours=h), 30.0 + h) for h in range(0, 24, 3)]
    st_.ingest_readings(rs, "m", catalog, source="test")
    co2, = aggregate(st_, catalog, ["E02.CO2"], L0, L0 + timedelta(days=1), "day")
    assert co2.kind == "mean" and co2.value_measured == pytest.approx(10.5) and co2.unit == "%"
    b, = aggregate(st_, catalog, ["E02.BATCH"], L0, L0 + timedelta(days=1), "day")
    assert b.kind == "amount" and b.value_measured == pytest.approx(sum(30.0 + h for h in range(0, 24, 3)))


def _random_store(tmp_path: Path, catalog: Catalog) -> tuple[Store, list[RawReading]]:
    rng = np.random.default_rng(7)
    st_ = Store(tmp_path)
    rs: list[RawReading] = []
    start = datetime(2025, 1, 30, tzinfo=SH)
    for m in range(5 * 24 * 60):  # 5 days across a month boundary
        if rng.random() < 0.1:
            continue  # gaps
        flag = "N" if rng.random() > 0.08 else str(rng.choice(["C", "M", "D", "S"]))
        rs.append(_r("E01.GAS", start + timedelta(minutes=m), float(1000 + rng.normal(0, 50)), flag))
    st_.ingest_readings(rs, "rand", catalog, source="test")
    return st_, rs


def test_aggregate_equals_independent_duckdb_query(tmp_path: Path, catalog: Catalog) -> None:
    """Same stored Parquet, a query written independently (ICU time zones, DISTINCT minutes)."""
    st_, _ = _random_store(tmp_path, catalog)
    s, e = datetime(2025, 1, 30, tzinfo=SH), datetime(2025, 2, 4, tzinfo=SH)
    got = {a.period_start: a for a in aggregate(st_, catalog, ["E01.GAS"], s, e, "day")}
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    files = st_.files(["E01.GAS"])
    rows = con.sql(
        """
        WITH hr AS (
          SELECT date_trunc('hour', ts) AS hour,
                 avg(value) FILTER (flag = 'N') AS mean_ok,
                 count(DISTINCT date_trunc('minute', ts)) FILTER (flag = 'N') AS minutes_ok,
                 avg(value) FILTER (flag = 'S') AS mean_s
          FROM read_parquet(?) GROUP BY 1)
        SELECT strftime(date_trunc('day', hour), '%Y-%m-%d') AS day,
               sum(mean_ok) FILTER (minutes_ok >= 45) AS measured,
               count(*) FILTER (minutes_ok >= 45) AS valid_hours,
               coalesce(sum(mean_s) FILTER (mean_s IS NOT NULL AND coalesce(minutes_ok, 0) < 45), 0) AS subst
        FROM hr GROUP BY 1 ORDER BY 1
        """,
        params=[files],
    ).fetchall()
    assert len(rows) == 5
    for day, measured, valid_hours, subst in rows:
        a = got[datetime.fromisoformat(day).replace(tzinfo=SH)]
        assert a.value_measured == pytest.approx(measured, rel=1e-12)
        assert a.valid_hours == valid_hours
        assert a.value_substituted == pytest.approx(subst, rel=1e-12, abs=1e-9)


def test_aggregate_equals_plain_python(tmp_path: Path, catalog: Catalog) -> None:
    """The same rule computed from the readings in Python, per local month."""
    st_, rs = _random_store(tmp_path, catalog)
    s, e = datetime(2025, 1, 1, tzinfo=SH), datetime(2025, 3, 1, tzinfo=SH)
    hours: dict[datetime, list[tuple[int, float]]] = defaultdict(list)
    for r in rs:
        if r.flag == "N":
            lt = r.ts.astimezone(SH)
            hours[lt.replace(minute=0)].append((lt.minute, r.value or 0.0))
    want: dict[tuple[int, int], float] = defaultdict(float)
    for h, items in hours.items():
        if len({m for m, _ in items}) >= 45:
            want[(h.year, h.month)] += sum(v for _, v in items) / len(items)
    got = aggregate(st_, catalog, ["E01.GAS"], s, e, "month")
    assert [(a.period_start.year, a.period_start.month) for a in got] == [(2025, 1), (2025, 2)]
    for a in got:
        assert a.value_measured == pytest.approx(want[(a.period_start.year, a.period_start.month)], rel=1e-12)
        assert a.expected_hours == (31 * 24 if a.period_start.month == 1 else 28 * 24)


def test_activity_data_measured_quantity(tmp_path: Path, catalog: Catalog) -> None:
    st_ = Store(tmp_path)
    rs = [_r("E01.GAS", L0 + timedelta(minutes=m), 1000.0) for m in range(24 * 60)]
    rs += [_r("E01.GAS", L0 + timedelta(days=1, minutes=m), 500.0, "S") for m in range(60)]
    st_.ingest_readings(rs, "act", catalog, source="test")
    act = activity_data(st_, catalog, "E01.GAS", L0, L0 + timedelta(days=31))
    m = act.measured
    assert m.value == pytest.approx(24_000.0) and m.unit == "Nm3"
    # one day of 31 measured: u is not evaluated, the note states the measured part's figure as partial
    assert math.isnan(m.u) and "partial coverage only" in m.provenance.note
    # a fully measured day: u from FM-1's MPE 1.0 % as rectangular, u = x·0.01/√3 (JJF 1059.1-2012 §4.3.3.4)
    day = activity_data(st_, catalog, "E01.GAS", L0, L0 + timedelta(days=1))
    assert day.completeness == 1 and day.measured.u == pytest.approx(24_000.0 * 0.01 / math.sqrt(3))
    assert m.provenance.instruments == ("FM-1",)
    assert m.provenance.certificates == ("JZ-2024-017",)
    assert "completeness" in m.provenance.note
    assert act.substituted is not None and act.substituted.value == pytest.approx(500.0)
    assert math.isnan(act.substituted.u) and act.substituted.provenance.source.value == "substituted"
    assert act.total.value == pytest.approx(24_500.0) and "substituted" in act.total.provenance.note
    assert act.completeness == pytest.approx(24 / (31 * 24))
    # a period without any data: nan, never zero
    empty = activity_data(st_, catalog, "E01.GAS", datetime(2025, 6, 1, tzinfo=SH), datetime(2025, 7, 1, tzinfo=SH))
    assert math.isnan(empty.measured.value) and empty.completeness == 0


def test_rejects_bad_requests(tmp_path: Path, catalog: Catalog) -> None:
    from carbonmet.metering import AggregationError

    st_ = Store(tmp_path)
    with pytest.raises(AggregationError, match="period"):
        aggregate(st_, catalog, ["E01.GAS"], L0, L0 + timedelta(days=1), "week")  # type: ignore[arg-type]
    with pytest.raises(AggregationError, match="unknown point"):
        aggregate(st_, catalog, ["X"], L0, L0 + timedelta(days=1))
    with pytest.raises(AggregationError, match="DST"):
        aggregate(st_, catalog, ["E01.GAS"], datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC),
                  tz="Europe/Berlin")


def test_totaliser_reading_closes_the_period_ending_at_it(tmp_path: Path) -> None:
    """Review finding 4: monthly meter reads at local midnight on the 1st; January's amount is
    R(Feb 1) − R(Jan 1), fully covered."""
    cat = Catalog({"P.GAS": PointInfo("P.GAS", "E01", "m3", "total")})
    st_ = Store(tmp_path)
    reads = [(datetime(2024, 12, 1, tzinfo=SH), 0.0), (datetime(2025, 1, 1, tzinfo=SH), 1000.0),
             (datetime(2025, 2, 1, tzinfo=SH), 3000.0), (datetime(2025, 3, 1, tzinfo=SH), 6000.0)]
    st_.ingest_readings([RawReading(t, v, "P.GAS") for t, v in reads], "m", cat, source="test")
    jan, feb = aggregate(st_, cat, ["P.GAS"], datetime(2025, 1, 1, tzinfo=SH), datetime(2025, 3, 1, tzinfo=SH))
    assert jan.value_measured == pytest.approx(2000.0) and jan.valid_hours == 744 and jan.completeness == 1
    assert feb.value_measured == pytest.approx(3000.0) and feb.valid_hours == 672
    # readings between the boundaries are interpolated linearly to them: a half month of January
    half, = aggregate(st_, cat, ["P.GAS"], datetime(2025, 1, 1, tzinfo=SH), datetime(2025, 1, 16, 12, tzinfo=SH))
    assert half.value_measured == pytest.approx(1000.0) and half.valid_hours == pytest.approx(372)
    # a reading read on the 1st at 08:00 is still split at midnight by time
    st2 = Store(tmp_path / "b")
    st2.ingest_readings([RawReading(datetime(2025, 1, 1, 8, tzinfo=SH), 0.0, "P.GAS"),
                         RawReading(datetime(2025, 1, 2, 8, tzinfo=SH), 240.0, "P.GAS")], "d", cat, source="test")
    d1, d2 = aggregate(st2, cat, ["P.GAS"], datetime(2025, 1, 1, tzinfo=SH), datetime(2025, 1, 3, tzinfo=SH), "day")
    assert d1.value_measured == pytest.approx(160.0) and d2.value_measured == pytest.approx(80.0)


def test_totaliser_replacement_and_reset_are_breaks_not_amounts(tmp_path: Path) -> None:
    """Review finding 1: a meter swap (installation change) and a register reset (a decrease that is not
    a rollover, stored under decrease_action = flag) give no amount; a true rollover adds the modulus."""
    from dataclasses import replace
    from datetime import date

    from carbonmet.sites import InstrumentPeriod

    cat = Catalog({"C": PointInfo("C", "E01", "t", "total", instruments=(
        InstrumentPeriod("BS-1", "BS-1", date(2024, 1, 1), date(2025, 3, 1)),
        InstrumentPeriod("BS-2", "BS-2", date(2025, 3, 1), None)))})
    st_ = Store(tmp_path)
    t0 = datetime(2025, 2, 1, 8, tzinfo=SH)
    rs, v1, v2 = [], 500_000.0, 0.0
    for d in range(89):  # one reading a day at 08:00, 100 t a day; BS-2 from 1 March
        t = t0 + timedelta(days=d)
        if t.month == 2:
            v1 += 100.0
        else:
            v2 += 100.0
        rs.append(RawReading(t, v1 if t.month == 2 else v2, "C"))
    rep = st_.ingest_readings(rs, "all", cat, source="test")
    assert rep.stored == 89
    feb, mar, apr = aggregate(st_, cat, ["C"], datetime(2025, 2, 1, tzinfo=SH), datetime(2025, 5, 1, tzinfo=SH))
    # February: Feb 1 08:00 → Feb 28 08:00 (27 days); the day across the swap is not covered
    assert feb.value_measured == pytest.approx(2700.0) and feb.valid_hours == pytest.approx(27 * 24)
    # March: Mar 1 08:00 → Mar 31 08:00, plus 16/24 of the day to Apr 1 08:00
    assert mar.value_measured == pytest.approx(3000.0 + 100.0 * 16 / 24)
    assert apr.value_measured == pytest.approx(100.0 * 8 / 24 + 2900.0)
    # a reset (stored under the "flag" action) is a break; a rollover by the rule adds M = 10^6
    rules = replace(st_.rules, decrease_action="flag")
    st2 = Store(tmp_path / "r", rules=rules)
    cat2 = Catalog({"R": PointInfo("R", "E01", "t", "total")})
    vals = [999_000.0, 999_999.7, 0.5, 100.5, 50_000.0, 10.0, 20.0]
    st2.ingest_readings([RawReading(t0 + timedelta(hours=i), v, "R") for i, v in enumerate(vals)], "x", cat2,
                        source="test")
    a, = aggregate(st2, cat2, ["R"], t0, t0 + timedelta(hours=7), "day", rules=rules)
    # 999.7 + 0.8 (rollover) + 100 + 49 899.5 + [reset: no amount] + 10
    assert a.value_measured == pytest.approx(999.7 + 0.8 + 100.0 + 49_899.5 + 10.0)
    assert a.valid_hours == pytest.approx(5.0)


def test_reading_step_is_the_median_difference_not_the_file_layout(tmp_path: Path) -> None:
    """Review finding 5: the 45-minute rule must not depend on how readings are split into files, nor be
    stretched by an outage."""
    cat = Catalog({"F": PointInfo("F", "E01", "m3/h", "rate"), "G": PointInfo("G", "E01", "Nm3/h", "rate")})
    st_ = Store(tmp_path)
    day = datetime(2025, 3, 1, tzinfo=SH)
    for h in range(24):  # hourly logger values (HJ 212 2061), one batch — one file — per value
        st_.ingest_readings([RawReading(day + timedelta(hours=h), 1000.0, "F")], f"h{h}", cat, source="test")
    for _ in range(2):
        r, = aggregate(st_, cat, ["F"], day, day + timedelta(days=1), "day")
        assert r.valid_hours == 24 and r.value_measured == pytest.approx(24_000.0)
        st_.compact(min_files=2)  # the same after compaction into one file
    # minute data, a 3-day outage, and one hour with only 23 valid minutes (0, 2, …, 44)
    bad = datetime(2025, 1, 1, 10, tzinfo=SH)
    rs = []
    for m in range(5 * 24 * 60):
        t = L0 + timedelta(minutes=m)
        if L0 + timedelta(days=1) <= t < L0 + timedelta(days=4):
            continue
        if bad <= t < bad + timedelta(hours=1) and (t.minute % 2 or t.minute > 44):
            continue
        rs.append(RawReading(t, 1000.0, "G"))
    st_.ingest_readings(rs, "g", cat, source="test")
    h, = aggregate(st_, cat, ["G"], bad, bad + timedelta(hours=1), "hour")
    assert h.valid_hours == 0 and math.isnan(h.value_measured) and h.invalid_hours == 1


def test_interval_substituted_amount_in_a_measured_hour_is_kept(tmp_path: Path, catalog: Catalog) -> None:
    """Review finding 6: 30 t weighed and 25 t entered by hand (flag S) in the same hour: 25 t substituted."""
    st_ = Store(tmp_path)
    t = datetime(2025, 1, 6, 8, tzinfo=SH)
    st_.ingest_readings([_r("E02.BATCH", t + timedelta(minutes=10), 30.0),
                         _r("E02.BATCH", t + timedelta(minutes=40), 25.0, "S")], "w", catalog, source="test")
    s, e = datetime(2025, 1, 1, tzinfo=SH), datetime(2025, 2, 1, tzinfo=SH)
    a, = aggregate(st_, catalog, ["E02.BATCH"], s, e, "month")
    assert a.value_measured == 30.0 and a.value_substituted == 25.0 and a.substituted_hours == 1
    act = activity_data(st_, catalog, "E02.BATCH", s, e)
    assert act.substituted is not None and act.substituted.value == 25.0 and act.total.value == 55.0


def test_activity_data_partial_period_and_certificate_coverage(tmp_path: Path, catalog: Catalog) -> None:
    """Review finding 8: a quarter two-thirds missing has no MPE-based u; FM-1's certificate expired on
    2025-01-01 (inclusive) and FM-2 has none — both reported per instrument-day."""
    st_ = Store(tmp_path)
    rs = [_r("E01.GAS", L0 + timedelta(days=d, minutes=m), 1000.0) for d in (0, 40, 70) for m in range(24 * 60)]
    st_.ingest_readings(rs, "q", catalog, source="test")
    act = activity_data(st_, catalog, "E01.GAS", L0, datetime(2025, 4, 1, tzinfo=SH))
    assert act.completeness == pytest.approx(3 / 90)
    assert math.isnan(act.total.u) and "not fully measured" in act.total.provenance.note
    cov = {c.instrument_id: c for c in act.certificate_coverage}
    assert (cov["FM-1"].installed_days, cov["FM-1"].covered_days) == (59, 1)  # Jan + Feb; valid until 1 Jan
    assert (cov["FM-2"].installed_days, cov["FM-2"].covered_days) == (31, 0)
    assert act.uncovered_share == pytest.approx(89 / 90)
    assert "without a valid certificate" in act.total.provenance.note


def test_aggregate_table_holds_the_rows_of_aggregate(tmp_path: Path, catalog: Catalog) -> None:
    """The Arrow table is the core; ``aggregate`` gives the same rows as objects (nan kept, never 0)."""
    import pyarrow as pa

    from carbonmet.metering import aggregate_table

    st_, _ = _random_store(tmp_path, catalog)
    pts = ["E01.GAS", "E01.COAL", "E02.CO2", "E02.BATCH"]
    s, e = datetime(2025, 1, 1, tzinfo=SH), datetime(2025, 3, 1, tzinfo=SH)
    t = aggregate_table(st_, catalog, pts, s, e, "month")
    assert t.schema.field("period_start").type == pa.timestamp("us", tz="Asia/Shanghai")
    assert t.schema.field("value_measured").type == pa.float64()
    objs = aggregate(st_, catalog, pts, s, e, "month")
    assert t.num_rows == len(objs) == 8
    for row, a in zip(t.to_pylist(), objs, strict=True):
        assert row["period_start"] == a.period_start and row["period_end"] == a.period_end
        for name in ("point_id", "kind", "unit", "n_readings", "n_valid", "method"):
            assert row[name] == getattr(a, name)
        for name in ("value_measured", "value_substituted", "expected_hours", "valid_hours", "substituted_hours",
                     "stopped_hours", "invalid_hours"):
            x, y = row[name], getattr(a, name)  # two runs: DuckDB may add in another order
            assert (math.isnan(x) and math.isnan(y)) or x == pytest.approx(y, rel=1e-12)
    # an irregular interval point without a nominal step: coverage not evaluated, as nan in the table too
    batch = t.filter(pa.compute.equal(t.column("point_id"), "E02.BATCH"))
    assert all(math.isnan(v) for v in batch.column("valid_hours").to_pylist())


def test_point_ids_and_instrument_changes_reach_the_sql_as_parameters(tmp_path: Path) -> None:
    """A point id with a quote and a register break: both are query parameters, not SQL text.

    A quote is not allowed in a stored point id (the one identifier rule, issue 10 D4): it is
    quarantined on ingest, and a query for it still runs as a parameter and finds nothing.
    """
    from datetime import date

    from carbonmet.sites import InstrumentPeriod

    def periods() -> tuple[InstrumentPeriod, ...]:
        return (InstrumentPeriod("BS-1", "BS-1", date(2024, 1, 1), date(2025, 1, 16)),
                InstrumentPeriod("BS-2", "BS-2", date(2025, 1, 16), None))

    quoted = "E01.O'NEIL"
    pid = "E01.O-NEIL_1"
    cat = Catalog({pid: PointInfo(pid, "E01", "t", "total", instruments=periods()),
                   quoted: PointInfo(quoted, "E01", "t", "total", instruments=periods())})
    st_ = Store(tmp_path)
    rq = st_.ingest_readings([RawReading(datetime(2025, 1, 1, 8, tzinfo=SH), 1.0, quoted)], "quoted", cat,
                             source="test")
    assert rq.stored == 0 and rq.by_reason == {"invalid_point_id": 1}
    none, = aggregate(st_, cat, [quoted], datetime(2025, 1, 1, tzinfo=SH), datetime(2025, 2, 1, tzinfo=SH))
    assert none.point_id == quoted and none.n_readings == 0
    t0 = datetime(2025, 1, 1, 8, tzinfo=SH)
    # one reading a day at 08:00, 10 t a day; BS-2 from 16 January, its register starting again from 0
    rs = [RawReading(t0 + timedelta(days=d), 1000.0 + 10.0 * d if d < 15 else 10.0 * (d - 15), pid)
          for d in range(32)]
    assert st_.ingest_readings(rs, "q", cat, source="test").stored == 32
    jan, = aggregate(st_, cat, [pid], datetime(2025, 1, 1, tzinfo=SH), datetime(2025, 2, 1, tzinfo=SH))
    # BS-1: 1 → 15 Jan 08:00 (14 days); the day across the swap has no amount and no covered time;
    # BS-2: 16 → 31 Jan 08:00 (15 days) plus 16 h of the day to 1 Feb 08:00
    assert jan.point_id == pid
    assert jan.value_measured == pytest.approx(140.0 + 150.0 + 10.0 * 16 / 24)
    assert jan.valid_hours == pytest.approx(29 * 24 + 16)


def test_activity_data_says_why_u_is_not_evaluated(tmp_path: Path, catalog: Catalog) -> None:
    """u from the one MPE rule (MPE/√3, JJF 1059.1-2012 §4.3.3.4); when it is nan the reason is given."""
    from carbonmet.quantities import mpe_standard_uncertainty

    st_ = Store(tmp_path)
    rs = [_r("E01.GAS", L0 + timedelta(minutes=m), 1000.0) for m in range(2 * 24 * 60)]
    rs += [_r("E02.CO2", L0 + timedelta(minutes=m), 12.0) for m in range(24 * 60)]
    rs += [_r("E01.GAS", L0 + timedelta(days=2, minutes=m), 500.0, "S") for m in range(24 * 60)]
    st_.ingest_readings(rs, "why", catalog, source="test")
    day = activity_data(st_, catalog, "E01.GAS", L0, L0 + timedelta(days=1))
    assert day.u_not_evaluated is None
    assert day.total.u == pytest.approx(24_000.0 * mpe_standard_uncertainty(1.0) / 100.0)
    # no instrument states an MPE: nan, never 0, and said so
    co2 = activity_data(st_, catalog, "E02.CO2", L0, L0 + timedelta(days=1))
    assert co2.measured.value == pytest.approx(12.0) and math.isnan(co2.total.u)
    assert co2.u_not_evaluated == "no instrument MPE" and "no instrument MPE" in co2.total.provenance.note
    # a measured day and a substituted day: the total's u is not evaluated because of the substitution
    # (and the measured part is only half the period)
    two = activity_data(st_, catalog, "E01.GAS", L0 + timedelta(days=1), L0 + timedelta(days=3))
    assert two.u_not_evaluated is not None and "not fully measured" in two.u_not_evaluated
    sub = activity_data(st_, catalog, "E01.GAS", L0 + timedelta(days=2), L0 + timedelta(days=3))
    assert math.isnan(sub.measured.value) and math.isnan(sub.total.u)
    assert sub.u_not_evaluated == "no valid measured value in the period"
    # nothing at all
    empty = activity_data(st_, catalog, "E01.GAS", L0 + timedelta(days=10), L0 + timedelta(days=11))
    assert math.isnan(empty.total.u) and empty.u_not_evaluated == "no valid measured value in the period"
    # irregular weighings (coverage not evaluated) with an MPE: the measured part has u, the total
    # holding a substituted weighing has none, and says why
    from datetime import date

    from carbonmet.sites import InstrumentPeriod

    wcat = Catalog({"W": PointInfo("W", "E03", "t", "interval", instruments=(
        InstrumentPeriod("WB-1", "WB-1", date(2024, 1, 1), None, 0, 100, "t", 0.2),))})
    st2 = Store(tmp_path / "w")
    st2.ingest_readings([_r("W", L0 + timedelta(hours=3), 40.0), _r("W", L0 + timedelta(hours=9), 20.0, "S")],
                        "w", wcat, source="test")
    w = activity_data(st2, wcat, "W", L0, L0 + timedelta(days=1))
    assert w.measured.u == pytest.approx(40.0 * mpe_standard_uncertainty(0.2) / 100.0)
    assert w.total.value == pytest.approx(60.0) and math.isnan(w.total.u)
    assert w.u_not_evaluated is not None and "substituted" in w.u_not_evaluated
