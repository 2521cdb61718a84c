r"""The aggregation queries of :mod:`carbonmet.metering.aggregation` in Spark SQL.

The same rules as the DuckDB queries (``carbonmet/metering/_aggregate_sql.py``), fragment for fragment: HJ 75
hourly validity (a bit per valid minute, an hour valid with ``min_valid_minutes`` bits set), totaliser
differences interpolated linearly to period boundaries with the rollover rule and breaks at instrument
changes, and the sums per period. Every value (flags, times, offsets, limits) is a named parameter
(``:name``); DataFrames (the readings, the breaks, the buckets) are referenced as ``{name}``; the SQL text is
chosen from fixed fragments by the validated period and point kinds, never built from data.

Dialect differences, each the same arithmetic: ``div`` for DuckDB's integer ``//`` (times are after 1970,
so truncation and floor agree), ``min_by``/``max_by`` for ``arg_min``/``arg_max`` (rows whose argument is NULL
left out, as DuckDB does), month and year buckets through ``unix_date``/``trunc`` on dates (independent of
the session time zone), the register segment as the count of breaks at or before a reading (the ASOF join's
``seg``).
"""

from __future__ import annotations

from typing import Any

_H = 3_600_000_000  # µs per hour
_HOUR = str(_H)


def bucket_sql(period: str, h: str) -> str:
    """Bucket start (a local hour index) of a local hour index expression ``h`` (fixed fragments)."""
    if period == "hour":
        return f"({h})"
    if period == "day":
        return f"((({h}) div 24) * 24)"
    unit = {"month": "MM", "year": "YEAR"}[period]
    return f"(CAST(unix_date(trunc(date_from_unix_date(CAST(({h}) div 24 AS INT)), '{unit}')) AS BIGINT) * 24)"


def hourly_sql(period: str, k: int, mode: str, minv: int) -> tuple[str, dict[str, Any]]:
    """Rate, sample and interval points: HJ 75 hours, then periods (see ``_hourly_query`` of metering).

    The readings are the DataFrame ``{r0}`` (columns ``point``, ``ts``, ``value``, ``flag``, ``source``, already
    cut to the range). Returns the SQL text and the parameters it needs besides ``off``, ``valid``, ``subst``,
    ``stopped``.
    """
    params: dict[str, Any] = {}
    if k == 1:
        mask = "shiftleft(1L, m)"
    else:
        mask = "shiftleft(shiftleft(1L, least(:k, 60 - m)) - 1, m)"
        params["k"] = k
    b = bucket_sql(period, "h")
    if mode == "sum":
        hour_valid = "n_ok > 0"
    else:
        hour_valid = "bit_count(coalesce(m_ok, 0L)) >= :minv"
        params["minv"] = minv
    measured = "sum(s_ok)" if mode == "sum" else f"sum(s_ok / n_ok) FILTER (WHERE {hour_valid})"
    subst_hour = "n_sub > 0" if mode == "sum" else f"n_sub > 0 AND NOT ({hour_valid})"
    substituted = ("sum(s_sub)" if mode == "sum"
                   else f"sum(s_sub / n_sub) FILTER (WHERE n_sub > 0 AND NOT ({hour_valid}))")
    sql = f"""
WITH r AS (
  SELECT point, unix_micros(ts) + :off AS t, value,
         (array_contains(:valid, flag) AND source <> 'substituted') AS ok,
         (source = 'substituted' OR array_contains(:subst, flag)) AS sub,
         array_contains(:stopped, flag) AS stp
  FROM {{r0}}
), r2 AS (
  SELECT point, t div {_HOUR} AS h, CAST((t div 60000000) % 60 AS INT) AS m, value, ok, sub, stp FROM r
), hr AS (
  SELECT point, h,
         count(*) AS n,
         count(*) FILTER (WHERE ok) AS n_ok,
         sum(value) FILTER (WHERE ok) AS s_ok,
         bit_or({mask}) FILTER (WHERE ok) AS m_ok,
         count(*) FILTER (WHERE sub) AS n_sub,
         sum(value) FILTER (WHERE sub) AS s_sub,
         count(*) FILTER (WHERE stp) AS n_stp
  FROM r2 GROUP BY point, h
)
SELECT point, {b} AS b,
       {measured} AS measured,
       {substituted} AS substituted,
       CAST(count(*) FILTER (WHERE {hour_valid}) AS DOUBLE) AS valid_hours,
       CAST(count(*) FILTER (WHERE {subst_hour}) AS DOUBLE) AS subst_hours,
       CAST(count(*) FILTER (WHERE n_stp > 0 AND NOT ({hour_valid}) AND n_sub = 0) AS DOUBLE) AS stopped_hours,
       CAST(count(*) FILTER (WHERE NOT ({hour_valid}) AND n_sub = 0 AND n_stp = 0) AS DOUBLE) AS invalid_hours,
       sum(n) AS n, sum(n_ok) AS n_valid
FROM hr GROUP BY point, {b}
"""
    return sql, params


