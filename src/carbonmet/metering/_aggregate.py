r"""Period aggregation of stored readings, as DuckDB SQL over the Parquet partitions (数据汇总).

:func:`aggregate_table` is the core: one Arrow table, a row per point and period. :func:`aggregate` gives
the same rows as :class:`PeriodAggregate` objects. Every value in the SQL (flags, times, offsets, rule
limits, file lists, register breaks) is a DuckDB parameter (``$name``); the SQL text itself is chosen
from fixed fragments by the validated period and point kinds, never built from data.

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
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from carbonmet.quantities import format_unit, parse_unit, ureg
from carbonmet.quantities.rules import PERIOD_WINDOW

from ._aggregate_sql import duckdb_sql
from ._errors import AggregationError
from ._rules import Rules
from ._store import Store, _months_between
from ._types import PointInfo
from ._validate import register_breaks_us

Period = Literal["hour", "day", "month", "year"]
PERIODS: tuple[str, ...] = ("hour", "day", "month", "year")
_H = 3_600_000_000  # µs per hour
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: An aggregation engine: runs the queries of a plan over the store's files (see :func:`aggregate_table`).
Engine = Callable[[Store, "AggregationPlan"], Sequence[pa.Table]]


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


def _table_schema(tz: str) -> pa.Schema:
    """Columns of :func:`aggregate_table`: the fields of :class:`PeriodAggregate`, in order."""
    ts = pa.timestamp("us", tz=tz)
    f64 = pa.float64()
    return pa.schema([
        ("point_id", pa.string()), ("period_start", ts), ("period_end", ts), ("kind", pa.string()),
        ("unit", pa.string()), ("value_measured", f64), ("value_substituted", f64), ("expected_hours", f64),
        ("valid_hours", f64), ("substituted_hours", f64), ("stopped_hours", f64), ("invalid_hours", f64),
        ("n_readings", pa.int64()), ("n_valid", pa.int64()), ("method", pa.string()),
    ])


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


def aggregate_table(
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
    engine: Engine | None = None,
    chunk_points: int = 2_000,
) -> pa.Table:
    """Aggregate stored readings per point and period over ``[start, end)``, as one Arrow table.

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
    engine : callable, optional
        Runs the plan's queries: ``engine(store, plan)`` → one Arrow table per query with the columns
        :data:`ENGINE_COLUMNS`; default :func:`run_duckdb` (e.g. :func:`carbonmet.scale.spark_engine` for
        Spark). The rules, the plan and the assembly are the same whichever engine runs.
    chunk_points : int
        With the default engine, at most this many points per DuckDB run (the hourly intermediate grows with
        the points: one run over the 9,300 points of 300 enterprises peaked at 9 GB); the chunks are read under one
        store lock and concatenated in point order — the same table as one run.

    Returns
    -------
    pyarrow.Table
        One row per point and period, in point order then time; periods without data are included
        (value ``nan``, completeness 0). Columns are the fields of :class:`PeriodAggregate`:
        ``point_id``, ``period_start`` and ``period_end`` (``timestamp[us, tz]``), ``kind`` ("amount" or
        "mean"), ``unit``, ``value_measured`` and ``value_substituted`` [unit], ``expected_hours``,
        ``valid_hours``, ``substituted_hours``, ``stopped_hours``, ``invalid_hours`` [h], ``n_readings``,
        ``n_valid``, ``method``. A value or coverage that was not evaluated is ``nan``, never 0.

    Raises
    ------
    AggregationError
        Unknown period or point, naive or empty range, a bound outside
        :data:`carbonmet.quantities.rules.PERIOD_WINDOW` (1950-01-01 … 2199-12-31; readings stored with
        implausible timestamps such as 0001 or 9999 lie outside every period that can be asked), a time
        zone whose offset changes in the range.
    """
    if chunk_points < 1:
        raise AggregationError(f"chunk_points must be ≥ 1, got {chunk_points}")
    size = chunk_points if engine is None else max(len(points), 1)
    parts = []
    with store.reading():  # the file set does not change under the queries
        for i in range(0, max(len(points), 1), size):
            chunk = points[i:i + size]
            plan = plan_aggregation(store, catalog, chunk, start, end, period, tz=tz, steps_s=steps_s, rules=rules)
            parts.append(assemble_aggregation(plan, (engine or run_duckdb)(store, plan)))
    return parts[0] if len(parts) == 1 else pa.concat_tables(parts)


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
    engine: Engine | None = None,
) -> list[PeriodAggregate]:
    """Aggregate stored readings per point and period over ``[start, end)``.

    The rows of :func:`aggregate_table` (same parameters) as :class:`PeriodAggregate` objects, with
    ``period_start`` / ``period_end`` as aware datetimes in ``tz``.

    Returns
    -------
    list of PeriodAggregate
        One per point and period, in point order then time; periods without data are included
        (value ``nan``, completeness 0).
    """
    t = aggregate_table(store, catalog, points, start, end, period, tz=tz, steps_s=steps_s, rules=rules,
                        engine=engine)
    z = ZoneInfo(tz)
    cols = t.drop_columns(["period_start", "period_end"]).to_pydict()
    starts = t.column("period_start").cast(pa.int64()).to_pylist()
    ends = t.column("period_end").cast(pa.int64()).to_pylist()
    out = []
    for i in range(t.num_rows):
        ps = (_EPOCH + timedelta(microseconds=starts[i])).astimezone(z)
        pe = (_EPOCH + timedelta(microseconds=ends[i])).astimezone(z)
        out.append(PeriodAggregate(
            cols["point_id"][i], ps, pe, cols["kind"][i], cols["unit"][i], cols["value_measured"][i],
            cols["value_substituted"][i], cols["expected_hours"][i], cols["valid_hours"][i],
            cols["substituted_hours"][i], cols["stopped_hours"][i], cols["invalid_hours"][i],
            cols["n_readings"][i], cols["n_valid"][i], cols["method"][i],
        ))
    return out


@dataclass(frozen=True, slots=True)
class AggregationQuery:
    """One query of an aggregation plan: points of one kind read from their Parquet files.

    ``mode`` is ``"total"`` (totaliser differences), ``"hourly"`` (HJ 75 hourly means of rates and samples) or
    ``"sum"`` (interval amounts); ``k`` is the minutes a valid reading covers (1 for minute data, its step
    for coarser data; 1 for totalisers). ``breaks`` (totalisers only): per point the instrument changes
    [µs UTC] that cut its register into segments.
    """

    mode: str
    k: int
    points: tuple[str, ...]
    files: tuple[str, ...]
    breaks: Mapping[str, npt.NDArray[np.int64]]


@dataclass(frozen=True, slots=True)
class AggregationPlan:
    """What an aggregation reads and by which rule (engine-independent, pure data).

    Built by :func:`plan_aggregation`; an engine (DuckDB here, Spark in :mod:`carbonmet.scale`) runs its
    ``queries`` and :func:`assemble_aggregation` turns the engine's rows into the result table. Times are
    µs UTC (``start_us``, ``end_us``), ``off`` the zone's fixed offset [µs], ``buckets`` the periods as
    (start, end) local hour indices.
    """

    catalog: Mapping[str, PointInfo]
    points: tuple[str, ...]
    period: str
    tz: str
    steps_s: Mapping[str, float] | None
    rules: Rules
    off: int
    start_us: int
    end_us: int
    buckets: tuple[tuple[int, int], ...]
    queries: tuple[AggregationQuery, ...]

    def inner_edge(self, q: AggregationQuery) -> tuple[list[str], list[str]]:
        """Files of ``q`` wholly inside the range (no per-row time filter needed) and the others."""
        inner = [f for f in q.files if _month_inside(f, self.start_us, self.end_us)]
        return inner, [f for f in q.files if not _month_inside(f, self.start_us, self.end_us)]


#: Columns of an engine's result rows (one per point and bucket start hour ``b`` with data), in order.
ENGINE_COLUMNS = ("point", "b", "measured", "substituted", "valid_hours", "subst_hours", "stopped_hours",
                  "invalid_hours", "n", "n_valid")


def plan_aggregation(
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
) -> AggregationPlan:
    """The :class:`AggregationPlan` of an aggregation (parameters and errors as :func:`aggregate_table`).

    Validates the request, prunes partitions to each point's files, estimates the reading steps (reads
    only the ``ts`` column of a few partitions) and the instrument changes of totalisers, and groups the
    points into queries. Call it inside ``store.reading()`` when the file set must not change until the
    engine has read it.
    """
    if period not in PERIODS:
        raise AggregationError(f"period must be one of {', '.join(PERIODS)}, got {period!r}")
    if start.tzinfo is None or end.tzinfo is None:
        raise AggregationError("start and end must be timezone-aware")
    for what, bound in (("start", start), ("end", end)):
        problem = PERIOD_WINDOW.problem(bound)
        if problem is not None:
            raise AggregationError(f"period {what}: {problem}")
    if end <= start:
        raise AggregationError(f"empty range: end {end} <= start {start}")
    for p in points:
        if p not in catalog:
            raise AggregationError(f"unknown point {p!r}")
    rules = rules or store.rules
    off = _fixed_offset_us(tz, start, end)
    start_us = round(start.timestamp() * 1e6)
    end_us = round(end.timestamp() * 1e6)
    lo_h, hi_h = (start_us + off) // _H, -((-(end_us + off)) // _H)
    buckets = _bucket_bounds(period, lo_h, hi_h)
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
    queries = []
    for (mode, k), pts in groups.items():
        breaks = {p: register_breaks_us(catalog[p], store.local_tz) for p in pts} if mode == "total" else {}
        queries.append(AggregationQuery(mode, k, tuple(pts), tuple(f for p in pts for f in files_of[p]), breaks))
    return AggregationPlan(catalog, tuple(points), period, tz, steps_s, rules, off, start_us, end_us,
                           tuple(buckets), tuple(queries))


def run_duckdb(store: Store, plan: AggregationPlan) -> list[pa.Table]:
    """Run the queries of ``plan`` with DuckDB; per query its rows (columns :data:`ENGINE_COLUMNS`)."""
    con = store.connect()
    try:
        out = []
        for q in plan.queries:
            sql, params = duckdb_sql(plan, q)
            out.append(con.sql(sql, params=params).to_arrow_table())
        return out
    finally:
        con.close()


def assemble_aggregation(plan: AggregationPlan, results: Sequence[pa.Table]) -> pa.Table:
    """The result table of :func:`aggregate_table` from an engine's rows for the queries of ``plan``.

    ``results`` holds Arrow tables with the columns :data:`ENGINE_COLUMNS` (any order of rows; rows of
    points or periods not asked for are dropped). Pure: no store, no engine.
    """
    names = pa.array(list(dict.fromkeys(plan.points)), pa.string())
    cols = [_columns(r, names) for r in results]
    return _table(plan.catalog, plan.points, plan.tz, plan.steps_s, plan.rules, plan.off, plan.start_us, plan.end_us,
                  list(plan.buckets), cols)


def _columns(res: pa.Table, names: pa.Array) -> dict[str, npt.NDArray[Any]]:
    """Result columns as NumPy: ``pidx`` the position of the row's point in ``names`` (-1 if not there),
    ``b`` the bucket start hour, float columns with ``nan`` for NULL, count columns as int64.

    The point names are matched in Arrow (hashing), never turned into Python strings."""
    idx = pc.index_in(res.column("point"), value_set=names)
    out: dict[str, npt.NDArray[Any]] = {
        "pidx": pc.fill_null(idx, -1).to_numpy().astype(np.int64, copy=False),
        "b": pc.cast(res.column("b"), pa.int64()).to_numpy(),
    }
    for c in _FLOAT_COLS:
        out[c] = pc.cast(res.column(c), pa.float64()).to_numpy()  # NULL -> nan
    for c in _INT_COLS:
        out[c] = pc.cast(res.column(c), pa.int64()).to_numpy()
    return out


#: numeric result columns of the queries, with their value where a NULL comes back (never for the counts)
_FLOAT_COLS = ("measured", "substituted", "valid_hours", "subst_hours", "stopped_hours", "invalid_hours")
_INT_COLS = ("n", "n_valid")


def _scatter(points: Sequence[str], buckets: Sequence[tuple[int, int]],
             results: Sequence[Mapping[str, npt.NDArray[Any]]]) -> dict[str, npt.NDArray[Any]]:
    """The query rows laid out as a (point, bucket) grid: ``have`` marks cells with a row; float columns
    hold ``nan`` where the query gave NULL. Rows of points or buckets not asked for are dropped.

    ``pidx`` of a row is the position of its point among the distinct points asked for, in order of first
    appearance; a point asked for twice gets its rows twice."""
    n_p, n_b = len(points), len(buckets)
    bs = np.fromiter((b for b, _ in buckets), np.int64, n_b)
    grid: dict[str, npt.NDArray[Any]] = {"have": np.zeros((n_p, n_b), bool)}
    grid.update({c: np.full((n_p, n_b), math.nan) for c in _FLOAT_COLS})
    grid.update({c: np.zeros((n_p, n_b), np.int64) for c in _INT_COLS})
    first: dict[str, int] = {}
    rows_of: list[list[int]] = []  # grid rows of each distinct point
    for i, p in enumerate(points):
        if p not in first:
            first[p] = len(rows_of)
            rows_of.append([])
        rows_of[first[p]].append(i)
    dup = [r[1:] for r in rows_of]
    primary = np.fromiter((r[0] for r in rows_of), np.int64, len(rows_of))
    for res in results:
        pidx, b = res["pidx"], res["b"]
        if not len(pidx) or not n_b:
            continue
        j = np.minimum(np.searchsorted(bs, b), n_b - 1)
        keep = (pidx >= 0) & (bs[j] == b)  # points and bucket starts of the request
        i, j = primary[pidx[keep]], j[keep]
        grid["have"][i, j] = True
        for c in (*_FLOAT_COLS, *_INT_COLS):
            grid[c][i, j] = res[c][keep]
    for k, more in enumerate(dup):
        for i in more:
            for a in grid.values():
                a[i] = a[rows_of[k][0]]
    return grid


def _pymin(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64] | float) -> npt.NDArray[np.float64]:
    """Element-wise ``min(a, b)`` with Python's rule (``a`` unless ``b < a``; so ``nan`` in ``b`` gives ``a``)."""
    return np.where(b < a, b, a)


