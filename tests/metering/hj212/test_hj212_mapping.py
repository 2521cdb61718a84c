"""From HJ 212 packets to RawReading: MN/code → point, China time, unmapped values kept with a reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from carbonmet.metering import PointInfo
from carbonmet.metering.hj212 import (
    Message,
    build,
    build_point_map,
    decode,
    encode,
    split,
    store_sink,
    to_raw_readings,
)
from carbonmet.metering.hj212.errors import MissingFieldError, PointMapError
from carbonmet.metering.hj212.protocol import Reassembler

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
# the same points taking hourly data (explicit command), and real-time data
HOURLY_POINTS = [replace(p, hj212_code=f"{p.hj212_code}@2061") if p.hj212_code else p for p in POINTS]
RT_POINTS = [
    PointInfo("E01.STACK1.SO2", "E01", "mg/m3", "rate", hj212_mn=MN, hj212_code="a21026@2011"),
    PointInfo("E01.STACK1.FLUE_FLOW", "E01", "m3/s", "rate", hj212_mn=MN, hj212_code="a00000-Rtd"),  # → 2011
    PointInfo("E01.STACK1.CO2", "E01", "mg/m3", "rate", hj212_mn=MN, hj212_code="a05001@2011"),
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
    rs = to_raw_readings(p, build_point_map(RT_POINTS))
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
    # with the default points (minute data 2051), real-time values are not theirs: kept, unmapped
    rs2 = to_raw_readings(p, build_point_map(POINTS))
    assert all(r.point_id is None for r in rs2) and len(rs2) == 3
    assert "unmapped: command 2011 not configured for point E01.STACK1.SO2 (takes a21026-Avg@2051)" in rs2[0].origin


def test_hourly_data_maps_avg_and_cou_for_points_of_command_2061() -> None:
    p = build(
        _head("2061"),
        [
            {"DataTime": "20250301110000"},
            {"a00000-Cou": "548640.0", "a00000-Min": "148.1", "a00000-Avg": "152.4", "a00000-Max": "155.0",
             "a00000-Flag": "N"},
            {"a21026-Avg": "35.0", "a21026-ZsAvg": "40.8", "a21026-Flag": "N"},
        ],
    )
    rs = {r.point_id: r for r in to_raw_readings(p, build_point_map(HOURLY_POINTS))}
    assert rs["E01.STACK1.FLUE_VOL"].value == 548640.0
    assert rs["E01.STACK1.FLUE_FLOW"].value == 152.4
    assert rs["E01.STACK1.SO2"].value == 35.0
    assert rs["E01.STACK1.SO2_ZS"].value == 40.8
    assert rs["E01.STACK1.SO2"].ts == datetime(2025, 3, 1, 3, 0, tzinfo=UTC)  # period start, Table 4
    # hourly data should carry a21026-ZsAvg; when it does not, the point gets a reading without a value
    p2 = build(_head("2061"), [{"DataTime": "20250301110000"}, {"a21026-Avg": "35.0", "a21026-Flag": "N"}])
    zs = {r.point_id: r for r in to_raw_readings(p2, build_point_map(HOURLY_POINTS))}["E01.STACK1.SO2_ZS"]
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


# --- one command per point (review finding 3: minute, hourly and daily values on one point) -------------


def _cou(cn: str, qn: str, dt: str, cou: str) -> object:
    return build(_head(cn, qn=qn), [{"DataTime": dt}, {"a00000-Cou": cou, "a00000-Flag": "N"}])


def test_default_command_is_one_per_reading_kind() -> None:
    from carbonmet.metering.hj212.codes import default_commands

    # minute data: the basis of the HJ 76-2017 App. B 45-minute rule the aggregation applies
    assert default_commands() == {"rate": "2051", "sample": "2051", "interval": "2051", "total": "2051"}


def test_code_forms_resolve_to_exactly_one_field_and_command() -> None:
    from carbonmet.metering.hj212.protocol import parse_hj212_code

    def res(code: str, kind: str = "rate") -> tuple[str, str, str]:
        return parse_hj212_code(PointInfo("P", "E01", "", kind, hj212_mn=MN, hj212_code=code))  # type: ignore[arg-type]

    assert res("a21026") == ("a21026", "Avg", "2051")
    assert res("a00000", "interval") == ("a00000", "Cou", "2051")
    assert res("a00000-Cou@2061", "interval") == ("a00000", "Cou", "2061")
    assert res("a21026-Avg@2031") == ("a21026", "Avg", "2031")
    assert res("a21026@2061") == ("a21026", "Avg", "2061")
    # a field without command (backward compatible): the default command if it carries the field, else
    # the only command that does
    assert res("a21026-ZsAvg") == ("a21026", "ZsAvg", "2051")
    assert res("a21026-Rtd") == ("a21026", "Rtd", "2011")
    assert res("a21026-RS") == ("a21026", "RS", "2021")
    assert res("a00000-Cou", "total") == ("a00000", "Cou", "2051")
    for bad, match in [
        ("a21026@9014", "not a data upload command"),
        ("a21026-Rtd@2061", "does not carry field -Rtd"),
        ("a00000@2011", "no default field"),
        ("a21026-Flag@2061", "not a measured value"),
        ("-Avg@2061", "no factor code"),
    ]:
        with pytest.raises(PointMapError, match=match):
            res(bad, "interval" if bad == "a00000@2011" else "rate")
    with pytest.raises(PointMapError, match="no default field"):
        res("a00000", "total")  # no HJ 212 field is a totaliser: a total point names its field


def test_minute_hourly_and_daily_amounts_are_not_counted_twice() -> None:
    """Review e3.py: minute Cou 08:01–08:59 (sum 590), hourly Cou=600 at 08:00, daily 14400."""
    pm = build_point_map([PointInfo("S.VOL", "E01", "m3", "interval", hj212_mn=MN, hj212_code="a00000")])
    minutes = [_cou("2051", f"2025030108{m:02d}30000", f"2025030108{m:02d}00", "10") for m in range(1, 60)]
    hour = _cou("2061", "20250301090500000", "20250301080000", "600")
    day = _cou("2031", "20250302000500000", "20250301000000", "14400")
    rs = [r for p in [*minutes, hour, day] for r in to_raw_readings(p, pm)]
    mapped = [r for r in rs if r.point_id == "S.VOL"]
    assert len(mapped) == 59 and sum(r.value for r in mapped) == 590.0
    assert all(";CN=2051;" in r.origin for r in mapped)
    unmapped = [r for r in rs if r.point_id is None]
    assert [(r.value, r.origin.rsplit("unmapped: ", 1)[1]) for r in unmapped] == [
        (600.0, "command 2061 not configured for point S.VOL (takes a00000-Cou@2051)"),
        (14400.0, "command 2031 not configured for point S.VOL (takes a00000-Cou@2051)"),
    ]
    assert len(rs) == 61  # every value is a reading, mapped or not: nothing silently lost
    # explicit hourly point: the hourly value is the point's, minutes and day are not
    pm_h = build_point_map([PointInfo("S.VOL", "E01", "m3", "interval", hj212_mn=MN, hj212_code="a00000-Cou@2061")])
    rs_h = [r for p in [*minutes, hour, day] for r in to_raw_readings(p, pm_h)]
    assert [r.value for r in rs_h if r.point_id == "S.VOL"] == [600.0]
    assert sum(r.point_id is None for r in rs_h) == 60


def test_points_per_command_share_a_code_without_unmapped_noise() -> None:
    pm = build_point_map([
        PointInfo(f"S.VOL.{cn}", "E01", "m3", "interval", hj212_mn=MN, hj212_code=f"a00000-Cou@{cn}")
        for cn in ("2051", "2061", "2031")
    ])
    for cn in ("2051", "2061", "2031"):
        (r,) = to_raw_readings(_cou(cn, "20250301090500000", "20250301080000", "7"), pm)  # type: ignore[arg-type]
        assert r.point_id == f"S.VOL.{cn}" and r.value == 7.0
    with pytest.raises(PointMapError, match="both claim"):
        build_point_map([
            PointInfo("A", "E01", "m3", "interval", hj212_mn=MN, hj212_code="a00000"),
            PointInfo("B", "E01", "m3", "interval", hj212_mn=MN, hj212_code="a00000-Cou@2051"),
        ])


def test_store_keeps_one_series_and_quarantines_other_commands_with_the_reason(tmp_path: Path) -> None:
    """Review e3.py end to end through the readings store (real files, no mocks)."""
    import asyncio

    from carbonmet.metering import Catalog, Store

    cat = Catalog({"S.VOL": PointInfo("S.VOL", "E01", "m3", "interval", hj212_mn=MN, hj212_code="a00000")})
    st = Store(tmp_path)
    sink, _ = store_sink(st, cat)
    pm = build_point_map(cat.values())
    frames = [_cou("2051", f"2025030108{m:02d}30000", f"2025030108{m:02d}00", "10") for m in range(1, 60)]
    frames += [_cou("2061", "20250301090500000", "20250301080000", "600"),
               _cou("2031", "20250302000500000", "20250301000000", "14400")]

    async def feed() -> None:
        for f in frames:
            p = decode(encode(f))  # type: ignore[arg-type]
            await sink(to_raw_readings(Message((p,)), pm), Message((p,)))

    asyncio.run(feed())
    vals = st.readings("S.VOL").column("value").to_pylist()
    assert len(vals) == 59 and sum(vals) == 590.0  # not 15,590 (minute + hour + day)
    q = st.quarantine().to_pylist()
    assert sorted(r["value"] for r in q) == [600.0, 14400.0]
    assert all("not configured for point S.VOL" in r["origin"] for r in q)
