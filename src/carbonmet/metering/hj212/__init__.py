"""HJ 212-2017 data transmission (污染物在线监控（监测）系统数据传输标准): codec, mapping and TCP server.

- :func:`decode` / :func:`encode`: frames ``##LLLL…CCCC\\r\\n`` ↔ :class:`Packet` (byte-identical round trip).
- :func:`answers_for`, :func:`data_answer` (9014), :func:`notice_answer` (9013), :func:`request_answer`
  (9011), :func:`execution_result` (9012).
- :class:`Framer` (stream → frames), :class:`Reassembler` (split packets → :class:`Message`).
- :func:`build_point_map`, :func:`to_raw_readings`, :func:`parse_hj212_code` (a point's code, field and command): packets → :class:`~carbonmet.metering.RawReading`.
- :func:`start_server`, :func:`serve`: asyncio TCP server answering only after the sink has the data.

Every rejection is a :class:`DecodeError` subclass with a reason. Code tables are CSV files beside
this module, each naming its clause of the standard.
"""

from ._codec import (
    CHINA_TZ,
    FLAG_ACK,
    FLAG_SPLIT,
    MAX_CP_LEN,
    MAX_DATA_LEN,
    Packet,
    answers_for,
    build,
    data_answer,
    data_segment,
    decode,
    encode,
    execution_result,
    notice_answer,
    parse_data_segment,
    request_answer,
    split,
)
from ._crc import crc16
from ._errors import (
    BadCRCError,
    BadFieldError,
    BadHeaderError,
    BadTimestampError,
    BadValueError,
    DecodeError,
    HJ212Error,
    LengthMismatchError,
    MissingFieldError,
    NonASCIIError,
    OversizeError,
    PointMapError,
    UnknownFlagError,
)
from ._framing import Framer
from ._mapping import PointMap, build_point_map, parse_hj212_code, to_raw_readings
from ._reassembly import Message, Reassembler
from ._server import HJ212Server, ServerStats, Sink, serve, start_server
from ._tables import commands, data_flags, factor_codes

__all__ = [
    "CHINA_TZ",
    "FLAG_ACK",
    "FLAG_SPLIT",
    "MAX_CP_LEN",
    "MAX_DATA_LEN",
    "BadCRCError",
    "BadFieldError",
    "BadHeaderError",
    "BadTimestampError",
    "BadValueError",
    "DecodeError",
    "Framer",
    "HJ212Error",
    "HJ212Server",
    "LengthMismatchError",
    "Message",
    "MissingFieldError",
    "NonASCIIError",
    "OversizeError",
    "Packet",
    "PointMap",
    "PointMapError",
    "Reassembler",
    "ServerStats",
    "Sink",
    "UnknownFlagError",
    "answers_for",
    "build",
    "build_point_map",
    "commands",
    "crc16",
    "data_answer",
    "data_flags",
    "data_segment",
    "decode",
    "encode",
    "execution_result",
    "factor_codes",
    "notice_answer",
    "parse_data_segment",
    "parse_hj212_code",
    "request_answer",
    "serve",
    "split",
    "start_server",
    "to_raw_readings",
]
