"""Monthly point totals and per-enterprise annual accounts, on either engine (月度汇总与年度核算)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pyarrow as pa

from carbonmet.accounting import Account, PlanData, account_from_data
from carbonmet.metering import PointInfo, Store, aggregate_table
from carbonmet.metering.aggregation import Engine

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def monthly_totals(store: Store, catalog: Mapping[str, PointInfo], points: Sequence[str], year: int, *,
                   tz: str = "Asia/Shanghai", engine: Engine | None = None) -> pa.Table:
    """Monthly totals (or means) of ``points`` over the local calendar ``year``: the table of
    :func:`carbonmet.metering.aggregate_table` with period ``"month"``, run by ``engine`` (default DuckDB)."""
    z = ZoneInfo(tz)
    return aggregate_table(store, catalog, points, datetime(year, 1, 1, tzinfo=z), datetime(year + 1, 1, 1, tzinfo=z),
                           "month", tz=tz, engine=engine)


def _account_one(item: tuple[str, PlanData], method: str, trials: int, seed: int | None) -> tuple[str, Account]:
    e, d = item
    return e, account_from_data(d, method=method, trials=trials, seed=seed)  # type: ignore[arg-type]


def spark_accounts(spark: SparkSession | None, data: Mapping[str, PlanData], *, method: str = "lpu",
                   trials: int = 100_000, seed: int | None = 0) -> dict[str, Account]:
    """The annual account of every enterprise of ``data`` (:func:`carbonmet.accounting.account_from_data`),
    one task per enterprise on ``spark``'s executors; in this process when ``spark`` is ``None``.

    The gathered data travel to the executors by pickle and the accounts come back the same way: the
    numbers are the ones a local run gives (the same code on the same inputs, the same seed).

    Returns
    -------
    dict of str to Account
        By enterprise code, in the order of ``data``.
    """
    items = list(data.items())
    if spark is None or not items:
        return dict(_account_one(i, method, trials, seed) for i in items)
    rdd = spark.sparkContext.parallelize(items, len(items))
    got = dict(rdd.map(lambda i: _account_one(i, method, trials, seed)).collect())
    return {e: got[e] for e, _ in items}
