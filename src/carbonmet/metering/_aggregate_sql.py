"""The SQL of the period aggregation (:mod:`carbonmet.metering.aggregation`), written once for every engine:
HJ 75 hourly validity, totaliser differences interpolated to period boundaries, period sums (汇总查询).

:func:`hourly_sql` and :func:`total_sql` hold the rules' arithmetic; a :class:`SqlDialect` holds how an engine
spells it (parameters, integer division, ``FILTER``, casts, ``arg_min``, the bit masks, the period buckets).
:data:`DUCKDB` is this package's; :mod:`carbonmet.scale` gives Spark's, so that the two engines run the same
query text apart from spelling (the scale tests hold them to equal results). The text is assembled only from the
fixed fragments here, picked by the validated period and point kinds; every value (file lists, flags, times,
limits, breaks) is a named parameter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from ._aggregate import AggregationPlan, AggregationQuery

_H = 3_600_000_000  # µs per hour
_HOUR = str(_H)  # µs per hour, a unit conversion written into the query text


@dataclass(frozen=True)
class SqlDialect:
    """How one SQL engine spells the aggregation's fragments.

    Templates take ``{n}`` (a parameter name), ``{t}`` (its SQL type), ``{x}`` (an expression), ``{c}`` (a
    condition) or ``{h}`` (a local hour index expression).
    """

    name: str
    param: str  #: a named parameter of a scalar type, e.g. ``$n::t``
    contains: str  #: a list parameter ``{n}`` holds the value of ``{x}``
    idiv: str  #: integer division operator (times are after 1970: truncation and floor agree)
    filter: str  #: an aggregate's FILTER clause for condition ``{c}``
    cast: str  #: ``{x}`` as type ``{t}``
    arg_min: str  #: the aggregate "value at the smallest key" (rows whose value is NULL left out)
    arg_max: str
    epoch_us: str  #: µs since the epoch of the timestamp ``{x}``
    minute_bit: str  #: the mask of minute ``m`` (a 64-bit integer)
    minute_bits: str  #: the mask of ``:k`` minutes from minute ``m`` (parameter ``k``)
    no_bits: str  #: an empty mask
    buckets: Mapping[str, str]  #: period → bucket start (a local hour index) of the local hour index ``{h}``
    pattern: str  #: a regular expression whose group 1 is a parameter's name in the text
    broadcast_hint: str = ""  #: hint to send the (small) bucket table to every task, with ``{k}`` its alias

    def p(self, name: str, typ: str) -> str:
        return self.param.format(n=name, t=typ)

    def has(self, name: str, x: str) -> str:
        return self.contains.format(n=name, x=x)

    def f(self, c: str) -> str:
        return self.filter.format(c=c)

    def as_(self, x: str, typ: str) -> str:
        return self.cast.format(x=x, t=typ)

    def bucket(self, period: str, h: str) -> str:
        return self.buckets[period].format(h=h)

    def used(self, sql: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters of ``params`` that ``sql`` names (an engine may refuse any other)."""
        names = set(re.findall(self.pattern, sql))
        missing = names - set(params)
        if missing:
            raise KeyError(f"aggregation SQL parameters not given: {sorted(missing)}")
        return {k: v for k, v in params.items() if k in names}


#: DuckDB: typed ``$name`` parameters, ``//``, ``FILTER (c)``, ``arg_min``, unsigned masks.
DUCKDB = SqlDialect(
    name="duckdb",
    param="${n}::{t}",
    contains="list_contains(${n}::VARCHAR[], {x})",
    idiv="//",
    filter="FILTER ({c})",
    cast="({x})::{t}",
    arg_min="arg_min",
    arg_max="arg_max",
    epoch_us="epoch_us({x})",
    minute_bit="(1::UBIGINT << m)",
    minute_bits="((((1::UBIGINT << least($k::INTEGER, 60 - m)::INT)) - 1) << m)",
    no_bits="0::UBIGINT",
    buckets={
        "hour": "{h}",
        "day": "(({h} // 24) * 24)",
        "month": "(epoch_us(date_trunc('month', make_timestamp({h} * " + _HOUR + "))) // " + _HOUR + ")",
        "year": "(epoch_us(date_trunc('year', make_timestamp({h} * " + _HOUR + "))) // " + _HOUR + ")",
    },
    pattern=r"\$([a-z_]+)",
)


