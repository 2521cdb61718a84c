"""HJ 212 as deployed: the acceptance policy per logger against frames of an independent 2005-era encoder.

The encoder below shares nothing with carbonmet's codec: its own CRC (HJ 212-2017 Appendix A, bit by bit, as
the appendix's C code does it) and its own framing. It writes what many installed data loggers still send:
a 14-character MN, the HJ/T 212-2005 header (Flag version bits 000000, or no QN/Flag at all), CN 2011.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from carbonmet.cli import app
from carbonmet.metering import PointInfo, Store
from carbonmet.metering.hj212 import build_point_map, start_server, store_sink
from carbonmet.metering.hj212.policy import (
    AcceptancePolicy,
    PolicyFileError,
    assess,
    deviation_kinds,
    parse_policy,
    profile_2025,
)

MN_2005 = "88888880000001"  # 14 characters, as 2005-era loggers are configured
CODES = ("a21026", "a21002", "a19001")
CHINA = timedelta(hours=8)


# ------------------------------------------------------------------- the independent encoder (2005-era style)


def crc_appendix_a(data: bytes) -> int:
    """HJ 212-2017 Appendix A, step by step: reg = (reg >> 8) ^ byte; then 8 shifts with 0xA001."""
    reg = 0xFFFF
    for byte in data:
        reg = (reg >> 8) ^ byte
        for _ in range(8):
            lsb = reg & 1
            reg >>= 1
            if lsb:
                reg ^= 0xA001
    return reg


def crc_modbus(data: bytes) -> int:
    """CRC-16/MODBUS as a 2025-style encoder might compute it: reg ^= byte; then 8 shifts with 0xA001."""
    reg = 0xFFFF
    for byte in data:
        reg ^= byte
        for _ in range(8):
            reg = (reg >> 1) ^ 0xA001 if reg & 1 else reg >> 1
    return reg


def frame(segment: str, crc=crc_appendix_a) -> bytes:
    data = segment.encode("ascii")
    return b"##" + str(len(data)).zfill(4).encode() + data + format(crc(data), "04X").encode() + b"\r\n"


def logger_2005(n: int, t0: datetime, *, with_qn: bool) -> list[bytes]:
    """``n`` minute-data uploads (CN 2011 real-time) of a 2005-era logger, one per minute from ``t0`` (UTC)."""
    out = []
    for i in range(n):
        t = (t0 + timedelta(minutes=i) + CHINA).strftime("%Y%m%d%H%M%S")
        values = ";".join(f"{c}-Rtd={10 + i + k * 0.5:.1f},{c}-Flag=N" for k, c in enumerate(CODES))
        head = f"QN={t}000;ST=32;CN=2011;PW=123456;MN={MN_2005};Flag=1;" if with_qn else \
            f"ST=32;CN=2011;PW=123456;MN={MN_2005};"
        out.append(frame(f"{head}CP=&&DataTime={t};{values}&&"))
    return out


def test_the_independent_encoder_agrees_with_the_appendix_worked_example() -> None:
    # HJ 212-2017 Appendix A: this 101-byte data segment has CRC 1C80 (the standard's own example)
    seg = ("QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&")
    assert len(seg) == 101 and f"{crc_appendix_a(seg.encode()):04X}" == "1C80"
    assert f"{crc_modbus(b'123456789'):04X}" == "4B37"  # the CRC-16/MODBUS check value


# ------------------------------------------------------------------------------------------------ assessment


def test_a_2005_era_frame_is_decoded_and_each_deviation_named() -> None:
    t0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    a = assess(logger_2005(1, t0, with_qn=True)[0])
    assert a.packet is not None and a.packet.mn == MN_2005 and len(a.packet.items()) == 3
    assert set(a.deviations) == {"mn_not_24_hex", "version_2005"}
    assert all(deviation_kinds()[d].strict_refuses for d in a.deviations)
    assert any("14 characters" in d for d in a.details)
    b = assess(logger_2005(1, t0, with_qn=False)[0])
    assert set(b.deviations) == {"mn_not_24_hex", "flag_missing", "qn_missing"}


def test_a_conforming_2017_frame_has_no_deviation() -> None:
    seg = ("QN=20160801085857223;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;"
           "CP=&&DataTime=20160801085857;a21026-Rtd=12.3,a21026-Flag=N&&")
    a = assess(frame(seg))
    assert a.packet is not None and a.deviations == () and a.refusals() == ()


def test_hj212_2025_frames_are_flagged_not_refused_and_a_modbus_order_crc_is_flagged() -> None:
    seg = ("QN=20260801085857223;ST=44;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=9;"
           "CP=&&DataTime=20260801085857;a21026-Rtd=12.3,a21026-Flag=N&&")
    a = assess(frame(seg))
    assert a.packet is not None and set(a.deviations) == {"version_2025", "st_2025"} and a.refusals() == ()
    heartbeat = assess(frame(seg.replace("CN=2011", "CN=9015").replace("ST=44", "ST=32")))
    assert heartbeat.deviations == ("version_2025", "cn_2025")
    m = assess(frame(seg, crc=crc_modbus))
    assert m.packet is not None and "crc_modbus_order" in m.deviations and m.refusals() == ("crc_modbus_order",)
    # every profile row has an evidence mark; none claims [V] (the 2025 text was not read)
    assert profile_2025() and all(r["evidence"] in ("[C]", "[?]") for r in profile_2025())


def test_a_frame_with_a_crc_matching_neither_order_is_not_decoded() -> None:
    good = logger_2005(1, datetime(2026, 3, 1, tzinfo=UTC), with_qn=True)[0]
    broken = good[:-6] + (b"0000" if good[-6:-2] != b"0000" else b"0001") + b"\r\n"
    a = assess(broken)
    assert a.packet is None and a.error is not None and a.error.kind == "bad_crc"


# ------------------------------------------------------------------------------------------------ the server


def _points() -> list[PointInfo]:
    return [PointInfo(f"E01.{c}", "E01", "mg/m3", "rate", hj212_mn=MN_2005, hj212_code=f"{c}-Rtd@2011")
            for c in CODES]


async def _send(port: int, frames: list[bytes], server, expected_packets: int) -> None:
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"".join(frames))
    await writer.drain()
    for _ in range(400):  # until the server has handled every frame (answered, stored or refused)
        st = server.stats
        if st.messages + st.policy_refused >= expected_packets:
            break
        await asyncio.sleep(0.02)
    writer.close()
    await writer.wait_closed()
    await asyncio.sleep(0.1)  # the connection's end flushes combined rejects


def _run(store: Store, policy: AcceptancePolicy, frames: list[bytes]):
    catalog = {p.point_id: p for p in _points()}

    async def go():
        sink, reject = store_sink(store, catalog)
        server = await start_server("127.0.0.1", 0, sink, build_point_map(_points()), reject=reject, policy=policy)
        try:
            await _send(server.port, frames, server, len(frames))
        finally:
            await server.close()
        return server.stats

    return asyncio.run(go())


def _raw_archive(store: Store) -> bytes:
    return b"".join(p.read_bytes() for p in sorted((store.root / "raw" / "hj212").rglob("*")) if p.is_file())


def test_default_policy_stores_2005_era_frames_and_counts_each_deviation(tmp_path: Path) -> None:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    frames = logger_2005(12, t0, with_qn=True) + logger_2005(12, t0 + timedelta(hours=1), with_qn=False)
    store = Store(tmp_path / "store")
    stats = _run(store, AcceptancePolicy(), frames)
    assert stats.policy_refused == 0 and stats.messages == 24
    for c in CODES:
        assert store.readings(f"E01.{c}").num_rows == 24
    # each deviation counted: by the server and with every batch in the journal
    assert stats.deviations == {"mn_not_24_hex": 24, "version_2005": 12, "flag_missing": 12, "qn_missing": 12}
    totals: dict[str, int] = {}
    for j in store.journal():
        for k, v in j["deviations"].items():
            totals[k] = totals.get(k, 0) + v
        assert j["points"] == sorted(f"E01.{c}" for c in CODES)
    assert totals == stats.deviations
    assert store.quarantine().num_rows == 0
    assert all(f in _raw_archive(store) for f in frames)  # raw kept


def test_strict_policy_for_the_logger_refuses_them_with_the_reason_and_keeps_the_raw(tmp_path: Path) -> None:
    frames = logger_2005(10, datetime(2026, 3, 1, tzinfo=UTC), with_qn=True)
    policy = parse_policy(f"match,value,policy\ndefault,,flag\nmn,{MN_2005},strict\n")
    store = Store(tmp_path / "store")
    stats = _run(store, policy, frames)
    assert stats.policy_refused == 10 and stats.messages == 0
    assert all(store.readings(f"E01.{c}").num_rows == 0 for c in CODES)
    q = store.quarantine()
    reasons = q.column("reason").to_pylist()
    assert q.num_rows >= 1 and all("strict_policy" in r and "mn_not_24_hex" in r for r in reasons)
    assert all(f in _raw_archive(store) for f in frames)  # nothing lost: every refused frame archived


def test_strict_by_enterprise_applies_to_the_loggers_of_its_points() -> None:
    policy = parse_policy("enterprise,E01,strict\n")
    assert policy.default == "flag" and policy.for_logger(MN_2005, build_point_map(_points())) == "strict"
    assert policy.for_logger("OTHER", build_point_map(_points())) == "flag"


# ------------------------------------------------------------------------------------------------ policy file


@pytest.mark.parametrize(("text", "where"), [
    ("mn,ABC,lenient\n", "x.csv:1: policy"),
    ("site,E01,strict\n", "x.csv:1: match"),
    ("mn,,strict\n", "x.csv:1: value"),
    ("# c\nmn,A,strict\nmn,A,flag\n", "x.csv:3: value"),
    ("default,,strict\ndefault,,flag\n", "x.csv:2: match"),
    ("mn,A\n", "x.csv:1: 需要 needs"),
])
def test_a_bad_policy_file_names_the_line_and_field(text: str, where: str) -> None:
    with pytest.raises(PolicyFileError, match=where):
        parse_policy(text, "x.csv")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_the_policy_parser_never_fails_otherwise(text: str) -> None:
    try:
        p = parse_policy(text, "fuzz.csv")
    except PolicyFileError as exc:
        assert str(exc).startswith("fuzz.csv")
    else:
        assert p.default in ("strict", "flag")
        assert set(p.by_mn.values()) | set(p.by_enterprise.values()) <= {"strict", "flag"}


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=300).map(lambda s: frame(s) if s.isascii() else s.encode()))
def test_assess_either_decodes_or_gives_a_decode_error(data: bytes) -> None:
    a = assess(data)
    if a.packet is None:
        assert a.error is not None and a.error.kind
    else:
        assert set(a.deviations) <= set(deviation_kinds()) and len(a.details) == len(a.deviations)
        assert a.packet.raw == data


# ----------------------------------------------------------------------------------------------- the command


def test_decode_dash_reads_frames_from_standard_input() -> None:
    frames = logger_2005(2, datetime(2026, 3, 1, tzinfo=UTC), with_qn=True)
    r = CliRunner().invoke(app, ["hj212", "decode", "-", "--lenient", "--json"], input=b"".join(frames))
    assert r.exit_code == 0, r.output
    docs = json.loads(r.stdout)
    assert [d["where"] for d in docs] == ["stdin:frame 1", "stdin:frame 2"]
    assert all(d["ok"] and set(d["deviations"]) == {"mn_not_24_hex", "version_2005"} for d in docs)
    strict = CliRunner().invoke(app, ["hj212", "decode", "-", "--json"], input=frames[0])
    assert strict.exit_code == 1
    assert set(json.loads(strict.stdout)["accept_and_flag"]) == {"mn_not_24_hex", "version_2005"}


def test_the_flagged_deviations_are_shown_by_readings_quarantine_and_summary(tmp_path: Path) -> None:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    store = Store(tmp_path / "store")
    _run(store, AcceptancePolicy(), logger_2005(6, t0, with_qn=True))
    store.close()
    points = tmp_path / "points.csv"
    points.write_text("point_id,site_code,name,quantity,carrier,unit,reading_kind,level,source_stream\n"
                      + "".join(f"E01.{c},E01-S1,{c},concentration,flue_gas,mg/m3,rate,L1,stack\n" for c in CODES),
                      encoding="utf-8")
    q = CliRunner().invoke(app, ["readings", "quarantine", "--store", str(tmp_path / "store"), "--json"])
    assert q.exit_code == 0, q.output
    doc = json.loads(q.stdout)
    assert doc["total"] == 0 and doc["deviation_batches"] == 6 and doc["deviation_stored"] == 18
    assert doc["deviations"] == {"mn_not_24_hex": 6, "version_2005": 6}
    sites = tmp_path / "sites.csv"
    sites.write_text("site_code,org_code,name\nE01-S1,E01,甲厂区\n", encoding="utf-8")
    s = CliRunner().invoke(app, ["readings", "summary", f"E01.{CODES[0]}", "--store", str(tmp_path / "store"),
                                 "--points", str(points), "--sites", str(sites), "--json"])
    assert s.exit_code == 0, s.output
    assert json.loads(s.stdout)["deviations"] == {"mn_not_24_hex": 6, "version_2005": 6}
