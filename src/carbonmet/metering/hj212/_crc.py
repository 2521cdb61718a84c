"""CRC16 of HJ 212-2017 Appendix A (normative).

The register starts at 0xFFFF; for each byte the register is shifted right by 8 and XORed with the
byte (*not* ``crc ^= byte`` as in Modbus), then shifted right 8 times, XORing 0xA001 whenever a 1 bit
falls out. Eight such shifts of a 16-bit register whose high byte is already 0 equal one lookup in
the usual reflected 0xA001 table, so each byte costs one table lookup:
``crc = TABLE[(crc >> 8) ^ byte]``.
"""

from __future__ import annotations


def _make_table() -> tuple[int, ...]:
    table = []
    for x in range(256):
        r = x
        for _ in range(8):
            r = (r >> 1) ^ 0xA001 if r & 1 else r >> 1
        table.append(r)
    return tuple(table)


_TABLE = _make_table()

# Only the high byte h of the register survives a step: h' = H[h ^ byte] with H = TABLE >> 8, and H is
# linear over GF(2) with H^9 = H (period 8; checked at import below). So the high byte before the last
# byte is H^m(0xFF) XOR the sum over the bytes b_i of H^(m-i+1)(b_i), m = n - 1: bytes whose distance
# from the end agrees modulo 8 can be XORed together first. Folding the data as one big integer into
# 64 bits does that XOR in C; four lookups in 16-bit tables then apply H^1..H^8.
_H = bytes(t >> 8 for t in _TABLE)


def _power(k: int) -> bytes:
    out = bytes(range(256))
    for _ in range(k):
        out = bytes(_H[x] for x in out)
    return out


_HPOW = [_power(k) for k in range(1, 10)]  # _HPOW[j] = H^(j+1)
if _HPOW[8] != _HPOW[0]:  # pragma: no cover - a property of the polynomial, checked once
    raise RuntimeError("HJ 212 CRC: H^9 != H, the folded CRC would be wrong")
_HPAIR = [
    bytes(_HPOW[2 * j][x & 0xFF] ^ _HPOW[2 * j + 1][x >> 8] for x in range(65536)) for j in range(4)
]
_P0, _P1, _P2, _P3 = _HPAIR
_INIT = [0xFF] + [_HPOW[(m - 1) % 8][0xFF] for m in range(1, 9)]  # H^m(0xFF) by m (m ≥ 1 cycles with 8)


def crc16(data: bytes) -> int:
    """CRC16 of a data segment as HJ 212-2017 Appendix A computes it.

    Parameters
    ----------
    data : bytes
        The data segment (the bytes between the 4-digit length and the CRC) [-].

    Returns
    -------
    int
        The 16-bit check value; the frame carries it as 4 hex digits, high byte first.

    Notes
    -----
    Same result as :func:`crc16_reference` (the appendix's C code step by step) for every input; see
    the module comment for why the bytes can be folded 8 at a time.

    References
    ----------
    HJ 212-2017, Appendix A (CRC16_Checkout); worked example: data segment of 101 bytes → ``1C80``.
    """
    n = len(data)
    if n == 0:
        return 0xFFFF
    m = n - 1
    h = _INIT[m] if m <= 8 else _INIT[((m - 1) % 8) + 1]
    if m:
        x = int.from_bytes(data[:m], "big")
        nbits = ((m + 7) // 8) * 64
        while nbits > 64:
            half = ((nbits // 64 + 1) // 2) * 64
            x = (x >> half) ^ (x & ((1 << half) - 1))
            nbits = half
        h ^= _P0[x & 0xFFFF] ^ _P1[(x >> 16) & 0xFFFF] ^ _P2[(x >> 32) & 0xFFFF] ^ _P3[(x >> 48) & 0xFFFF]
    return _TABLE[h ^ data[m]]


def crc16_table(data: bytes) -> int:
    """Byte-at-a-time table form: ``crc = TABLE[(crc >> 8) ^ byte]`` (a second oracle)."""
    t = _TABLE
    r = 0xFFFF
    for b in data:
        r = t[(r >> 8) ^ b]
    return r


def crc16_reference(data: bytes) -> int:
    """The bit-by-bit algorithm exactly as Appendix A's C listing (slow; the oracle for :func:`crc16`)."""
    r = 0xFFFF
    for b in data:
        r = (r >> 8) ^ b
        for _ in range(8):
            check = r & 0x0001
            r >>= 1
            if check == 0x0001:
                r ^= 0xA001
    return r


def crc16_modbus(data: bytes) -> int:
    """CRC-16/MODBUS: ``crc ^= byte`` then eight reflected 0xA001 shifts per byte (register starts at 0xFFFF).

    Not the HJ 212-2017 order (Appendix A shifts the register right 8 bits before XORing the byte). One public
    HJ 212-2025 implementation computes this one; whether 2025 changed the CRC is unsettled ([?],
    profile_2025.csv), so a frame whose CRC matches only this order is flagged (``crc_modbus_order``), never
    taken silently.

    Parameters
    ----------
    data : bytes
        The data segment [-].

    Returns
    -------
    int
        The 16-bit check value (check value of ``b"123456789"``: 0x4B37).

    References
    ----------
    Modbus over serial line specification V1.02, clause 6.2.2 (CRC generation).
    """
    crc = 0xFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc
