"""asyncio TCP server for HJ 212 data loggers (数采仪): the platform side (上位机) of the protocol.

Each data logger holds one TCP connection (clause 5: the application layer runs over TCP/IP). Per
connection the server frames the byte stream, decodes each frame, hands the readings to ``sink`` and,
only once ``sink`` has returned (the data is durable), writes the answers Flag bit A asks for (9014
for uploads, 9013 for notices; clause 6.5, Appendix C). A frame that fails to decode (bad CRC, bad
length, …) is not answered (Table 2: "如果 CRC 错误，执行结束"); its bytes and the reason go to
``reject``. Bytes outside any frame go to ``reject`` too, and so do the frames of a message whose
``sink`` raised (unanswered), so every byte received ends up somewhere.

Split packets (Flag bit D): parts that ask for no answer (Flag=6) are held until all PNUM parts have
come and then handed to ``sink`` as one :class:`Message`. Parts that do ask (Flag=7) are handed over
one by one and answered at once, because the data logger waits for each part's 9014 before it sends
the next (Table C.50); holding them would stall it. Incomplete held messages are handed to ``sink``
when the connection ends (their parts are valid data on their own: each carries its DataTime).

Limits (review finding 9: one client must not knock the server over), all configurable:

- ``max_connections`` open connections; one more is closed at once (counted in ``stats.refused``).
- ``idle_timeout``: nothing received for this long closes the connection; ``frame_timeout``: a frame
  that has started (``##`` received) must be complete within this time, or its bytes go to
  ``reject`` and the connection is closed (a client trickling one byte every few minutes).
- Split messages: parts and bytes held per connection are capped (:class:`Reassembler`).
- Rejected bytes of one connection (junk, frames that fail to decode) are combined: the first goes
  to ``reject`` at once, later ones within ``reject_window`` seconds are handed over together as
  one reject (all their bytes, a reason with the count per kind) when the window ends, when
  ``reject_flush_bytes`` have gathered, or when the connection ends. After ``max_bad_bytes`` rejected
  bytes with no good frame between them the connection is closed.

Requests to loggers (上位机请求, clause 6.1): the server keeps the live connection of each MN (the MN of
the packets received on it; a new connection of the same MN replaces the old one). :meth:`HJ212Server.request`
sends a request built with the logger's own ST, PW and Flag version (from its last packet), waits for
the 9011 request answer (resending after ``request_timeout``, at most ``request_retries`` times: clause
6.2.1), then for the logger's data packets and the 9012 execution result (each within
``exec_timeout`` of the previous one: clause 6.2.2). The data packets go through the ordinary path
(mapping → sink → 9014 if asked); only 9011/9012 are taken out of it (they are answers, not data: one
matching no open request goes to ``reject``). One request at a time per logger. ``backfill_hours``:
when a logger connects, the server asks it once for the history periods its points miss in the store
(:mod:`._gaps`).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .._types import RawReading
from ._codec import CHINA_TZ, MAX_DATA_LEN, MAX_DATA_LEN_FIELD, Packet, answer_frames, decode, encode
from ._errors import (
    BadRequestError,
    DecodeError,
    NotConnectedError,
    RequestError,
    RequestTimeoutError,
    UnknownLoggerError,
)
from ._framing import Framer
from ._gaps import PERIODS, HistoryRequest, StoredTimes, logger_points, plan_backfill
from ._mapping import PointMap, to_raw_readings
from ._reassembly import MAX_HELD_BYTES, MAX_PARTS, Message, Reassembler
from ._requests import (
    REALTIME_CN,
    REQUEST_RETRIES,
    REQUEST_TIMEOUT,
    CpArg,
    QnClock,
    RequestResult,
    history_times,
    request_flow,
    request_packet,
)

log = logging.getLogger(__name__)

Sink = Callable[[list[RawReading], Message], Awaitable[object]]
Reject = Callable[[bytes, str], "Awaitable[object] | None"]


@dataclass
class ServerStats:
    """Counts across all connections; ``bytes_in == bytes_framed + bytes_rejected + pending`` per connection."""

    connections: int = 0
    frames: int = 0
    packets: int = 0
    messages: int = 0
    readings: int = 0
    answers: int = 0
    rejects: int = 0
    bytes_in: int = 0
    bytes_rejected: int = 0
    sink_errors: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    #: rejected pieces (junk runs, bad frames) before combining; ``rejects`` counts reject calls
    reject_pieces: int = 0
    #: connections closed at once because ``max_connections`` were open
    refused: int = 0
    #: connections closed for ``max_bad_bytes``, ``frame_timeout``, ``idle_timeout``
    closed_bad_bytes: int = 0
    closed_frame_timeout: int = 0
    closed_idle: int = 0
    #: split messages handed over incomplete because a reassembly cap was reached
    reassembly_capped: int = 0
    #: requests to loggers: sent (first sends), resends after a timeout, requests that timed out
    requests: int = 0
    request_resends: int = 0
    request_timeouts: int = 0
    #: 9011/9012 received; of them matching no open request (sent to ``reject``)
    answers_received: int = 0
    unsolicited_answers: int = 0
    #: history requests sent by gap recovery (``backfill_hours``)
    backfill_requests: int = 0


#: Default limits (see the module docstring).
MAX_CONNECTIONS = 512
FRAME_TIMEOUT = 60.0
MAX_BAD_BYTES = 64 * 1024
REJECT_WINDOW = 5.0
REJECT_FLUSH_BYTES = 64 * 1024


class _RejectBuffer:
    """Rejected pieces of one connection waiting to be handed to ``reject`` as one."""

    __slots__ = ("bad_run", "first", "last_flush", "pieces", "size")

    def __init__(self) -> None:
        self.pieces: list[tuple[bytes, str]] = []
        self.size = 0
        self.first = 0.0  # monotonic time of the first piece waiting
        self.last_flush = -1e18
        self.bad_run = 0  # rejected bytes since the last good frame


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


class HJ212Server:
    """A running server; create with :func:`start_server`."""

    def __init__(
        self,
        sink: Sink,
        point_map: PointMap,
        *,
        reject: Reject | None = None,
        idle_timeout: float = 900.0,
        strict: bool = True,
        read_size: int = 65536,
        max_connections: int = MAX_CONNECTIONS,
        frame_timeout: float = FRAME_TIMEOUT,
        max_bad_bytes: int = MAX_BAD_BYTES,
        reject_window: float = REJECT_WINDOW,
        reject_flush_bytes: int = REJECT_FLUSH_BYTES,
        max_parts: int = MAX_PARTS,
        max_held_bytes: int = MAX_HELD_BYTES,
        request_timeout: float = REQUEST_TIMEOUT,
        request_retries: int = REQUEST_RETRIES,
        exec_timeout: float = REQUEST_TIMEOUT,
        backfill_hours: float = 0.0,
        stored_times: StoredTimes | None = None,
    ) -> None:
        if backfill_hours > 0 and stored_times is None:
            raise BadRequestError("backfill_hours 需要 needs stored_times (what the store holds)")
        self.sink = sink
        self.point_map = point_map
        self.reject = reject
        self.idle_timeout = idle_timeout
        self.strict = strict
        self.read_size = read_size
        self.max_connections = max_connections
        self.frame_timeout = frame_timeout
        self.max_bad_bytes = max_bad_bytes
        self.reject_window = reject_window
        self.reject_flush_bytes = reject_flush_bytes
        self.max_parts = max_parts
        self.max_held_bytes = max_held_bytes
        self.request_timeout = request_timeout
        self.request_retries = request_retries
        self.exec_timeout = exec_timeout
        self.backfill_hours = backfill_hours
        self.stored_times = stored_times
        self.stats = ServerStats()
        self.active = 0
        self._server: asyncio.base_events.Server | None = None
        self._conns: dict[str, _Conn] = {}  # MN → its live connection
        self._known: set[str] = set()  # every MN ever seen
        self._pending: dict[str, _Pending] = {}  # MN → its open request
        self._locks: dict[str, asyncio.Lock] = {}
        self._qn = QnClock()
        self._tasks: set[asyncio.Task[Any]] = set()
        #: the last gap recovery per MN (``backfill_hours``)
        self.backfill_reports: dict[str, BackfillReport] = {}

    @property
    def port(self) -> int:
        """The TCP port listened on (useful after binding port 0)."""
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._handle, host, port, limit=2 * self.read_size)

    async def serve_forever(self) -> None:
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _reject(self, raw: bytes, reason: str) -> None:
        """Count one rejected piece and hand it to ``reject`` on its own."""
        self._count_piece(raw, reason)
        await self._emit(raw, reason)

    def _count_piece(self, raw: bytes, reason: str) -> None:
        st = self.stats
        st.reject_pieces += 1
        st.bytes_rejected += len(raw)
        kind = reason.split(":", 1)[0] if ":" in reason else reason
        st.reasons[kind] = st.reasons.get(kind, 0) + 1

    async def _emit(self, raw: bytes, reason: str) -> None:
        self.stats.rejects += 1
        if self.reject is not None:
            try:
                res = self.reject(raw, reason)
                if inspect.isawaitable(res):
                    await res
            except Exception:  # the reject store failing must not take the connection down
                log.exception("hj212 reject callback failed (%s): %r", reason, raw[:200])
        else:
            log.warning("hj212 reject (%s): %r", reason, raw[:200])

    async def _bad(self, buf: _RejectBuffer, raw: bytes, reason: str) -> None:
        """A junk run or undecodable frame of a connection: combined with others of the same window."""
        self._count_piece(raw, reason)
        buf.bad_run += len(raw)
        now = time.monotonic()
        if not buf.pieces and now - buf.last_flush >= self.reject_window:
            buf.last_flush = now  # the first of a window goes out at once (a lone bad frame keeps its reason)
            await self._emit(raw, reason)
            return
        if not buf.pieces:
            buf.first = now
        buf.pieces.append((raw, reason))
        buf.size += len(raw)
        if buf.size >= self.reject_flush_bytes:
            await self._flush(buf)

    async def _flush(self, buf: _RejectBuffer) -> None:
        if not buf.pieces:
            return
        pieces, buf.pieces, buf.size = buf.pieces, [], 0
        buf.last_flush = time.monotonic()
        if len(pieces) == 1:
            await self._emit(*pieces[0])
            return
        kinds: dict[str, int] = {}
        for _, reason in pieces:
            kind = reason.split(":", 1)[0] if ":" in reason else reason
            kinds[kind] = kinds.get(kind, 0) + 1
        raw = b"".join(r for r, _ in pieces)
        counts = ", ".join(f"{k} ×{n}" for k, n in kinds.items())
        reason = (
            f"combined: {len(pieces)} rejected pieces ({len(raw)} bytes) of one connection within"
            f" {self.reject_window:g} s: {counts}; first: {pieces[0][1]}"
        )
        await self._emit(raw, reason)

    async def _deliver(self, msg: Message, out: list[bytes]) -> int:
        """Map, sink and answer one message; the number of readings, or -1 if it went to ``reject``."""
        try:
            readings = to_raw_readings(msg, self.point_map)
        except DecodeError as exc:
            for part in msg.parts:
                await self._reject(part.raw or encode(part), str(exc))
            return -1
        try:
            await self.sink(readings, msg)
        except Exception as exc:  # not durable: no answer (a logger that asked will send it again)
            self.stats.sink_errors += 1
            log.exception("hj212 sink failed for MN=%s QN=%s; not answered", msg.mn, msg.qn)
            for part in msg.parts:  # and the frames go to reject, for packets no one will send again
                await self._reject(part.raw or encode(part), f"sink_failed: {exc!r}")
            return -1
        self.stats.messages += 1
        self.stats.readings += len(readings)
        for part in msg.parts:
            frames = answer_frames(part)
            out.extend(frames)
            self.stats.answers += len(frames)
        return len(readings)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        st = self.stats
        peer = writer.get_extra_info("peername")
        if self.active >= self.max_connections:
            st.refused += 1
            log.warning("hj212 %s refused: %d connections open (max_connections)", peer, self.active)
            writer.close()
            return
        self.active += 1
        st.connections += 1
        conn = _Conn(writer, peer)
        pending = self._pending
        backfill_due: str | None = None
        framer = Framer(MAX_DATA_LEN if self.strict else MAX_DATA_LEN_FIELD)
        reassembler = Reassembler(max_parts=self.max_parts, max_bytes=self.max_held_bytes)
        bad = _RejectBuffer()
        strict = self.strict
        idle, frame_timeout, window, max_bad = (
            self.idle_timeout, self.frame_timeout, self.reject_window, self.max_bad_bytes
        )
        monotonic = time.monotonic
        last_rx = monotonic()
        frame_started: float | None = None  # when the frame now pending began to arrive
        try:
            while True:
                now = monotonic()
                deadline = last_rx + idle
                if frame_started is not None:
                    deadline = min(deadline, frame_started + frame_timeout)
                if bad.pieces:
                    deadline = min(deadline, bad.first + window)
                try:
                    async with asyncio.timeout(max(deadline - now, 0.0)):
                        chunk = await reader.read(self.read_size)
                except TimeoutError:
                    now = monotonic()
                    if bad.pieces and now >= bad.first + window:
                        await self._flush(bad)
                    if frame_started is not None and now >= frame_started + frame_timeout:
                        st.closed_frame_timeout += 1
                        log.info("hj212 %s frame not completed within %.0f s, closing", peer, frame_timeout)
                        for raw, _ in framer.close():
                            await self._bad(
                                bad, raw, f"incomplete frame: not completed within {frame_timeout:g} s (frame_timeout)"
                            )
                        break
                    if now >= last_rx + idle:
                        st.closed_idle += 1
                        log.info("hj212 %s idle for %.0f s, closing", peer, idle)
                        break
                    continue
                if not chunk:
                    break
                last_rx = monotonic()
                st.bytes_in += len(chunk)
                out: list[bytes] = []  # answers, written once per chunk (after their sinks returned)
                framed = False
                for raw, reason in framer.feed(chunk):
                    if reason is not None:
                        await self._bad(bad, raw, reason)
                        continue
                    st.frames += 1
                    try:
                        packet: Packet = decode(raw, strict=strict)
                    except DecodeError as exc:
                        await self._bad(bad, raw, str(exc))
                        continue
                    framed = True
                    bad.bad_run = 0
                    st.packets += 1
                    cn = packet.cn
                    if cn in _ANSWER_CNS:  # 9011/9012: an answer to a request, not data
                        await self._answer(packet)
                        continue
                    if packet.mn != conn.mn and self._register(conn, packet.mn):
                        backfill_due = packet.mn
                    conn.last = packet
                    if pending and (pend := self._answering(packet.mn, cn)) is not None:
                        pend.data(packet)
                    if packet.is_split and not packet.needs_ack:
                        msgs = reassembler.add(packet)
                    else:
                        msgs = [Message((packet,), packet.pnum)]
                    for msg in msgs:
                        n = await self._deliver(msg, out)
                        if pending and (pend := self._answering(msg.mn, msg.cn)) is not None:
                            pend.delivered(n)
                if framer.pending:
                    if frame_started is None or framed:
                        frame_started = last_rx
                else:
                    frame_started = None
                if out:
                    writer.write(b"".join(out))
                    if writer.transport.get_write_buffer_size():
                        await writer.drain()
                if backfill_due is not None:  # after the first answers: the logger is not kept waiting
                    self._spawn_backfill(backfill_due)
                    backfill_due = None
                if bad.bad_run > max_bad:
                    st.closed_bad_bytes += 1
                    log.warning(
                        "hj212 %s sent %d rejected bytes without a good frame (max_bad_bytes %d), closing",
                        peer, bad.bad_run, max_bad,
                    )
                    break
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            log.info("hj212 %s connection lost: %s", peer, exc)
        finally:
            self.active -= 1
            if conn.mn is not None:
                self._unregister(conn)
            for raw, reason in framer.close():
                await self._bad(bad, raw, reason or "incomplete frame")
            await self._flush(bad)
            out = []
            for msg in reassembler.flush():
                await self._deliver(msg, out)
            st.reassembly_capped += reassembler.capped
            try:
                if out and not writer.is_closing():
                    writer.write(b"".join(out))
                if writer.transport.get_write_buffer_size():
                    await writer.drain()
            except ConnectionError:
                pass
            writer.close()

    # ------------------------------------------------------------------------------------- requests

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
        return first and self.backfill_hours > 0

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
        timeout = self.request_timeout if timeout is None else timeout
        retries = self.request_retries if retries is None else retries
        exec_timeout = self.exec_timeout if exec_timeout is None else exec_timeout
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
        hours = self.backfill_hours if hours is None else hours
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


async def start_server(
    host: str,
    port: int,
    sink: Sink,
    point_map: PointMap,
    *,
    reject: Reject | None = None,
    idle_timeout: float = 900.0,
    strict: bool = True,
    max_connections: int = MAX_CONNECTIONS,
    frame_timeout: float = FRAME_TIMEOUT,
    max_bad_bytes: int = MAX_BAD_BYTES,
    reject_window: float = REJECT_WINDOW,
    reject_flush_bytes: int = REJECT_FLUSH_BYTES,
    max_parts: int = MAX_PARTS,
    max_held_bytes: int = MAX_HELD_BYTES,
    request_timeout: float = REQUEST_TIMEOUT,
    request_retries: int = REQUEST_RETRIES,
    exec_timeout: float = REQUEST_TIMEOUT,
    backfill_hours: float = 0.0,
    stored_times: StoredTimes | None = None,
) -> HJ212Server:
    """Start listening and return the server (``server.port`` is the bound port; ``await server.close()``).

    Parameters
    ----------
    host, port : str, int
        Where to listen; port 0 picks a free port.
    sink : async callable ``(readings, message) -> None``
        Must make the readings durable before returning; answers are sent only after it returns. If it
        raises, nothing is answered and the data logger will send the data again.
    point_map : PointMap
        MN/code → measurement point (:func:`build_point_map`).
    reject : callable ``(raw, reason)``, optional
        Receives every rejected frame or stray bytes with the reason (may be async); pieces of one
        connection within ``reject_window`` are combined into one call.
    idle_timeout : float
        Close a connection that sends nothing for this long [s].
    strict : bool
        Decode as :func:`decode` ``strict``.
    max_connections : int
        Connections open at once; more are closed on accept.
    frame_timeout : float
        A frame begun must be complete within this time [s], or the connection is closed.
    max_bad_bytes : int
        Close a connection after this many rejected bytes without a good frame between [bytes].
    reject_window : float
        Rejected pieces of one connection within this time go to ``reject`` as one [s].
    reject_flush_bytes : int
        ... or as soon as this many bytes of them have gathered [bytes].
    max_parts, max_held_bytes : int
        Per connection: parts held for one split message; frame bytes held in open split messages.
    request_timeout, request_retries : float, int
        Requests to loggers (:meth:`HJ212Server.request`): wait for the 9011 answer [s], resends after a
        timeout (HJ 212-2017 6.2.1; Table 1 default 10 s, 3).
    exec_timeout : float
        After the 9011, the longest wait for each data packet and the 9012 [s] (6.2.2; Table 1: 10 s).
    backfill_hours : float
        If > 0: when a logger connects, request once the history periods of the last ``backfill_hours``
        that its points miss in the store (:meth:`HJ212Server.backfill`).
    stored_times : async callable ``(point_ids, start, end) -> {point_id: [ts, …]}``, optional
        What the store holds (:func:`store_times`); needed by ``backfill_hours``.
    """
    server = HJ212Server(
        sink, point_map, reject=reject, idle_timeout=idle_timeout, strict=strict,
        max_connections=max_connections, frame_timeout=frame_timeout, max_bad_bytes=max_bad_bytes,
        reject_window=reject_window, reject_flush_bytes=reject_flush_bytes, max_parts=max_parts,
        max_held_bytes=max_held_bytes, request_timeout=request_timeout, request_retries=request_retries,
        exec_timeout=exec_timeout, backfill_hours=backfill_hours, stored_times=stored_times,
    )
    await server.start(host, port)
    return server


async def serve(host: str, port: int, sink: Sink, point_map: PointMap, **options: Any) -> None:
    """Run the server until cancelled; ``options`` are :func:`start_server`'s keyword arguments (every
    limit is forwarded, none is silently left at its default)."""
    server = await start_server(host, port, sink, point_map, **options)
    await server.serve_forever()
