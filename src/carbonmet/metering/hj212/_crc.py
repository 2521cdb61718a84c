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

    References
    ----------
    HJ 212-2017, Appendix A (CRC16_Checkout); worked example: data segment of 101 bytes → ``1C80``.
    """
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
