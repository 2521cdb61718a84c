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


class Reassembler:
    """Collect the parts of split messages sent over one connection.

    Parts of one message are recognised by ``(MN, ST, CN, PNUM)``: each part has its own QN in the
    standard's example (Table C.49: …534 then …535), so QN cannot be the key. A part numbered like
    one already held, with different content, starts a new message and the old one is handed back
    incomplete (nothing is dropped). At most ``max_open`` messages are held; beyond that the oldest
    is handed back incomplete.
    """

    __slots__ = ("_max_open", "_open")

    def __init__(self, max_open: int = 64) -> None:
        self._open: dict[tuple[str, str, str, int], dict[int, Packet]] = {}
        self._max_open = max_open

    @property
    def open_messages(self) -> int:
        return len(self._open)

    def add(self, packet: Packet) -> list[Message]:
        """Add one packet; return the messages now finished (complete, or displaced incomplete)."""
        if not packet.is_split or packet.pnum is None or packet.pno is None:
            return [Message((packet,))]
        out: list[Message] = []
        key = (packet.mn, packet.st, packet.cn, packet.pnum)
        held = self._open.get(key)
        if held is not None and packet.pno in held:
            if held[packet.pno] == packet:  # a re-sent duplicate
                return out
            out.append(self._message(key, self._open.pop(key)))
            held = None
        if held is None:
            if len(self._open) >= self._max_open:
                oldest = next(iter(self._open))
                out.append(self._message(oldest, self._open.pop(oldest)))
            held = self._open[key] = {}
        held[packet.pno] = packet
        if len(held) == packet.pnum:
            out.append(self._message(key, self._open.pop(key)))
        return out

    def flush(self) -> list[Message]:
        """Hand back every message still open (incomplete), e.g. when the connection ends."""
        out = [self._message(k, v) for k, v in self._open.items()]
        self._open.clear()
        return out

    @staticmethod
    def _message(key: tuple[str, str, str, int], parts: dict[int, Packet]) -> Message:
        return Message(tuple(parts[k] for k in sorted(parts)), key[3])
