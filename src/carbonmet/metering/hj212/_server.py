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

Limits (review finding 9: one client must not knock the server over), all fields of :class:`ServerLimits`:

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

Access passwords (访问密码 PW, clause 6.3.2 Table 3): with a ``check_password(mn, pw)`` callback every
decoded packet is checked before anything else is done with it. A packet whose PW the callback refuses
(wrong or empty) is answered 9011 with QnRtn=3 ("PW 错误", Table 7; only if Flag bit A asks for an
answer), goes to ``reject`` with reason ``bad_password`` and is counted in ``stats.auth_failures``;
nothing of it is stored, and the connection is not registered for requests. After
``limits.max_auth_failures`` refused packets the connection is closed (``stats.closed_auth``). A pair
(MN, PW) accepted once is remembered for the rest of the connection (the callback may be slow: a salted
key-derivation hash), so a password changed while a logger is connected applies from its next connection.
Without the callback PW is not checked (anyone who can reach the port and knows an MN writes data).

Requests to loggers (上位机请求, clause 6.1) and gap recovery (补传) are the server's other side, in
:mod:`._requester` (:class:`LoggerRequests`, a base class of :class:`HJ212Server`): only 9011/9012
answers are taken out of the data path above; the data packets a request brings go through it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .. import RawReading
from ._codec import MAX_DATA_LEN, MAX_DATA_LEN_FIELD, Packet, answer_frames, decode, encode, request_answer
from ._errors import DecodeError
from ._framing import Framer
from ._gaps import StoredTimes
from ._limits import ServerLimits
from ._mapping import PointMap, to_raw_readings
from ._policy import AcceptancePolicy, assess
from ._reassembly import Message, Reassembler
from ._requester import _ANSWER_CNS, LoggerRequests, _Conn

log = logging.getLogger(__name__)

Sink = Callable[[list[RawReading], Message], Awaitable[object]]
Reject = Callable[[bytes, str], "Awaitable[object] | None"]
#: ``check_password(mn, pw) -> bool`` (or an awaitable of it): is ``pw`` the access password of logger ``mn``?
PasswordCheck = Callable[[str, str], "Awaitable[bool] | bool"]

#: QnRtn of Table 7 (HJ 212-2017 6.6.3) answering a packet whose PW is wrong: "PW 错误".
QNRTN_BAD_PW = 3


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
    #: packets refused because ``check_password`` refused their PW (wrong or empty); nothing stored
    auth_failures: int = 0
    #: connections closed after ``max_auth_failures`` refused packets
    closed_auth: int = 0
    #: packets accepted with deviations from HJ 212-2017, per deviation code (deviations.csv)
    deviations: dict[str, int] = field(default_factory=dict)
    #: packets refused by a logger's ``strict`` acceptance policy (their frames go to ``reject``)
    policy_refused: int = 0


class _RejectBuffer:
    """Rejected pieces of one connection waiting to be handed to ``reject`` as one."""

    __slots__ = ("bad_run", "first", "last_flush", "pieces", "size")

    def __init__(self) -> None:
        self.pieces: list[tuple[bytes, str]] = []
        self.size = 0
        self.first = 0.0  # monotonic time of the first piece waiting
        self.last_flush = -1e18
        self.bad_run = 0  # rejected bytes since the last good frame


