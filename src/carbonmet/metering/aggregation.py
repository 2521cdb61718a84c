"""Period aggregation and activity data (数据汇总与活动水平数据), in full.

:func:`aggregate_table` / :func:`aggregate` → :class:`PeriodAggregate` (with :func:`integral_unit`, the unit
of a rate's time integral); :func:`activity_data` → :class:`ActivityData`, and the certificate coverage
of a point's instruments over a period (:func:`certificate_coverage` → :class:`CertificateCoverage`).
The common ones are also in :mod:`carbonmet.metering`.

An aggregation is three steps, so that another engine can run the middle one with the same rules:
:func:`plan_aggregation` (which points, files, rules: pure data, :class:`AggregationPlan`) → an engine
(:func:`run_duckdb` here; Spark in :mod:`carbonmet.scale`) → :func:`assemble_aggregation` (pure). The queries
are written once (:func:`hourly_sql`, :func:`total_sql`) and spelled by a :class:`SqlDialect` (:data:`DUCKDB`).
"""

from ._activity import ActivityData, CertificateCoverage, activity_data, certificate_coverage
from ._aggregate import (
    ENGINE_COLUMNS,
    AggregationPlan,
    AggregationQuery,
    Engine,
    PeriodAggregate,
    aggregate,
    aggregate_table,
    assemble_aggregation,
    integral_unit,
    plan_aggregation,
    run_duckdb,
)
from ._aggregate_sql import DUCKDB, SqlDialect, hourly_sql, total_sql

__all__ = [
    "DUCKDB",
    "ENGINE_COLUMNS",
    "ActivityData",
    "AggregationPlan",
    "AggregationQuery",
    "CertificateCoverage",
    "Engine",
    "PeriodAggregate",
    "SqlDialect",
    "activity_data",
    "aggregate",
    "aggregate_table",
    "assemble_aggregation",
    "certificate_coverage",
    "hourly_sql",
    "integral_unit",
    "plan_aggregation",
    "run_duckdb",
    "total_sql",
]
