r"""Spark's spelling of the aggregation SQL (:mod:`carbonmet.metering.aggregation`): the queries themselves are
written once, in ``carbonmet/metering/_aggregate_sql.py``; this module gives the dialect and the readings.

Dialect differences, each the same arithmetic: ``:name`` parameters typed by their values, ``div`` for DuckDB's
integer ``//`` (times are after 1970, so truncation and floor agree), ``min_by``/``max_by`` for
``arg_min``/``arg_max`` (rows whose argument is NULL left out, as DuckDB does), ``FILTER (WHERE c)``, signed
64-bit masks (a minute's bit is below 2^60), month and year buckets through ``unix_date``/``trunc`` on dates
(independent of the session time zone), and the register segment as the count of breaks at or before a reading
(DuckDB's ASOF join). DataFrames (the readings ``{r0}``, the breaks ``{brk}``, the buckets ``{k}``) are
referenced by name.
"""

from __future__ import annotations

from carbonmet.metering.aggregation import SqlDialect

#: Spark SQL (4.x) as the aggregation's dialect.
SPARK = SqlDialect(
    name="spark",
    param=":{n}",
    contains="array_contains(:{n}, {x})",
    idiv="div",
    filter="FILTER (WHERE {c})",
    cast="CAST({x} AS {t})",
    arg_min="min_by",
    arg_max="max_by",
    epoch_us="unix_micros({x})",
    minute_bit="shiftleft(1L, m)",
    minute_bits="shiftleft(shiftleft(1L, least(:k, 60 - m)) - 1, m)",
    no_bits="0L",
    buckets={
        "hour": "({h})",
        "day": "((({h}) div 24) * 24)",
        "month": "(CAST(unix_date(trunc(date_from_unix_date(CAST(({h}) div 24 AS INT)), 'MM')) AS BIGINT) * 24)",
        "year": "(CAST(unix_date(trunc(date_from_unix_date(CAST(({h}) div 24 AS INT)), 'YEAR')) AS BIGINT) * 24)",
    },
    pattern=r"(?<![:\w]):([a-z_]+)",
    broadcast_hint="/*+ BROADCAST({k}) */ ",
)

#: The ``r1`` readings of a totaliser query: each reading with its register segment, the number of the point's
#: breaks (instrument changes, µs UTC) at or before it, from the broadcast table ``{brk}`` (``point``, ``bt``).
READINGS_WITH_SEGMENTS = """r1 AS (
  SELECT /*+ BROADCAST(brk) */ r0.point, unix_micros(r0.ts) AS tu, r0.value, r0.flag, r0.source,
         coalesce(size(filter(brk.bt, x -> x <= unix_micros(r0.ts))), 0) AS seg
  FROM {r0} r0 LEFT JOIN {brk} brk ON r0.point = brk.point
)"""
