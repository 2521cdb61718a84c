r"""Period aggregation of stored readings, as DuckDB SQL over the Parquet partitions (数据汇总).

Per point and period (hour, day, month, year, in a local time zone):

* ``total`` points (totalisers, 累计值): a reading at time t is the closing value of the period ending
  at t. The amount of a period is the difference of the register interpolated linearly to its
  boundaries: the difference between consecutive valid (or substituted) readings is spread over the
  periods it spans in proportion to time (readings one month either side of the range are read). A
  negative difference gets the modulus :math:`10^{\lfloor\log_{10} prev\rfloor+1}` only when it is a
  rollover by the validation rule (:func:`is_rollover`); any other decrease, and any pair of readings
  either side of an instrument installation change, is a break: no amount, no covered time. Covered time
  is the time spanned by usable differences.
* ``rate`` points whose unit has a 1/time dimension (t/h, Nm3/h, MW): the amount is the time integral
  of the rate. Per HJ 75-2017 the hourly mean is the mean of the valid values in the hour and is valid
  when at least ``min_valid_minutes`` (45) minutes hold a valid value; the hour's amount is
  ``hourly mean × 1 h``. Hours that are not valid contribute nothing to the measured amount: they are
  counted as invalid or missing, never as zero.
* other ``rate`` points (concentrations, temperatures) and ``sample`` points: the period value is the
  mean of the valid hourly means (no integral).
* ``interval`` points (amounts per interval, e.g. a weighbridge batch): the sum of valid values;
  covered time = number of valid values × the nominal step when the caller gives one (``steps_s``),
  otherwise not evaluated (``nan``: irregular events such as weighings say nothing about coverage).

Values with a substituted source (flag ``S`` or ``source = substituted``) are summed separately, never
mixed into the measured amount. Plant-stopped hours (flag ``F``) are reported as stopped.

A reading's minute coverage is one minute for minute (or finer) data; for coarser data each valid
reading covers its nominal step: the median of the time differences of the point's successive readings
(over up to three months of the range, all files of a month merged — independent of the file layout and
of outages), or given by the caller (``steps_s``), so hourly values from a data logger make valid hours.
With fewer than two readings the step is unknown and taken as one minute.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from carbonmet.quantities import MeasuredQuantity, Provenance, Source, format_unit, parse_unit, ureg

from ._errors import AggregationError
from ._rules import Rules
from ._store import Store, _months_between
from ._types import PointInfo
from ._validate import register_breaks_us

Period = Literal["hour", "day", "month", "year"]
PERIODS: tuple[str, ...] = ("hour", "day", "month", "year")
_H = 3_600_000_000  # µs per hour


@dataclass(frozen=True, slots=True)
class PeriodAggregate:
    """One point over one period (a row of an aggregation).

    ``value_measured`` is ``nan`` when nothing valid was measured (never silently zero).
    """

    point_id: str
    period_start: datetime
    period_end: datetime
    kind: str  # "amount" (integral / difference / sum) or "mean"
    unit: str
    value_measured: float
    value_substituted: float
    expected_hours: float
    valid_hours: float  # total points: hours covered by anchors
    substituted_hours: float
    stopped_hours: float
    invalid_hours: float  # hours with data but not valid (< 45 valid minutes, flags C/M/D/T/B …)
    n_readings: int
    n_valid: int
    method: str

    @property
    def completeness(self) -> float:
        """Fraction of the period with valid (or stopped) data [-]."""
        if self.expected_hours <= 0 or math.isnan(self.valid_hours):
            return math.nan
        return min(1.0, (self.valid_hours + self.stopped_hours) / self.expected_hours)

    @property
    def missing_hours(self) -> float:
        if math.isnan(self.valid_hours):
            return math.nan
        return max(0.0, self.expected_hours - self.valid_hours - self.stopped_hours - self.substituted_hours
                   - self.invalid_hours)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["period_start"] = self.period_start.isoformat()
        d["period_end"] = self.period_end.isoformat()
        d["completeness"] = self.completeness
        d["missing_hours"] = self.missing_hours
        for k, v in d.items():
            if isinstance(v, float) and math.isnan(v):
                d[k] = None
        return d


def _fixed_offset_us(tz: str, start: datetime, end: datetime) -> int:
    z = ZoneInfo(tz)
    a, b = start.astimezone(z).utcoffset(), (end - timedelta(microseconds=1)).astimezone(z).utcoffset()
    if a != b or a is None:
        raise AggregationError(f"time zone {tz!r} changes offset between {start} and {end}; only fixed-offset "
                               "periods are supported (China: Asia/Shanghai has no DST)")
    off = int(a.total_seconds() * 1_000_000)
    if off % _H:
        raise AggregationError(f"time zone {tz!r}: offset {a} is not a whole number of hours")
    return off


def integral_unit(unit: str) -> tuple[str, float] | None:
    """Unit of the time integral of a rate unit and the factor per (rate × hour); None if not a rate.

    ``"t/h"`` → ``("t", 1.0)``; ``"kg/s"`` → ``("kg", 3600.0)``.
    """
    u = parse_unit(unit)
    if float(u.dimensionality.get("[time]", 0)) >= 0:  # type: ignore[arg-type]
        return None
    q = (1.0 * u * ureg.hour).to_reduced_units()
    return format_unit(str(q.units)), float(q.magnitude)


def _estimate_step_us(files: Sequence[str], k: int = 3) -> float:
    """Typical reading step of a point [µs]: the median of the time differences between its successive
    readings, over all files of up to ``k`` partitions (months) spread over the range.

    All files of a partition are merged before differencing, so the result does not depend on how the
    store happens to split readings into files (one file per HJ 212 packet, or one compacted file), and
    an outage does not stretch it (a median, not span/(n−1)). ``inf`` when fewer than two readings.
    """
    by_dir: dict[str, list[str]] = defaultdict(list)
    for f in files:
        by_dir[f[: f.rfind("/")]].append(f)
    dirs = sorted(by_dir)
    diffs = []
    for d in _sample(dirs, k):
        ts = np.sort(np.concatenate([_read_ts(f) for f in by_dir[d]]))
        dt = np.diff(ts)
        diffs.append(dt[dt > 0])
    alld = np.concatenate(diffs) if diffs else np.empty(0, np.int64)
    return float(np.median(alld)) if len(alld) else math.inf


def _read_ts(path: str) -> npt.NDArray[np.int64]:
    t = pq.ParquetFile(path).read(columns=["ts"]).column("ts")
    return t.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_numpy().astype(np.int64, copy=False)


def _sample(files: Sequence[str], k: int = 3) -> list[str]:
    """At most ``k`` items spread over the list."""
    if len(files) <= k:
        return list(files)
    idx = sorted({round(i * (len(files) - 1) / (k - 1)) for i in range(k)})
    return [files[i] for i in idx]


def _to_us(v: Any) -> float:
    if isinstance(v, datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=UTC)
        return v.timestamp() * 1e6
    return float(v)


def _bucket_sql(period: str, hcol: str) -> str:
    if period == "hour":
        return hcol
    if period == "day":
        return f"(({hcol} // 24) * 24)"
    return f"(epoch_us(date_trunc('{period}', make_timestamp({hcol} * {_H}))) // {_H})"


def _bucket_bounds(period: str, lo_h: int, hi_h: int) -> list[tuple[int, int]]:
    """Buckets (start, end) in local hour indices covering [lo_h, hi_h)."""
    if period == "hour":
        return [(h, h + 1) for h in range(lo_h, hi_h)]
    if period == "day":
        return [(d * 24, d * 24 + 24) for d in range(lo_h // 24, (hi_h - 1) // 24 + 1)]
    epoch = datetime(1970, 1, 1)
    s = epoch + timedelta(hours=lo_h)
    s = s.replace(day=1, hour=0) if period == "month" else s.replace(month=1, day=1, hour=0)
    out = []
    while True:
        if period == "month":
            e = s.replace(year=s.year + (s.month == 12), month=s.month % 12 + 1)
        else:
            e = s.replace(year=s.year + 1)
        sh, eh = int((s - epoch).total_seconds() // 3600), int((e - epoch).total_seconds() // 3600)
        if sh >= hi_h:
            break
        out.append((sh, eh))
        s = e
    return out


def _sql_list(items: Sequence[str]) -> str:
    return "(" + ", ".join("'" + s.replace("'", "''") + "'" for s in items) + ")" if items else "(NULL)"


def aggregate(
    store: Store,
    catalog: Mapping[str, PointInfo],
    points: Sequence[str],
    start: datetime,
    end: datetime,
    period: Period = "month",
    *,
    tz: str = "Asia/Shanghai",
    steps_s: Mapping[str, float] | None = None,
    rules: Rules | None = None,
) -> list[PeriodAggregate]:
    """Aggregate stored readings per point and period over ``[start, end)``.

    Parameters
    ----------
    store : Store
        The readings store.
    catalog : Mapping[str, PointInfo]
        Point catalog (unit and reading kind of each point).
    points : sequence of str
        Point ids.
    start, end : datetime
        Aware datetimes; periods are cut in ``tz``.
    period : {"hour", "day", "month", "year"}
    tz : str
        IANA zone of the period boundaries (fixed offset over the range).
    steps_s : mapping, optional
        Nominal reading step per point [s]; default: the median time difference of the point's readings.
    rules : Rules, optional
        Rule table (valid flags, 45-minute rule); default: the store's.

    Returns
    -------
    list of PeriodAggregate
        One per point and period, in point order then time; periods without data are included
        (value ``nan``, completeness 0).
    """
    if period not in PERIODS:
        raise AggregationError(f"period must be one of {', '.join(PERIODS)}, got {period!r}")
    if start.tzinfo is None or end.tzinfo is None:
        raise AggregationError("start and end must be timezone-aware")
    if end <= start:
        raise AggregationError(f"empty range: end {end} <= start {start}")
    for p in points:
        if p not in catalog:
            raise AggregationError(f"unknown point {p!r}")
    rules = rules or store.rules
    off = _fixed_offset_us(tz, start, end)
    z = ZoneInfo(tz)
    start_us = int(round(start.timestamp() * 1e6))
    end_us = int(round(end.timestamp() * 1e6))
    lo_h, hi_h = (start_us + off) // _H, -((-(end_us + off)) // _H)
    buckets = _bucket_bounds(period, lo_h, hi_h)

    with store.reading():  # the file set does not change under the query
        return _aggregate(store, catalog, points, start, end, period, tz, steps_s, rules, off, z, start_us, end_us,
                          lo_h, hi_h, buckets)


def _aggregate(store: Store, catalog: Mapping[str, PointInfo], points: Sequence[str], start: datetime,
               end: datetime, period: str, tz: str, steps_s: Mapping[str, float] | None, rules: Rules, off: int,
               z: ZoneInfo, start_us: int, end_us: int, lo_h: int, hi_h: int,
               buckets: list[tuple[int, int]]) -> list[PeriodAggregate]:
    valid = rules.valid_flags
    stopped = tuple(f for f in rules.flags if f == "F")
    subst = rules.substituted_flags
    minv = rules.min_valid_minutes

    # classify points and prune partitions
    groups: dict[tuple[str, int], list[str]] = defaultdict(list)
    files_of: dict[str, list[str]] = {}
    ents = {p: catalog[p].enterprise for p in points}
    need_step: list[str] = []
    for p in points:
        info = catalog[p]
        # totalisers: one month either side, to interpolate the register to the range boundaries
        margin = timedelta(days=31) if info.reading_kind == "total" else timedelta(0)
        files_of[p] = store.files([p], _months_between(start - margin, end + margin), ents)
        if not files_of[p]:
            continue
        if info.reading_kind == "total":
            groups[("total", 1)].append(p)
        else:
            need_step.append(p)
    steps = {p: steps_s[p] * 1e6 for p in need_step if steps_s and p in steps_s}
    todo = [p for p in need_step if p not in steps]
    if todo:  # reads only the ts column of a few partitions per point; pyarrow releases the GIL
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as ex:
            steps.update(zip(todo, ex.map(lambda q: _estimate_step_us(files_of[q]), todo)))
    for p in need_step:
        step = steps[p]
        k = 1 if not math.isfinite(step) else int(min(60, max(1, round(step / 60e6))))
        mode = "sum" if catalog[p].reading_kind == "interval" else "hourly"
        groups[(mode, k)].append(p)

    rows: dict[tuple[str, int], dict[str, Any]] = {}
    con = store.connect()
    try:
        for (mode, k), pts in groups.items():
            files = [f for p in pts for f in files_of[p]]
            if mode == "total":
                breaks = {p: register_breaks_us(catalog[p], store.local_tz).tolist() for p in pts}
                sql = _total_sql(period, valid, subst, off, start_us, end_us, rules, breaks)
                params: list[Any] = [files, [bs for bs, _ in buckets], [be for _, be in buckets]]
            else:
                # partitions wholly inside [start, end) need no per-row time filter
                inner = [f for f in files if _month_inside(f, start_us, end_us)]
                edge = [f for f in files if not _month_inside(f, start_us, end_us)]
                sql = _hourly_sql(period, valid, subst, stopped, off, start_us, end_us, k, minv, mode,
                                  bool(inner), bool(edge))
                params = [x for x in (inner, edge) if x]
            res = con.sql(sql, params=params).fetchnumpy()
            for i in range(len(res["point"])):
                rows[(str(res["point"][i]), int(res["b"][i]))] = {c: res[c][i] for c in res}
    finally:
        con.close()

    out: list[PeriodAggregate] = []
    for p in points:
        info = catalog[p]
        integ = integral_unit(info.unit) if info.reading_kind == "rate" else None
        if info.reading_kind == "total" or info.reading_kind == "interval":
            kind, unit, factor = "amount", format_unit(info.unit), 1.0
        elif integ is not None:
            kind, (unit, factor) = "amount", integ
        else:
            kind, unit, factor = "mean", format_unit(info.unit), 1.0
        method = _method(info.reading_kind, kind, minv)
        for bs, be in buckets:
            expected = (min(be * _H, end_us + off) - max(bs * _H, start_us + off)) / _H
            r = rows.get((p, bs))
            ps = datetime.fromtimestamp((bs * _H - off) / 1e6, UTC).astimezone(z)
            pe = datetime.fromtimestamp((be * _H - off) / 1e6, UTC).astimezone(z)
            ps, pe = max(ps, start.astimezone(z)), min(pe, end.astimezone(z))
            if r is None:
                no_cov = info.reading_kind == "interval" and not (steps_s and p in steps_s)
                out.append(PeriodAggregate(p, ps, pe, kind, unit, math.nan, math.nan, expected,
                                           math.nan if no_cov else 0.0, 0.0, 0.0, 0.0, 0, 0, method))
                continue
            vh = float(r["valid_hours"])
            if info.reading_kind == "interval":
                # each interval amount covers its nominal step (a daily total covers 24 h); irregular
                # events (weighings) have none: coverage is then not evaluated (nan)
                vh = (min(expected, float(r["n_valid"]) * steps_s[p] * 1e6 / _H)
                      if steps_s and p in steps_s else math.nan)
            sm = _f(r["measured"])
            ss = _f(r["substituted"])
            if kind == "mean":
                vm = sm / vh if vh > 0 else math.nan
                sh = float(r["subst_hours"])
                vs = ss / sh if sh > 0 else math.nan
            else:
                vm = sm * factor if (vh > 0 or not math.isnan(sm)) else math.nan
                vs = ss * factor if math.isfinite(ss) else 0.0
            if vh == 0 and info.reading_kind != "total":
                vm = math.nan
            if info.reading_kind == "interval" and int(r["n_valid"]) > 0:
                vm = sm * factor
            out.append(PeriodAggregate(
                p, ps, pe, kind, unit, vm, vs, expected, min(vh, expected) if math.isfinite(vh) else vh,
                float(r["subst_hours"]),
                float(r["stopped_hours"]), float(r["invalid_hours"]), int(r["n"]), int(r["n_valid"]), method,
            ))
    return out


def _f(x: Any) -> float:
    if x is None or x is np.ma.masked:
        return math.nan
    return float(x)


def _method(reading_kind: str, kind: str, minv: int) -> str:
    if reading_kind == "total":
        return "totaliser differences interpolated to period boundaries, rollover-corrected, breaks at instrument changes"
    if reading_kind == "interval":
        return "sum of valid interval amounts"
    if kind == "amount":
        return f"time integral of hourly means (HJ 75-2017: hour valid with >= {minv} valid minutes)"
    return f"mean of valid hourly means (HJ 75-2017: hour valid with >= {minv} valid minutes)"


_SRC = "read_parquet(?, hive_partitioning=true, hive_types={'enterprise': VARCHAR, 'point': VARCHAR, 'month': VARCHAR})"


def _month_inside(path: str, start_us: int, end_us: int) -> bool:
    """True if the UTC month of a partition path lies wholly inside ``[start_us, end_us)``."""
    i = path.rfind("month=")
    if i < 0:
        return False
    try:
        y, m = int(path[i + 6 : i + 10]), int(path[i + 11 : i + 13])
    except ValueError:
        return False
    a = datetime(y, m, 1, tzinfo=UTC)
    b = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=UTC)
    return a.timestamp() * 1e6 >= start_us and b.timestamp() * 1e6 <= end_us


def _hourly_sql(period: str, valid: Sequence[str], subst: Sequence[str], stopped: Sequence[str], off: int,
                start_us: int, end_us: int, k: int, minv: int, mode: str, inner: bool = False,
                edge: bool = True) -> str:
    mask = "(1::UBIGINT << m)" if k == 1 else f"((((1::UBIGINT << least({k}, 60 - m)::INT)) - 1) << m)"
    b = _bucket_sql(period, "h")
    if mode == "sum":
        hour_valid = "n_ok > 0"
    else:
        hour_valid = f"bit_count(coalesce(m_ok, 0::UBIGINT)) >= {minv}"
    measured = "sum(s_ok)" if mode == "sum" else f"sum(s_ok / n_ok) FILTER ({hour_valid})"
    # interval amounts add up: every substituted amount counts, and an hour holding one is a substituted
    # hour even if it also has measured amounts; rates: only hours without a valid hourly mean
    subst_hour = "n_sub > 0" if mode == "sum" else f"n_sub > 0 AND NOT ({hour_valid})"
    substituted = "sum(s_sub)" if mode == "sum" else "sum(s_sub / n_sub) FILTER (n_sub > 0 AND NOT (" + hour_valid + "))"
    cols = "point, ts, value, flag, source"
    parts = []
    if inner:
        parts.append(f"SELECT {cols} FROM {_SRC}")
    if edge:
        parts.append(f"SELECT {cols} FROM {_SRC} WHERE epoch_us(ts) >= {start_us} AND epoch_us(ts) < {end_us}")
    union = " UNION ALL ".join(parts)
    return f"""
