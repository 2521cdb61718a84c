"""Server limits against one misbehaving client (review finding 9), over real loopback TCP (port 0).

Connection cap, per-frame time limit, junk combined into few rejects, disconnect after too many bad
bytes, and parts/bytes held for split messages capped — each limit with nothing lost: every byte
received is in a delivered frame or a reject.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from carbonmet.metering import PointInfo, RawReading
from carbonmet.metering.hj212 import (
    Message,
    ServerLimits,
    build,
    build_point_map,
    decode,
    encode,
    start_server,
)
from carbonmet.metering.hj212.errors import BadRequestError
from carbonmet.metering.hj212.protocol import Reassembler

MN = "010000A8900016F000169DC0"
POINTS = [PointInfo("E01.STACK1.SO2", "E01", "mg/m3", "rate", hj212_mn=MN, hj212_code="a21026@2011")]


def rtd(qn_ms: int, so2: str = "35.2", flag: int = 5, **extra: object) -> bytes:
    head = {"QN": f"20250301120000{qn_ms:03d}", "ST": "31", "CN": "2011", "PW": "123456", "MN": MN, "Flag": flag}
    head.update(extra)
    return encode(build(head, [{"DataTime": "20250301120000"}, {"a21026-Rtd": so2, "a21026-Flag": "N"}]))


class Recorder:
    def __init__(self) -> None:
        self.messages: list[tuple[list[RawReading], Message]] = []
        self.rejects: list[tuple[bytes, str]] = []

    async def sink(self, readings: list[RawReading], message: Message) -> None:
        self.messages.append((readings, message))

    def reject(self, raw: bytes, reason: str) -> None:
        self.rejects.append((raw, reason))


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    """True if the server closes the connection within ``seconds`` (whatever it sends before)."""
    try:
        async with asyncio.timeout(seconds):
            while await reader.read(4096):
                pass
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return True


async def answer(reader: asyncio.StreamReader) -> bytes:
    async with asyncio.timeout(5):
        return await reader.readuntil(b"\r\n")


def test_connections_beyond_the_limit_are_closed_at_once() -> None:
    async def scenario() -> None:
        rec = Recorder()
        server = await start_server("127.0.0.1", 0, rec.sink, build_point_map(POINTS), limits=ServerLimits(max_connections=2))
        conns = []
        try:
            for i in range(2):
                r, w = await asyncio.open_connection("127.0.0.1", server.port)
                w.write(rtd(i + 1))
                assert decode(await answer(r)).cn == "9014"  # both served
                conns.append((r, w))
            r3, w3 = await asyncio.open_connection("127.0.0.1", server.port)
            assert await closed_within(r3, 5)
            assert server.stats.refused == 1 and server.active == 2
            w3.close()
            conns[0][1].close()  # one leaves: a new logger gets its place
            for _ in range(100):
                if server.active < 2:
                    break
                await asyncio.sleep(0.02)
            r4, w4 = await asyncio.open_connection("127.0.0.1", server.port)
            w4.write(rtd(4))
            assert decode(await answer(r4)).qn.endswith("004")
            conns.append((r4, w4))
        finally:
            for _, w in conns:
                w.close()
            await server.close()

    asyncio.run(scenario())


def test_a_frame_trickled_byte_by_byte_is_cut_off_by_the_frame_timeout() -> None:
    async def scenario() -> None:
        rec = Recorder()
        server = await start_server(
            "127.0.0.1", 0, rec.sink, build_point_map(POINTS), reject=rec.reject,
            limits=ServerLimits(idle_timeout=30, frame_timeout=0.5),
        )
        r, w = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            w.write(rtd(1))  # a good frame first: the limit is per frame, not per connection
            assert decode(await answer(r)).qn.endswith("001")
            frame = rtd(2)
            sent = 0
            closed = False
            for b in frame[:-2]:  # one byte every 0.1 s: never idle, the frame never completes in time
                try:
                    w.write(bytes([b]))
                    await w.drain()
                except ConnectionError:
                    closed = True
                    break
                sent += 1
                await asyncio.sleep(0.1)
                if r.at_eof():
                    closed = True
                    break
            assert closed or await closed_within(r, 3)
            assert sent < len(frame) - 2
        finally:
            w.close()
            await server.close()
        st = server.stats
        assert st.closed_frame_timeout == 1 and st.closed_idle == 0
        assert any("frame_timeout" in why for _, why in rec.rejects)
        # nothing lost: the bytes received of the unfinished frame are all in rejects
        assert b"".join(raw for raw, _ in rec.rejects) == frame[: st.bytes_in - len(rtd(1))]

    asyncio.run(scenario())


def test_junk_is_combined_into_few_rejects_with_every_byte_kept() -> None:
    """Review e8.py: 300 tiny junk 'frames' were 300 fsynced reject batches."""

    async def scenario() -> None:
        rec = Recorder()
        server = await start_server(
            "127.0.0.1", 0, rec.sink, build_point_map(POINTS), reject=rec.reject, limits=ServerLimits(reject_window=0.5)
        )
        r, w = await asyncio.open_connection("127.0.0.1", server.port)
        junk = b"".join(b"##x%d\r\n" % i for i in range(300))
        try:
            w.write(junk)
            w.write(rtd(1))  # a good frame after the junk is still answered
            assert decode(await answer(r)).qn.endswith("001")
            for _ in range(100):  # the window ends while the connection is quiet: flushed then
                if sum(len(raw) for raw, _ in rec.rejects) == len(junk):
                    break
                await asyncio.sleep(0.02)
        finally:
            w.close()
            await server.close()
        assert b"".join(raw for raw, _ in rec.rejects) == junk
        assert len(rec.rejects) <= 3 < server.stats.reject_pieces == 300
        combined = [why for _, why in rec.rejects if why.startswith("combined:")]
        assert combined and "bad header ×" in combined[0]
        assert len(rec.messages) == 1

    asyncio.run(scenario())


def test_a_client_sending_too_many_bad_bytes_is_disconnected() -> None:
    async def scenario() -> None:
        rec = Recorder()
        server = await start_server(
            "127.0.0.1", 0, rec.sink, build_point_map(POINTS), reject=rec.reject, limits=ServerLimits(max_bad_bytes=1000)
        )
        r, w = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            # bad bytes separated by good frames do not add up: the count restarts at each good frame
            for i in range(3):
                w.write(b"x" * 600 + rtd(i + 1))
                assert decode(await answer(r)).qn.endswith(f"{i + 1:03d}")
            w.write(b"y" * 3000)
            await w.drain()
            assert await closed_within(r, 5)
        finally:
            w.close()
            await server.close()
        st = server.stats
        assert st.closed_bad_bytes == 1 and len(rec.messages) == 3
        assert sum(len(raw) for raw, _ in rec.rejects) == st.bytes_in - 3 * len(rtd(1)) == 3 * 600 + 3000

    asyncio.run(scenario())


def _part(pno: int, pnum: int = 9999, cn: str = "2061") -> bytes:
    head = [("QN", f"20250301100000{pno % 1000:03d}"), ("ST", "31"), ("CN", cn), ("PW", "123456"), ("MN", MN),
            ("Flag", "6"), ("PNUM", str(pnum)), ("PNO", str(pno))]
    items = [{"DataTime": "20250301080000"}] + [{f"a{20000 + i:05d}-Avg": "123.45"} for i in range(20)]
    return encode(build(head, items))


def test_parts_of_a_split_message_held_are_capped_over_tcp() -> None:
    async def scenario() -> None:
        rec = Recorder()
        server = await start_server("127.0.0.1", 0, rec.sink, build_point_map(POINTS), limits=ServerLimits(max_parts=3))
        _r, w = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            w.write(b"".join(_part(k) for k in range(1, 8)))  # PNUM=9999 announced, 7 sent
            await w.drain()
            for _ in range(100):
                if len(rec.messages) >= 2:
                    break
                await asyncio.sleep(0.02)
            assert [len(m.parts) for _, m in rec.messages] == [3, 3]  # handed over, not held
        finally:
            w.close()
            await w.wait_closed()
            for _ in range(100):
                if len(rec.messages) >= 3:
                    break
                await asyncio.sleep(0.02)
            await server.close()
        assert [p.pno for _, m in rec.messages for p in m.parts] == list(range(1, 8))  # each part once
        assert not any(m.complete for _, m in rec.messages)
        assert server.stats.reassembly_capped == 2

    asyncio.run(scenario())


def test_bytes_held_in_open_messages_are_capped_over_tcp() -> None:
    async def scenario() -> None:
        rec = Recorder()
        size = len(_part(1))
        server = await start_server("127.0.0.1", 0, rec.sink, build_point_map(POINTS),
                                    limits=ServerLimits(max_held_bytes=2 * size))
        _r, w = await asyncio.open_connection("127.0.0.1", server.port)
        try:  # four messages (PNUM 90..93), one part each: at most two parts' bytes are held
            w.write(b"".join(_part(1, pnum=90 + k) for k in range(4)))
            await w.drain()
            for _ in range(100):
                if len(rec.messages) >= 2:
                    break
                await asyncio.sleep(0.02)
            assert [m.pnum for _, m in rec.messages] == [90, 91]  # the oldest handed over first
        finally:
            w.close()
            await w.wait_closed()
            await asyncio.sleep(0.2)
            await server.close()
        assert sorted(m.pnum for _, m in rec.messages) == [90, 91, 92, 93]

    asyncio.run(scenario())


def test_reassembler_memory_is_bounded_and_every_part_delivered_once() -> None:
    """Review e7.py: 3,000 parts of a PNUM=9999 message were all held (~7.6 GB worst case per connection)."""
    ra = Reassembler(max_parts=64, max_bytes=64 * 1024)
    got: list[int] = []
    peak = 0
    for pno in range(1, 3001):
        got += [p.pno for m in ra.add(decode(_part(pno))) for p in m.parts]  # type: ignore[misc]
        peak = max(peak, ra.held_bytes)
    got += [p.pno for m in ra.flush() for p in m.parts]  # type: ignore[misc]
    assert got == list(range(1, 3001))
    assert peak <= 64 * 1024 and ra.held_bytes == 0 and ra.open_messages == 0


def test_cli_serve_max_connections(tmp_path: Path) -> None:
    points = tmp_path / "points.csv"
    points.write_text(
        "point_id,site_code,name,quantity,carrier,unit,reading_kind,hj212_mn,hj212_code\n"
        f"E01.STACK1.SO2,E01,SO2,concentration,flue_gas,mg/Nm3,rate,{MN},a21026@2011\n",
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "carbonmet", "hj212", "serve", "--host", "127.0.0.1", "--port", "0",
         "--points", str(points), "--no-password-check",
         "--out", str(tmp_path / "in.jsonl"), "--rejects", str(tmp_path / "rej.jsonl"),
         "--max-connections", "1", "--frame-timeout", "30"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, f"server did not start: {proc.stderr.read() if proc.poll() is not None else ''}"
        port = int(re.search(r"127\.0\.0\.1:(\d+)", proc.stdout.readline()).group(1))  # type: ignore[union-attr]

        async def client() -> None:
            r1, w1 = await asyncio.open_connection("127.0.0.1", port)
            w1.write(rtd(1))
            assert decode(await answer(r1)).cn == "9014"
            r2, w2 = await asyncio.open_connection("127.0.0.1", port)
            assert await closed_within(r2, 10)  # the second logger is refused
            w1.write(rtd(2))  # the first is still served
            assert decode(await answer(r1)).qn.endswith("002")
            w1.close()
            w2.close()

        asyncio.run(client())
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_server_limits_defaults_come_from_table_1_and_bad_limits_name_the_field() -> None:
    lim = ServerLimits()
    # requests to loggers: HJ 212-2017 Table 1 for a mobile link (10 s, 3 resends; 6.2.1 and 6.2.2)
    assert (lim.request_timeout, lim.request_retries, lim.exec_timeout) == (10.0, 3, 10.0)
    assert lim.backfill_hours == 0.0
    adsl = ServerLimits.for_link("ADSL", max_connections=8)
    assert (adsl.request_timeout, adsl.request_retries, adsl.exec_timeout, adsl.max_connections) == (5.0, 3, 5.0, 8)
    with pytest.raises(ValueError, match="link 'X25' not in HJ 212-2017 Table 1"):
        ServerLimits.for_link("X25")
    with pytest.raises(ValueError, match=r"ServerLimits\.frame_timeout: .*must be > 0, got 0"):
        ServerLimits(frame_timeout=0)
    with pytest.raises(ValueError, match=r"ServerLimits\.request_retries: .*must be ≥ 0, got -1"):
        lim.replace(request_retries=-1)
    with pytest.raises(ValueError, match=r"ServerLimits\.idle_timeout: .*needs a number, got nan"):
        ServerLimits(idle_timeout=float("nan"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        lim.max_parts = 1  # type: ignore[misc]
    assert lim.replace(max_parts=3).max_parts == 3 and lim.max_parts != 3


def test_backfill_without_stored_times_is_refused_at_start() -> None:
    async def scenario() -> None:
        await start_server("127.0.0.1", 0, Recorder().sink, build_point_map(POINTS),
                           limits=ServerLimits(backfill_hours=1.0))

    with pytest.raises(BadRequestError, match="backfill_hours"):
        asyncio.run(scenario())
