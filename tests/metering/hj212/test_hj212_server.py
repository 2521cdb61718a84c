"""The HJ 212 TCP server over real loopback sockets (port 0): answers only after the sink, rejects kept."""

from __future__ import annotations

import asyncio
import json
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

MN = "010000A8900016F000169DC0"
POINTS = [
    PointInfo("E01.STACK1.SO2", "E01", "mg/m3", "rate", hj212_mn=MN, hj212_code="a21026@2011"),
    PointInfo("E01.STACK1.O2", "E01", "%", "rate", hj212_mn=MN, hj212_code="a19001@2011"),
]


def rtd(qn_ms: int, so2: str, flag: int = 5, **extra: object) -> bytes:
    head = {"QN": f"20250301120000{qn_ms:03d}", "ST": "31", "CN": "2011", "PW": "123456", "MN": MN, "Flag": flag}
    head.update(extra)
    return encode(
        build(head, [{"DataTime": "20250301120000"}, {"a21026-Rtd": so2, "a21026-Flag": "N"}, {"a19001-Rtd": "8.9"}])
    )


class Recorder:
    """A sink and a reject callback that keep what they are given (in memory)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[RawReading], Message]] = []
        self.rejects: list[tuple[bytes, str]] = []
        self.gate: asyncio.Event | None = None

    async def sink(self, readings: list[RawReading], message: Message) -> None:
        if self.gate is not None:
            await self.gate.wait()
        self.messages.append((readings, message))

    def reject(self, raw: bytes, reason: str) -> None:
        self.rejects.append((raw, reason))


async def read_answers(reader: asyncio.StreamReader, n: int, timeout: float = 5.0) -> list[bytes]:
    out = []
    async with asyncio.timeout(timeout):
        for _ in range(n):
            out.append(await reader.readuntil(b"\r\n"))
    return out


async def nothing_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    try:
        async with asyncio.timeout(seconds):
            data = await reader.read(1)
    except TimeoutError:
        return True
    return data == b""


def test_server_answers_frames_rejects_bad_and_reassembles() -> None:
    async def scenario() -> None:
        rec = Recorder()
        server = await start_server(  # reject_window=0: each rejected piece reported on its own
            "127.0.0.1", 0, rec.sink, build_point_map(POINTS), reject=rec.reject,
            limits=ServerLimits(reject_window=0.0),
        )
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            # 1. a frame with a bad CRC: no answer, raw bytes and reason in rejects
            good = rtd(1, "35.2")
            bad = good[:-6] + b"0000\r\n"
            writer.write(bad)
            await writer.drain()
            assert await nothing_within(reader, 0.3)
            assert rec.rejects == [(bad, rec.rejects[0][1])] and rec.rejects[0][1].startswith("bad_crc:")

            # 2. three frames in one write: three answers, in order
            writer.write(rtd(2, "35.3") + rtd(3, "35.4") + rtd(4, "35.5"))
            answers = await read_answers(reader, 3)
            assert [decode(a).qn[-3:] for a in answers] == ["002", "003", "004"]
            for a in answers:
                p = decode(a)
                assert (p.st, p.cn, p.flag, p.mn, p.cp) == ("91", "9014", 4, MN, ())

            # 3. one frame split over three writes
            f = rtd(5, "36.0")
            for piece in (f[:7], f[7:60], f[60:]):
                writer.write(piece)
                await writer.drain()
                await asyncio.sleep(0.05)
            (a,) = await read_answers(reader, 1)
            assert decode(a).qn.endswith("005")

            # 4. a split message without answers (Flag=6): one sink call once both parts are in
            p1 = rtd(6, "37.0", flag=6, PNUM=2, PNO=1)
            p2 = encode(
                build(
                    {"QN": "20250301120000007", "ST": "31", "CN": "2011", "PW": "123456", "MN": MN, "Flag": 6,
                     "PNUM": 2, "PNO": 2},
                    [{"DataTime": "20250301120000"}, {"a19001-Rtd": "9.1", "a19001-Flag": "N"}],
                )
            )
            n_before = len(rec.messages)
            writer.write(p1)
            await writer.drain()
            assert await nothing_within(reader, 0.2)
            assert len(rec.messages) == n_before  # held until complete
            writer.write(p2)
            await writer.drain()
            for _ in range(50):
                if len(rec.messages) > n_before:
                    break
                await asyncio.sleep(0.02)
            readings, msg = rec.messages[-1]
            assert msg.complete and [p.pno for p in msg.parts] == [1, 2]
            assert sorted((r.point_id, r.value) for r in readings) == [
                ("E01.STACK1.O2", 8.9), ("E01.STACK1.O2", 9.1), ("E01.STACK1.SO2", 37.0)
            ]

            # 5. a split message with answers (Flag=7): each part answered with its own QN (Table C.50)
            q1 = rtd(8, "38.0", flag=7, PNUM=2, PNO=1)
            writer.write(q1)
            (a1,) = await read_answers(reader, 1)
            q2 = rtd(9, "38.5", flag=7, PNUM=2, PNO=2)
            writer.write(q2)
            (a2,) = await read_answers(reader, 1)
            assert [decode(a1).qn[-3:], decode(a2).qn[-3:]] == ["008", "009"]

            # 6. junk between frames is rejected, the next frame still answered
            writer.write(b"\x00\xffhello" + rtd(10, "39.0"))
            (a,) = await read_answers(reader, 1)
            assert decode(a).qn.endswith("010")
            assert rec.rejects[-1] == (b"\x00\xffhello", rec.rejects[-1][1])
        finally:
            writer.close()
            await writer.wait_closed()
            await server.close()

        so2 = [r.value for readings, _ in rec.messages for r in readings if r.point_id == "E01.STACK1.SO2"]
        assert so2 == [35.3, 35.4, 35.5, 36.0, 37.0, 38.0, 38.5, 39.0]
        assert server.stats.answers == 7 and server.stats.rejects == 2

    asyncio.run(scenario())


def test_answer_only_after_the_sink_returns_and_never_when_it_fails() -> None:
    async def scenario() -> None:
        rec = Recorder()
        rec.gate = asyncio.Event()
        server = await start_server("127.0.0.1", 0, rec.sink, build_point_map(POINTS), reject=rec.reject)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            writer.write(rtd(1, "35.2"))
            await writer.drain()
            assert await nothing_within(reader, 0.3)  # sink still writing: no answer yet
            assert rec.messages == []
            rec.gate.set()
            (a,) = await read_answers(reader, 1)
            assert decode(a).cn == "9014" and len(rec.messages) == 1
        finally:
            writer.close()
            await server.close()

        async def failing_sink(readings: list[RawReading], message: Message) -> None:
            raise OSError("disk full")

        rec2 = Recorder()
        server = await start_server("127.0.0.1", 0, failing_sink, build_point_map(POINTS), reject=rec2.reject)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            writer.write(rtd(2, "35.2"))
            await writer.drain()
            assert await nothing_within(reader, 0.3)
            assert server.stats.sink_errors == 1 and server.stats.answers == 0
            # not durable, not answered, and kept: the frame goes to reject with the sink's error
            assert rec2.rejects == [(rtd(2, "35.2"), "sink_failed: OSError('disk full')")]
        finally:
            writer.close()
            await server.close()

    asyncio.run(scenario())


def test_idle_connection_is_closed_and_partial_frame_rejected() -> None:
    async def scenario() -> None:
        rec = Recorder()
        server = await start_server(
            "127.0.0.1", 0, rec.sink, build_point_map(POINTS), reject=rec.reject, limits=ServerLimits(idle_timeout=0.3)
        )
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        f = rtd(1, "35.2")
        writer.write(f[:30])
        await writer.drain()
        async with asyncio.timeout(5):
            assert await reader.read(100) == b""  # the server hung up
        writer.close()
        await server.close()
        assert rec.rejects == [(f[:30], "incomplete frame when the connection ended")]

    asyncio.run(scenario())


@pytest.mark.parametrize("mode", ["jsonl", "store"])
def test_cli_serve_makes_data_durable_before_answering(tmp_path: Path, mode: str) -> None:
    out, rejects, points = tmp_path / "in.jsonl", tmp_path / "rejects.jsonl", tmp_path / "points.csv"
    points.write_text(
        "point_id,site_code,name,quantity,carrier,unit,reading_kind,hj212_mn,hj212_code\n"
        f"E01.STACK1.SO2,E01,SO2,concentration,flue_gas,mg/Nm3,rate,{MN},a21026@2011\n",
        encoding="utf-8",
    )
    where = ["--store", str(tmp_path / "store")] if mode == "store" else ["--out", str(out), "--rejects", str(rejects)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "carbonmet", "hj212", "serve", "--host", "127.0.0.1", "--port", "0",
         "--points", str(points), "--no-password-check", *where],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, f"server did not start: {proc.stderr.read() if proc.poll() is not None else ''}"
        line = proc.stdout.readline()
        port = int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))  # type: ignore[union-attr]

        async def client() -> list[bytes]:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(rtd(1, "35.2") + rtd(2, "35.3")[:-6] + b"FFFF\r\n")
            answers = await read_answers(reader, 1, timeout=30)
            assert await nothing_within(reader, 0.3)
            writer.close()
            return answers

        (a,) = asyncio.run(client())
        assert decode(a).qn.endswith("001")
        if mode == "jsonl":
            (rec,) = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
            assert rec["readings"][0]["point_id"] == "E01.STACK1.SO2" and rec["readings"][0]["value"] == 35.2
            assert rec["frames"] == [rtd(1, "35.2").decode()]
            (rej,) = [json.loads(x) for x in rejects.read_text(encoding="utf-8").splitlines()]
            assert rej["reason"].startswith("bad_crc") and bytes.fromhex(rej["raw_hex"]).endswith(b"FFFF\r\n")
        else:
            from carbonmet.metering import Store
            from carbonmet.registry import catalog_from_files

            st = Store(tmp_path / "store")
            table = st.readings("E01.STACK1.SO2", catalog=catalog_from_files(points))
            assert table.column("value").to_pylist() == [35.2]
            q = st.quarantine()
            assert any(r.startswith("bad_crc") for r in q.column("reason").to_pylist())
    finally:
        proc.terminate()
        proc.wait(timeout=10)
