"""Requests to data loggers (上位机请求, clause 6.1): the request side of :class:`HJ212Server`.

The server keeps the live connection of each MN (the MN of the packets received on it; a new connection
of the same MN replaces the old one). :meth:`LoggerRequests.request` sends a request built with the
logger's own ST, PW and Flag version (from its last packet), waits for the 9011 request answer (resending
after ``request_timeout``, at most ``request_retries`` times: clause 6.2.1), then for the logger's data
packets and the 9012 execution result (each within ``exec_timeout`` of the previous one: clause 6.2.2).
The data packets go through the server's ordinary path (mapping → sink → 9014 if asked); only 9011/9012
are taken out of it (they are answers, not data: one matching no open request goes to ``reject``). One
request at a time per logger. ``backfill_hours``: when a logger connects, the server asks it once for the
history periods its points miss in the store (:mod:`._gaps`).

The packets themselves and :class:`RequestResult` are built in :mod:`._requests` (pure, no I/O); the
timeouts and resends are :class:`ServerLimits` fields (defaults: Table 1).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ._codec import CHINA_TZ, Packet, encode
from ._errors import (
    BadRequestError,
    NotConnectedError,
    RequestError,
    RequestTimeoutError,
    UnknownLoggerError,
)
from ._gaps import PERIODS, HistoryRequest, StoredTimes, logger_points, plan_backfill
from ._limits import ServerLimits
from ._mapping import PointMap
from ._requests import REALTIME_CN, CpArg, QnClock, RequestResult, history_times, request_flow, request_packet

if TYPE_CHECKING:
    from ._server import ServerStats

log = logging.getLogger(__name__)

#: Answers a logger sends to a platform request (Table 9): routed to the request, never to the sink.
_ANSWER_CNS = frozenset({"9011", "9012"})


class _Conn:
    """One logger connection: its writer, its MN and its last packet (ST, PW, version for requests)."""

    __slots__ = ("last", "mn", "peer", "writer")

    def __init__(self, writer: asyncio.StreamWriter, peer: object) -> None:
        self.writer = writer
        self.peer = peer
        self.mn: str | None = None
        self.last: Packet | None = None


class _Pending:
    """An open request: what has come back so far."""

    __slots__ = (
        "answer_at", "answered", "cn", "conn", "data_cn", "done", "event", "exe_rtn", "flow", "got_9011",
        "last_activity", "lost", "packets", "qn", "qn_rtn", "readings", "replies", "sink_failures",
    )

    def __init__(self, qn: str, cn: str, flow: str, data_cn: str) -> None:
        self.qn, self.cn, self.flow, self.data_cn = qn, cn, flow, data_cn
        self.conn: _Conn | None = None
        self.event = asyncio.Event()
        self.answered = self.done = self.got_9011 = self.lost = False
        self.qn_rtn: int | None = None
        self.exe_rtn: int | None = None
        self.answer_at: float | None = None
        self.packets = self.readings = self.sink_failures = 0
        self.replies: list[Packet] = []
        self.last_activity = time.monotonic()

    def wake(self) -> None:
        self.last_activity = time.monotonic()
        self.event.set()

    def data(self, packet: Packet) -> None:
        self.packets += 1
        if self.flow == "reply":
            self.replies.append(packet)
        self.wake()

    def delivered(self, n: int) -> None:
        if n < 0:
            self.sink_failures += 1
        else:
            self.readings += n

    async def wait(self, seconds: float) -> bool:
        """Wait for anything to come back, at most ``seconds``; False on timeout."""
        self.event.clear()
        try:
            async with asyncio.timeout(max(seconds, 0.0)):
                await self.event.wait()
        except TimeoutError:
            return False
        return True


def _int_field(packet: Packet, name: str) -> int | None:
    text = packet.get(name)
    return int(text) if text is not None and text.isdigit() else None


@dataclass
class BackfillReport:
    """Gap recovery of one logger: the requests planned from the store and what came back.

    ``readings`` counts what the sink received in answer (stored, duplicates and quarantined alike).
    """

    mn: str
    start: datetime
    end: datetime
    planned: list[HistoryRequest] = field(default_factory=list)
    results: list[RequestResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def missing(self) -> int:
        """Periods found missing."""
        return sum(r.missing for r in self.planned)

    @property
    def packets(self) -> int:
        return sum(r.packets for r in self.results)

    @property
    def readings(self) -> int:
        return sum(r.readings for r in self.results)


class LoggerRequests:
    """The request side of :class:`HJ212Server`: live connections by MN, open requests, gap recovery.

    A base class of the server (not used on its own); the server calls :meth:`_init_requests` and
    routes each decoded packet through :meth:`_register`, :meth:`_answer` and :meth:`_answering`.
    """

    # provided by the server
    point_map: PointMap
    limits: ServerLimits
    strict: bool
    stats: ServerStats
    stored_times: StoredTimes | None
    _tasks: set[asyncio.Task[Any]]

    async def _reject(self, raw: bytes, reason: str) -> None:
        raise NotImplementedError

    def _init_requests(self) -> None:
        if self.limits.backfill_hours > 0 and self.stored_times is None:
            raise BadRequestError("backfill_hours 需要 needs stored_times (what the store holds)")
        self._conns: dict[str, _Conn] = {}  # MN → its live connection
        self._known: set[str] = set()  # every MN ever seen
        self._pending: dict[str, _Pending] = {}  # MN → its open request
        self._locks: dict[str, asyncio.Lock] = {}
        self._qn = QnClock()
        #: the last gap recovery per MN (``backfill_hours``)
        self.backfill_reports: dict[str, BackfillReport] = {}

    def _register(self, conn: _Conn, mn: str) -> bool:
        """The connection speaks for ``mn`` from now on (a new connection of an MN replaces the old).

        Returns True when gap recovery is due (the connection's first MN, ``backfill_hours`` > 0); it is
        started once the answers of the packet that announced the MN are written.
        """
        first = conn.mn is None
        if not first:
            self._unregister(conn)
        conn.mn = mn
        old = self._conns.get(mn)
        if old is not None and old is not conn:
            log.info("hj212 MN=%s now on %s (replaces %s)", mn, conn.peer, old.peer)
        self._conns[mn] = conn
        self._known.add(mn)
        return first and self.limits.backfill_hours > 0

    def _answering(self, mn: str, cn: str) -> _Pending | None:
        """The open request of ``mn`` whose answer packets are of command ``cn``, if any."""
        pend = self._pending.get(mn)
        return pend if pend is not None and pend.data_cn == cn else None

    def _spawn_backfill(self, mn: str) -> None:
        task = asyncio.get_running_loop().create_task(self._auto_backfill(mn))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _unregister(self, conn: _Conn) -> None:
        mn = conn.mn
        assert mn is not None
        if self._conns.get(mn) is conn:
            del self._conns[mn]
        pend = self._pending.get(mn)
        if pend is not None and pend.conn is conn:
            pend.lost = True
            pend.wake()

    async def _answer(self, packet: Packet) -> None:
        """A 9011 request answer or 9012 execution result from a logger."""
        self.stats.answers_received += 1
        pend = self._pending.get(packet.mn)
        if pend is None or packet.qn != pend.qn:
            self.stats.unsolicited_answers += 1
            await self._reject(
                packet.raw or encode(packet),
                f"unsolicited_answer: CN={packet.cn} QN={packet.qn} MN={packet.mn} matches no open request"
                " (late after a timeout?) 无对应请求",
            )
            return
        if not pend.answered:
            pend.answered = True
            pend.answer_at = time.monotonic()
        if packet.cn == "9011":
            pend.got_9011 = True
            pend.qn_rtn = _int_field(packet, "QnRtn")
        else:
            pend.done = True
            pend.exe_rtn = _int_field(packet, "ExeRtn")
        pend.wake()

    def connected(self) -> list[str]:
        """MNs with a live connection."""
        return sorted(self._conns)

    def _connection(self, mn: str) -> _Conn:
        conn = self._conns.get(mn)
        if conn is None or conn.writer.is_closing():
            if mn in self._known or mn in self.point_map.mns:
                raise NotConnectedError(mn)
            raise UnknownLoggerError(mn)
        return conn

    async def request(
        self,
        mn: str,
        cn: str,
        cp: CpArg = (),
        *,
        timeout: float | None = None,
        retries: int | None = None,
        exec_timeout: float | None = None,
    ) -> RequestResult:
        """Send a request to a connected logger and follow its flow to the end (clause 6.1).

        Parameters
        ----------
        mn : str
            The logger's MN (it must have sent a packet on a live connection).
        cn : str
            A request command (Table 9; flows in request_flows.csv), e.g. 2051 minute history, 1011 its clock.
        cp : mapping or iterable of items
            CP data area (:func:`request_packet`), e.g. ``{"BeginTime": …, "EndTime": …}``.
        timeout : float, optional
            Wait for the 9011 request answer [s] (6.2.1); default ``request_timeout`` (Table 1: 10 s).
        retries : int, optional
            Resends of the same packet (same QN) after a timeout (6.2.1); default ``request_retries`` (3).
        exec_timeout : float, optional
            After the 9011, the longest wait for the next data packet or the 9012 [s] (6.2.2; no resend);
            default ``exec_timeout`` (Table 1: 10 s).

        Returns
        -------
        RequestResult
            ``accepted`` False with the QnRtn meaning if the logger refused (QnRtn ≠ 1; no 9012 is then
            awaited); else ExeRtn, the data packets and readings received and the timings.

        Raises
        ------
        BadRequestError
            ``cn`` is not a request command, or CP is invalid.
        UnknownLoggerError, NotConnectedError
            No such logger, or no live connection (also: lost while waiting).
        RequestTimeoutError
            ``phase="answer"``: no 9011 after 1 + ``retries`` sends; ``phase="execution"``: no data
            packet or 9012 within ``exec_timeout``. ``partial`` holds what had come back.
        """
        flow, data_cn = request_flow(cn)
        timeout = self.limits.request_timeout if timeout is None else timeout
        retries = self.limits.request_retries if retries is None else retries
        exec_timeout = self.limits.exec_timeout if exec_timeout is None else exec_timeout
        self._connection(mn)
        lock = self._locks.setdefault(mn, asyncio.Lock())
        async with lock:  # one request at a time per logger: data packets are matched by MN and CN
            conn = self._connection(mn)
            last = conn.last
            assert last is not None
            packet = request_packet(
                cn, mn=mn, st=last.st, pw=last.pw, qn=self._qn.next(), cp=cp, version=last.version,
                strict=self.strict,
            )
            pend = _Pending(packet.qn, cn, flow, data_cn)
            self._pending[mn] = pend
            self.stats.requests += 1
            try:
                return await self._run(mn, pend, encode(packet), timeout, retries, exec_timeout)
            finally:
                if self._pending.get(mn) is pend:
                    del self._pending[mn]

    async def _run(
        self, mn: str, pend: _Pending, frame: bytes, timeout: float, retries: int, exec_timeout: float
    ) -> RequestResult:
        t0 = time.monotonic()
        sent_at = datetime.now(UTC)
        attempts = 0

        def result() -> RequestResult:
            return RequestResult(
                mn=mn, cn=pend.cn, qn=pend.qn, flow=pend.flow, qn_rtn=pend.qn_rtn, exe_rtn=pend.exe_rtn,
                packets=pend.packets, readings=pend.readings, sink_failures=pend.sink_failures,
                replies=tuple(pend.replies), attempts=attempts, sent_at=sent_at,
                answer_seconds=None if pend.answer_at is None else pend.answer_at - t0,
                total_seconds=time.monotonic() - t0,
            )

        while not pend.answered:  # clause 6.2.1: request answer timeout, resend
            if attempts > retries:
                self.stats.request_timeouts += 1
                raise RequestTimeoutError(
                    f"请求无应答 no 9011 from MN={mn} for CN={pend.cn} QN={pend.qn}: sent {attempts} times,"
                    f" {timeout:g} s each (HJ 212-2017 6.2.1: link unusable)",
                    phase="answer", attempts=attempts, partial=result(),
                )
            try:
                conn = self._connection(mn)
            except RequestError:
                raise NotConnectedError(mn, f"connection lost while waiting for 9011 (QN={pend.qn})") from None
            pend.conn, pend.lost = conn, False
            attempts += 1
            if attempts > 1:
                self.stats.request_resends += 1
            deadline = time.monotonic() + timeout
            try:
                conn.writer.write(frame)
                async with asyncio.timeout(timeout):
                    await conn.writer.drain()
            except (ConnectionError, TimeoutError):
                pass  # counts as a send without answer
            while not pend.answered and not pend.lost and await pend.wait(deadline - time.monotonic()):
                pass
        if pend.got_9011 and pend.qn_rtn != 1 and not pend.done:
            return result()  # refused (Table 7); the logger does not execute
        while not pend.done:  # clause 6.2.2: execution timeout, restarted by each data packet
            if pend.lost:
                raise NotConnectedError(
                    mn, f"connection lost during execution of CN={pend.cn} QN={pend.qn} after {pend.packets} packets"
                )
            remaining = pend.last_activity + exec_timeout - time.monotonic()
            if remaining <= 0:
                self.stats.request_timeouts += 1
                raise RequestTimeoutError(
                    f"执行超时 no data or 9012 from MN={mn} for CN={pend.cn} QN={pend.qn} within {exec_timeout:g} s"
                    f" after {pend.packets} data packets (HJ 212-2017 6.2.2: command failed)",
                    phase="execution", attempts=attempts, partial=result(),
                )
            await pend.wait(remaining)
        return result()

    async def request_history(
        self, mn: str, cn: str, begin: datetime, end: datetime, **options: Any
    ) -> RequestResult:
        """Ask a logger for its history data (取污染物历史数据, Tables C.20–C.23).

        Parameters
        ----------
        cn : str
            2051 minute, 2061 hourly, 2031 daily data, 2041 facility daily running time.
        begin, end : datetime
            Starts of the first and last period wanted, both included; sent as BeginTime/EndTime in China
            time, truncated to the minute (2051), hour (2061) or day (2031, 2041).
        **options
            ``timeout``, ``retries``, ``exec_timeout`` of :meth:`request`.
        """
        return await self.request(mn, cn, history_times(cn, begin, end), **options)

    async def request_realtime(self, mn: str, **options: Any) -> RequestResult:
        """Ask a logger to start sending real-time data (2011 取污染物实时数据, Table C.10: 9011 then 9012; the
        2011 uploads then arrive as ordinary uploads)."""
        return await self.request(mn, REALTIME_CN, **options)

    async def backfill(
        self, mn: str, hours: float | None = None, *, end: datetime | None = None
    ) -> BackfillReport:
        """Request the history periods the logger's points miss in the store (补传).

        For each history command its points use (2051, 2061, 2031, 2041 in ``hj212_code``), the stored
        reading times of ``[end - hours, end)`` are read with ``stored_times``, the missing periods planned
        into requests (:func:`plan_backfill`) and the requests sent one after another. A refused or
        failed request is recorded in ``errors``; a lost connection or a logger that does not answer
        ends the recovery.

        Parameters
        ----------
        hours : float, optional
            How far back [h]; default ``backfill_hours``.
        end : datetime, optional
            End of the range; default now. Only periods that have ended by then are requested.
        """
        if self.stored_times is None:
            raise BadRequestError("backfill 需要 needs stored_times (what the store holds)")
        hours = self.limits.backfill_hours if hours is None else hours
        end = datetime.now(CHINA_TZ) if end is None else end
        report = BackfillReport(mn, end - timedelta(hours=hours), end)
        self.backfill_reports[mn] = report
        by_cn = logger_points(self.point_map, mn)
        for cn in PERIODS:  # minute, hour, day data
            points = by_cn.get(cn)
            if not points:
                continue
            stored = await self.stored_times(points, report.start, report.end)
            plan = plan_backfill(stored, report.start, report.end, cn)
            report.planned.extend(plan)
            for r in plan:
                try:
                    self.stats.backfill_requests += 1
                    res = await self.request_history(mn, cn, r.begin, r.end)
                except (NotConnectedError, UnknownLoggerError) as exc:
                    report.errors.append(str(exc))
                    return report
                except RequestTimeoutError as exc:
                    report.errors.append(str(exc))
                    if isinstance(exc.partial, RequestResult):
                        report.results.append(exc.partial)
                    if exc.phase == "answer":
                        return report
                    continue
                report.results.append(res)
                if not res.ok:
                    report.errors.append(
                        f"CN={cn} {r.begin:%Y%m%d%H%M}–{r.end:%Y%m%d%H%M}: QnRtn {res.qn_rtn_text},"
                        f" ExeRtn {res.exe_rtn_text}"
                    )
        return report

    async def _auto_backfill(self, mn: str) -> None:
        try:
            report = await self.backfill(mn)
        except asyncio.CancelledError:
            raise
        except Exception:  # recovery must never take the server down
            log.exception("hj212 backfill of MN=%s failed", mn)
            return
        log.info(
            "hj212 backfill MN=%s: %d periods missing, %d requests, %d packets, %d readings, %d errors",
            mn, report.missing, len(report.results), report.packets, report.readings, len(report.errors),
        )
