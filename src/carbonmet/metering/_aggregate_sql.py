"""The DuckDB SQL of the period aggregation (:mod:`carbonmet.metering.aggregation`): HJ 75 hourly validity, totaliser
differences interpolated to period boundaries, period sums (汇总查询).

The query text is assembled only from the fixed fragments below, picked by the validated period and point kinds;
every value (file lists, flags, times, limits, breaks) is a named parameter ``$name``. The Spark SQL of
:mod:`carbonmet.scale` is the same queries in Spark's dialect; the scale tests hold the two to equal results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ._rules import Rules

if TYPE_CHECKING:
    from ._aggregate import AggregationPlan, AggregationQuery

_H = 3_600_000_000  # µs per hour


def duckdb_sql(plan: AggregationPlan, q: AggregationQuery) -> tuple[str, dict[str, Any]]:
    """DuckDB SQL text and parameters of one query of ``plan``."""
    if q.mode == "total":
        return _total_query(plan.period, plan.rules, plan.off, plan.start_us, plan.end_us, q.files,
                            plan.buckets, q.breaks)
    # partitions wholly inside [start, end) need no per-row time filter
    inner, edge = plan.inner_edge(q)
    return _hourly_query(plan.period, plan.rules, plan.off, plan.start_us, plan.end_us, q.k, q.mode, inner, edge)



# --- SQL ------------------------------------------------------------------------------------------------
# The query text is assembled only from the fixed fragments below, picked by the validated period and
# point kinds; every value (file lists, flags, times, limits, breaks) is a named parameter ``$name``.

#: Parquet partitions of a parameter holding a file list (hive layout enterprise=/point=/month=).
_SRC = ("read_parquet({files}, hive_partitioning=true, "
        "hive_types={{'enterprise': VARCHAR, 'point': VARCHAR, 'month': VARCHAR}})")
_HOUR = str(_H)  # µs per hour, a unit conversion written into the query text
#: local-hour index → bucket start (local hour index) per period
_BUCKET = {
    "hour": "{h}",
    "day": "(({h} // 24) * 24)",
    "month": "(epoch_us(date_trunc('month', make_timestamp({h} * " + _HOUR + "))) // " + _HOUR + ")",
    "year": "(epoch_us(date_trunc('year', make_timestamp({h} * " + _HOUR + "))) // " + _HOUR + ")",
}


def _bucket_sql(period: str, hcol: str) -> str:
    """Bucket start of a local hour index expression ``hcol`` (a fixed SQL fragment of this module)."""
    return _BUCKET[period].format(h=hcol)


def _hourly_query(period: str, rules: Rules, off: int, start_us: int, end_us: int, k: int, mode: str,
                  inner: Sequence[str], edge: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """Rate, sample and interval points: HJ 75 hours, then periods. SQL text and its parameters.

    ``k`` is the minutes a valid reading covers (1 for minute data, its step for coarser data);
    ``mode`` is ``"hourly"`` (hourly means) or ``"sum"`` (interval amounts). Files wholly inside the
    range (``inner``) are read without a per-row time filter; the others (``edge``) with one.
    """
    params: dict[str, Any] = {
        "off": off, "valid": list(rules.valid_flags), "subst": list(rules.substituted_flags),
        "stopped": [f for f in rules.flags if f == "F"],
    }
    if k == 1:
        mask = "(1::UBIGINT << m)"
    else:
        mask = "((((1::UBIGINT << least($k::INTEGER, 60 - m)::INT)) - 1) << m)"
        params["k"] = k
    b = _bucket_sql(period, "h")
    if mode == "sum":
        hour_valid = "n_ok > 0"
    else:
        hour_valid = "bit_count(coalesce(m_ok, 0::UBIGINT)) >= $minv::INTEGER"
        params["minv"] = rules.min_valid_minutes
    measured = "sum(s_ok)" if mode == "sum" else f"sum(s_ok / n_ok) FILTER ({hour_valid})"
    # interval amounts add up: every substituted amount counts, and an hour holding one is a substituted
    # hour even if it also has measured amounts; rates: only hours without a valid hourly mean
    subst_hour = "n_sub > 0" if mode == "sum" else f"n_sub > 0 AND NOT ({hour_valid})"
    substituted = "sum(s_sub)" if mode == "sum" else f"sum(s_sub / n_sub) FILTER (n_sub > 0 AND NOT ({hour_valid}))"
    cols = "point, ts, value, flag, source"
    parts = []
    if inner:
        parts.append(f"SELECT {cols} FROM {_SRC.format(files='$inner::VARCHAR[]')}")
        params["inner"] = list(inner)
    if edge:
        parts.append(f"SELECT {cols} FROM {_SRC.format(files='$edge::VARCHAR[]')} "
                     "WHERE epoch_us(ts) >= $start_us::BIGINT AND epoch_us(ts) < $end_us::BIGINT")
        params.update(edge=list(edge), start_us=start_us, end_us=end_us)
    union = " UNION ALL ".join(parts)
    sql = f"""