def _table(catalog: Mapping[str, PointInfo], points: Sequence[str], tz: str, steps_s: Mapping[str, float] | None,
           rules: Rules, off: int, start_us: int, end_us: int, buckets: list[tuple[int, int]],
           results: Sequence[Mapping[str, npt.NDArray[Any]]]) -> pa.Table:
    """Every (point, period) of the request as table columns, from the query rows (missing → no data).

    Column-wise over the periods of each point: a cell without a query row has no data (value ``nan``,
    coverage 0, or ``nan`` for an interval point without a nominal step).
    """
    schema = _table_schema(tz)
    s_l, e_l = start_us + off, end_us + off
    n_b = len(buckets)
    bs = np.fromiter((b for b, _ in buckets), np.int64, n_b) * _H
    be = np.fromiter((e for _, e in buckets), np.int64, n_b) * _H
    lo, hi = np.maximum(bs, s_l), np.minimum(be, e_l)
    expected = (hi - lo) / _H
    grid = _scatter(points, buckets, results)
    nan = np.full(n_b, math.nan)
    cols: dict[str, list[Any]] = {name: [] for name in schema.names}
    labels: dict[str, list[str]] = {"point_id": [], "kind": [], "unit": [], "method": []}
    for i, p in enumerate(points):
        info = catalog[p]
        rk = info.reading_kind
        integ = integral_unit(info.unit) if rk == "rate" else None
        if rk == "total" or rk == "interval":
            kind, unit, factor = "amount", format_unit(info.unit), 1.0
        elif integ is not None:
            kind, (unit, factor) = "amount", integ
        else:
            kind, unit, factor = "mean", format_unit(info.unit), 1.0
        step_s = steps_s[p] if steps_s and p in steps_s else None
        have = grid["have"][i]
        sm, ss = grid["measured"][i], grid["substituted"][i]
        sh = grid["subst_hours"][i]
        nv = grid["n_valid"][i]
        with np.errstate(all="ignore"):  # quotients of cells that are then not used
            if rk == "interval":
                # each interval amount covers its nominal step (a daily total covers 24 h); irregular
                # events (weighings) have none: coverage is then not evaluated (nan)
                vh = _pymin(expected, nv.astype(np.float64) * step_s * 1e6 / _H) if step_s is not None else nan
            else:
                vh = grid["valid_hours"][i]
            if kind == "mean":
                vm = np.where(vh > 0, sm / vh, math.nan)
                vs = np.where(sh > 0, ss / sh, math.nan)
            else:
                vm = np.where((vh > 0) | ~np.isnan(sm), sm * factor, math.nan)
                vs = np.where(np.isfinite(ss), ss * factor, 0.0)
            if rk != "total":
                vm = np.where(vh == 0, math.nan, vm)
            if rk == "interval":
                vm = np.where(nv > 0, sm * factor, vm)
            vh = np.where(np.isfinite(vh), _pymin(vh, expected), vh)
        no_cov = math.nan if rk == "interval" and step_s is None else 0.0
        cols["value_measured"].append(np.where(have, vm, math.nan))
        cols["value_substituted"].append(np.where(have, vs, math.nan))
        cols["valid_hours"].append(np.where(have, vh, no_cov))
        cols["substituted_hours"].append(np.where(have, sh, 0.0))
        cols["stopped_hours"].append(np.where(have, grid["stopped_hours"][i], 0.0))
        cols["invalid_hours"].append(np.where(have, grid["invalid_hours"][i], 0.0))
        cols["n_readings"].append(np.where(have, grid["n"][i], 0))
        cols["n_valid"].append(np.where(have, nv, 0))
        for name, v in (("point_id", p), ("kind", kind), ("unit", unit),
                        ("method", _method(rk, kind, rules.min_valid_minutes))):
            labels[name].append(v)
    n_p = len(points)
    rep = np.repeat(np.arange(n_p, dtype=np.int64), n_b)
    arrays: dict[str, pa.Array] = {
        name: pa.array(v, pa.string()).take(rep) for name, v in labels.items()
    }
    arrays["period_start"] = pa.array(np.tile(lo - off, n_p), schema.field("period_start").type)
    arrays["period_end"] = pa.array(np.tile(hi - off, n_p), schema.field("period_end").type)
    arrays["expected_hours"] = pa.array(np.tile(expected, n_p), pa.float64())
    for name in ("value_measured", "value_substituted", "valid_hours", "substituted_hours", "stopped_hours",
                 "invalid_hours", "n_readings", "n_valid"):
        f = schema.field(name)
        arrays[name] = pa.array(np.concatenate(cols[name]) if cols[name] else np.empty(0, f.type.to_pandas_dtype()),
                                f.type)
    return pa.Table.from_arrays([arrays[name] for name in schema.names], schema=schema)


def _method(reading_kind: str, kind: str, minv: int) -> str:
    if reading_kind == "total":
        return "totaliser differences interpolated to period boundaries, rollover-corrected, breaks at instrument changes"
    if reading_kind == "interval":
        return "sum of valid interval amounts"
    if kind == "amount":
        return f"time integral of hourly means (HJ 75-2017: hour valid with >= {minv} valid minutes)"
    return f"mean of valid hourly means (HJ 75-2017: hour valid with >= {minv} valid minutes)"


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