def hourly_sql(d: SqlDialect, period: str, k: int, mode: str, source: str) -> str:
    """Rate, sample and interval points: HJ 75 hours, then periods.

    ``source`` is a FROM item of the readings (columns ``point``, ``ts``, ``value``, ``flag``, ``source``,
    already cut to the range); ``k`` the minutes a valid reading covers (1 for minute data, its step for coarser
    data); ``mode`` ``"hourly"`` (hourly means) or ``"sum"`` (interval amounts). Parameters: ``off``, ``valid``,
    ``subst``, ``stopped`` (flag lists), ``k`` when ``k > 1``, ``minv`` (valid minutes of a valid hour) unless
    ``mode`` is ``"sum"``. HJ 75-2017 §9: an hour is valid with at least ``minv`` valid minutes, a bit per
    covered minute.
    """
    mask = d.minute_bit if k == 1 else d.minute_bits
    b = d.bucket(period, "h")
    hour_valid = "n_ok > 0" if mode == "sum" else f"bit_count(coalesce(m_ok, {d.no_bits})) >= {d.p('minv', 'INTEGER')}"
    measured = "sum(s_ok)" if mode == "sum" else f"sum(s_ok / n_ok) {d.f(hour_valid)}"
    # interval amounts add up: every substituted amount counts, and an hour holding one is a substituted
    # hour even if it also has measured amounts; rates: only hours without a valid hourly mean
    subst_hour = "n_sub > 0" if mode == "sum" else f"n_sub > 0 AND NOT ({hour_valid})"
    substituted = "sum(s_sub)" if mode == "sum" else f"sum(s_sub / n_sub) {d.f(f'n_sub > 0 AND NOT ({hour_valid})')}"

    def hours(c: str) -> str:
        return d.as_(f"count(*) {d.f(c)}", "DOUBLE")

    return f"""
WITH r AS (
  SELECT point, {d.epoch_us.format(x="ts")} + {d.p("off", "BIGINT")} AS t, value,
         ({d.has("valid", "flag")} AND source <> 'substituted') AS ok,
         (source = 'substituted' OR {d.has("subst", "flag")}) AS sub,
         {d.has("stopped", "flag")} AS stp
  FROM {source}
), r2 AS (
  SELECT point, t {d.idiv} {_HOUR} AS h, {d.as_(f"(t {d.idiv} 60000000) % 60", "INT")} AS m, value, ok, sub, stp
  FROM r
), hr AS (
  SELECT point, h,
         count(*) AS n,
         count(*) {d.f("ok")} AS n_ok,
         sum(value) {d.f("ok")} AS s_ok,
         bit_or({mask}) {d.f("ok")} AS m_ok,
         count(*) {d.f("sub")} AS n_sub,
         sum(value) {d.f("sub")} AS s_sub,
         count(*) {d.f("stp")} AS n_stp
  FROM r2 GROUP BY point, h
)
SELECT point, {b} AS b,
       {measured} AS measured,
       {substituted} AS substituted,
       {hours(hour_valid)} AS valid_hours,
       {hours(subst_hour)} AS subst_hours,
       {hours(f"n_stp > 0 AND NOT ({hour_valid}) AND n_sub = 0")} AS stopped_hours,
       {hours(f"NOT ({hour_valid}) AND n_sub = 0 AND n_stp = 0")} AS invalid_hours,
       sum(n) AS n, sum(n_ok) AS n_valid
FROM hr GROUP BY point, {b}
"""


def _delta_sql(d: SqlDialect, p: str, x: str) -> str:
    """Register difference ``x − p`` of two column names: plain when not negative, plus the modulus
    :math:`10^{\\lfloor\\log_{10} p\\rfloor+1}` only when the decrease is a rollover by the validation rule
    (limits ``hi`` and ``lo``), otherwise NULL (a reset is a break in the sequence, never an amount)."""
    m = f"pow(10, floor(log10({p})) + 1)"
    return (f"CASE WHEN {p} IS NULL OR {x} IS NULL THEN NULL WHEN {x} >= {p} THEN {x} - {p} "
            f"WHEN {p} > 0 AND {x} >= 0 AND {p} >= {d.p('hi', 'DOUBLE')} * {m} AND {x} < {d.p('lo', 'DOUBLE')} * {m} "
            f"THEN {x} - {p} + {m} ELSE NULL END")