WITH r AS (
  SELECT point, epoch_us(ts) + {off} AS t, value,
         (flag IN {_sql_list(valid)} AND source <> 'substituted') AS ok,
         (source = 'substituted' OR flag IN {_sql_list(subst)}) AS sub,
         flag IN {_sql_list(stopped)} AS stp
  FROM ({union})
), r2 AS (
  SELECT point, t // {_H} AS h, ((t // 60000000) % 60)::INT AS m, value, ok, sub, stp FROM r
), hr AS (
  SELECT point, h,
         count(*) AS n,
         count(*) FILTER (ok) AS n_ok,
         sum(value) FILTER (ok) AS s_ok,
         bit_or({mask}) FILTER (ok) AS m_ok,
         count(*) FILTER (sub) AS n_sub,
         sum(value) FILTER (sub) AS s_sub,
         count(*) FILTER (stp) AS n_stp
  FROM r2 GROUP BY point, h
)
SELECT point, {b} AS b,
       {measured} AS measured,
       {substituted} AS substituted,
       count(*) FILTER ({hour_valid})::DOUBLE AS valid_hours,
       count(*) FILTER ({subst_hour})::DOUBLE AS subst_hours,
       count(*) FILTER (n_stp > 0 AND NOT ({hour_valid}) AND n_sub = 0)::DOUBLE AS stopped_hours,
       count(*) FILTER (NOT ({hour_valid}) AND n_sub = 0 AND n_stp = 0)::DOUBLE AS invalid_hours,
       sum(n) AS n, sum(n_ok) AS n_valid
