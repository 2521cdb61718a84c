"""Region-wide use cases on either engine (DuckDB on this machine, Apache Spark for a cluster): monthly totals
of every readable point and the annual accounts of many enterprises (区域规模汇总与核算)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from carbonmet.accounting import Account, gather_many
from carbonmet.lab import query_results
from carbonmet.metering.aggregation import Engine
from carbonmet.sites import load_plan, plan_versions

from ._errors import NotInScope, ServiceError
from ._metering import point_catalog
from ._scope import Scope
from ._usecase import use_case
from ._workspace import Workspace

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ENGINES = ("duckdb", "spark")
_LOT = timedelta(days=7)  # as account_enterprise: a lot sampled before 1 January may stand for the first hours


@contextmanager
def _engine(engine: str, spark: SparkSession | None, master: str) -> Iterator[tuple[Engine | None, Any]]:
    """The aggregation engine and the Spark session (None for DuckDB); a session started here is stopped here."""
    if engine not in ENGINES:
        raise ServiceError(f"引擎须为 duckdb 或 spark / engine must be duckdb or spark, got {engine!r}")
    if engine == "duckdb":
        yield None, None
        return
    try:
        from carbonmet.scale import spark_engine, spark_session
    except ImportError as exc:  # pragma: no cover - the optional extra is missing
        raise ServiceError(f"Spark 引擎需要 pyspark / the Spark engine needs pyspark (pip install carbonmet[spark]): "
                           f"{exc}") from None
    ctx = nullcontext(spark) if spark is not None else spark_session(master)
    with ctx as s:
        yield spark_engine(s), s


@use_case("read")
def monthly_point_totals(ws: Workspace, scope: Scope, year: int, *, points: Sequence[str] | None = None,
                         engine: str = "duckdb", spark: SparkSession | None = None,
                         master: str = "local[2]") -> pa.Table:
    """Monthly totals (or means) of every point in the read scope (or of ``points``, each of which must be
    readable) over the local ``year``, by ``engine`` (``duckdb`` or ``spark``; a session on ``master`` is
    started and stopped when ``spark`` is not given). The table of :func:`carbonmet.metering.aggregate_table`.
    """
    from carbonmet.scale import monthly_totals

    cat = point_catalog(ws, scope)
    if points is None:
        pts = sorted(cat)
    else:
        for p in points:
            if p not in cat:
                raise NotInScope("measurement point 计量点", p)
        pts = list(points)
    with _engine(engine, spark, master) as (eng, _):
        return monthly_totals(ws.store(), cat, pts, year, tz=ws.time_zone, engine=eng)


@use_case("read")
def account_enterprises(ws: Workspace, scope: Scope, enterprises: Sequence[str] | None, year: int, *,
                        engine: str = "duckdb", spark: SparkSession | None = None, master: str = "local[2]",
                        method: str = "lpu", trials: int = 100_000, seed: int | None = 0) -> dict[str, Account]:
    """Annual accounts of several enterprises (``None``: every enterprise in the read scope with a stored plan):
    one hourly aggregation over all their points (:func:`carbonmet.accounting.gather_many`) by ``engine``, then
    each enterprise's account (:func:`carbonmet.accounting.account_from_data`; on the Spark executors with
    ``engine="spark"``). Each account equals :func:`account_enterprise` of that enterprise.

    Raises
    ------
    NotInScope
        A named enterprise outside the read scope or without a stored plan.
    ServiceError
        Unknown engine, or a plan that does not say which streams are fuels, materials or products.
    """
    from carbonmet.scale import spark_accounts

    z = ZoneInfo(ws.time_zone)
    with ws.session() as s:
        if enterprises is None:
            codes = sorted({v.enterprise for v in plan_versions(s, None) if scope.can_read(v.enterprise)})
            plans = [p for p in (load_plan(s, e) for e in codes) if p is not None]
        else:
            plans = []
            for e in enterprises:
                scope.check_read(e, "emission account 排放核算", e)
                p = load_plan(s, e)
                if p is None:
                    raise NotInScope("monitoring plan 监测计划", e)
                plans.append(p)
        labs = {p.enterprise: query_results(s, enterprise=p.enterprise, start=datetime(year, 1, 1, tzinfo=z) - _LOT,
                                            end=datetime(year + 1, 1, 1, tzinfo=z)) for p in plans}
        cat = point_catalog(ws, scope)
        with _engine(engine, spark, master) as (eng, sess):
            data = gather_many(s, ws.store(), cat, plans, year, labs, tz=ws.time_zone, engine=eng)
            try:
                return spark_accounts(sess, data, method=method, trials=trials, seed=seed)
            except ValueError as exc:
                raise ServiceError(str(exc)) from None
