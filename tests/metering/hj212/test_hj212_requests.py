"""Platform requests to data loggers over real loopback TCP (HJ 212-2017 clauses 6.1 and 6.2).

A small data-logger simulator (asyncio client built on our codec) answers requests as Appendix C shows:
9011 request answer, data packets with their own QN (Tables C.20, C.47–C.50), 9012 execution result;
variants that never answer, that refuse (QnRtn ≠ 1) and that stop in the middle.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from carbonmet.metering import Catalog, PointInfo, RawReading, Store
from carbonmet.metering.hj212 import (
    Message,
    Packet,
    ServerLimits,
    build,
    build_point_map,
    decode,
    encode,
    start_server,
    store_sink,
    store_times,
)
from carbonmet.metering.hj212.codes import CHINA_TZ
from carbonmet.metering.hj212.errors import (
    BadRequestError,
    NotConnectedError,
    RequestTimeoutError,
    UnknownLoggerError,
)
from carbonmet.metering.hj212.protocol import (
    execution_result,
    format_qn,
    format_time,
    parse_time,
    request_answer,
)

MN = "010000A8900016F000169DC0"
OTHER_MN = "010000A8900016F000169DC1"  # named by a point, never connected
ST, PW = "31", "654321"  # the logger's own, not Appendix C's 32/123456: requests must use these
POINTS = {
    "E01.S1.SO2": PointInfo("E01.S1.SO2", "E01", "mg/m3", "rate", hj212_mn=MN, hj212_code="a21026"),
    "E01.S1.O2": PointInfo("E01.S1.O2", "E01", "%", "rate", hj212_mn=MN, hj212_code="a19001"),
    "E02.S1.SO2": PointInfo("E02.S1.SO2", "E02", "mg/m3", "rate", hj212_mn=OTHER_MN, hj212_code="a21026"),
}
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=CHINA_TZ)


def minute_packet(qn: str, t: datetime, so2: float, flag: int = 4, mn: str = MN) -> bytes:
    """A 2051 minute-data packet as Table C.20 shows it (own QN, Flag=4: no answer wanted)."""
    head = {"QN": qn, "ST": ST, "CN": "2051", "PW": PW, "MN": mn, "Flag": flag}
    return encode(build(head, [{"DataTime": format_time(t)},
                               {"a21026-Avg": f"{so2:.1f}", "a21026-Flag": "N"},
                               {"a19001-Avg": "8.5", "a19001-Flag": "N"}]))


class Logger:
    """A data logger (现场机) simulator speaking HJ 212-2017 over TCP with our codec.

    mode: ``answer`` (clause 6.1: 9011 QnRtn=1, data, 9012), ``silent`` (never answers), ``refuse``
    (9011 with ``qn_rtn``), ``stall`` (9011, ``stall_after`` data packets, then nothing).
    ``data_flag`` 4: data packets want no answer (Table C.47); 5: each waits for its 9014 (Table C.48).
    """

    def __init__(
        self, port: int, minutes: dict[datetime, float], *, mode: str = "answer", qn_rtn: int = 1,
        data_flag: int = 4, stall_after: int = 0, mn: str = MN,
    ) -> None:
        self.port, self.minutes, self.mode, self.qn_rtn = port, minutes, mode, qn_rtn
        self.data_flag, self.stall_after, self.mn = data_flag, stall_after, mn
        self.requests: list[Packet] = []
        self.request_frames: list[bytes] = []
        self.acks: list[Packet] = []
        self._seq = 0
        self._task: asyncio.Task[None] | None = None

    def _qn(self) -> str:
        self._seq += 1
        return format_qn(datetime(2025, 3, 1, 9, 0, tzinfo=CHINA_TZ) + timedelta(milliseconds=self._seq))

    async def connect(self, hello: datetime) -> None:
        """Connect and upload one minute packet with Flag=5 (so the server learns MN, ST and PW)."""
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(minute_packet(self._qn(), hello, self.minutes.get(hello, 1.0), flag=5, mn=self.mn))
        ack = await self._next()
        assert ack.cn == "9014"
        self._task = asyncio.create_task(self._serve())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except ConnectionError:
            pass

    async def _next(self) -> Packet:
        async with asyncio.timeout(10):
            raw = await self.reader.readuntil(b"\r\n")
        return decode(raw)

    def send(self, frame: bytes) -> None:
        self.writer.write(frame)

    async def _serve(self) -> None:
        while True:
            p = await self._next()
            if p.cn == "9014":
                self.acks.append(p)
                continue
            assert p.raw is not None
            self.requests.append(p)
            self.request_frames.append(p.raw)
            await self._handle(p)

    async def _handle(self, req: Packet) -> None:
        if self.mode == "silent":
            return
        if self.mode == "refuse":
            self.send(encode(request_answer(req, self.qn_rtn)))
            return
        self.send(encode(request_answer(req, 1)))
        if req.cn == "1011":  # Table C.2: the answer packet has the request's QN
            self.send(encode(build({"QN": req.qn, "ST": ST, "CN": "1011", "PW": PW, "MN": self.mn, "Flag": 4},
                                   [{"SystemTime": "20250301090000"}])))
        sent = 0
        if req.cn == "2051":
            begin = parse_time(req.get("BeginTime") or "", "BeginTime")
            end = parse_time(req.get("EndTime") or "", "EndTime")
            for t in sorted(self.minutes):
                if not begin <= t <= end:
                    continue
                if self.mode == "stall" and sent == self.stall_after:
                    return  # stops: no more data, no 9012
                qn = self._qn()
                self.send(minute_packet(qn, t, self.minutes[t], flag=self.data_flag, mn=self.mn))
                sent += 1
                if self.data_flag & 1:  # Table C.48: wait for the 9014 before the next packet
                    ack = await self._next()
                    assert (ack.cn, ack.qn) == ("9014", qn)
                    self.acks.append(ack)
        if self.mode == "stall":
            return
        self.send(encode(execution_result(req, 100 if req.cn == "2051" and not sent else 1)))
        if req.cn == "2011":  # real-time uploads start (Table C.10), as ordinary uploads
            self.send(encode(build({"QN": self._qn(), "ST": ST, "CN": "2011", "PW": PW, "MN": self.mn, "Flag": 4},
                                   [{"DataTime": "20250301090000"}, {"a21026-Rtd": "3.5"}])))


class Recorder:
    def __init__(self) -> None:
        self.messages: list[tuple[list[RawReading], Message]] = []
        self.rejects: list[tuple[bytes, str]] = []

    async def sink(self, readings: list[RawReading], message: Message) -> None:
        self.messages.append((readings, message))

    def reject(self, raw: bytes, reason: str) -> None:
        self.rejects.append((raw, reason))


def minutes(n: int, start: datetime = T0) -> dict[datetime, float]:
    return {start + timedelta(minutes=k): 10.0 + k for k in range(n)}


async def until(cond: object, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not cond() and time.monotonic() < deadline:  # type: ignore[operator]
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("data_flag", [4, 5])
def test_history_request_follows_the_flow_of_clause_6_1(data_flag: int) -> None:
    async def scenario() -> None:
        rec = Recorder()
        server = await start_server("127.0.0.1", 0, rec.sink, build_point_map(POINTS.values()), reject=rec.reject,
                                    limits=ServerLimits(request_timeout=2.0, exec_timeout=2.0))
        lg = Logger(server.port, minutes(10), data_flag=data_flag)
        try:
            await lg.connect(T0 + timedelta(minutes=10))
            await until(lambda: server.connected() == [MN])
            res = await server.request_history(MN, "2051", T0 + timedelta(minutes=2, seconds=30),
                                               T0 + timedelta(minutes=6))
        finally:
            await lg.close()
            await server.close()

        # the request as the logger received it: its ST and PW, Flag=5 (2017, answer wanted), a new QN,
        # BeginTime/EndTime to the minute as separate items (Table C.20)
        (req,) = lg.requests
        assert (req.st, req.cn, req.pw, req.mn, req.flag) == (ST, "2051", PW, MN, 5)
        assert len(req.qn) == 17 and req.qn == res.qn
        assert req.cp == ((("BeginTime", "20250301080200"),), (("EndTime", "20250301080600"),))
        assert res.accepted and res.ok and (res.qn_rtn, res.exe_rtn) == (1, 1)
        assert res.qn_rtn_text.startswith("准备执行请求") and res.exe_rtn_text.startswith("执行成功")
        assert (res.flow, res.packets, res.readings, res.sink_failures, res.attempts) == ("data", 5, 10, 0, 1)
        assert res.answer_seconds is not None and 0 <= res.answer_seconds <= res.total_seconds < 2
        # the data went through the ordinary path: hello + 5 packets to the sink, 9011/9012 never
        assert [m.cn for _, m in rec.messages] == ["2051"] * 6
        got = sorted(r.ts for readings, _ in rec.messages[1:] for r in readings if r.point_id == "E01.S1.SO2")
        assert got == [T0 + timedelta(minutes=k) for k in range(2, 7)]
        assert rec.rejects == []
        assert len(lg.acks) == (5 if data_flag == 5 else 0)  # 9014 only where the packet asked (Flag=5)
        st = server.stats
        assert (st.requests, st.request_resends, st.answers_received, st.unsolicited_answers) == (1, 0, 2, 0)

    asyncio.run(scenario())


def test_silent_logger_times_out_after_the_resends_of_clause_6_2() -> None:
    async def scenario() -> None:
        rec = Recorder()
        server = await start_server("127.0.0.1", 0, rec.sink, build_point_map(POINTS.values()),
                                    limits=ServerLimits(request_timeout=0.15, request_retries=3))
        lg = Logger(server.port, {}, mode="silent")
        try:
            await lg.connect(T0)
            t = time.monotonic()
            with pytest.raises(RequestTimeoutError) as info:
                await server.request(MN, "1011")
            elapsed = time.monotonic() - t
            await until(lambda: len(lg.requests) == 4)
        finally:
            await lg.close()
            await server.close()
        exc = info.value
        assert exc.phase == "answer" and exc.attempts == 4 and "6.2.1" in str(exc)
        assert 4 * 0.15 <= elapsed < 3
        # first send + 3 resends, byte-identical (the same QN: one command interaction)
        assert len(lg.request_frames) == 4 and len(set(lg.request_frames)) == 1
        st = server.stats
        assert (st.requests, st.request_resends, st.request_timeouts) == (1, 3, 1)

    asyncio.run(scenario())


@pytest.mark.parametrize(("qn_rtn", "meaning"), [(2, "请求被拒绝"), (3, "PW 错误")])
def test_refused_request_returns_the_meaning_of_qnrtn(qn_rtn: int, meaning: str) -> None:
    async def scenario() -> None:
        rec = Recorder()
        server = await start_server("127.0.0.1", 0, rec.sink, build_point_map(POINTS.values()),
                                    limits=ServerLimits(request_timeout=2.0, exec_timeout=2.0))
        lg = Logger(server.port, minutes(3), mode="refuse", qn_rtn=qn_rtn)
        try:
            await lg.connect(T0)
            res = await server.request_history(MN, "2051", T0, T0 + timedelta(minutes=2))
        finally:
            await lg.close()
            await server.close()
        assert not res.accepted and not res.ok
        assert res.qn_rtn == qn_rtn and res.qn_rtn_text.startswith(meaning)
        assert res.exe_rtn is None and res.packets == 0
        assert res.total_seconds < 1  # no wait for a 9012 that will not come

    asyncio.run(scenario())


def test_execution_timeout_keeps_the_data_already_received() -> None:
    async def scenario() -> None:
        rec = Recorder()
        server = await start_server("127.0.0.1", 0, rec.sink, build_point_map(POINTS.values()),
                                    limits=ServerLimits(request_timeout=2.0, exec_timeout=0.3))
        lg = Logger(server.port, minutes(5), mode="stall", stall_after=2)
        try:
            await lg.connect(T0 + timedelta(minutes=5))
            with pytest.raises(RequestTimeoutError) as info:
                await server.request_history(MN, "2051", T0, T0 + timedelta(minutes=4))
        finally:
            await lg.close()
            await server.close()
        exc = info.value
        assert exc.phase == "execution" and exc.attempts == 1 and "6.2.2" in str(exc)
        partial = exc.partial
        assert partial is not None and (partial.packets, partial.readings, partial.exe_rtn) == (2, 4, None)  # type: ignore[attr-defined]
        assert len(rec.messages) == 3  # hello + the 2 packets: in the sink, not lost

    asyncio.run(scenario())


def test_unknown_not_connected_and_bad_requests_are_typed_errors() -> None:
    async def scenario() -> None:
        rec = Recorder()
        server = await start_server("127.0.0.1", 0, rec.sink, build_point_map(POINTS.values()))
        try:
            with pytest.raises(UnknownLoggerError, match="未知数采仪"):
                await server.request("FFFF00A8900016F000169DC0", "2051")
            with pytest.raises(NotConnectedError, match="未连接"):  # a point names it; it never connected
                await server.request(OTHER_MN, "2051")
            for cn in ("9014", "2081", "2012", "1234"):  # an answer, an upload, a notice, not in Table 9
                with pytest.raises(BadRequestError, match="不是请求命令"):
                    await server.request(MN, cn)
            lg = Logger(server.port, {})
            await lg.connect(T0)
            with pytest.raises(BadRequestError, match="EndTime"):
                await server.request_history(MN, "2051", T0, T0 - timedelta(minutes=1))
            with pytest.raises(BadRequestError, match="历史数据"):
                await server.request_history(MN, "1011", T0, T0)
            await lg.close()
            await until(lambda: server.connected() == [])
            with pytest.raises(NotConnectedError):  # seen before, gone now
                await server.request(MN, "1011")
        finally:
            await server.close()
        assert server.stats.requests == 0

    asyncio.run(scenario())


def test_new_connection_replaces_the_old_and_a_stray_answer_is_no_data() -> None:
    async def scenario() -> None:
        rec = Recorder()
        server = await start_server("127.0.0.1", 0, rec.sink, build_point_map(POINTS.values()), reject=rec.reject,
                                    limits=ServerLimits(request_timeout=0.5, request_retries=0))
        old = Logger(server.port, {}, mode="silent")
        new = Logger(server.port, {})
        try:
            await old.connect(T0)
            await new.connect(T0 + timedelta(minutes=1))
            res = await server.request(MN, "1011")  # Table C.2: the logger's clock
            # a late 9012 on the old connection: matches no open request → reject, never the sink
            stray = execution_result(build({"QN": "20250301085959000", "ST": ST, "CN": "1011", "PW": PW, "MN": MN,
                                            "Flag": 5}))
            old.send(encode(stray))
            await until(lambda: len(rec.rejects) == 1)
        finally:
            await old.close()
            await new.close()
            await server.close()
        assert old.requests == [] and len(new.requests) == 1
        assert res.ok and res.flow == "reply" and res.replies[0].get("SystemTime") == "20250301090000"
        assert rec.rejects[0][0] == encode(stray) and rec.rejects[0][1].startswith("unsolicited_answer")
        assert all(m.cn not in ("9011", "9012") for _, m in rec.messages)
        assert server.stats.unsolicited_answers == 1

    asyncio.run(scenario())


def test_realtime_request_then_ordinary_uploads() -> None:
    async def scenario() -> None:
        rec = Recorder()
        server = await start_server("127.0.0.1", 0, rec.sink, build_point_map(POINTS.values()),
                                    limits=ServerLimits(request_timeout=2.0, exec_timeout=2.0))
        lg = Logger(server.port, {})
        try:
            await lg.connect(T0)
            res = await server.request_realtime(MN)
            await until(lambda: len(rec.messages) == 2)
        finally:
            await lg.close()
            await server.close()
        assert res.ok and res.flow == "execute" and res.packets == 0
        assert [m.cn for _, m in rec.messages] == ["2051", "2011"]

    asyncio.run(scenario())


def test_backfill_on_connect_recovers_the_missing_minutes_into_the_store(tmp_path: object) -> None:
    """The store misses minutes; the logger connects; the server asks for them; they land in the store."""
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    now = datetime.now(CHINA_TZ)
    if now.second > 50:  # keep the whole test inside one minute: the range ends at the last full minute
        time.sleep(61 - now.second)
        now = datetime.now(CHINA_TZ)
    base = now.replace(second=0, microsecond=0)
    logger_has = {base + timedelta(minutes=k): 20.0 + k for k in range(-30, 0)}  # the last 30 minutes
    gaps = {base + timedelta(minutes=k) for k in (-25, -24, -23, -10)}
    cat = Catalog({k: v for k, v in POINTS.items() if v.hj212_mn == MN})
    store = Store(tmp_path / "store")
    readings = [
        RawReading(point_id=p, serial=None, ts=t.astimezone(UTC), value=v if p == "E01.S1.SO2" else 8.5, unit=None,
                   flag="N", origin="seed")
        for t, v in logger_has.items() if t not in gaps for p in cat
    ]
    store.ingest_readings(readings, "seed", cat, source="test")
    sink, reject = store_sink(store, cat)

    async def scenario() -> None:
        server = await start_server(
            "127.0.0.1", 0, sink, build_point_map(cat.values()), reject=reject,
            limits=ServerLimits(request_timeout=2.0, exec_timeout=2.0, backfill_hours=1.0),
            stored_times=store_times(store, cat),
        )
        lg = Logger(server.port, logger_has)
        try:
            await lg.connect(base - timedelta(minutes=1))  # a minute the store has
            await until(lambda: server.stats.backfill_requests == 2 and not server._tasks, 20)
        finally:
            await lg.close()
            await server.close()
        report = server.backfill_reports[MN]
        # missing among the minutes wholly in the last hour (-59…-1; now is inside minute 0): the 29 before
        # the logger's data and the 4 gaps. -59…-31 and -25…-23 are 5 present minutes apart (≤ bridge 10):
        # one request; -10 is 12 apart: another
        assert report.missing == 33 and report.errors == []
        assert [(r.begin, r.end, r.periods, r.missing) for r in report.planned] == [
            (base - timedelta(minutes=59), base - timedelta(minutes=23), 37, 32),
            (base - timedelta(minutes=10), base - timedelta(minutes=10), 1, 1),
        ]
        assert [r.exe_rtn for r in report.results] == [1, 1]
        # the logger sent what it has in those ranges: -30…-23 (8) and -10 (1), two readings each
        assert (report.packets, report.readings) == (9, 18)
        assert [q.cn for q in lg.requests] == ["2051", "2051"]

    asyncio.run(scenario())
    for p in cat:
        ts = store.readings(p, catalog=cat).column("ts").to_pylist()
        assert sorted(ts) == sorted(t.astimezone(UTC) for t in logger_has)  # every minute, once
    so2 = dict(zip(*(store.readings("E01.S1.SO2", catalog=cat).column(c).to_pylist() for c in ("ts", "value")),
                   strict=True))
    assert all(so2[t.astimezone(UTC)] == logger_has[t] for t in gaps)
    # the 5 bridged minutes came back as duplicates (same value): counted, not stored twice, not quarantined
    assert sum(j["duplicates"] for j in store.journal()) == 5 * 2 + 2  # + the hello minute
    assert store.quarantine().num_rows == 0


def test_cli_serve_backfill_needs_the_store(tmp_path: object) -> None:
    from pathlib import Path

    from typer.testing import CliRunner

    from carbonmet.cli import app

    assert isinstance(tmp_path, Path)
    res = CliRunner().invoke(app, ["hj212", "serve", "--port", "0", "--out", str(tmp_path / "o.jsonl"),
                                   "--rejects", str(tmp_path / "r.jsonl"), "--backfill-hours", "2"])
    assert res.exit_code != 0 and "--backfill-hours 需要 --store" in res.output
    assert not (tmp_path / "o.jsonl").exists()  # refused before anything was opened
