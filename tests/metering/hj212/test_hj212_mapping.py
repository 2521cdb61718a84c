"""From HJ 212 packets to RawReading: MN/code → point, China time, unmapped values kept with a reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from carbonmet.metering import PointInfo
from carbonmet.metering.hj212 import (
    MissingFieldError,
    PointMapError,
    Reassembler,
    build,
    build_point_map,
    split,
    to_raw_readings,
)

MN = "010000A8900016F000169DC0"
OTHER_MN = "010000A8900016F000169DC1"


def _head(cn: str, flag: int = 5, qn: str = "20250301120000123") -> dict[str, object]:
    return {"QN": qn, "ST": "31", "CN": cn, "PW": "123456", "MN": MN, "Flag": flag}


POINTS = [
    PointInfo("E01.STACK1.SO2", "E01", "mg/m3", "rate", hj212_mn=MN, hj212_code="a21026"),
    PointInfo("E01.STACK1.SO2_ZS", "E01", "mg/m3", "rate", hj212_mn=MN, hj212_code="a21026-ZsAvg"),
    PointInfo("E01.STACK1.FLUE_FLOW", "E01", "m3/s", "rate", hj212_mn=MN, hj212_code="a00000"),
    PointInfo("E01.STACK1.FLUE_VOL", "E01", "m3", "interval", hj212_mn=MN, hj212_code="a00000-Cou"),
    PointInfo("E01.STACK1.CO2", "E01", "mg/m3", "rate", hj212_mn=MN, hj212_code="a05001"),
    PointInfo("E01.BOILER.COAL", "E01", "t", "total"),  # no HJ 212: ignored by the map
]


def test_real_time_data_maps_rtd_with_china_time_and_flags() -> None:
    p = build(
        _head("2011"),
        [
            {"DataTime": "20250301120000"},
            {"a21026-Rtd": "35.20", "a21026-ZsRtd": "41.0", "a21026-Flag": "N"},
            {"a00000-Rtd": "152.4", "a00000-Flag": "N"},
            {"a05001-Rtd": "212345.6", "a05001-Flag": "T"},
        ],
    )
    rs = to_raw_readings(p, build_point_map(POINTS))
    by_point = {r.point_id: r for r in rs}
    so2 = by_point["E01.STACK1.SO2"]
    assert so2.value == 35.2 and so2.flag == "N"
    # DataTime 2025-03-01 12:00:00 China time (UTC+8) = 04:00 UTC
    assert so2.ts.astimezone(UTC) == datetime(2025, 3, 1, 4, 0, tzinfo=UTC)
    assert so2.origin == f"hj212:MN={MN};QN=20250301120000123;CN=2011;a21026-Rtd"
    assert by_point["E01.STACK1.CO2"].flag == "T"
    assert by_point["E01.STACK1.FLUE_FLOW"].value == 152.4
    # real-time data carries neither averages nor interval amounts: no reading for those points
    assert "E01.STACK1.SO2_ZS" not in by_point
    assert "E01.STACK1.FLUE_VOL" not in by_point
    assert None not in by_point


def test_hourly_data_maps_avg_and_cou() -> None:
    p = build(
        _head("2061"),
        [
            {"DataTime": "20250301110000"},
            {"a00000-Cou": "548640.0", "a00000-Min": "148.1", "a00000-Avg": "152.4", "a00000-Max": "155.0",
             "a00000-Flag": "N"},
            {"a21026-Avg": "35.0", "a21026-ZsAvg": "40.8", "a21026-Flag": "N"},
        ],
    )
    rs = {r.point_id: r for r in to_raw_readings(p, build_point_map(POINTS))}
    assert rs["E01.STACK1.FLUE_VOL"].value == 548640.0
    assert rs["E01.STACK1.FLUE_FLOW"].value == 152.4
    assert rs["E01.STACK1.SO2"].value == 35.0
    assert rs["E01.STACK1.SO2_ZS"].value == 40.8
    assert rs["E01.STACK1.SO2"].ts == datetime(2025, 3, 1, 3, 0, tzinfo=UTC)  # period start, Table 4
    # hourly data should carry a21026-ZsAvg; when it does not, the point gets a reading without a value
    p2 = build(_head("2061"), [{"DataTime": "20250301110000"}, {"a21026-Avg": "35.0", "a21026-Flag": "N"}])
    zs = {r.point_id: r for r in to_raw_readings(p2, build_point_map(POINTS))}["E01.STACK1.SO2_ZS"]
    assert zs.value is None and zs.origin.endswith("missing: a21026-ZsAvg not in packet")


def test_unknown_mn_and_unknown_code_become_unmapped_readings() -> None:
    pm = build_point_map(POINTS)
    p = build(
        {**_head("2011"), "MN": OTHER_MN},
        [{"DataTime": "20250301120000"}, {"a21026-Rtd": "1.0", "a21026-Flag": "D"}],
    )
    (r,) = to_raw_readings(p, pm)
    assert r.point_id is None and r.value == 1.0 and r.flag == "D"
    assert "unmapped: MN not in the registry" in r.origin and f"MN={OTHER_MN}" in r.origin
    q = build(_head("2011"), [{"DataTime": "20250301120000"}, {"a21002-Rtd": "48.7", "a21002-ZsRtd": "50.1"}])
    rs = to_raw_readings(q, pm)
    assert [(r.point_id, r.value) for r in rs] == [(None, 48.7), (None, 50.1)]
    assert all("no point for code a21002" in r.origin for r in rs)


def test_measured_values_without_data_time_are_refused() -> None:
    p = build(_head("2011"), [{"a21026-Rtd": "1.0"}])
    with pytest.raises(MissingFieldError) as info:
        to_raw_readings(p, build_point_map(POINTS))
    assert info.value.field == "DataTime"
    # no measured values, no DataTime needed
    assert to_raw_readings(build(_head("1062"), [{"RtdInterval": "30"}]), build_point_map(POINTS)) == []


def test_split_message_maps_every_part() -> None:
    items = [{"DataTime": "20250301110000"}] + [
        {f"a{21000 + i:05d}-Avg": f"{i}.0", f"a{21000 + i:05d}-Flag": "N"} for i in range(70)
    ]
    parts = split(build(_head("2061", flag=4), items, strict=False))
    assert len(parts) > 1
    (msg,) = _reassemble(parts)
    rs = to_raw_readings(msg, build_point_map(POINTS))
    assert sorted(r.value for r in rs if r.value is not None) == [float(i) for i in range(70)]
    assert any(";PNO=2/" in r.origin for r in rs)


def _reassemble(parts: list) -> list:
    r = Reassembler()
    return [m for p in parts for m in r.add(p)]


def test_two_points_claiming_the_same_code_are_an_error() -> None:
    dup = [*POINTS, PointInfo("E01.X", "E01", "mg/m3", "rate", hj212_mn=MN, hj212_code="a21026")]
    with pytest.raises(PointMapError, match="E01.STACK1.SO2 and E01.X"):
        build_point_map(dup)
    with pytest.raises(PointMapError, match="not a measured value"):
        build_point_map([PointInfo("E01.Y", "E01", "", "rate", hj212_mn=MN, hj212_code="a21026-Flag")])
