"""Every HJ 212 error, importable by name (the base classes are also in :mod:`carbonmet.metering.hj212`).

- :class:`HJ212Error` — base of all.
- :class:`DecodeError` (a ``ValueError``) — a frame or packet rejected, with ``kind`` and a reason:
  :class:`BadHeaderError`, :class:`LengthMismatchError`, :class:`OversizeError`, :class:`BadCRCError`,
  :class:`NonASCIIError`, :class:`MissingFieldError`, :class:`BadFieldError`, :class:`BadTimestampError`,
  :class:`BadValueError`, :class:`UnknownFlagError`.
- :class:`PointMapError` — two points claim one MN/code, or a point's ``hj212_code`` is malformed.
- :class:`RequestError` — requests to loggers: :class:`BadRequestError`, :class:`UnknownLoggerError`,
  :class:`NotConnectedError`, :class:`RequestTimeoutError` (clause 6.2).
"""

from ._errors import (
    BadCRCError,
    BadFieldError,
    BadHeaderError,
    BadRequestError,
    BadTimestampError,
    BadValueError,
    DecodeError,
    HJ212Error,
    LengthMismatchError,
    MissingFieldError,
    NonASCIIError,
    NotConnectedError,
    OversizeError,
    PointMapError,
    RequestError,
    RequestTimeoutError,
    UnknownFlagError,
    UnknownLoggerError,
)

__all__ = [
    "BadCRCError",
    "BadFieldError",
    "BadHeaderError",
    "BadRequestError",
    "BadTimestampError",
    "BadValueError",
    "DecodeError",
    "HJ212Error",
    "LengthMismatchError",
    "MissingFieldError",
    "NonASCIIError",
    "NotConnectedError",
    "OversizeError",
    "PointMapError",
    "RequestError",
    "RequestTimeoutError",
    "UnknownFlagError",
    "UnknownLoggerError",
]