WITH r AS (
  SELECT point, epoch_us(ts) + $off::BIGINT AS t, value,
         (list_contains($valid::VARCHAR[], flag) AND source <> 'substituted') AS ok,
         (source = 'substituted' OR list_contains($subst::VARCHAR[], flag)) AS sub,
         list_contains($stopped::VARCHAR[], flag) AS stp
  FROM ({union})
), r2 AS (
  SELECT point, t // {_HOUR} AS h, ((t // 60000000) % 60)::INT AS m, value, ok, sub, stp FROM r
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
    return sql, params


def _delta_sql(p: str, x: str) -> str:
    """Register difference ``x − p`` of two column names: plain when not negative, plus the modulus
    :math:`10^{\\lfloor\\log_{10} p\\rfloor+1}` only when the decrease is a rollover by the validation rule
    (limits ``$hi`` and ``$lo``), otherwise NULL (a reset is a break in the sequence, never an amount)."""
    m = f"pow(10, floor(log10({p})) + 1)"
    return (f"CASE WHEN {p} IS NULL OR {x} IS NULL THEN NULL WHEN {x} >= {p} THEN {x} - {p} "
            f"WHEN {p} > 0 AND {x} >= 0 AND {p} >= $hi::DOUBLE * {m} AND {x} < $lo::DOUBLE * {m} "
            f"THEN {x} - {p} + {m} ELSE NULL END")


def _total_query(period: str, rules: Rules, off: int, start_us: int, end_us: int, files: Sequence[str],
                 buckets: Sequence[tuple[int, int]],
                 breaks: Mapping[str, npt.NDArray[np.int64]]) -> tuple[str, dict[str, Any]]:
    """Totaliser amounts per period: readings are closing values, amounts are differences of the
    register interpolated linearly to the period boundaries. SQL text and its parameters.

    Anchors (valid or substituted readings) are grouped by their *closing hour* (a reading at hh:00
    closes the hour before) and register segment; the amount inside a group lies wholly in its hour, the
    amount between the last anchor of one group and the first of the next is spread over the periods it
    spans in proportion to time. Covered time is the time spanned by usable differences.

    The register segment of a reading is the number of instrument changes (``breaks``, µs UTC) at or
    before it, looked up by an ASOF join on a parameter table of the breaks.
    """
    def bucket(x: str) -> str:
        return _bucket_sql(period, x)

    s_l, e_l = start_us + off, end_us + off
    params: dict[str, Any] = {
        "files": list(files), "off": off, "valid": list(rules.valid_flags), "subst": list(rules.substituted_flags),
        "hi": float(rules.rollover_high), "lo": float(rules.rollover_low), "s_l": s_l, "e_l": e_l,
        "bs": [bs for bs, _ in buckets], "be": [be for _, be in buckets],
        "hc_lo": s_l // _H, "hc_hi": -(-e_l // _H),
    }
    bp: list[str] = []
    bt: list[int] = []
    bseg: list[int] = []
    for p, b in breaks.items():
        xs = np.sort(np.asarray(b, dtype=np.int64))
        bp += [p] * len(xs)
        bt += xs.tolist()
        bseg += np.searchsorted(xs, xs, side="right").tolist()  # breaks at or before each break
    src = _SRC.format(files="$files::VARCHAR[]")
    if bp:
        params.update(bp=bp, bt=bt, bseg=bseg)
        readings = f"""r0 AS (
  SELECT point, epoch_us(ts) AS tu, value, flag, source FROM {src}
), brk AS (
  SELECT unnest($bp::VARCHAR[]) AS point, unnest($bt::BIGINT[]) AS tu, unnest($bseg::INTEGER[]) AS seg
), r1 AS (
  SELECT r0.point, r0.tu, r0.value, r0.flag, r0.source, coalesce(brk.seg, 0) AS seg
  FROM r0 ASOF LEFT JOIN brk ON r0.point = brk.point AND r0.tu >= brk.tu
)"""
    else:
        readings = f"""r1 AS (
  SELECT point, epoch_us(ts) AS tu, value, flag, source, 0 AS seg FROM {src}
)"""
    sql = f"""
WITH {readings}, r AS (
  SELECT point, tu + $off::BIGINT AS t, value, seg,
         list_contains($valid::VARCHAR[], flag) OR list_contains($subst::VARCHAR[], flag)
           OR source = 'substituted' AS anchor,
         (source = 'substituted' OR list_contains($subst::VARCHAR[], flag)) AS sub,
         list_contains($valid::VARCHAR[], flag) AND source <> 'substituted' AS ok
  FROM r1
), g AS (
  SELECT point, (t - 1) // {_HOUR} AS hc, seg,
         arg_min(value, t) FILTER (anchor) AS v0, arg_max(value, t) FILTER (anchor) AS v1,
         min(t) FILTER (anchor) AS t0, max(t) FILTER (anchor) AS t1,
         bool_or(sub) FILTER (anchor) AS gsub, arg_min(sub, t) FILTER (anchor) AS sub0,
         arg_max(sub, t) FILTER (anchor) AS sub1,
         count(*) FILTER (t > $s_l::BIGINT AND t <= $e_l::BIGINT) AS n,
         count(*) FILTER (ok AND t > $s_l::BIGINT AND t <= $e_l::BIGINT) AS n_ok
  FROM r GROUP BY point, hc, seg
), w AS (
  SELECT point, hc, seg, v0, v1, t0, t1, gsub, sub0,
         lag(v1) OVER win AS pv, lag(t1) OVER win AS pt, lag(seg) OVER win AS pseg, lag(sub1) OVER win AS psub
  FROM g WHERE t0 IS NOT NULL
  WINDOW win AS (PARTITION BY point ORDER BY hc, seg)
), pieces AS (
  SELECT point, t0 AS a, t1 AS b, {_delta_sql("v0", "v1")} AS delta, gsub AS sub FROM w WHERE t1 > t0
  UNION ALL
  SELECT point, pt AS a, t0 AS b, CASE WHEN pseg <> seg THEN NULL ELSE {_delta_sql("pv", "v0")} END AS delta,
         (psub OR sub0) AS sub
  FROM w WHERE pt IS NOT NULL AND t0 > pt
), c AS (
  SELECT point, a, b, greatest(a, $s_l::BIGINT) AS ca, least(b, $e_l::BIGINT) AS cb, delta, sub FROM pieces
  WHERE b > $s_l::BIGINT AND a < $e_l::BIGINT
), one AS (
  SELECT point, {bucket(f"(ca // {_HOUR})")} AS b, delta * ((cb - ca) / (b - a)) AS amt, (cb - ca) AS dur, delta, sub
  FROM c WHERE {bucket(f"(ca // {_HOUR})")} = {bucket(f"((cb - 1) // {_HOUR})")}
), multi AS (
  SELECT c.point, k.bs AS b,
         delta * ((least(cb, k.be * {_HOUR}) - greatest(ca, k.bs * {_HOUR})) / (c.b - c.a)) AS amt,
         (least(cb, k.be * {_HOUR}) - greatest(ca, k.bs * {_HOUR})) AS dur, delta, sub
  FROM c JOIN (SELECT unnest($bs::BIGINT[]) AS bs, unnest($be::BIGINT[]) AS be) k
    ON k.bs * {_HOUR} < c.cb AND k.be * {_HOUR} > c.ca
  WHERE {bucket(f"(ca // {_HOUR})")} <> {bucket(f"((cb - 1) // {_HOUR})")}
), pa AS (
  SELECT point, b,
         sum(amt) FILTER (delta IS NOT NULL AND NOT sub) AS measured,
         coalesce(sum(amt) FILTER (delta IS NOT NULL AND sub), 0) AS substituted,
         coalesce(sum(dur) FILTER (delta IS NOT NULL AND NOT sub), 0)::DOUBLE / {_HOUR} AS valid_hours,
         coalesce(sum(dur) FILTER (delta IS NOT NULL AND sub), 0)::DOUBLE / {_HOUR} AS subst_hours
  FROM (SELECT * FROM one UNION ALL SELECT * FROM multi) GROUP BY point, b
), cn AS (
  SELECT point, {bucket("hc")} AS b, sum(n) AS n, sum(n_ok) AS n_valid FROM g
  WHERE hc >= $hc_lo::BIGINT AND hc < $hc_hi::BIGINT GROUP BY point, b
)
SELECT coalesce(pa.point, cn.point) AS point, coalesce(pa.b, cn.b) AS b,
       pa.measured, coalesce(pa.substituted, 0) AS substituted,
       coalesce(pa.valid_hours, 0) AS valid_hours, coalesce(pa.subst_hours, 0) AS subst_hours,
       0::DOUBLE AS stopped_hours, 0::DOUBLE AS invalid_hours,
       coalesce(cn.n, 0) AS n, coalesce(cn.n_valid, 0) AS n_valid
FROM pa FULL OUTER JOIN cn ON pa.point = cn.point AND pa.b = cn.b
"""
    return sql, params
