"""The store behind the HJ 212 server (real loopback TCP, port 0): 9014 only after durable storage, a
re-sent packet stored once, a bad frame quarantined with its reason."""

from __future__ import annotations

import asyncio
from pathlib import Path

from carbonmet.metering import Catalog, PointInfo, Store
from carbonmet.metering.hj212 import build, build_point_map, decode, encode, start_server, store_sink

MN = "010000A8900016F000169DC0"
POINTS = {
    "E01.STACK1.SO2": PointInfo("E01.STACK1.SO2", "E01", "mg/Nm3", "rate", hj212_mn=MN, hj212_code="a21026@2011"),
    "E01.STACK1.O2": PointInfo("E01.STACK1.O2", "E01", "%", "rate", hj212_mn=MN, hj212_code="a19001@2011"),
}


def frame(qn_ms: int, so2: str, o2: str = "8.9", minute: int = 0) -> bytes:
    head = {"QN": f"20250301120{minute:01d}00{qn_ms:03d}", "ST": "31", "CN": "2011", "PW": "123456", "MN": MN,
            "Flag": 5}
    return encode(build(head, [{"DataTime": f"20250301120{minute:01d}00"},
                               {"a21026-Rtd": so2, "a21026-Flag": "N"}, {"a19001-Rtd": o2}]))


def test_store_sink_behind_the_hj212_server(tmp_path: Path) -> None:
    cat = Catalog(POINTS)
    st_ = Store(tmp_path)
    sink, reject = store_sink(st_, cat)

    async def scenario() -> list[bytes]:
        server = await start_server("127.0.0.1", 0, sink, build_point_map(cat.values()), reject=reject)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        answers = []
        try:
            for f in (frame(1, "35.2"), frame(2, "36.0", minute=1), frame(1, "35.2")):  # last: re-sent
                writer.write(f)
                await writer.drain()
                async with asyncio.timeout(10):
                    answers.append(await reader.readuntil(b"\r\n"))
            good = frame(3, "37.0", minute=2)
            writer.write(good[:-6] + b"0000\r\n")  # bad CRC
            await writer.drain()
            await asyncio.sleep(0.5)
        finally:
            writer.close()
            await server.close()
        return answers

    answers = asyncio.run(scenario())
    assert [decode(a).cn for a in answers] == ["9014"] * 3
    so2 = st_.readings("E01.STACK1.SO2")
    assert so2.column("value").to_pylist() == [35.2, 36.0]  # the re-sent packet is stored once
    assert st_.readings("E01.STACK1.O2").num_rows == 2
    jr = st_.journal()
    assert sum(j["duplicates"] for j in jr) == 0  # the re-sent packet is answered from the journal
    assert len(list((tmp_path / "raw" / "hj212").rglob("*.hj212"))) == 2
    q = st_.quarantine()
    assert q.num_rows == 1 and q.column("reason").to_pylist()[0].startswith("bad_crc")


def test_different_packets_sharing_a_qn_are_both_stored(tmp_path: Path) -> None:
    """Review finding 2: a logger reusing one QN (split parts, backfill bursts) must not have its second
    packet answered 9014 and dropped; an identical re-sent packet is still recognised as already stored."""
    cat = Catalog(POINTS)
    st_ = Store(tmp_path)
    sink, reject = store_sink(st_, cat)

    def same_qn(minute: int, so2: str) -> bytes:
        head = {"QN": "20250301100000123", "ST": "31", "CN": "2011", "PW": "123456", "MN": MN, "Flag": 5}
        return encode(build(head, [{"DataTime": f"20250301120{minute}00"}, {"a21026-Rtd": so2, "a21026-Flag": "N"}]))

    async def scenario() -> list[bytes]:
        server = await start_server("127.0.0.1", 0, sink, build_point_map(cat.values()), reject=reject)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        answers = []
        try:
            for f in (same_qn(0, "35.0"), same_qn(1, "36.0"), same_qn(1, "36.0")):
                writer.write(f)
                await writer.drain()
                async with asyncio.timeout(10):
                    answers.append(await reader.readuntil(b"\r\n"))
        finally:
            writer.close()
            await server.close()
        return answers

    answers = asyncio.run(scenario())
    assert [decode(a).cn for a in answers] == ["9014"] * 3
    assert st_.readings("E01.STACK1.SO2").column("value").to_pylist() == [35.0, 36.0]
    jr = st_.journal()
    assert len(jr) == 2 and len({j["batch_id"] for j in jr}) == 2
    assert len(list((tmp_path / "raw" / "hj212").rglob("*.hj212"))) == 2
