"""Cut a TCP byte stream into HJ 212 frame candidates (no decoding here).

The fast path trusts the header: ``##`` + LLLL, and the CR LF must sit right after LLLL + 4 CRC bytes.
When it does not, the candidate ends at the first CR LF (the decoder then reports the length
mismatch with both numbers), or before the next ``##dddd`` if a frame lost its CR LF. Bytes outside
any frame are returned as rejects with a reason, so every byte received is accounted for: the bytes
of all frames and rejects returned, plus :attr:`Framer.pending`, equal the bytes fed.
"""

from __future__ import annotations

from ._codec import MAX_DATA_LEN, MAX_DATA_LEN_FIELD

#: A frame's bytes beyond its data segment: "##" + LLLL + CRC + CR LF.
FRAME_OVERHEAD = 12


class Framer:
    """Incremental framer for one connection.

    Parameters
    ----------
    max_data_len : int
        Longest data segment accepted while waiting for a frame's end [bytes]; with the overhead this
        bounds the buffer. 1024 by the standard (Table 2); up to 9999 for lenient servers.
    """

    __slots__ = ("_buf", "_max_frame")

    def __init__(self, max_data_len: int = MAX_DATA_LEN) -> None:
        self._buf = bytearray()
        self._max_frame = min(max_data_len, MAX_DATA_LEN_FIELD) + FRAME_OVERHEAD

    @property
    def pending(self) -> int:
        """Bytes held while waiting for the rest of a frame [bytes]."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[tuple[bytes, str | None]]:
        """Add received bytes; return ``(raw, None)`` for each frame candidate, ``(raw, reason)`` for junk."""
        buf = self._buf
        buf += data
        out: list[tuple[bytes, str | None]] = []
        pos = 0
        n = len(buf)
        max_frame = self._max_frame
        while pos < n:
            i = buf.find(b"##", pos)
            if i < 0:
                keep = 1 if buf[n - 1] == 0x23 else 0  # a lone trailing '#' may start the next header
                if n - keep > pos:
                    out.append((bytes(buf[pos : n - keep]), "bytes outside any frame (no '##' header)"))
                pos = n - keep
                break
            if i > pos:
                out.append((bytes(buf[pos:i]), "bytes before a '##' header, outside any frame"))
                pos = i
            if n - i < 6:
                break
            lf = buf[i + 2 : i + 6]
            crlf = buf.find(b"\r\n", i + 2)
            if not lf.isdigit():
                nxt = buf.find(b"##", i + 1)  # from i + 1: "###0101…" is one stray '#' and a frame
                ends = [e for e in (crlf + 2 if crlf >= 0 else -1, nxt) if e > i]
                if not ends:
                    if n - i > max_frame:
                        ends = [n]
                    else:
                        break
                end = min(ends)
                out.append((bytes(buf[i:end]), "bad header: '##' is not followed by a 4-digit length"))
                pos = end
                continue
            end = i + 6 + int(lf) + 4  # where CR LF belongs
            if crlf == end:
                out.append((bytes(buf[i : end + 2]), None))
                pos = end + 2
                continue
            # the header's length is wrong, the CR LF is missing, or more bytes are still to come
            stop = crlf if crlf >= 0 else n
            nxt = _next_header(buf, i + 2, stop)
            if nxt >= 0:  # a frame lost its CR LF: cut before the next header
                out.append((bytes(buf[i:nxt]), None))
                pos = nxt
                continue
            if crlf >= 0:
                out.append((bytes(buf[i : crlf + 2]), None))
                pos = crlf + 2
                continue
            if n - i > max_frame:
                out.append((bytes(buf[i:n]), f"no CR LF within {max_frame} bytes of a '##' header"))
                pos = n
                continue
            break
        del buf[:pos]
        return out

    def close(self) -> list[tuple[bytes, str | None]]:
        """End of stream: whatever is left is an incomplete frame."""
        if not self._buf:
            return []
        rest = bytes(self._buf)
        self._buf.clear()
        return [(rest, "incomplete frame when the connection ended")]


def _next_header(buf: bytearray, start: int, stop: int) -> int:
    """Offset of the next ``##dddd`` in ``buf[start:stop]``, or -1."""
    j = buf.find(b"##", start, stop)
    while j >= 0:
        if j + 6 <= len(buf) and buf[j + 2 : j + 6].isdigit():
            return j
        j = buf.find(b"##", j + 1, stop)
    return -1