def _delta_sql(p: str, x: str) -> str:
    """Register difference ``x − p``: plain when not negative, plus :math:`10^{\\lfloor\\log_{10} p\\rfloor+1}`
    only for a rollover by the validation rule (``:hi``, ``:lo``), otherwise NULL (a break)."""
    m = f"pow(10, floor(log10({p})) + 1)"
    return (f"CASE WHEN {p} IS NULL OR {x} IS NULL THEN NULL WHEN {x} >= {p} THEN {x} - {p} "
            f"WHEN {p} > 0 AND {x} >= 0 AND {p} >= :hi * {m} AND {x} < :lo * {m} "
            f"THEN {x} - {p} + {m} ELSE NULL END")


def total_sql(period: str) -> str:
    """Totaliser amounts per period (see ``_total_query`` of metering): the readings ``{r0}``, the breaks
    ``{brk}`` (``point``, ``bt`` an array of break instants [µs UTC]) and the buckets ``{k}`` (``bs``, ``be``
    local hour indices). Parameters: ``off``, ``valid``, ``subst``, ``hi``, ``lo``, ``s_l``, ``e_l``,
    ``hc_lo``, ``hc_hi``."""
    def bucket(x: str) -> str:
        return bucket_sql(period, x)

    return f"""
WITH r1 AS (
  SELECT /*+ BROADCAST(brk) */ r0.point, unix_micros(r0.ts) AS tu, r0.value, r0.flag, r0.source,
         coalesce(size(filter(brk.bt, x -> x <= unix_micros(r0.ts))), 0) AS seg
  FROM {{r0}} r0 LEFT JOIN {{brk}} brk ON r0.point = brk.point
), r AS (
  SELECT point, tu + :off AS t, value, seg,
         array_contains(:valid, flag) OR array_contains(:subst, flag) OR source = 'substituted' AS anchor,
         (source = 'substituted' OR array_contains(:subst, flag)) AS sub,
         array_contains(:valid, flag) AND source <> 'substituted' AS ok
  FROM r1
), g AS (
  SELECT point, (t - 1) div {_HOUR} AS hc, seg,
         min_by(value, t) FILTER (WHERE anchor AND value IS NOT NULL) AS v0,
         max_by(value, t) FILTER (WHERE anchor AND value IS NOT NULL) AS v1,
         min(t) FILTER (WHERE anchor) AS t0, max(t) FILTER (WHERE anchor) AS t1,
         bool_or(sub) FILTER (WHERE anchor) AS gsub, min_by(sub, t) FILTER (WHERE anchor) AS sub0,
         max_by(sub, t) FILTER (WHERE anchor) AS sub1,
         count(*) FILTER (WHERE t > :s_l AND t <= :e_l) AS n,
         count(*) FILTER (WHERE ok AND t > :s_l AND t <= :e_l) AS n_ok
  FROM r GROUP BY point, (t - 1) div {_HOUR}, seg
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
  SELECT point, a, b, greatest(a, :s_l) AS ca, least(b, :e_l) AS cb, delta, sub FROM pieces
  WHERE b > :s_l AND a < :e_l
), one AS (
  SELECT point, {bucket(f"ca div {_HOUR}")} AS b, delta * ((cb - ca) / (b - a)) AS amt, (cb - ca) AS dur, delta, sub
  FROM c WHERE {bucket(f"ca div {_HOUR}")} = {bucket(f"(cb - 1) div {_HOUR}")}
), multi AS (
  SELECT /*+ BROADCAST(k) */ c.point, k.bs AS b,
         delta * ((least(cb, k.be * {_HOUR}) - greatest(ca, k.bs * {_HOUR})) / (c.b - c.a)) AS amt,
         (least(cb, k.be * {_HOUR}) - greatest(ca, k.bs * {_HOUR})) AS dur, delta, sub
  FROM c JOIN {{k}} k ON k.bs * {_HOUR} < c.cb AND k.be * {_HOUR} > c.ca
  WHERE {bucket(f"ca div {_HOUR}")} <> {bucket(f"(cb - 1) div {_HOUR}")}
), pa AS (
  SELECT point, b,
         sum(amt) FILTER (WHERE delta IS NOT NULL AND NOT sub) AS measured,
         coalesce(sum(amt) FILTER (WHERE delta IS NOT NULL AND sub), 0) AS substituted,
         CAST(coalesce(sum(dur) FILTER (WHERE delta IS NOT NULL AND NOT sub), 0) AS DOUBLE) / {_HOUR} AS valid_hours,
         CAST(coalesce(sum(dur) FILTER (WHERE delta IS NOT NULL AND sub), 0) AS DOUBLE) / {_HOUR} AS subst_hours
  FROM (SELECT * FROM one UNION ALL SELECT * FROM multi) GROUP BY point, b
), cn AS (
  SELECT point, {bucket("hc")} AS b, sum(n) AS n, sum(n_ok) AS n_valid FROM g
  WHERE hc >= :hc_lo AND hc < :hc_hi GROUP BY point, {bucket("hc")}
)
SELECT coalesce(pa.point, cn.point) AS point, coalesce(pa.b, cn.b) AS b,
       pa.measured, coalesce(pa.substituted, 0) AS substituted,
       coalesce(pa.valid_hours, 0) AS valid_hours, coalesce(pa.subst_hours, 0) AS subst_hours,
       CAST(0 AS DOUBLE) AS stopped_hours, CAST(0 AS DOUBLE) AS invalid_hours,
       coalesce(cn.n, 0) AS n, coalesce(cn.n_valid, 0) AS n_valid
FROM pa FULL OUTER JOIN cn ON pa.point = cn.point AND pa.b = cn.b
"""