class HJ212Server(LoggerRequests):
    """A running server; create with :func:`start_server`.

    Requests to connected loggers (:meth:`request`, :meth:`request_history`, :meth:`request_realtime`,
    :meth:`backfill`) come from :class:`LoggerRequests`.
    """

    def __init__(
        self,
        sink: Sink,
        point_map: PointMap,
        *,
        reject: Reject | None = None,
        strict: bool = True,
        limits: ServerLimits | None = None,
        stored_times: StoredTimes | None = None,
        check_password: PasswordCheck | None = None,
        policy: AcceptancePolicy | None = None,
    ) -> None:
        self.sink = sink
        self.policy = policy
        self.check_password = check_password
        self.point_map = point_map
        self.reject = reject
        self.strict = strict
        self.limits = ServerLimits() if limits is None else limits
        self.stored_times = stored_times
        self.stats = ServerStats()
        self.active = 0
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._init_requests()

    @property
    def port(self) -> int:
        """The TCP port listened on (useful after binding port 0)."""
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._handle, host, port, limit=2 * self.limits.read_size)

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
        if not buf.pieces and now - buf.last_flush >= self.limits.reject_window:
            buf.last_flush = now  # the first of a window goes out at once (a lone bad frame keeps its reason)
            await self._emit(raw, reason)
            return
        if not buf.pieces:
            buf.first = now
        buf.pieces.append((raw, reason))
        buf.size += len(raw)
        if buf.size >= self.limits.reject_flush_bytes:
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
            f" {self.limits.reject_window:g} s: {counts}; first: {pieces[0][1]}"
        )
        await self._emit(raw, reason)

    async def _authenticated(self, packet: Packet, verified: dict[str, str]) -> bool:
        """Whether ``packet``'s PW is its logger's access password (always, without ``check_password``)."""
        if self.check_password is None or verified.get(packet.mn) == packet.pw:
            return True
        try:
            res = self.check_password(packet.mn, packet.pw)
            ok = bool(await res) if inspect.isawaitable(res) else bool(res)
        except Exception:  # a failing checker refuses: it must never let data in
            log.exception("hj212 check_password failed for MN=%s; refused", packet.mn)
            ok = False
        if ok:
            verified[packet.mn] = packet.pw
        return ok

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
        if self.active >= self.limits.max_connections:
            st.refused += 1
            log.warning("hj212 %s refused: %d connections open (max_connections)", peer, self.active)
            writer.close()
            return
        self.active += 1
        st.connections += 1
        conn = _Conn(writer, peer)
        pending = self._pending
        backfill_due: str | None = None
        policy = self.policy
        framer = Framer(MAX_DATA_LEN if self.strict and policy is None else MAX_DATA_LEN_FIELD)
        reassembler = Reassembler(max_parts=self.limits.max_parts, max_bytes=self.limits.max_held_bytes)
        bad = _RejectBuffer()
        verified: dict[str, str] = {}  # MN → PW accepted on this connection
        auth_failures = 0
        strict = self.strict
        lim = self.limits
        idle, frame_timeout, window, max_bad, read_size = (
            lim.idle_timeout, lim.frame_timeout, lim.reject_window, lim.max_bad_bytes, lim.read_size
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
                        chunk = await reader.read(read_size)
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
                    if policy is None:
                        try:
                            packet: Packet = decode(raw, strict=strict)
                        except DecodeError as exc:
                            await self._bad(bad, raw, str(exc))
                            continue
                    else:
                        found = assess(raw)
                        if found.packet is None:
                            await self._bad(bad, raw, str(found.error))
                            continue
                        refusal = policy.refusal(found, self.point_map)
                        if refusal is not None:
                            st.policy_refused += 1
                            await self._bad(bad, raw, refusal)
                            continue
                        packet = found.packet
                        for code in found.deviations:
                            st.deviations[code] = st.deviations.get(code, 0) + 1
                    if not await self._authenticated(packet, verified):
                        st.auth_failures += 1
                        auth_failures += 1
                        what = "空密码 empty PW" if not packet.pw else "密码错误 wrong PW"
                        await self._bad(bad, raw, f"bad_password: MN={packet.mn} CN={packet.cn}: {what} (QnRtn=3)")
                        if packet.needs_ack:
                            ans = encode(request_answer(packet, QNRTN_BAD_PW))
                            out.append(ans)
                            st.answers += 1
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
                if auth_failures >= lim.max_auth_failures:
                    st.closed_auth += 1
                    log.warning("hj212 %s sent %d packets with a refused PW (max_auth_failures), closing",
                                peer, auth_failures)
                    break
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


async def start_server(
    host: str,
    port: int,
    sink: Sink,
    point_map: PointMap,
    *,
    reject: Reject | None = None,
    strict: bool = True,
    limits: ServerLimits | None = None,
    stored_times: StoredTimes | None = None,
    check_password: PasswordCheck | None = None,
    policy: AcceptancePolicy | None = None,
) -> HJ212Server:
    """Start listening and return the server (``server.port`` is the bound port; ``await server.close()``).

    Parameters
    ----------
    host, port : str, int
        Where to listen; port 0 picks a free port.
    sink : async callable ``(readings, message) -> None``
        Must make the readings durable before returning; answers are sent only after it returns. If it
        raises, nothing is answered and the data logger will send the data again.
        :func:`store_sink` gives one over the readings store.
    point_map : PointMap
        MN/code → measurement point (:func:`build_point_map`).
    reject : callable ``(raw, reason)``, optional
        Receives every rejected frame or stray bytes with the reason (may be async); pieces of one
        connection within ``limits.reject_window`` are combined into one call.
    strict : bool
        Decode as :func:`decode` ``strict`` (only without ``policy``).
    policy : AcceptancePolicy, optional
        The acceptance policy per logger (:func:`~carbonmet.metering.hj212.load_policy`): each frame is
        assessed (:func:`~carbonmet.metering.hj212.assess`); deviations are accepted and flagged (counted in
        ``stats.deviations`` and handed to ``sink`` on the packets) or, for a ``strict`` logger, the frame
        goes to ``reject`` with the reasons (``stats.policy_refused``). Replaces ``strict`` when given.
    limits : ServerLimits, optional
        Connection limits, timeouts, split-message caps, request timeouts and resends (HJ 212-2017 6.2,
        Table 1 defaults) and ``backfill_hours``; default ``ServerLimits()``.
    stored_times : async callable ``(point_ids, start, end) -> {point_id: [ts, …]}``, optional
        What the store holds (:func:`store_times`); needed by ``limits.backfill_hours`` > 0.
    check_password : callable ``(mn, pw) -> bool``, optional
        The access password check (may be async); packets it refuses are answered 9011 QnRtn=3 (if
        they ask for an answer), rejected (``bad_password``) and counted, never stored. Default: none.

    Raises
    ------
    BadRequestError
        ``limits.backfill_hours`` > 0 without ``stored_times``.

    Notes
    -----
    ``check_password`` is the only authentication: without it any client that reaches ``host:port``
    and knows an MN writes data. Bind it to the registry's hashed logger passwords
    (:func:`carbonmet.services.start_hj212_server` does).
    """
    server = HJ212Server(sink, point_map, reject=reject, strict=strict, limits=limits, stored_times=stored_times,
                         check_password=check_password, policy=policy)
    await server.start(host, port)
    return server


async def serve(
    host: str,
    port: int,
    sink: Sink,
    point_map: PointMap,
    *,
    reject: Reject | None = None,
    strict: bool = True,
    limits: ServerLimits | None = None,
    stored_times: StoredTimes | None = None,
    check_password: PasswordCheck | None = None,
    policy: AcceptancePolicy | None = None,
) -> None:
    """Run the server until cancelled; the arguments are :func:`start_server`'s."""
    server = await start_server(
        host, port, sink, point_map, reject=reject, strict=strict, limits=limits, stored_times=stored_times,
        check_password=check_password, policy=policy,
    )
    await server.serve_forever()
