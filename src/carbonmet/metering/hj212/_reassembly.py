"""Messages and the reassembly of split packets (拆分包, Flag bit D with PNUM/PNO; Tables C.49, C.50)."""

from __future__ import annotations

from dataclasses import dataclass

from ._codec import Packet


@dataclass(frozen=True, slots=True)
class Message:
    """One logical HJ 212 message: a single packet, or the parts of a split one.

    Attributes
    ----------
    parts : tuple of Packet
        In PNO order (one element for an unsplit packet).
    pnum : int or None
        Parts announced (PNUM); ``None`` for an unsplit packet.
    """

    parts: tuple[Packet, ...]
    pnum: int | None = None

    @property
    def first(self) -> Packet:
        return self.parts[0]

    @property
    def complete(self) -> bool:
        """All parts 1..PNUM are here (always true for an unsplit packet)."""
        return self.pnum is None or len(self.parts) == self.pnum

    @property
    def mn(self) -> str:
        return self.parts[0].mn

    @property
    def cn(self) -> str:
        return self.parts[0].cn

    @property
    def qn(self) -> str:
        return self.parts[0].qn


#: Default caps of :class:`Reassembler` (per connection): parts held for one message, and frame bytes
#: held in all open messages. A standard split message has parts of ≤ 1024 bytes (Table 2); 64 parts
#: is a 64 KB message, larger than any data upload of a CEMS logger. Decoded parts take ~12 times
#: their frame size in memory, so 256 KiB of frames is ~3 MB per connection.
MAX_PARTS = 64
MAX_HELD_BYTES = 256 * 1024


class Reassembler:
    """Collect the parts of split messages sent over one connection.

    Parts of one message are recognised by ``(MN, ST, CN, PNUM)``: each part has its own QN in the
    standard's example (Table C.49: …534 then …535), so QN cannot be the key. A part numbered like
    one already held, with different content, starts a new message and the old one is handed back
    incomplete (nothing is dropped).

    Memory is bounded (review finding 9: PNUM may announce 9,999 parts): at most ``max_open``
    messages, ``max_parts`` parts per message and ``max_bytes`` frame bytes in all are held. Beyond a
    cap the message concerned (for ``max_parts``) or the oldest ones (for ``max_open``/``max_bytes``)
    are handed back incomplete; their parts are valid data on their own (each has its DataTime), so
    capping delivers early rather than drops.
    """

    __slots__ = ("_bytes", "_max_bytes", "_max_open", "_max_parts", "_open", "_sizes", "capped")

    def __init__(self, max_open: int = 64, *, max_parts: int = MAX_PARTS, max_bytes: int = MAX_HELD_BYTES) -> None:
        if max_open < 1 or max_parts < 1 or max_bytes < 1:
            raise ValueError("Reassembler caps must be ≥ 1")
        self._open: dict[tuple[str, str, str, int], dict[int, Packet]] = {}
        self._sizes: dict[tuple[str, str, str, int], int] = {}
        self._max_open = max_open
        self._max_parts = max_parts
        self._max_bytes = max_bytes
        self._bytes = 0
        #: Messages handed back incomplete because of a cap (not counting connection end).
        self.capped = 0

    @property
    def open_messages(self) -> int:
        return len(self._open)

    @property
    def held_bytes(self) -> int:
        """Frame bytes of all parts held [bytes]."""
        return self._bytes

    def add(self, packet: Packet) -> list[Message]:
        """Add one packet; return the messages now finished (complete, or handed back incomplete)."""
        if not packet.is_split or packet.pnum is None or packet.pno is None:
            return [Message((packet,))]
        out: list[Message] = []
        key = (packet.mn, packet.st, packet.cn, packet.pnum)
        held = self._open.get(key)
        if held is not None and packet.pno in held:
            if held[packet.pno] == packet:  # a re-sent duplicate
                return out
            out.append(self._pop(key))
            held = None
        if held is None:
            if len(self._open) >= self._max_open:
                self.capped += 1
                out.append(self._pop(next(iter(self._open))))
            held = self._open[key] = {}
            self._sizes[key] = 0
        held[packet.pno] = packet
        size = len(packet.raw) if packet.raw is not None else 1024
        self._sizes[key] += size
        self._bytes += size
        if len(held) == packet.pnum:
            out.append(self._pop(key))
        elif len(held) >= self._max_parts:
            self.capped += 1
            out.append(self._pop(key))
        while self._bytes > self._max_bytes and self._open:
            self.capped += 1
            out.append(self._pop(next(iter(self._open))))
        return out

    def flush(self) -> list[Message]:
        """Hand back every message still open (incomplete), e.g. when the connection ends."""
        return [self._pop(k) for k in list(self._open)]

    def _pop(self, key: tuple[str, str, str, int]) -> Message:
        parts = self._open.pop(key)
        self._bytes -= self._sizes.pop(key)
        return Message(tuple(parts[k] for k in sorted(parts)), key[3])
