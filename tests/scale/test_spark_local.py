"""Spark (local[2]) gives the DuckDB results: every point-month of a generated enterprise, hour and month rows of a
minute store (HJ 75 hours, rollover, an instrument change across a month boundary), and the annual account."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from carbonmet import services
from carbonmet.metering import aggregate_table
from carbonmet.scale import SMALL_DATA_CONF, spark_engine, spark_session
from carbonmet.services import Scope, Workspace

from ._common import YEAR, assert_same_table, minute_store, region_workspace, same_number


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    with spark_session("local[2]", shuffle_partitions=4, conf=SMALL_DATA_CONF) as s:
        yield s


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    with region_workspace(tmp_path_factory.mktemp("scale")) as w:
        yield w


def test_cli_monthly_totals_and_accounts_of_all_enterprises(ws: Workspace) -> None:
    """The commands (DuckDB engine here: a second Spark session in this process would be the module's) print what
    the services return."""
    from typer.testing import CliRunner

    from carbonmet.cli import app

    assert ws.store_root is not None
    where = ["--db", f"sqlite:///{ws.store_root.parent / 'r.db'}", "--store", str(ws.store_root)]
    r = CliRunner().invoke(app, ["readings", "monthly", "--year", str(YEAR), "--json", *where])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)["rows"]
    t = services.monthly_point_totals(ws, Scope.centre(), YEAR)
    want = t.column("value_measured").to_pylist()
    assert len(rows) == len(want) > 0
    for x, v in zip(rows, want, strict=True):  # DuckDB's parallel sums may differ in the last bit between runs
        assert x["value_measured"] is None if math.isnan(v) else same_number(x["value_measured"], v, 1e-12)
    r = CliRunner().invoke(app, ["account", "--enterprises", "all", "--year", str(YEAR), "--method", "lpu", "--json",
                                 *where])
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)["accounts"]
    one = services.account_enterprise(ws, Scope.centre(), "E01", YEAR, method="lpu")
    assert list(got) == ["E01"] and same_number(got["E01"]["total"]["value"], one.total["value"])  # JSON: rounded
    r = CliRunner().invoke(app, ["account", "E01", "--enterprises", "all", "--year", str(YEAR), *where])
    assert r.exit_code == 2
    r = CliRunner().invoke(app, ["account", "--enterprises", "all", "--year", str(YEAR), "--engine", "flink", *where])
    assert r.exit_code == 1 and "engine" in r.output


def test_minute_store_hours_and_months_equal_duckdb(spark: Any, tmp_path: Path) -> None:
    st, cat, start, end = minute_store(tmp_path)
    pts = list(cat)
    for period in ("hour", "month"):  # days are hours summed as months are (one more Spark job, nothing new)
        a = aggregate_table(st, cat, pts, start, end, period)  # type: ignore[arg-type]
        b = aggregate_table(st, cat, pts, start, end, period, engine=spark_engine(spark))  # type: ignore[arg-type]
        assert a.num_rows > 0
        assert_same_table(a, b)


def test_every_point_month_of_the_region_equals_duckdb(spark: Any, ws: Workspace) -> None:
    a = services.monthly_point_totals(ws, Scope.centre(), YEAR)
    b = services.monthly_point_totals(ws, Scope.centre(), YEAR, engine="spark", spark=spark)
    assert a.num_rows == 12 * len(services.point_catalog(ws, Scope.centre()))
    assert_same_table(a, b)


def test_annual_accounts_equal_duckdb(spark: Any, ws: Workspace) -> None:
    a = services.account_enterprises(ws, Scope.centre(), None, YEAR, method="lpu")
    b = services.account_enterprises(ws, Scope.centre(), None, YEAR, engine="spark", spark=spark, method="lpu")
    assert list(a) == list(b) == ["E01"]
    for e in a:
        ta, tb = a[e].total, b[e].total
        assert same_number(ta["value"], tb["value"]) and same_number(ta["u"], tb["u"]), (e, ta, tb)
        assert ta["value"] > 0
        one = services.account_enterprise(ws, Scope.centre(), e, YEAR, method="lpu")
        assert one.total["value"] == ta["value"] and one.total["u"] == ta["u"]


def test_duckdb_in_chunks_of_points_gives_the_same_table(tmp_path: Path, ws: Workspace) -> None:
    """The default engine runs at most ``chunk_points`` points at a time (memory); the table is the same."""
    st, cat, start, end = minute_store(tmp_path)
    pts = list(cat)
    for period in ("hour", "month"):
        whole = aggregate_table(st, cat, pts, start, end, period)  # type: ignore[arg-type]
        for size in (1, 2):
            assert_same_table(whole, aggregate_table(st, cat, pts, start, end, period,  # type: ignore[arg-type]
                                                     chunk_points=size))
    region = services.point_catalog(ws, Scope.centre())
    rp = sorted(region)
    z = ZoneInfo(ws.time_zone)
    a = aggregate_table(ws.store(), region, rp, datetime(YEAR, 1, 1, tzinfo=z), datetime(YEAR + 1, 1, 1, tzinfo=z))
    b = aggregate_table(ws.store(), region, rp, datetime(YEAR, 1, 1, tzinfo=z), datetime(YEAR + 1, 1, 1, tzinfo=z),
                        chunk_points=7)
    assert a.num_rows == 12 * len(rp) and len(rp) > 7
    assert_same_table(a, b)
