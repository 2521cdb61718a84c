"""Spark in ``local-cluster`` mode (a master, two worker processes with their own executor JVMs and Python workers)
gives the DuckDB results on the minute store, hour by hour and month by month."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from carbonmet.metering import aggregate_table
from carbonmet.scale import SMALL_DATA_CONF, spark_engine, spark_session

from ._common import assert_same_table, minute_store


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    # two executors of one core and 1 GiB each, started from the pyspark wheel (SPARK_HOME set by scale)
    with spark_session("local-cluster[2,1,1024]", shuffle_partitions=4, conf=SMALL_DATA_CONF) as s:
        assert s.sparkContext.master.startswith("local-cluster")
        yield s


def test_local_cluster_equals_duckdb(cluster: Any, tmp_path: Path) -> None:
    st, cat, start, end = minute_store(tmp_path)
    pts = list(cat)
    for period in ("hour", "month"):
        a = aggregate_table(st, cat, pts, start, end, period)  # type: ignore[arg-type]
        b = aggregate_table(st, cat, pts, start, end, period, engine=spark_engine(cluster))  # type: ignore[arg-type]
        assert_same_table(a, b)
    # the work ran in executor processes: they have registered with the driver (which is listed too)
    assert cluster.sparkContext._jsc.sc().getExecutorMemoryStatus().size() >= 2