FROM hr GROUP BY point, b
"""


def _segment_sql(breaks: Mapping[str, Sequence[int]]) -> str:
    """SQL expression: register segment of a reading (number of instrument changes before ``ts``)."""
    items = [(p, b) for p, b in breaks.items() if len(b)]
    if not items:
        return "0"
    whens = " ".join(
        f"WHEN '{p.replace(chr(39), chr(39) * 2)}' THEN ("
        + " + ".join(f"(epoch_us(ts) >= {int(x)})::INT" for x in b) + ")"
        for p, b in items
    )
    return f"(CASE point {whens} ELSE 0 END)"


def _delta_sql(p: str, x: str, hi: float, lo: float) -> str:
    """Register difference ``x − p``: plain when not negative, plus the modulus
    :math:`10^{\\lfloor\\log_{10} p\\rfloor+1}` only when the decrease is a rollover by the validation rule,
    otherwise NULL (a reset is a break in the sequence, never an amount)."""
    m = f"pow(10, floor(log10({p})) + 1)"
    return (f"CASE WHEN {p} IS NULL OR {x} IS NULL THEN NULL WHEN {x} >= {p} THEN {x} - {p} "
            f"WHEN {p} > 0 AND {x} >= 0 AND {p} >= {hi!r} * {m} AND {x} < {lo!r} * {m} THEN {x} - {p} + {m} "
            f"ELSE NULL END")


def _total_sql(period: str, valid: Sequence[str], subst: Sequence[str], off: int, start_us: int, end_us: int,
               rules: Rules, breaks: Mapping[str, Sequence[int]]) -> str:
    """Totaliser amounts per period: readings are closing values, amounts are differences of the
    register interpolated linearly to the period boundaries.

    Anchors (valid or substituted readings) are grouped by their *closing hour* (a reading at hh:00
    closes the hour before) and register segment; the amount inside a group lies wholly in its hour, the
    amount between the last anchor of one group and the first of the next is spread over the periods it
    spans in proportion to time. Covered time is the time spanned by usable differences.
    """
    def bucket(x: str) -> str:
        return _bucket_sql(period, x)

    s_l, e_l = start_us + off, end_us + off
    hi, lo = rules.rollover_high, rules.rollover_low
    return f"""
