"""Issue 10: hostile readings — one timestamp plausibility window (D3, D22) and one identifier rule
for point ids, with a store that never builds a path outside itself (D4)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from carbonmet.metering import Catalog, PointInfo, RawReading, Store
from carbonmet.metering.errors import StoreError
from carbonmet.metering.hj212 import build, build_point_map, encode, start_server, store_sink
from carbonmet.metering.rules import default_rules, parse_rules
from carbonmet.quantities.rules import READINGS_WINDOW

NOW = datetime.now(UTC)


@pytest.mark.parametrize("ts", [datetime(9999, 12, 31, 12, tzinfo=UTC), datetime(1, 1, 2, tzinfo=UTC),
                                datetime(1970, 1, 1, tzinfo=UTC), datetime(1989, 12, 31, 23, tzinfo=UTC),
                                NOW + timedelta(days=2)])
def test_D3_readings_dated_9999_or_0001_are_quarantined_as_implausible(tmp_path: Path, catalog: Catalog,
                                                                       ts: datetime) -> None:
    st_ = Store(tmp_path)
    good = datetime(2025, 1, 1, 12, tzinfo=UTC)
    rep = st_.ingest_readings([RawReading(good, 1000.0, "E01.COAL"), RawReading(ts, 1001.0, "E01.COAL")],
                              "b", catalog, source="test")
    assert (rep.received, rep.stored, rep.quarantined) == (2, 1, 1)
    assert rep.by_reason == {"implausible_timestamp": 1}
    q = st_.quarantine()
    assert q.column("reason").to_pylist() == ["implausible_timestamp"]
    assert str(ts.year) in q.column("detail").to_pylist()[0]
    # nothing of the implausible reading reached a partition: reading the point works and finds one row
    assert st_.readings("E01.COAL").column("value").to_pylist() == [1000.0]
    assert not list((tmp_path / "readings").rglob("month=9999-*")) and not list((tmp_path / "readings").rglob("month=0001-*"))


def test_D3_window_is_configurable_and_its_defaults_are_documented() -> None:
    rules = default_rules()
    assert rules.timestamps == READINGS_WINDOW
    assert rules.timestamps.earliest == date(1990, 1, 1) and rules.timestamps.ahead == timedelta(days=1)
    from importlib import resources

    toml = resources.files("carbonmet.metering").joinpath("rules.toml").read_text(encoding="utf-8")
    flags = resources.files("carbonmet.metering").joinpath("flags.csv").read_text(encoding="utf-8")
    custom = parse_rules(toml.replace("earliest = 1990-01-01", "earliest = 1960-01-01")
                         .replace("max_ahead_hours = 24", "max_ahead_hours = 2"), flags)
    assert custom.timestamps.earliest == date(1960, 1, 1) and custom.timestamps.ahead == timedelta(hours=2)
    assert custom.timestamps.problem(datetime(1970, 1, 1, tzinfo=UTC)) is None
    assert READINGS_WINDOW.problem(datetime(1970, 1, 1, tzinfo=UTC)) is not None
    doc = (Path(__file__).parents[2] / "docs" / "input-rules.md").read_text(encoding="utf-8")
    assert "1990-01-01" in doc and "now + 1 day" in doc


@pytest.mark.parametrize("pid", ["../../../escape", "E01/../../x", "..", "/tmp/abs", "E01.CO AL"])
def test_D4_point_id_with_dotdot_is_quarantined_and_nothing_is_written_outside(tmp_path: Path, pid: str) -> None:
    root = tmp_path / "store"
    cat = Catalog({pid: PointInfo(pid, "E01", "t", "total"), "E01.OK": PointInfo("E01.OK", "E01", "t", "total")})
    st_ = Store(root)
    ts = datetime(2025, 1, 1, 12, tzinfo=UTC)
    rep = st_.ingest_readings([RawReading(ts, 1.0, pid), RawReading(ts, 2.0, "E01.OK")], "b", cat, source="test")
    assert (rep.stored, rep.by_reason) == (1, {"invalid_point_id": 1})
    outside = [p for p in tmp_path.rglob("*.parquet") if root not in p.parents]
    assert outside == []
    assert st_.quarantine().column("point_id").to_pylist() == [pid]
    assert st_.files(points=[pid]) == []


@pytest.mark.parametrize(("enterprise", "point"), [("../x", "E01.OK"), ("E01", "../../x"), ("E01", "a/b")])
def test_D4_store_never_joins_an_unchecked_code_into_a_path(tmp_path: Path, enterprise: str, point: str) -> None:
    st_ = Store(tmp_path)
    with pytest.raises(StoreError):
        st_.partition_dir(enterprise, point, "2025-01")
    with pytest.raises(StoreError):
        st_.partition_dir("E01", "E01.OK", "../2025-01")
    assert st_.partition_dir("E01", "E01.OK", "2025-01").is_relative_to(tmp_path)


def test_D4_enterprise_code_with_dotdot_in_the_catalog_writes_nothing_outside(tmp_path: Path) -> None:
    root = tmp_path / "store"
    cat = Catalog({"E01.OK": PointInfo("E01.OK", "../../evil", "t", "total")})
    st_ = Store(root)
    with pytest.raises(StoreError, match="enterprise"):
        st_.ingest_readings([RawReading(datetime(2025, 1, 1, tzinfo=UTC), 1.0, "E01.OK")], "b", cat, source="test")
    assert [p for p in tmp_path.rglob("*.parquet") if root not in p.parents] == []


MN = "010000A8900016F000169DC0"


def _frame(qn: int, data_time: str) -> bytes:
    head = {"QN": f"20250301120000{qn:03d}", "ST": "31", "CN": "2011", "PW": "123456", "MN": MN, "Flag": 5}
    return encode(build(head, [{"DataTime": data_time}, {"a21026-Rtd": "35.2", "a21026-Flag": "N"}]))


def test_D22_hj212_datatime_2099_and_1970_are_quarantined(tmp_path: Path) -> None:
    cat = Catalog({"E01.SO2": PointInfo("E01.SO2", "E01", "mg/Nm3", "rate", hj212_mn=MN, hj212_code="a21026@2011")})
    st_ = Store(tmp_path)
    sink, reject = store_sink(st_, cat)

    async def scenario() -> None:
        server = await start_server("127.0.0.1", 0, sink, build_point_map(cat.values()), reject=reject)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            for i, dt in enumerate(("20990301120000", "19700101000000", "20250301120000")):
                writer.write(_frame(i + 1, dt))
                await writer.drain()
                async with asyncio.timeout(10):
                    await reader.readuntil(b"\r\n")
        finally:
            writer.close()
            await server.close()

    asyncio.run(scenario())
    assert st_.readings("E01.SO2").column("value").to_pylist() == [35.2]  # only the 2025 packet
    q = st_.quarantine()
    assert sorted(q.column("reason").to_pylist()) == ["implausible_timestamp"] * 2


# --- D3: readings stored before the window existed (or by a store with a wider window) -------------------
def _legacy_store(root: Path, catalog: Catalog) -> None:
    """A store written before the plausibility window existed: readings dated 0001 and 9999 next to good ones."""
    import dataclasses

    from carbonmet.quantities.rules import TimeWindow

    wide = dataclasses.replace(default_rules(), timestamps=TimeWindow(date(1, 1, 1), latest=date(9999, 12, 31)))
    with Store(root, rules=wide) as st_:
        rows = [RawReading(datetime(1, 1, 1, 0, 30, tzinfo=UTC), 1.0, "E01.GAS"),
                *(RawReading(datetime(2025, 1, 15, 0, m, tzinfo=UTC), 1200.0, "E01.GAS") for m in range(60)),
                RawReading(datetime(9999, 12, 31, 23, 0, tzinfo=UTC), 3.0, "E01.GAS"),
                RawReading(datetime(1, 1, 1, 0, 30, tzinfo=UTC), 5.0, "E01.COAL"),
                RawReading(datetime(9999, 12, 31, 23, 0, tzinfo=UTC), 9.0, "E01.COAL")]
        rep = st_.ingest_readings(rows, "legacy", catalog, source="test")
    assert rep.stored == 64  # the extreme readings really are in the store


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "America/Los_Angeles", "UTC"])
def test_D3_aggregation_and_activity_over_a_store_with_year_1_and_9999_readings(tmp_path: Path, catalog: Catalog,
                                                                                 tz: str) -> None:
    from carbonmet.metering import activity_data, aggregate
    from carbonmet.metering.errors import AggregationError

    _legacy_store(tmp_path, catalog)
    st_ = Store(tmp_path)
    z = ZoneInfo(tz)
    jan = (datetime(2025, 1, 1, tzinfo=z), datetime(2025, 2, 1, tzinfo=z))
    for point in ("E01.GAS", "E01.COAL"):  # a rate and a totaliser (read with a month either side)
        rows = aggregate(st_, catalog, [point], *jan, "month", tz=tz)
        assert len(rows) == 1 and rows[0].period_start == jan[0]
        activity_data(st_, catalog, point, *jan, tz=tz)
    [gas] = aggregate(st_, catalog, ["E01.GAS"], *jan, "month", tz=tz)
    assert gas.n_readings == 60  # the 0001 and 9999 readings lie in no period that can be asked
    # a period reaching the stored extremes is refused with the package's own error, naming the bound
    for start, end, bound in ((datetime(1, 1, 1, tzinfo=UTC), jan[1], "start"),
                              (jan[0], datetime(9999, 12, 31, 23, 59, tzinfo=UTC), "end")):
        for call in (lambda s=start, e=end: aggregate(st_, catalog, ["E01.GAS"], s, e, "year", tz=tz),
                     lambda s=start, e=end: activity_data(st_, catalog, "E01.COAL", s, e, tz=tz)):
            with pytest.raises(AggregationError) as exc:
                call()
            assert f"period {bound}" in str(exc.value) and "1950-01-01" in str(exc.value)
            assert "2199-12-31" in str(exc.value)


def test_D3_readings_summary_of_a_store_with_year_1_and_9999_readings(tmp_path: Path, catalog: Catalog) -> None:
    import json

    from typer.testing import CliRunner

    from carbonmet.cli import app

    _legacy_store(tmp_path / "store", catalog)
    (tmp_path / "points.csv").write_text(
        "point_id,site_code,name,quantity,carrier,unit,reading_kind\n"
        "E01.GAS,S1,gas,normal_volume_flow,natural_gas,Nm3/h,rate\n"
        "E01.COAL,S1,coal,mass,raw_coal,t,total\n", encoding="utf-8")
    (tmp_path / "sites.csv").write_text("site_code,org_code,name\nS1,E01,plant\n", encoding="utf-8")
    args = ["--store", str(tmp_path / "store"), "--points", str(tmp_path / "points.csv"),
            "--sites", str(tmp_path / "sites.csv")]
    runner = CliRunner()
    # no period given: the default period spans the plausible readings; the others are named in a notice
    res = runner.invoke(app, ["readings", "summary", "E01.GAS", *args, "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert [p["period_start"] for p in doc["periods"]] == ["2025-01-01T00:00:00+08:00"]
    assert doc["periods"][0]["n_readings"] == 60
    [notice] = doc["notices"]
    assert "2 readings of E01.GAS" in notice and "1990-01-01" in notice
    res = runner.invoke(app, ["readings", "summary", "E01.GAS", *args])
    assert res.exit_code == 0, res.output
    assert "left out of the default period" in res.output.replace("\n", "")
    # only implausible readings: a clear error, no traceback
    res = runner.invoke(app, ["readings", "summary", "E01.COAL", *args])
    assert res.exit_code == 1 and not isinstance(res.exception, OverflowError | ValueError)
    assert "none of the 2 readings of E01.COAL" in res.output.replace("\n", "")
    # an explicit period reaching them: the aggregation's own error
    for extra in (["--start", "0001-01-01", "--end", "2025-02"], ["--period", "hour", "--start", "2025-01",
                                                                "--end", "9999-12-31T23:59:59+00:00"]):
        res = runner.invoke(app, ["readings", "summary", "E01.GAS", *args, *extra])
        assert res.exit_code == 1 and not isinstance(res.exception, OverflowError | ValueError), res.output
        assert "1950-01-01" in res.output and "2199-12-31" in res.output
