"""HJ 212-2017 packets: decode, validate and encode (pure functions, no I/O).

A packet (通讯包, clause 6.3.1 Table 2) is::

    "##" + LLLL + data segment + CCCC + "\\r\\n"

where LLLL is the data segment's length in bytes (4 decimal digits) and CCCC its CRC16 (Appendix A,
4 hex digits). The data segment (数据段, clause 6.3.2 Table 3) is
``QN=…;ST=…;CN=…;PW=…;MN=…;Flag=…;[PNUM=…;PNO=…;]CP=&&…&&`` and CP's data area (数据区, clause 6.3.3)
holds ``key=value`` fields, ``,`` between the fields of one item and ``;`` between items.

:class:`Packet` keeps every field as the text received, in the order received, so that
``encode(decode(frame)) == frame`` byte for byte; typed views (``flag``, ``items()``, ``data_time()``)
are derived from that text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

from ._crc import crc16
from ._errors import (
    BadCRCError,
    BadFieldError,
    BadHeaderError,
    BadTimestampError,
    BadValueError,
    DecodeError,
    LengthMismatchError,
    MissingFieldError,
    NonASCIIError,
    OversizeError,
    UnknownFlagError,
)
from ._tables import commands, data_flags, field_suffixes

#: China Standard Time (UTC+8, no daylight saving since 1991): the zone of QN, DataTime and every
#: other HJ 212 time field, which the standard writes without an offset.
CHINA_TZ = timezone(timedelta(hours=8), "UTC+08:00")

#: Bit A of Flag: the receiver must answer (Table 3).
FLAG_ACK = 0x01
#: Bit D of Flag: the packet is one part of a split message and carries PNUM and PNO (Table 3).
FLAG_SPLIT = 0x02
#: Version bits V5..V0 (Flag >> 2): 0 = HJ/T 212-2005, 1 = HJ 212-2017 (Table 3).
VERSION_2005 = 0
VERSION_2017 = 1
#: Version bits 000010: HJ 212-2025, as two independent public implementations read it; the 2025 text itself
#: was not read (evidence [C], profile_2025.csv). Accepted by ``strict=False`` decoding only.
VERSION_2025 = 2

#: Longest data segment [bytes], Table 2: 0 ≤ n ≤ 1024.
MAX_DATA_LEN = 1024
#: Longest "CP=&&…&&" [bytes], Table 3: 0 ≤ n ≤ 950 (the length counts name, '=' and content).
MAX_CP_LEN = 950
#: The 4-digit length field cannot say more than this [bytes].
MAX_DATA_LEN_FIELD = 9999

HEADER_KEYS = ("QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO")
_REQUIRED_STRICT = ("QN", "ST", "CN", "PW", "MN", "Flag")
_REQUIRED_LENIENT = ("ST", "CN", "MN")

_TIME_KEYS = frozenset({"DataTime", "SystemTime", "RestartTime", "BeginTime", "EndTime"})
_INT_KEYS = frozenset(
    {"QnRtn", "ExeRtn", "RtdInterval", "MinInterval", "OverTime", "ReCount", "VaseNo", "Ctime", "Stime"}
)
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")
_DIGITS = re.compile(r"[0-9]+\Z")
_KEY = re.compile(r"[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)?\Z")
_ST = re.compile(r"[0-9A-Z]{2}\Z")
_MN_STRICT = re.compile(r"[0-9A-F]{24}\Z")
_MN_LENIENT = re.compile(r"[0-9A-Za-z_\-]{1,24}\Z")
_PW = re.compile(r"[!-~]*\Z")  # printable ASCII without space
_CTRL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Packet:
    """One decoded HJ 212 packet.

    Attributes
    ----------
    header : tuple of (str, str)
        Data-segment fields before CP, in the order received, values as received
        (``(("QN", "20160801085857223"), ("ST", "32"), …)``).
    cp : tuple of tuple of (str, str)
        The CP data area: items (separated by ``;``) of fields (separated by ``,``), each ``(key, text)``.
    qn, st, cn, pw, mn : str
        Request id (QN, ``YYYYMMDDhhmmsszzz``), system code, command code, password, device id;
        ``""`` when absent (only possible when decoded with ``strict=False``).
    flag : int
        Packet flag (0–255): bit 0 A (answer required), bit 1 D (split), bits 2–7 the version.
    pnum, pno : int or None
        Total parts and this part's number of a split message (``None`` when not split).
    raw : bytes or None
        The frame as received (set by :func:`decode`); not part of equality.
    deviations : tuple of str
        Codes of deviations from HJ 212-2017 accepted under the accept-and-flag policy
        (:func:`carbonmet.metering.hj212.assess`, deviations.csv); not part of equality.
    """

    header: tuple[tuple[str, str], ...]
    cp: tuple[tuple[tuple[str, str], ...], ...]
    qn: str
    st: str
    cn: str
    pw: str
    mn: str
    flag: int
    pnum: int | None = None
    pno: int | None = None
    raw: bytes | None = field(default=None, compare=False, repr=False)
    deviations: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @property
    def needs_ack(self) -> bool:
        """Flag bit A: the sender waits for an answer (9011/9013/9014)."""
        return bool(self.flag & FLAG_ACK)

    @property
    def is_split(self) -> bool:
        """Flag bit D: one part of a split message (PNUM/PNO present)."""
        return bool(self.flag & FLAG_SPLIT)

    @property
    def version(self) -> int:
        """Protocol version bits (0 = HJ/T 212-2005, 1 = HJ 212-2017, 2 = HJ 212-2025 [C])."""
        return self.flag >> 2

    def get(self, key: str, default: str | None = None) -> str | None:
        """Text of a header field, or of the first CP field called ``key``."""
        for k, v in self.header:
            if k == key:
                return v
        for item in self.cp:
            for k, v in item:
                if k == key:
                    return v
        return default

    def cp_fields(self) -> Iterator[tuple[str, str]]:
        """Every CP field ``(key, text)`` in order, items flattened."""
        for item in self.cp:
            yield from item

    def items(self) -> dict[str, dict[str, str]]:
        """CP fields of the form ``code-Suffix`` grouped by code: ``{"a21026": {"Rtd": "12.3", "Flag": "N"}}``.

        Fields without a suffix (``DataTime``, ``PolId`` …) are left out; see :meth:`get`.
        """
        out: dict[str, dict[str, str]] = {}
        for item in self.cp:
            for k, v in item:
                code, sep, suffix = k.partition("-")
                if sep:
                    d = out.get(code)
                    if d is None:
                        out[code] = {suffix: v}
                    else:
                        d[suffix] = v
        return out

    def data_time(self, tz: timezone = CHINA_TZ) -> datetime | None:
        """DataTime as an aware datetime (China time by default, Table 4), or ``None`` if absent."""
        text = self.get("DataTime")
        return None if text is None else parse_time(text, "DataTime", tz)

    def qn_time(self, tz: timezone = CHINA_TZ) -> datetime | None:
        """QN as an aware datetime with milliseconds, or ``None`` if absent."""
        return parse_qn(self.qn, tz) if self.qn else None


# --------------------------------------------------------------------------------------------- times


def parse_time(text: str, name: str, tz: timezone = CHINA_TZ) -> datetime:
    """Parse ``YYYYMMDDhhmmss`` (Table 4, N14) into an aware datetime.

    Parameters
    ----------
    text : str
        14 digits.
    name : str
        Field name, for the error message.
    tz : timezone
        Zone of the text; HJ 212 times are China time (UTC+8).

    Raises
    ------
    BadTimestampError
        Not 14 digits or not a valid date and time.
    """
    if len(text) != 14 or not text.isdigit() or not text.isascii():
        raise BadTimestampError(f"{name}={text!r} is not YYYYMMDDhhmmss (14 digits, Table 4)", field=name)
    try:
        return _parse_time14(text, tz)
    except ValueError as exc:
        raise BadTimestampError(f"{name}={text!r} is not a valid time: {exc}", field=name) from None


@lru_cache(maxsize=8192)
def _parse_time14(text: str, tz: timezone) -> datetime:
    # cached: data loggers share DataTime values (the same minute or hour), and decode and mapping
    # both read it; datetimes are immutable, so sharing them is safe
    return datetime(
        int(text[0:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]), int(text[10:12]), int(text[12:14]),
        tzinfo=tz,
    )


@lru_cache(maxsize=4096)
def _valid_date8(text: str) -> bool:
    try:
        date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return False
    return True


def check_time(text: str, name: str) -> None:
    """Validate ``YYYYMMDDhhmmss`` without building a datetime (cheap; same errors as :func:`parse_time`)."""
    if (
        len(text) == 14
        and text.isdigit()
        and text.isascii()
        and _valid_date8(text[:8])
        and text[8:10] <= "23"
        and text[10:12] <= "59"
        and text[12:14] <= "59"
    ):
        return
    parse_time(text, name)  # raises with the precise reason
    raise BadTimestampError(f"{name}={text!r} is not a valid time", field=name)  # pragma: no cover


def parse_qn(text: str, tz: timezone = CHINA_TZ) -> datetime:
    """Parse QN ``YYYYMMDDhhmmsszzz`` (Table 3: a timestamp to the millisecond) into an aware datetime."""
    if len(text) != 17 or not text.isdigit() or not text.isascii():
        raise BadTimestampError(f"QN={text!r} is not YYYYMMDDhhmmsszzz (17 digits, Table 3)", field="QN")
    t = parse_time(text[:14], "QN", tz)
    return t + timedelta(milliseconds=int(text[14:]))


def check_qn(text: str) -> None:
    """Validate QN ``YYYYMMDDhhmmsszzz`` (Table 3) without building a datetime."""
    if len(text) != 17 or not text.isdigit() or not text.isascii():
        raise BadTimestampError(f"QN={text!r} is not YYYYMMDDhhmmsszzz (17 digits, Table 3)", field="QN")
    check_time(text[:14], "QN")


def format_qn(t: datetime) -> str:
    """Format a datetime as QN ``YYYYMMDDhhmmsszzz`` (China time if ``t`` is aware)."""
    if t.tzinfo is not None:
        t = t.astimezone(CHINA_TZ)
    return t.strftime("%Y%m%d%H%M%S") + f"{t.microsecond // 1000:03d}"


def format_time(t: datetime) -> str:
    """Format a datetime as ``YYYYMMDDhhmmss`` (China time if ``t`` is aware)."""
    if t.tzinfo is not None:
        t = t.astimezone(CHINA_TZ)
    return t.strftime("%Y%m%d%H%M%S")


# --------------------------------------------------------------------------------------------- decode


def decode(frame: bytes, *, strict: bool = True) -> Packet:
    """Decode and validate one frame ``##LLLL…CCCC\\r\\n``.

    Parameters
    ----------
    frame : bytes
        The whole frame including ``##`` and the trailing CR LF.
    strict : bool
        ``True`` (default): HJ 212-2017 as written — version bits must say 2017, QN/PW/Flag present,
        MN 24 hex digits, data segment ≤ 1024 bytes and CP ≤ 950 bytes, data flags from Table 8 only,
        no empty items. ``False``: also accept what older or sloppier data loggers send (version 0,
        QN/PW/Flag missing, other MN forms, data segment up to 9999 bytes, other one-letter flags).

    Returns
    -------
    Packet
        With ``raw`` set to ``frame``.

    Raises
    ------
    DecodeError
        A subclass naming the cause: :class:`BadHeaderError`, :class:`LengthMismatchError`,
        :class:`OversizeError`, :class:`BadCRCError` (with ``expected``/``actual``),
        :class:`NonASCIIError`, :class:`MissingFieldError`, :class:`BadFieldError`,
        :class:`BadTimestampError`, :class:`BadValueError`, :class:`UnknownFlagError`.

    References
    ----------
    HJ 212-2017 clause 6.3.1 (Table 2), clause 6.3.2 (Table 3), clause 6.3.3 (Table 4), Appendix A.
    """
    n = len(frame)
    if n < 12:
        raise BadHeaderError(f"frame is {n} bytes, shorter than the 12 of an empty packet (clause 6.3.1)")
    if frame[:2] != b"##":
        raise BadHeaderError(f"frame starts with {bytes(frame[:2])!r}, not '##' (clause 6.3.1)")
    lf = frame[2:6]
    if not (lf.isdigit() and lf.isascii()):
        raise BadHeaderError(f"length field {bytes(lf)!r} is not 4 decimal digits (clause 6.3.1)")
    if frame[-2:] != b"\r\n":
        raise BadHeaderError(f"frame ends with {bytes(frame[-2:])!r}, not CR LF (clause 6.3.1)")
    declared = int(lf)
    data = frame[6:-6]
    actual = len(data)
    if declared != actual:
        raise LengthMismatchError(
            f"header says the data segment is {declared} bytes, received {actual}",
            declared=declared,
            actual=actual,
        )
    if strict and actual > MAX_DATA_LEN:
        raise OversizeError(f"data segment is {actual} bytes, more than the {MAX_DATA_LEN} of Table 2")
    crc_text = frame[-6:-2]
    try:
        if not crc_text.isascii():
            raise ValueError
        received = int(crc_text, 16)
    except ValueError:
        raise BadHeaderError(f"CRC field {bytes(crc_text)!r} is not 4 hex digits (clause 6.3.1)") from None
    computed = crc16(data)
    if computed != received:
        raise BadCRCError(
            f"CRC16 of the data segment is {computed:04X}, frame says {bytes(crc_text).decode('ascii')}"
            " (Appendix A)",
            expected=f"{computed:04X}",
            actual=bytes(crc_text).decode("ascii"),
        )
    text = _decode_text(bytes(data))
    return _parse(text, strict, bytes(frame))


def _decode_text(data: bytes) -> str:
    if data.isascii():
        return data.decode("ascii")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NonASCIIError(
            f"byte 0x{data[exc.start]:02X} at data offset {exc.start} is neither ASCII nor UTF-8 (clause 6.3)"
        ) from None
    return text


def _check_non_ascii(cp: tuple[tuple[tuple[str, str], ...], ...]) -> None:
    """Clause 6.3: ASCII everywhere except Chinese text, which Table B.10 allows in ``-Info`` logs (//…//)."""
    for item in cp:
        for k, v in item:
            if not k.isascii():
                raise NonASCIIError(f"field name {k!r} is not ASCII (clause 6.3)", field=k)
            if not v.isascii() and not (k.endswith("-Info") and v.startswith("//")):
                raise NonASCIIError(
                    f"{k}={v!r}: non-ASCII text outside an -Info log (clause 6.3, Table B.10)", field=k
                )


def parse_data_segment(text: str, *, strict: bool = True) -> Packet:
    """Parse and validate a data segment (the text between the length and the CRC).

    Raises the same :class:`DecodeError` subclasses as :func:`decode` (all but the frame-level ones).
    """
    return _parse(text, strict, None)


def parse_data_segment_reference(text: str, *, strict: bool = True) -> Packet:
    """:func:`parse_data_segment` by the full parser only, without the fast path (the reference).

    :func:`parse_data_segment` takes a regular-expression fast path for the usual header (Table 3's order,
    every value valid) and falls back to this parser for anything else; both must give the same packet
    or the same error for every input. This is exposed so tests and reviewers can check that, not for
    decoding (it is slower).
    """
    return _parse_slow(text, strict, None)


# The usual header, in Table 3's order, with every value already valid for both strict and lenient
# decoding (QN's calendar date and Flag's value are still checked); anything else takes the long way.
_FAST_HEAD = re.compile(
    r"QN=([0-9]{17});ST=([0-9A-Z]{2});CN=([0-9]{4});PW=([!-%'-+\--:<>-~]{0,6});MN=([0-9A-F]{24});"
    r"Flag=([0-9]{1,3})(?:;PNUM=([0-9]{1,4});PNO=([0-9]{1,4}))?;CP=&&"
)


def _parse(text: str, strict: bool, raw: bytes | None) -> Packet:
    m = _FAST_HEAD.match(text)
    if (
        m is not None
        and len(text) >= m.end() + 2
        and text.endswith("&&")
        and text.isascii()
        and len(text) - m.end() + 5 <= MAX_CP_LEN
    ):
        qn, st, cn, pw, mn, flag_text, pnum_text, pno_text = m.groups()
        flag = int(flag_text)
        split_ok = (pnum_text is not None) == bool(flag & FLAG_SPLIT)
        if flag <= 255 and flag >> 2 == VERSION_2017 and split_ok and not _CTRL.search(text, m.end()):
            cp = parse_cp(text[m.end() : -2], strict=strict)  # same order of checks as _parse_slow
            check_qn(qn)
            header: tuple[tuple[str, str], ...]
            if pnum_text is None:
                header = (("QN", qn), ("ST", st), ("CN", cn), ("PW", pw), ("MN", mn), ("Flag", flag_text))
                return Packet(header, cp, qn, st, cn, pw, mn, flag, None, None, raw)
            pnum, pno = int(pnum_text), int(pno_text)
            if 1 <= pno <= pnum:
                header = (
                    ("QN", qn), ("ST", st), ("CN", cn), ("PW", pw), ("MN", mn), ("Flag", flag_text),
                    ("PNUM", pnum_text), ("PNO", pno_text),
                )
                return Packet(header, cp, qn, st, cn, pw, mn, flag, pnum, pno, raw)
    return _parse_slow(text, strict, raw)


def _parse_slow(text: str, strict: bool, raw: bytes | None) -> Packet:
    bad = _CTRL.search(text)
    if bad is not None:
        raise BadFieldError(f"control character 0x{ord(bad.group()):02X} at data offset {bad.start()}")
    idx = text.find("CP=&&")
    if idx < 0:
        raise MissingFieldError("no 'CP=&&' in the data segment (Table 3)", field="CP")
    if idx > 0 and text[idx - 1] != ";":
        raise BadFieldError(f"'CP=&&' at offset {idx} is not preceded by ';' (Table 3)", field="CP")
    head = text[: idx - 1] if idx else ""
    rest = text[idx:]
    if len(rest) < 7 or not rest.endswith("&&"):
        raise BadFieldError("CP does not end with '&&' at the end of the data segment (clause 6.3.3)", field="CP")
    if strict and len(rest) > MAX_CP_LEN:
        raise OversizeError(f"CP is {len(rest)} bytes, more than the {MAX_CP_LEN} of Table 3", field="CP")
    cp_text = rest[5:-2]
    header = _parse_header(head, strict)
    cp = parse_cp(cp_text, strict=strict)
    if not text.isascii():
        for k, v in header:
            if not v.isascii():
                raise NonASCIIError(f"{k}={v!r} is not ASCII (clause 6.3)", field=k)
        _check_non_ascii(cp)
    h = dict(header)
    qn = h.get("QN", "")
    if "QN" in h:
        check_qn(qn)
    required = _REQUIRED_STRICT if strict else _REQUIRED_LENIENT
    for key in required:
        if key not in h:
            raise MissingFieldError(f"field {key} is missing from the data segment (Table 3)", field=key)
    st = h["ST"]
    if not _ST.match(st):
        raise BadFieldError(f"ST={st!r} is not a 2-character system code 0-9/A-Z (clause 6.6.1.2)", field="ST")
    cn = h["CN"]
    if len(cn) != 4 or not cn.isdigit() or not cn.isascii():
        raise BadFieldError(f"CN={cn!r} is not a 4-digit command code (clause 6.6.5.2)", field="CN")
    pw = h.get("PW", "")
    if not _PW.match(pw) or (strict and len(pw) > 6):
        raise BadFieldError(f"PW={pw!r} is not up to 6 printable characters (Table 3)", field="PW")
    mn = h["MN"]
    if strict and not _MN_STRICT.match(mn):
        raise BadFieldError(f"MN={mn!r} is not 24 characters 0-9/A-F (EPC-96, Table 3)", field="MN")
    if not strict and not _MN_LENIENT.match(mn):
        raise BadFieldError(f"MN={mn!r} is not 1 to 24 letters or digits", field="MN")
    flag_text = h.get("Flag")
    if flag_text is None:
        flag = 0  # only when strict=False: a data logger that sends no Flag wants no answer
    else:
        if not (0 < len(flag_text) <= 3 and flag_text.isdigit() and flag_text.isascii()) or int(flag_text) > 255:
            raise UnknownFlagError(f"Flag={flag_text!r} is not an integer 0-255 (Table 3)", field="Flag")
        flag = int(flag_text)
        version = flag >> 2
        allowed = (VERSION_2017,) if strict else (VERSION_2017, VERSION_2005, VERSION_2025)
        if version not in allowed:
            raise UnknownFlagError(
                f"Flag={flag_text}: version bits {version:06b} are neither 000001 (HJ 212-2017)"
                + ("" if strict else ", 000000 (HJ/T 212-2005) nor 000010 (HJ 212-2025)")
                + " (Table 3)",
                field="Flag",
            )
    pnum = pno = None
    if flag & FLAG_SPLIT:
        for key, width in (("PNUM", 4), ("PNO", 4)):
            if key not in h:
                raise MissingFieldError(f"Flag={flag} says split (bit D) but {key} is missing (Table 3)", field=key)
            v = h[key]
            if not (0 < len(v) <= width and v.isdigit() and v.isascii()):
                raise BadFieldError(f"{key}={v!r} is not a number of 1 to {width} digits (Table 3)", field=key)
        pnum, pno = int(h["PNUM"]), int(h["PNO"])
        if not 1 <= pno <= pnum:
            raise BadFieldError(f"PNO={pno} is outside 1..PNUM={pnum}", field="PNO")
    elif strict and ("PNUM" in h or "PNO" in h):
        raise BadFieldError(f"PNUM/PNO present but Flag={flag} has bit D = 0 (Table 3)", field="PNUM")
    return Packet(header, cp, qn, st, cn, pw, mn, flag, pnum, pno, raw)


def _parse_header(head: str, strict: bool) -> tuple[tuple[str, str], ...]:
    if not head:
        return ()
    out = []
    seen = set()
    for part in head.split(";"):
        k, sep, v = part.partition("=")
        if not sep or not k:
            raise BadFieldError(f"header field {part!r} is not key=value (Table 3)")
        if k in seen:
            raise BadFieldError(f"header field {k} appears twice", field=k)
        if strict and k not in HEADER_KEYS:
            raise BadFieldError(f"unknown header field {k!r}; Table 3 has {' '.join(HEADER_KEYS)}", field=k)
        seen.add(k)
        out.append((k, v))
    return tuple(out)


def parse_cp(cp_text: str, *, strict: bool = True) -> tuple[tuple[tuple[str, str], ...], ...]:
    """Parse the CP data area (between ``&&`` and ``&&``) into items of ``(key, text)`` fields.

    Values are validated by field: times (DataTime, BeginTime …, ``-SampleTime``) must be
    YYYYMMDDhhmmss, measured values (``-Rtd``, ``-Avg`` …) decimal numbers, ``-Flag`` a data flag of
    Table 8; other fields are kept as text (the standard may be extended, clause 1). ``-Info`` logs
    between ``//`` and ``//`` may contain ``;`` and ``,`` (Table B.10).
    """
    if not cp_text:
        return ()
    if _fast_cp().match(cp_text):  # the common case: numbers, Table 8 flags and DataTime only
        fast: tuple[tuple[tuple[str, str], ...], ...] = tuple(
            tuple(_KV.findall(g)) for g in cp_text.split(";")
        )
        if len({k for it in fast for k, _ in it}) == sum(map(len, fast)):
            for t in _DATA_TIME.findall(cp_text):
                check_time(t, "DataTime")
            return fast
    if strict and "&&" in cp_text:
        raise BadFieldError("'&&' inside the CP data area (clause 6.3.3)", field="CP")
    items: list[tuple[tuple[str, str], ...]]
    if "//" in cp_text:
        items = _tokenize_with_logs(cp_text)
    else:
        items = []
        for group in cp_text.split(";"):
            if not group:
                items.append(())
                continue
            fields: list[tuple[str, str]] = []
            for f in group.split(","):
                k, sep, v = f.partition("=")
                if not sep:
                    raise BadFieldError(f"CP field {f!r} is not key=value (clause 6.3.3.1)", field="CP")
                fields.append((k, v))
            items.append(tuple(fields))
    seen: set[str] = set()
    flags = data_flags()
    suffixes = field_suffixes()
    for item in items:
        if not item and strict:
            raise BadFieldError("empty item (';;' or a trailing ';') in CP (clause 6.3.3.1)", field="CP")
        for k, v in item:
            if k in seen:
                raise BadFieldError(f"CP field {k} appears twice", field=k)
            seen.add(k)
            if not _KEY.match(k):
                raise BadFieldError(f"CP field name {k!r} is not name or code-Suffix (clause 6.3.3.2)", field=k)
            _check_value(k, v, strict, flags, suffixes)
    return tuple(items)


_KV = re.compile(r"([^=,]+)=([^,]*)")
_DATA_TIME = re.compile(r"(?:^|[;,])DataTime=([0-9]{14})")
_FAST_CP: re.Pattern[str] | None = None


def _fast_cp() -> re.Pattern[str]:
    """A regex accepting only CP text that the full parser accepts unchanged (numbers, flags, DataTime)."""
    global _FAST_CP
    if _FAST_CP is None:
        nums = "|".join(s for s, kind in field_suffixes().items() if kind == "number")
        flags = "".join(data_flags())
        f = (
            rf"(?:[A-Za-z0-9_]+-(?:{nums})=[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
            rf"|[A-Za-z0-9_]+-Flag=[{flags}]|DataTime=[0-9]{{14}})"
        )
        _FAST_CP = re.compile(rf"{f}(?:[;,]{f})*\Z")
    return _FAST_CP


def _tokenize_with_logs(cp_text: str) -> list[tuple[tuple[str, str], ...]]:
    items: list[tuple[tuple[str, str], ...]] = []
    fields: list[tuple[str, str]] = []
    i, n = 0, len(cp_text)
    while True:
        eq = cp_text.find("=", i)
        stop = _next_sep(cp_text, i)
        if eq < 0 or (stop >= 0 and stop < eq):
            end = n if stop < 0 else stop
            raise BadFieldError(f"CP field {cp_text[i:end]!r} is not key=value (clause 6.3.3.1)", field="CP")
        k = cp_text[i:eq]
        j = eq + 1
        if cp_text.startswith("//", j):
            close = cp_text.find("//", j + 2)
            if close < 0:
                raise BadFieldError(f"{k}: log text opened with '//' is not closed (Table B.10)", field=k)
            end = close + 2
            if end < n and cp_text[end] not in ",;":
                raise BadFieldError(f"{k}: text after the closing '//' of the log", field=k)
        else:
            stop = _next_sep(cp_text, j)
            end = n if stop < 0 else stop
        fields.append((k, cp_text[j:end]))
        if end >= n:
            items.append(tuple(fields))
            return items
        if cp_text[end] == ";":
            items.append(tuple(fields))
            fields = []
            while end + 1 < n and cp_text[end + 1] == ";":  # empty items
                items.append(())
                end += 1
            if end + 1 >= n:
                items.append(())
                return items
        i = end + 1


def _next_sep(s: str, start: int) -> int:
    a = s.find(";", start)
    b = s.find(",", start)
    if a < 0:
        return b
    if b < 0:
        return a
    return min(a, b)


def _check_value(k: str, v: str, strict: bool, flags: Mapping[str, str], suffixes: Mapping[str, str]) -> None:
    _, sep, suffix = k.partition("-")
    if sep:
        kind = suffixes.get(suffix)
        if kind == "number":
            if not _NUMBER.match(v):
                raise BadValueError(f"{k}={v!r} is not a decimal number (clause 6.3.3.2.2)", field=k)
        elif kind == "flag":
            if strict:
                if v not in flags:
                    raise UnknownFlagError(
                        f"{k}={v!r} is not a data flag of Table 8 ({' '.join(flags)})", field=k
                    )
            elif len(v) != 1 or not v.isalnum() or not v.isascii():
                raise UnknownFlagError(f"{k}={v!r} is not a one-character data flag (Table 4, C1)", field=k)
        elif kind == "time":
            check_time(v, k)
    elif k in _TIME_KEYS:
        check_time(v, k)
    elif k in _INT_KEYS and not (v.isdigit() and v.isascii()):
        raise BadValueError(f"{k}={v!r} is not an unsigned integer (Table 4)", field=k)


# --------------------------------------------------------------------------------------------- encode


def data_segment(packet: Packet) -> str:
    """The data segment text of a packet: header fields, then ``CP=&&…&&`` (clause 6.3.2)."""
    cp = ";".join(",".join(f"{k}={v}" for k, v in item) for item in packet.cp)
    head = ";".join(f"{k}={v}" for k, v in packet.header)
    return f"{head};CP=&&{cp}&&" if head else f"CP=&&{cp}&&"


def frame_data(data: bytes) -> bytes:
    """Wrap a data segment into a frame: ``##`` + length + data + CRC16 + CR LF (clause 6.3.1).

    Raises
    ------
    OversizeError
        The data segment is longer than the 4-digit length field can say (9999 bytes).
    """
    if len(data) > MAX_DATA_LEN_FIELD:
        raise OversizeError(f"data segment is {len(data)} bytes; the length field holds at most 9999")
    return b"##%04d%s%04X\r\n" % (len(data), data, crc16(data))


def encode(packet: Packet) -> bytes:
    """Encode a packet into a frame; the inverse of :func:`decode` byte for byte.

    References
    ----------
    HJ 212-2017 clause 6.3.1 (Table 2) and Appendix A.
    """
    return frame_data(data_segment(packet).encode("utf-8"))


def _as_pairs(fields: Mapping[str, object] | Iterable[tuple[str, object]]) -> tuple[tuple[str, str], ...]:
    pairs = fields.items() if isinstance(fields, Mapping) else fields
    return tuple((str(k), _text(v)) for k, v in pairs)


def _text(v: object) -> str:
    if isinstance(v, bool):
        raise TypeError("a boolean is not an HJ 212 value")
    if isinstance(v, float):
        s = repr(v)
        if "e" in s or "E" in s:  # HJ 212 numbers have no exponent (clause 6.3.3.2.2)
            s = f"{v:.12f}".rstrip("0").rstrip(".")
        return s
    return str(v)


def build(
    header: Mapping[str, object] | Iterable[tuple[str, object]],
    cp: Iterable[Mapping[str, object] | Iterable[tuple[str, object]]] = (),
    *,
    strict: bool = True,
) -> Packet:
    """Build a validated packet from header fields and CP items (order kept).

    Parameters
    ----------
    header : mapping or pairs
        ``{"QN": "…", "ST": "31", "CN": "2011", "PW": "123456", "MN": "…", "Flag": 5}``.
    cp : iterable of mappings or pairs
        One entry per item: ``[{"DataTime": "20250101080000"}, {"a21026-Rtd": "12.3", "a21026-Flag": "N"}]``.
        Values are written as given when text; give text to control number formatting.
    strict : bool
        As in :func:`decode`.

    Raises
    ------
    DecodeError
        The fields would not make a valid packet.
    """
    head = _as_pairs(header)
    items = tuple(_as_pairs(item) for item in cp)
    draft = Packet(head, items, "", "", "", "", "", 0)
    return parse_data_segment(data_segment(draft), strict=strict)


# --------------------------------------------------------------------------------------------- answers


def reply(packet: Packet, cn: str, cp: Sequence[tuple[str, str]] = ()) -> Packet:
    """An interaction packet answering ``packet``: same QN, PW and MN, ST=91, Flag without A or D.

    The examples of Appendix C (e.g. Tables C.1, C.14, C.50) answer with ``ST=91``, the request's QN,
    PW and MN, ``Flag=4`` (version 2017, no answer wanted); the version bits follow the packet answered.
    """
    head: list[tuple[str, str]] = []
    if packet.qn:
        head.append(("QN", packet.qn))
    head += [("ST", "91"), ("CN", cn), ("PW", packet.pw), ("MN", packet.mn), ("Flag", str(packet.version << 2))]
    items = (tuple(cp),) if cp else ()
    return Packet(tuple(head), items, packet.qn, "91", cn, packet.pw, packet.mn, packet.version << 2)


def answer_frames(packet: Packet, *, role: str = "platform") -> list[bytes]:
    """``[encode(a) for a in answers_for(packet, role=role)]``, formatted directly for the usual cases."""
    if not packet.flag & FLAG_ACK:
        return []
    if packet.qn and role == "platform":
        cmd = commands().get((packet.cn, "s2p"))
        if cmd is not None and cmd.kind in ("upload", "notice"):
            cn = "9014" if cmd.kind == "upload" else "9013"
            data = (
                f"QN={packet.qn};ST=91;CN={cn};PW={packet.pw};MN={packet.mn};Flag={packet.version << 2};CP=&&&&"
            ).encode()
            return [frame_data(data)]
    return [encode(a) for a in answers_for(packet, role=role)]


def data_answer(packet: Packet) -> Packet:
    """9014 数据应答 (data answer) to an upload, ``CP=&&&&`` (Table 9; Appendix C Tables C.14, C.50)."""
    return reply(packet, "9014")


def notice_answer(packet: Packet) -> Packet:
    """9013 通知应答 (notice answer) to a notice command such as 1013 (Table 9; Table C.4)."""
    return reply(packet, "9013")


def request_answer(packet: Packet, qn_rtn: int = 1) -> Packet:
    """9011 请求应答 (request answer) with QnRtn from Table 7 (1 = ready to execute; Table C.1)."""
    return reply(packet, "9011", (("QnRtn", str(qn_rtn)),))


def execution_result(packet: Packet, exe_rtn: int = 1) -> Packet:
    """9012 执行结果 (execution result) with ExeRtn from Table 6 (1 = success; Table C.1)."""
    return reply(packet, "9012", (("ExeRtn", str(exe_rtn)),))


def answers_for(packet: Packet, *, role: str = "platform") -> list[Packet]:
    """The answers the standard asks of the receiver of ``packet`` right away (empty if Flag bit A is 0).

    Parameters
    ----------
    packet : Packet
        What was received.
    role : {"platform", "site"}
        ``"platform"`` (上位机, this server): uploads get 9014, notices (1013) get 9013, answers get
        nothing, a command a site may not send gets 9011 with QnRtn=8 (CN error, Table 7).
        ``"site"`` (现场机, e.g. a test data logger): requests get 9011 QnRtn=1, notices 9013; the 9012
        execution result follows once the request has run (:func:`execution_result`).

    References
    ----------
    HJ 212-2017 clause 6.5 (communication flows), Table 9, Appendix C.
    """
    if not packet.flag & FLAG_ACK:
        return []
    direction = "s2p" if role == "platform" else "p2s"
    cmd = commands().get((packet.cn, direction))
    if cmd is None:
        return [request_answer(packet, 8)]
    if cmd.kind == "upload":
        return [data_answer(packet)]
    if cmd.kind == "notice":
        return [notice_answer(packet)]
    if cmd.kind == "request":
        return [request_answer(packet, 1)]
    return []


# --------------------------------------------------------------------------------------------- split


def split(packet: Packet, max_data_len: int = MAX_DATA_LEN) -> list[Packet]:
    """Split a packet whose data segment is too long into parts with PNUM/PNO (Table 3; Tables C.49, C.50).

    Every part repeats the items that carry no ``code-`` field (DataTime, PolId …) and takes as many
    of the other items as fit; part *k* gets QN + (k−1) ms, as in Table C.49 (…534, …535), and Flag
    bit D. A packet that already fits is returned alone, unchanged.

    Raises
    ------
    OversizeError
        One item is too long to fit in a part on its own.
    """
    if len(data_segment(packet).encode("utf-8")) <= max_data_len:
        return [packet]
    common = [it for it in packet.cp if all("-" not in k for k, _ in it)]
    rest = [it for it in packet.cp if any("-" in k for k, _ in it)]
    flag = packet.flag | FLAG_SPLIT
    base = [(k, v) for k, v in packet.header if k not in ("PNUM", "PNO", "Flag")]
    qn0 = parse_qn(packet.qn) if packet.qn else None

    def make(k: int, total: int, items: list[tuple[tuple[str, str], ...]]) -> Packet:
        head = []
        for key, v in base:
            if key == "QN" and qn0 is not None:
                v = format_qn(qn0 + timedelta(milliseconds=k - 1))
            head.append((key, v))
        head += [("Flag", str(flag)), ("PNUM", str(total)), ("PNO", str(k))]
        return build(head, common + items, strict=False)

    groups: list[list[tuple[tuple[str, str], ...]]] = [[]]
    for item in rest:
        trial = groups[-1] + [item]
        if len(data_segment(make(9999, 9999, trial)).encode("utf-8")) <= max_data_len:
            groups[-1] = trial
        elif groups[-1]:
            groups.append([item])
            if len(data_segment(make(9999, 9999, [item])).encode("utf-8")) > max_data_len:
                raise OversizeError(f"item {item[0][0]}… alone exceeds {max_data_len} bytes")
        else:
            raise OversizeError(f"item {item[0][0]}… alone exceeds {max_data_len} bytes")
    total = len(groups)
    return [make(k, total, g) for k, g in enumerate(groups, start=1)]


__all__ = [
    "CHINA_TZ",
    "FLAG_ACK",
    "FLAG_SPLIT",
    "MAX_CP_LEN",
    "MAX_DATA_LEN",
    "DecodeError",
    "Packet",
    "answer_frames",
    "answers_for",
    "build",
    "data_answer",
    "data_segment",
    "decode",
    "encode",
    "execution_result",
    "format_qn",
    "format_time",
    "frame_data",
    "notice_answer",
    "parse_cp",
    "parse_data_segment",
    "parse_qn",
    "parse_time",
    "reply",
    "request_answer",
    "split",
]