WITH r AS (
  SELECT point, epoch_us(ts) + {off} AS t, value, {_segment_sql(breaks)} AS seg,
         flag IN {_sql_list(valid)} OR flag IN {_sql_list(subst)} OR source = 'substituted' AS anchor,
         (source = 'substituted' OR flag IN {_sql_list(subst)}) AS sub,
         flag IN {_sql_list(valid)} AND source <> 'substituted' AS ok
  FROM {_SRC}
), g AS (
  SELECT point, (t - 1) // {_H} AS hc, seg,
         arg_min(value, t) FILTER (anchor) AS v0, arg_max(value, t) FILTER (anchor) AS v1,
         min(t) FILTER (anchor) AS t0, max(t) FILTER (anchor) AS t1,
         bool_or(sub) FILTER (anchor) AS gsub, arg_min(sub, t) FILTER (anchor) AS sub0,
         arg_max(sub, t) FILTER (anchor) AS sub1,
         count(*) FILTER (t > {s_l} AND t <= {e_l}) AS n,
         count(*) FILTER (ok AND t > {s_l} AND t <= {e_l}) AS n_ok
  FROM r GROUP BY point, hc, seg
), w AS (
  SELECT point, hc, seg, v0, v1, t0, t1, gsub, sub0,
         lag(v1) OVER win AS pv, lag(t1) OVER win AS pt, lag(seg) OVER win AS pseg, lag(sub1) OVER win AS psub
  FROM g WHERE t0 IS NOT NULL
  WINDOW win AS (PARTITION BY point ORDER BY hc, seg)
), pieces AS (
  SELECT point, t0 AS a, t1 AS b, {_delta_sql("v0", "v1", hi, lo)} AS delta, gsub AS sub FROM w WHERE t1 > t0
  UNION ALL
  SELECT point, pt AS a, t0 AS b, CASE WHEN pseg <> seg THEN NULL ELSE {_delta_sql("pv", "v0", hi, lo)} END AS delta,
         (psub OR sub0) AS sub
  FROM w WHERE pt IS NOT NULL AND t0 > pt
), c AS (
  SELECT point, a, b, greatest(a, {s_l}) AS ca, least(b, {e_l}) AS cb, delta, sub FROM pieces
  WHERE b > {s_l} AND a < {e_l}
), one AS (
  SELECT point, {bucket(f"(ca // {_H})")} AS b, delta * ((cb - ca) / (b - a)) AS amt, (cb - ca) AS dur, delta, sub
  FROM c WHERE {bucket(f"(ca // {_H})")} = {bucket(f"((cb - 1) // {_H})")}
), multi AS (
  SELECT c.point, k.bs AS b,
         delta * ((least(cb, k.be * {_H}) - greatest(ca, k.bs * {_H})) / (c.b - c.a)) AS amt,
         (least(cb, k.be * {_H}) - greatest(ca, k.bs * {_H})) AS dur, delta, sub
  FROM c JOIN (SELECT unnest(?::BIGINT[]) AS bs, unnest(?::BIGINT[]) AS be) k
    ON k.bs * {_H} < c.cb AND k.be * {_H} > c.ca
  WHERE {bucket(f"(ca // {_H})")} <> {bucket(f"((cb - 1) // {_H})")}
), pa AS (
  SELECT point, b,
         sum(amt) FILTER (delta IS NOT NULL AND NOT sub) AS measured,
         coalesce(sum(amt) FILTER (delta IS NOT NULL AND sub), 0) AS substituted,
         coalesce(sum(dur) FILTER (delta IS NOT NULL AND NOT sub), 0)::DOUBLE / {_H} AS valid_hours,
         coalesce(sum(dur) FILTER (delta IS NOT NULL AND sub), 0)::DOUBLE / {_H} AS subst_hours
  FROM (SELECT * FROM one UNION ALL SELECT * FROM multi) GROUP BY point, b
), cn AS (
  SELECT point, {bucket("hc")} AS b, sum(n) AS n, sum(n_ok) AS n_valid FROM g
  WHERE hc >= {s_l // _H} AND hc < {-(-e_l // _H)} GROUP BY point, b
)
SELECT coalesce(pa.point, cn.point) AS point, coalesce(pa.b, cn.b) AS b,
       pa.measured, coalesce(pa.substituted, 0) AS substituted,
       coalesce(pa.valid_hours, 0) AS valid_hours, coalesce(pa.subst_hours, 0) AS subst_hours,
       0::DOUBLE AS stopped_hours, 0::DOUBLE AS invalid_hours,
       coalesce(cn.n, 0) AS n, coalesce(cn.n_valid, 0) AS n_valid
FROM pa FULL OUTER JOIN cn ON pa.point = cn.point AND pa.b = cn.b
"""


@dataclass(frozen=True, slots=True)
class ActivityData:
    """A period total of one point as measured quantities (活动数据), for accounting.

    ``measured`` holds only measured values; ``substituted`` only substituted ones (``None`` if
    there were none); ``total`` is their sum, its provenance saying so. ``completeness`` is the
    fraction of the period with valid data; ``aggregate`` has the detail (hours, readings).
    """

    measured: MeasuredQuantity
    substituted: MeasuredQuantity | None
    total: MeasuredQuantity
    completeness: float
    aggregate: PeriodAggregate
    #: per instrument installed in the period: days installed and days covered by a valid certificate
    certificate_coverage: tuple[CertificateCoverage, ...] = ()
    #: share of instrument-days in the period without a valid certificate [-] (nan: no instruments known)
    uncovered_share: float = math.nan


@dataclass(frozen=True, slots=True)
class CertificateCoverage:
    """Certificate coverage of one instrument over the part of a period it was installed (local days)."""

    instrument_id: str
    installed_days: int
    covered_days: int
    certificates: tuple[str, ...]

    @property
    def uncovered_days(self) -> int:
        return self.installed_days - self.covered_days

    def to_dict(self) -> dict[str, Any]:
        return {"instrument_id": self.instrument_id, "installed_days": self.installed_days,
                "covered_days": self.covered_days, "uncovered_days": self.uncovered_days,
                "certificates": list(self.certificates)}


def certificate_coverage(info: PointInfo, start: date, end: date) -> tuple[tuple[CertificateCoverage, ...], float]:
    """Which instrument-days of ``[start, end)`` (local dates) are covered by a valid certificate.

    A certificate covers the days ``valid_from ≤ d ≤ valid_until`` (有效期至, inclusive; open-ended when
    ``valid_until`` is empty). Returns the coverage per installed instrument and the uncovered share of
    all instrument-days [-] (``nan`` when the point lists no instrument for the period).
    """
    out = []
    total = uncovered = 0
    for ip in info.instruments:
        a = max(start, ip.installed_from) if ip.installed_from else start
        b = min(end, ip.installed_to) if ip.installed_to else end
        n = (b - a).days
        if n <= 0:
            continue
        cov = np.zeros(n, bool)
        names = []
        for cert_no, vf, vu in ip.certificates:
            lo = max(0, (vf - a).days)
            hi = n if vu is None else min(n, (vu - a).days + 1)
            if hi > lo:
                cov[lo:hi] = True
                names.append(cert_no)
        c = CertificateCoverage(ip.instrument_id, n, int(cov.sum()), tuple(sorted(set(names))))
        out.append(c)
        total += n
        uncovered += c.uncovered_days
    return tuple(out), (uncovered / total if total else math.nan)


def _instruments_in(info: PointInfo, start: date, end: date) -> tuple[list[str], list[str], list[float]]:
    ins, certs, mpes = [], [], []
    for ip in info.instruments:
        if (ip.installed_from is None or ip.installed_from < end) and (ip.installed_to is None or ip.installed_to > start):
            ins.append(ip.instrument_id)
            if ip.mpe_rel is not None:
                mpes.append(ip.mpe_rel)
            for cert_no, vf, vu in ip.certificates:
                if vf < end and (vu is None or vu >= start):
                    certs.append(cert_no)
    return ins, sorted(set(certs)), mpes


def activity_data(
    store: Store,
    catalog: Mapping[str, PointInfo],
    point: str,
    start: datetime,
    end: datetime,
    *,
    tz: str = "Asia/Shanghai",
    name: str = "",
) -> ActivityData:
    """Total of one point over ``[start, end)`` as a :class:`MeasuredQuantity` with provenance.

    The standard uncertainty is the instrument's maximum permissible error taken as a rectangular
    distribution, :math:`u = |x| \\cdot \\mathrm{MPE}_{rel} / \\sqrt{3}` (JJF 1059.1-2012 §4.3.3.4), using
    the largest ``mpe_rel`` of the instruments installed in the period; it is ``nan`` (not evaluated)
    when no instrument states an MPE, and for substituted amounts. When the period is not fully covered
    (``completeness < 1``) ``u`` is ``nan``: the MPE says nothing about the missing part; the provenance
    note then states the MPE-based figure of the measured part alone, labelled as partial. Certificate
    coverage is checked per instrument-day (:func:`certificate_coverage`); the note and
    ``ActivityData.certificate_coverage`` / ``uncovered_share`` report the days without a valid
    certificate.
    """
    info = catalog[point]
    aggs = aggregate(store, catalog, [point], start, end, "year" if (end - start) > timedelta(days=400) else "month",
                     tz=tz)
    # merge the periods into one
    a0 = aggs[0]
    def tot(attr: str) -> float:
        xs = [getattr(a, attr) for a in aggs]
        if attr == "valid_hours" and xs and all(math.isnan(x) for x in xs):
            return math.nan  # coverage not evaluated (irregular interval amounts)
        return float(np.nansum(xs))

    if a0.kind == "mean":
        vh = tot("valid_hours")
        vm = (float(np.nansum([a.value_measured * a.valid_hours for a in aggs if a.valid_hours > 0])) / vh
              if vh > 0 else math.nan)
        vs = math.nan
    else:
        vm = tot("value_measured") if any(not math.isnan(a.value_measured) for a in aggs) else math.nan
        vs = tot("value_substituted")
    merged = PeriodAggregate(
        point, aggs[0].period_start, aggs[-1].period_end, a0.kind, a0.unit, vm, vs, tot("expected_hours"),
        tot("valid_hours"), tot("substituted_hours"), tot("stopped_hours"), tot("invalid_hours"),
        int(tot("n_readings")), int(tot("n_valid")), a0.method,
    )
    z = ZoneInfo(tz)
    sd, ed = start.astimezone(z).date(), end.astimezone(z)
    ed_date = ed.date() if ed.timetz().replace(tzinfo=None) == datetime.min.time() else ed.date() + timedelta(days=1)
    ins, certs, mpes = _instruments_in(info, sd, ed_date)
    coverage, uncovered = certificate_coverage(info, sd, ed_date)
    mpe = max(mpes) if mpes else None
    comp = merged.completeness
    partial = math.isfinite(comp) and comp < 1.0 - 1e-9
    u_part = abs(vm) * mpe / 100.0 / math.sqrt(3.0) if (mpe is not None and math.isfinite(vm)) else math.nan
    note = (f"completeness {comp:.4f} ({merged.valid_hours:g} valid of {merged.expected_hours:g} h; "
            f"{merged.substituted_hours:g} h substituted, {merged.stopped_hours:g} h stopped, "
            f"{merged.invalid_hours:g} h invalid, {merged.missing_hours:g} h missing); ")
    if mpe is None:
        note += "u not evaluated (no instrument MPE)"
    elif partial:
        note += (f"u not evaluated: the period is not fully measured (completeness {comp:.4f}) and the instrument "
                 f"MPE cannot cover the missing part; the measured part alone has u = {u_part:.6g} {merged.unit} "
                 f"from MPE {mpe}% as rectangular (partial coverage only)")
    else:
        note += f"u from instrument MPE {mpe}% as rectangular"
    if coverage:
        note += "; certificates: " + ", ".join(
            f"{c.instrument_id} {c.covered_days}/{c.installed_days} d covered"
            + (f" ({c.uncovered_days} d without a valid certificate)" if c.uncovered_days else "")
            for c in coverage) + f"; uncovered share {uncovered:.4f} of instrument-days"
    period = (start, end)
    qname = name or point

    def u_of(v: float) -> float:
        if partial or mpe is None or not math.isfinite(v):
            return math.nan
        return abs(v) * mpe / 100.0 / math.sqrt(3.0)

    measured = MeasuredQuantity(
        value=vm, unit=merged.unit, u=u_of(vm),
        provenance=Provenance(source=Source.MEASURED, instruments=tuple(ins), certificates=tuple(certs),
                              period=period, method=merged.method, note=note),
        name=qname,
    )
    substituted = None
    if merged.substituted_hours > 0 and math.isfinite(vs):
        substituted = MeasuredQuantity(
            value=vs, unit=merged.unit, u=math.nan,
            provenance=Provenance(source=Source.SUBSTITUTED, period=period, method="substituted values as stored",
                                  note=f"{merged.substituted_hours:g} h substituted"),
            name=f"{qname}.substituted",
        )
    if substituted is None:
        total = measured
    else:
        tv = (0.0 if math.isnan(vm) else vm) + vs
        total = MeasuredQuantity(
            value=tv, unit=merged.unit, u=math.nan,
            provenance=Provenance(source=Source.CALCULATED, instruments=tuple(ins), certificates=tuple(certs),
                                  period=period, method="measured + substituted", inputs=(measured.name, substituted.name),
                                  note=note + f"; includes {vs:.6g} {merged.unit} substituted"),
            name=f"{qname}.total",
        )
    return ActivityData(measured, substituted, total, merged.completeness, merged, coverage, uncovered)
