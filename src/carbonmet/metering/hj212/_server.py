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
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .._types import RawReading
from ._codec import MAX_DATA_LEN, MAX_DATA_LEN_FIELD, Packet, answer_frames, decode, encode
from ._errors import DecodeError
from ._framing import Framer
from ._mapping import PointMap, to_raw_readings
from ._reassembly import Message, Reassembler

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
    ) -> None:
        self.sink = sink
        self.point_map = point_map
        self.reject = reject
        self.idle_timeout = idle_timeout
        self.strict = strict
        self.read_size = read_size
        self.stats = ServerStats()
        self._server: asyncio.base_events.Server | None = None

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
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _reject(self, raw: bytes, reason: str) -> None:
        st = self.stats
        st.rejects += 1
        st.bytes_rejected += len(raw)
        kind = reason.split(":", 1)[0] if ":" in reason else reason
        st.reasons[kind] = st.reasons.get(kind, 0) + 1
        if self.reject is not None:
            try:
                res = self.reject(raw, reason)
                if inspect.isawaitable(res):
                    await res
            except Exception:  # the reject store failing must not take the connection down
                log.exception("hj212 reject callback failed (%s): %r", reason, raw[:200])
        else:
            log.warning("hj212 reject (%s): %r", reason, raw[:200])

    async def _deliver(self, msg: Message, out: list[bytes]) -> None:
        try:
            readings = to_raw_readings(msg, self.point_map)
        except DecodeError as exc:
            for part in msg.parts:
                await self._reject(part.raw or encode(part), str(exc))
            return
        try:
            await self.sink(readings, msg)
        except Exception as exc:  # not durable: no answer (a logger that asked will send it again)
            self.stats.sink_errors += 1
            log.exception("hj212 sink failed for MN=%s QN=%s; not answered", msg.mn, msg.qn)
            for part in msg.parts:  # and the frames go to reject, for packets no one will send again
                await self._reject(part.raw or encode(part), f"sink_failed: {exc!r}")
            return
        self.stats.messages += 1
        self.stats.readings += len(readings)
        for part in msg.parts:
            frames = answer_frames(part)
            out.extend(frames)
            self.stats.answers += len(frames)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        st = self.stats
        st.connections += 1
        peer = writer.get_extra_info("peername")
        framer = Framer(MAX_DATA_LEN if self.strict else MAX_DATA_LEN_FIELD)
        reassembler = Reassembler()
        strict = self.strict
        try:
            while True:
                try:
                    async with asyncio.timeout(self.idle_timeout):
                        chunk = await reader.read(self.read_size)
                except TimeoutError:
                    log.info("hj212 %s idle for %.0f s, closing", peer, self.idle_timeout)
                    break
                if not chunk:
                    break
                st.bytes_in += len(chunk)
                out: list[bytes] = []  # answers, written once per chunk (after their sinks returned)
                for raw, reason in framer.feed(chunk):
                    if reason is not None:
                        await self._reject(raw, reason)
                        continue
                    st.frames += 1
                    try:
                        packet: Packet = decode(raw, strict=strict)
                    except DecodeError as exc:
                        await self._reject(raw, str(exc))
                        continue
                    st.packets += 1
                    if packet.is_split and not packet.needs_ack:
                        for msg in reassembler.add(packet):
                            await self._deliver(msg, out)
                    else:
                        await self._deliver(Message((packet,), packet.pnum), out)
                if out:
                    writer.write(b"".join(out))
                    if writer.transport.get_write_buffer_size():
                        await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            log.info("hj212 %s connection lost: %s", peer, exc)
        finally:
            for raw, reason in framer.close():
                await self._reject(raw, reason or "incomplete frame")
            out = []
            for msg in reassembler.flush():
                await self._deliver(msg, out)
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
    idle_timeout: float = 900.0,
    strict: bool = True,
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
        Receives every rejected frame or stray bytes with the reason (may be async).
    idle_timeout : float
        Close a connection that sends nothing for this long [s].
    strict : bool
        Decode as :func:`decode` ``strict``.
    """
    server = HJ212Server(sink, point_map, reject=reject, idle_timeout=idle_timeout, strict=strict)
    await server.start(host, port)
    return server


async def serve(
    host: str,
    port: int,
    sink: Sink,
    point_map: PointMap,
    *,
    reject: Reject | None = None,
    idle_timeout: float = 900.0,
    strict: bool = True,
) -> None:
    """Run the server until cancelled (see :func:`start_server` for the parameters)."""
    server = await start_server(
        host, port, sink, point_map, reject=reject, idle_timeout=idle_timeout, strict=strict
    )
    await server.serve_forever()
