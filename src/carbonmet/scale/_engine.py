"""Spark as the engine of :func:`carbonmet.metering.aggregate_table`: the plan's queries over the store's
Parquet files, the plan and the assembly unchanged (汇总的 Spark 引擎)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from carbonmet.metering import Store
from carbonmet.metering.aggregation import (
    ENGINE_COLUMNS,
    AggregationPlan,
    AggregationQuery,
    Engine,
    hourly_sql,
    total_sql,
)

from ._sql import READINGS_WITH_SEGMENTS, SPARK

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: Spark settings of a session for this job; the session time zone does not enter any result (times are µs
#: since the epoch, buckets are computed on dates), UTC only makes logs and displays unambiguous.
SESSION_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    # partition values (enterprise=, point=, month=) are codes: never guess numbers or dates from them
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    # the file lists are explicit (the plan's): list them on the driver, never in a Spark job of their own
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "1000000",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.ansi.enabled": "false",  # NULL, not an error, for log10 of a register ≤ 0 (as DuckDB's CASE)
}


#: Settings for small inputs (tests, a laptop): no whole-stage code generation and a JVM that compiles with C1
#: only, which halve the start-up of short jobs; leave them out for production sizes.
SMALL_DATA_CONF: dict[str, str] = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    "spark.executor.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
}


def local_session(master: str = "local[2]", *, shuffle_partitions: int = 4, app_name: str = "carbonmet",
                  conf: dict[str, str] | None = None) -> SparkSession:
    """A Spark session for the aggregation jobs (``local[n]``, ``local-cluster[…]`` or a cluster URL).

    ``SPARK_HOME`` is set to the pyspark wheel's own directory when unset (``local-cluster`` starts
    executors from it), ``PYSPARK_PYTHON`` to this interpreter. The UI is off; settings of :data:`SESSION_CONF` and ``conf`` are applied.
    """
    import pyspark
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_HOME", os.path.dirname(pyspark.__file__))
    # Python workers (the account step) run this interpreter, which has carbonmet; on a cluster the
    # executors' Python must have it installed too (docs/scale.md)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    b = (SparkSession.builder.master(master).appName(app_name)
         .config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", str(shuffle_partitions)))
    for k, v in {**SESSION_CONF, **(conf or {})}.items():
        b = b.config(k, v)
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@contextmanager
def spark_session(master: str = "local[2]", **kwargs: Any) -> Iterator[SparkSession]:
    """:func:`local_session` stopped at the end of the block."""
    spark = local_session(master, **kwargs)
    try:
        yield spark
    finally:
        spark.stop()


def _readings(spark: SparkSession, store: Store, files: Sequence[str]) -> DataFrame:
    """The readings of ``files`` with their partition columns (``point`` among them) from the path."""
    base = str(store.root / "readings")
    return (spark.read.schema(_READINGS).option("basePath", base).parquet(*files)
            .select("point", "ts", "value", "flag", "source"))


#: The store's Parquet columns (carbonmet.metering.schemas.READINGS_SCHEMA) and the partition columns of its
#: path; given, so that Spark reads no file footers to infer them.
_READINGS = ("ts timestamp, value double, flag string, source string, batch string, "
             "enterprise string, point string, month string")


def _empty_breaks(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame([], "point string, bt array<bigint>")


def query_frame(spark: SparkSession, store: Store, plan: AggregationPlan, q: AggregationQuery) -> DataFrame:
    """The rows of one query of ``plan`` as a Spark DataFrame (columns
    :data:`carbonmet.metering.aggregation.ENGINE_COLUMNS`, with fixed types), not yet computed."""
    from pyspark.sql import functions as F

    rules = plan.rules
    args: dict[str, Any] = {"off": plan.off, "valid": list(rules.valid_flags), "subst": list(rules.substituted_flags)}
    if q.mode == "total":
        s_l, e_l = plan.start_us + plan.off, plan.end_us + plan.off
        args.update(hi=float(rules.rollover_high), lo=float(rules.rollover_low), s_l=s_l, e_l=e_l,
                    hc_lo=s_l // 3_600_000_000, hc_hi=-(-e_l // 3_600_000_000))
        rows = [(p, sorted(int(x) for x in b)) for p, b in q.breaks.items() if len(b)]
        brk = spark.createDataFrame(rows, "point string, bt array<bigint>") if rows else _empty_breaks(spark)
        k = spark.createDataFrame([(int(a), int(b)) for a, b in plan.buckets], "bs bigint, be bigint")
        sql = total_sql(SPARK, plan.period, READINGS_WITH_SEGMENTS, "{k}")
        df = spark.sql(sql, args=SPARK.used(sql, args), r0=_readings(spark, store, q.files), brk=brk, k=k)
    else:
        inner, edge = plan.inner_edge(q)
        parts = []
        if inner:
            parts.append(_readings(spark, store, inner))
        if edge:
            us = F.unix_micros(F.col("ts"))
            parts.append(_readings(spark, store, edge).where((us >= plan.start_us) & (us < plan.end_us)))
        r0 = parts[0] if len(parts) == 1 else parts[0].unionByName(parts[1])
        # "" never is a flag: nothing stopped (an empty array parameter has no element type)
        args.update(stopped=[f for f in rules.flags if f == "F"] or [""], k=q.k, minv=rules.min_valid_minutes)
        sql = hourly_sql(SPARK, plan.period, q.k, q.mode, "{r0}")
        df = spark.sql(sql, args=SPARK.used(sql, args), r0=r0)
    return df.select(*(F.col(c).cast(t) for c, t in _TYPES.items()))


#: Spark types of the engine columns (every query gives the same, so the queries' rows can be one union).
_TYPES = {"point": "string", "b": "bigint", "measured": "double", "substituted": "double", "valid_hours": "double",
          "subst_hours": "double", "stopped_hours": "double", "invalid_hours": "double", "n": "bigint",
          "n_valid": "bigint"}
assert tuple(_TYPES) == ENGINE_COLUMNS


def run_plan(spark: SparkSession, store: Store, plan: AggregationPlan) -> list[pa.Table]:
    """Rows of every query of ``plan``, computed as ONE Spark job (the union of the queries: their points are
    disjoint), as one Arrow table in a list (the engine protocol)."""
    frames = [query_frame(spark, store, plan, q) for q in plan.queries]
    if not frames:
        return []
    df = frames[0]
    for f in frames[1:]:
        df = df.unionByName(f)
    return [df.toArrow()]


def spark_engine(spark: SparkSession) -> Engine:
    """An aggregation engine running the plan's queries on ``spark`` (for ``engine=`` of
    :func:`carbonmet.metering.aggregate_table` and :func:`carbonmet.accounting.gather_many`)."""
    def run(store: Store, plan: AggregationPlan) -> list[pa.Table]:
        return run_plan(spark, store, plan)

    return run
