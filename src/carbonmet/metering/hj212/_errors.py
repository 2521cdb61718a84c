"""Errors of the HJ 212-2017 codec, framer and server.

Every rejection is a :class:`DecodeError` subclass whose ``reason`` is one line a field engineer can act
on (it names the field and the standard's clause where one applies); ``kind`` is a short stable key
for counting rejects by cause.
"""

from __future__ import annotations

from ...quantities import CarbonmetError


class HJ212Error(CarbonmetError):
    """Base class of every error of the HJ 212 package."""


class DecodeError(HJ212Error, ValueError):
    """A frame or data segment that does not follow HJ 212-2017.

    Attributes
    ----------
    kind : str
        Short key of the cause (``bad_header``, ``bad_crc``, …), stable across versions.
    reason : str
        Human-readable explanation naming the field or byte offset.
    field : str or None
        The data-segment field concerned, if any.
    """

    kind = "invalid"

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field

    def __str__(self) -> str:
        return f"{self.kind}: {self.reason}"


class BadHeaderError(DecodeError):
    """The frame does not start with ``##`` and four decimal digits, or does not end with CR LF (clause 6.3.1)."""

    kind = "bad_header"


class LengthMismatchError(DecodeError):
    """The data-segment length in the header differs from the bytes received (clause 6.3.1)."""

    kind = "length_mismatch"

    def __init__(self, reason: str, *, declared: int, actual: int) -> None:
        super().__init__(reason)
        self.declared = declared
        self.actual = actual


class OversizeError(DecodeError):
    """The data segment (or CP) is longer than the standard allows: 1024 bytes (950 for CP), Tables 2 and 3."""

    kind = "oversize"


class BadCRCError(DecodeError):
    """The CRC16 of the data segment differs from the one received (Appendix A)."""

    kind = "bad_crc"

    def __init__(self, reason: str, *, expected: str, actual: str) -> None:
        super().__init__(reason)
        self.expected = expected
        self.actual = actual


class NonASCIIError(DecodeError):
    """A byte outside ASCII where the standard allows none (clause 6.3: ASCII except UTF-8 Chinese text)."""

    kind = "non_ascii"


class MissingFieldError(DecodeError):
    """A required field (QN, ST, CN, PW, MN, Flag, CP; PNUM/PNO for split packets; DataTime for data) is absent."""

    kind = "missing_field"


class BadFieldError(DecodeError):
    """A field is malformed: syntax, width or character set (clause 6.3.2, Table 3; clause 6.3.3, Table 4)."""

    kind = "bad_field"


class BadTimestampError(DecodeError):
    """A QN, DataTime or other time field is not a valid YYYYMMDDhhmmss[zzz] time (Table 3, Table 4)."""

    kind = "bad_timestamp"


class BadValueError(DecodeError):
    """A measured value is not a decimal number as clause 6.3.3.2.2 defines (N14.2: digits, sign, point)."""

    kind = "bad_value"


class UnknownFlagError(DecodeError):
    """Packet Flag with an unknown protocol version, or a data flag not in Table 8."""

    kind = "unknown_flag"


class PointMapError(HJ212Error, ValueError):
    """Two measurement points claim the same HJ 212 MN and code."""


class RequestError(HJ212Error):
    """A platform request to a data logger (clause 6.1) could not be sent or was not completed."""


class BadRequestError(RequestError, ValueError):
    """The request itself is invalid: not a request command of Table 9, bad CP or times."""


class UnknownLoggerError(RequestError, LookupError):
    """No data logger with this MN has ever connected and no measurement point names it."""

    def __init__(self, mn: str) -> None:
        super().__init__(f"未知数采仪 unknown data logger MN={mn}: never connected and not in the point map")
        self.mn = mn


class NotConnectedError(RequestError, ConnectionError):
    """The data logger is known but has no live connection (or lost it while a request was open)."""

    def __init__(self, mn: str, detail: str = "no live connection") -> None:
        super().__init__(f"数采仪未连接 data logger MN={mn} not connected: {detail}")
        self.mn = mn


class RequestTimeoutError(RequestError, TimeoutError):
    """No answer within the timeout (clause 6.2).

    Attributes
    ----------
    phase : str
        ``answer``: no 9011 request answer after the first send and every retry (6.2.1; the link counts
        as unusable); ``execution``: after the answer, no data packet or 9012 within the timeout (6.2.2;
        the command failed, no retry).
    attempts : int
        Times the request was sent.
    partial : object
        The :class:`~carbonmet.metering.hj212.RequestResult` so far (data packets already received
        went to the sink and count there).
    """

    def __init__(self, reason: str, *, phase: str, attempts: int, partial: object = None) -> None:
        super().__init__(reason)
        self.phase = phase
        self.attempts = attempts
        self.partial = partial
