"""Gap recovery (补传) as pure functions, and request packets against HJ 212-2017 Appendix C."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from carbonmet.metering import PointInfo
from carbonmet.metering.hj212 import build_point_map
from carbonmet.metering.hj212.codes import (
    CHINA_TZ,
    REQUEST_RETRIES,
    REQUEST_TIMEOUT,
    commands,
    default_timeouts,
    request_flows,
)
from carbonmet.metering.hj212.errors import BadRequestError
from carbonmet.metering.hj212.gaps import (
    infer_minute_interval,
    logger_points,
    missing_periods,
    plan_backfill,
    plan_requests,
)
from carbonmet.metering.hj212.protocol import data_segment, history_times, request_packet

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=CHINA_TZ)
MIN = timedelta(minutes=1)
MN = "010000A8900016F000169DC0"


def at(*minutes: int) -> list[datetime]:
    return [T0 + k * MIN for k in minutes]


def test_request_packet_is_appendix_c_table_c20() -> None:
    p = request_packet(
        "2051", mn=MN, st="32", pw="123456", qn="20160801085857223",
        cp=history_times("2051", datetime(2016, 8, 1, 8, 40, 59), datetime(2016, 8, 1, 8, 40)),
    )
    assert data_segment(p) == (
        "QN=20160801085857223;ST=32;CN=2051;PW=123456;MN=010000A8900016F000169DC0;Flag=5;"
        "CP=&&BeginTime=20160801084000;EndTime=20160801084000&&"
    )


def test_history_times_precision_and_zone() -> None:
    t = datetime(2025, 3, 1, 0, 37, 12, tzinfo=UTC)  # 08:37:12 China time
    assert history_times("2051", t, t) == {"BeginTime": "20250301083700", "EndTime": "20250301083700"}
    assert history_times("2061", t, t)["BeginTime"] == "20250301080000"  # Table C.21: to the hour
    assert history_times("2031", t, t)["BeginTime"] == "20250301000000"  # Table C.22: to the day
    with pytest.raises(BadRequestError):
        history_times("2011", t, t)


def test_every_request_of_table_9_has_a_flow_and_table_1_defaults() -> None:
    requests = {cn for (cn, d), c in commands().items() if d == "p2s" and c.kind == "request"}
    assert requests == set(request_flows())
    assert {cn for cn, f in request_flows().items() if f.flow == "data"} == {"2031", "2041", "2051", "2061"}
    assert (REQUEST_TIMEOUT, REQUEST_RETRIES) == (10.0, 3) and default_timeouts()["ADSL"] == (5.0, 3)


def test_missing_periods_any_point_missing_counts() -> None:
    stored = {"A": at(0, 1, 2, 3, 5), "B": at(0, 1, 3, 4, 5)}
    assert missing_periods(stored, T0, T0 + 6 * MIN, MIN) == at(2, 4)
    # a point with nothing stored misses everything; no points: nothing to recover
    assert missing_periods({"A": at(0), "C": []}, T0, T0 + 3 * MIN, MIN) == at(0, 1, 2)
    assert missing_periods({}, T0, T0 + 3 * MIN, MIN) == []


def test_missing_periods_grid_zone_and_partial_periods() -> None:
    # stored in UTC, a reading 20 s into its minute counts for that minute
    stored = {"A": [(T0 + MIN + timedelta(seconds=20)).astimezone(UTC)]}
    # [08:00:30, 08:03:30): only 08:01 and 08:02 lie wholly inside; 08:00 started before, 08:03 still running
    assert missing_periods(stored, T0 + timedelta(seconds=30), T0 + timedelta(minutes=3, seconds=30), MIN) == at(2)
    hours = missing_periods({"A": [T0]}, T0, T0 + timedelta(hours=3), timedelta(hours=1))
    assert hours == [T0 + timedelta(hours=1), T0 + timedelta(hours=2)]
    with pytest.raises(BadRequestError):
        missing_periods({"A": []}, T0, T0 + MIN, timedelta(minutes=7))  # does not divide a day


def test_plan_requests_joins_runs_and_caps_their_length() -> None:
    missing = at(0, 1, 2, 5, 6, 30)
    reqs = plan_requests(missing, MIN, "2051", bridge=2)
    assert [(r.begin, r.end, r.periods, r.missing) for r in reqs] == [
        (T0, T0 + 6 * MIN, 7, 5),  # 3 and 4 present: bridged
        (T0 + 30 * MIN, T0 + 30 * MIN, 1, 1),
    ]
    assert [(r.periods, r.missing) for r in plan_requests(missing, MIN, "2051", bridge=0)] == [(3, 3), (2, 2), (1, 1)]
    capped = plan_requests(at(*range(10)), MIN, "2051", max_periods=4)
    assert [(r.begin, r.periods) for r in capped] == [(T0, 4), (T0 + 4 * MIN, 4), (T0 + 8 * MIN, 2)]
    assert sum(r.missing for r in capped) == 10 and plan_requests([], MIN, "2051") == []


def test_minute_interval_is_inferred_from_the_store() -> None:
    ten = {"A": at(0, 10, 20, 30, 50)}
    assert infer_minute_interval(ten) == timedelta(minutes=10)
    assert infer_minute_interval({"A": at(0, 7, 14)}) == MIN  # 7 min is not a MinInterval of Table 4
    assert infer_minute_interval({}) == MIN
    reqs = plan_backfill(ten, T0, T0 + timedelta(hours=1), "2051")
    assert [(r.begin, r.end, r.missing) for r in reqs] == [(T0 + 40 * MIN, T0 + 40 * MIN, 1)]


def test_logger_points_by_history_command() -> None:
    pts = [
        PointInfo("S.SO2", "E", "mg/m3", "rate", hj212_mn=MN, hj212_code="a21026"),
        PointInfo("S.VOL", "E", "m3", "interval", hj212_mn=MN, hj212_code="a00000-Cou@2061"),
        PointInfo("S.RTD", "E", "mg/m3", "rate", hj212_mn=MN, hj212_code="a21005@2011"),
        PointInfo("X.SO2", "E", "mg/m3", "rate", hj212_mn="010000A8900016F000169DC1", hj212_code="a21026"),
    ]
    assert logger_points(build_point_map(pts), MN) == {"2051": ["S.SO2"], "2061": ["S.VOL"]}