def total_sql(d: SqlDialect, period: str, readings: str, buckets: str) -> str:
    """Totaliser amounts per period: readings are closing values, amounts are differences of the register
    interpolated linearly to the period boundaries.

    ``readings``: common table expressions ending in one named ``r1`` (``point``, ``tu`` µs UTC, ``value``,
    ``flag``, ``source``, ``seg`` the register segment: the number of instrument changes at or before the
    reading); ``buckets``: a FROM item of the periods (``bs``, ``be`` local hour indices). Parameters: ``off``,
    ``valid``, ``subst``, ``hi``, ``lo``, ``s_l``, ``e_l`` (the range in local µs), ``hc_lo``, ``hc_hi``.

    Anchors (valid or substituted readings) are grouped by their *closing hour* (a reading at hh:00 closes the
    hour before) and register segment; the amount inside a group lies wholly in its hour, the amount between the
    last anchor of one group and the first of the next is spread over the periods it spans in proportion to
    time. Covered time is the time spanned by usable differences.
    """
    def bucket(x: str) -> str:
        return d.bucket(period, x)

    s_l, e_l = d.p("s_l", "BIGINT"), d.p("e_l", "BIGINT")
    f, hc = d.f, f"(t - 1) {d.idiv} {_HOUR}"
    first, last = bucket(f"(ca {d.idiv} {_HOUR})"), bucket(f"((cb - 1) {d.idiv} {_HOUR})")
    return f"""
WITH {readings}, r AS (
  SELECT point, tu + {d.p("off", "BIGINT")} AS t, value, seg,
         {d.has("valid", "flag")} OR {d.has("subst", "flag")} OR source = 'substituted' AS anchor,
         (source = 'substituted' OR {d.has("subst", "flag")}) AS sub,
         {d.has("valid", "flag")} AND source <> 'substituted' AS ok
  FROM r1
), g AS (
  SELECT point, {hc} AS hc, seg,
         {d.arg_min}(value, t) {f("anchor")} AS v0, {d.arg_max}(value, t) {f("anchor")} AS v1,
         min(t) {f("anchor")} AS t0, max(t) {f("anchor")} AS t1,
         bool_or(sub) {f("anchor")} AS gsub, {d.arg_min}(sub, t) {f("anchor")} AS sub0,
         {d.arg_max}(sub, t) {f("anchor")} AS sub1,
         count(*) {f(f"t > {s_l} AND t <= {e_l}")} AS n,
         count(*) {f(f"ok AND t > {s_l} AND t <= {e_l}")} AS n_ok
  FROM r GROUP BY point, {hc}, seg
), w AS (
  SELECT point, hc, seg, v0, v1, t0, t1, gsub, sub0,
         lag(v1) OVER win AS pv, lag(t1) OVER win AS pt, lag(seg) OVER win AS pseg, lag(sub1) OVER win AS psub
  FROM g WHERE t0 IS NOT NULL
  WINDOW win AS (PARTITION BY point ORDER BY hc, seg)
), pieces AS (
  SELECT point, t0 AS a, t1 AS b, {_delta_sql(d, "v0", "v1")} AS delta, gsub AS sub FROM w WHERE t1 > t0
  UNION ALL
  SELECT point, pt AS a, t0 AS b, CASE WHEN pseg <> seg THEN NULL ELSE {_delta_sql(d, "pv", "v0")} END AS delta,
         (psub OR sub0) AS sub
  FROM w WHERE pt IS NOT NULL AND t0 > pt
), c AS (
  SELECT point, a, b, greatest(a, {s_l}) AS ca, least(b, {e_l}) AS cb, delta, sub FROM pieces
  WHERE b > {s_l} AND a < {e_l}
), one AS (
  SELECT point, {first} AS b, delta * ((cb - ca) / (b - a)) AS amt, (cb - ca) AS dur, delta, sub
  FROM c WHERE {first} = {last}
), multi AS (
  SELECT {d.broadcast_hint.format(k="k")}c.point, k.bs AS b,
         delta * ((least(cb, k.be * {_HOUR}) - greatest(ca, k.bs * {_HOUR})) / (c.b - c.a)) AS amt,
         (least(cb, k.be * {_HOUR}) - greatest(ca, k.bs * {_HOUR})) AS dur, delta, sub
  FROM c JOIN {buckets} k ON k.bs * {_HOUR} < c.cb AND k.be * {_HOUR} > c.ca
  WHERE {first} <> {last}
), pa AS (
  SELECT point, b,
         sum(amt) {f("delta IS NOT NULL AND NOT sub")} AS measured,
         coalesce(sum(amt) {f("delta IS NOT NULL AND sub")}, 0) AS substituted,
         {d.as_(f'coalesce(sum(dur) {f("delta IS NOT NULL AND NOT sub")}, 0)', "DOUBLE")} / {_HOUR} AS valid_hours,
         {d.as_(f'coalesce(sum(dur) {f("delta IS NOT NULL AND sub")}, 0)', "DOUBLE")} / {_HOUR} AS subst_hours
  FROM (SELECT * FROM one UNION ALL SELECT * FROM multi) GROUP BY point, b
), cn AS (
  SELECT point, {bucket("hc")} AS b, sum(n) AS n, sum(n_ok) AS n_valid FROM g
  WHERE hc >= {d.p("hc_lo", "BIGINT")} AND hc < {d.p("hc_hi", "BIGINT")} GROUP BY point, {bucket("hc")}
)
SELECT coalesce(pa.point, cn.point) AS point, coalesce(pa.b, cn.b) AS b,
       pa.measured, coalesce(pa.substituted, 0) AS substituted,
       coalesce(pa.valid_hours, 0) AS valid_hours, coalesce(pa.subst_hours, 0) AS subst_hours,
       {d.as_("0", "DOUBLE")} AS stopped_hours, {d.as_("0", "DOUBLE")} AS invalid_hours,
       coalesce(cn.n, 0) AS n, coalesce(cn.n_valid, 0) AS n_valid
FROM pa FULL OUTER JOIN cn ON pa.point = cn.point AND pa.b = cn.b
"""


