"""National scale (全国规模): the same aggregation and accounts on Apache Spark over the same Parquet store.

The rules are not re-typed: :func:`carbonmet.metering.aggregation.plan_aggregation` decides which points,
files and rules (the metering ``rules.toml``), Spark runs the queries (:func:`spark_engine`), and
:func:`carbonmet.metering.aggregation.assemble_aggregation` builds the same table DuckDB's path builds.
The per-enterprise account step (:func:`carbonmet.accounting.account_from_data`) runs on the executors
(:func:`spark_accounts`). PySpark is an optional extra (``pip install carbonmet[spark]``, Java 17+).
"""

from ._accounts import monthly_totals, spark_accounts
from ._engine import (
    SESSION_CONF,
    SMALL_DATA_CONF,
    local_session,
    query_frame,
    run_plan,
    spark_engine,
    spark_session,
)

__all__ = [
    "SESSION_CONF",
    "SMALL_DATA_CONF",
    "local_session",
    "monthly_totals",
    "query_frame",
    "run_plan",
    "spark_accounts",
    "spark_engine",
    "spark_session",
]