#: Parquet partitions of a parameter holding a file list (hive layout enterprise=/point=/month=).
_SRC = ("read_parquet({files}, hive_partitioning=true, "
        "hive_types={{'enterprise': VARCHAR, 'point': VARCHAR, 'month': VARCHAR}})")


def duckdb_sql(plan: AggregationPlan, q: AggregationQuery) -> tuple[str, dict[str, Any]]:
    """DuckDB SQL text and parameters of one query of ``plan``."""
    rules = plan.rules
    params: dict[str, Any] = {"off": plan.off, "valid": list(rules.valid_flags),
                              "subst": list(rules.substituted_flags)}
    if q.mode == "total":
        s_l, e_l = plan.start_us + plan.off, plan.end_us + plan.off
        params.update(files=list(q.files), hi=float(rules.rollover_high), lo=float(rules.rollover_low), s_l=s_l,
                      e_l=e_l, bs=[bs for bs, _ in plan.buckets], be=[be for _, be in plan.buckets],
                      hc_lo=s_l // _H, hc_hi=-(-e_l // _H))
        readings, extra = _duckdb_readings(q.breaks)
        params.update(extra)
        sql = total_sql(DUCKDB, plan.period, readings,
                        "(SELECT unnest($bs::BIGINT[]) AS bs, unnest($be::BIGINT[]) AS be)")
        return sql, DUCKDB.used(sql, params)
    # partitions wholly inside [start, end) need no per-row time filter
    inner, edge = plan.inner_edge(q)
    cols = "point, ts, value, flag, source"
    parts = []
    if inner:
        parts.append(f"SELECT {cols} FROM {_SRC.format(files='$inner::VARCHAR[]')}")
    if edge:
        parts.append(f"SELECT {cols} FROM {_SRC.format(files='$edge::VARCHAR[]')} "
                     "WHERE epoch_us(ts) >= $start_us::BIGINT AND epoch_us(ts) < $end_us::BIGINT")
    params.update(inner=list(inner), edge=list(edge), start_us=plan.start_us, end_us=plan.end_us,
                  stopped=[f for f in rules.flags if f == "F"], k=q.k, minv=rules.min_valid_minutes)
    sql = hourly_sql(DUCKDB, plan.period, q.k, q.mode, f"({' UNION ALL '.join(parts)})")
    return sql, DUCKDB.used(sql, params)


def _duckdb_readings(breaks: Mapping[str, npt.NDArray[np.int64]]) -> tuple[str, dict[str, Any]]:
    """The ``r1`` readings of a totaliser query: the register segment of a reading by an ASOF join on a parameter
    table of the breaks (µs UTC)."""
    src = _SRC.format(files="$files::VARCHAR[]")
    bp: list[str] = []
    bt: list[int] = []
    bseg: list[int] = []
    for p, b in breaks.items():
        xs = np.sort(np.asarray(b, dtype=np.int64))
        bp += [p] * len(xs)
        bt += xs.tolist()
        bseg += np.searchsorted(xs, xs, side="right").tolist()  # breaks at or before each break
    if not bp:
        return f"""r1 AS (
  SELECT point, epoch_us(ts) AS tu, value, flag, source, 0 AS seg FROM {src}
)""", {}
    return f"""r0 AS (
  SELECT point, epoch_us(ts) AS tu, value, flag, source FROM {src}
), brk AS (
  SELECT unnest($bp::VARCHAR[]) AS point, unnest($bt::BIGINT[]) AS tu, unnest($bseg::INTEGER[]) AS seg
), r1 AS (
  SELECT r0.point, r0.tu, r0.value, r0.flag, r0.source, coalesce(brk.seg, 0) AS seg
  FROM r0 ASOF LEFT JOIN brk ON r0.point = brk.point AND r0.tu >= brk.tu
)""", {"bp": bp, "bt": bt, "bseg": bseg}
