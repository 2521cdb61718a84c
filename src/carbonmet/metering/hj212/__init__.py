"""HJ 212-2017 data transmission (污染物在线监控（监测）系统数据传输标准): codec, mapping and TCP server.

- :func:`decode` / :func:`encode`: frames ``##LLLL…CCCC\\r\\n`` ↔ :class:`Packet` (byte-identical round trip).
- :func:`answers_for`, :func:`data_answer` (9014), :func:`notice_answer` (9013), :func:`request_answer`
  (9011), :func:`execution_result` (9012).
- :class:`Framer` (stream → frames), :class:`Reassembler` (split packets → :class:`Message`).
- :func:`build_point_map`, :func:`to_raw_readings`, :func:`parse_hj212_code` (a point's code, field and command): packets → :class:`~carbonmet.metering.RawReading`.
- :func:`start_server`, :func:`serve`: asyncio TCP server answering only after the sink has the data;
  :func:`store_sink` puts what it receives into a readings :class:`~carbonmet.metering.Store`.
- :meth:`HJ212Server.request` (and ``request_history``, ``request_realtime``, ``backfill``): requests to a
  connected logger following clause 6.1 with the timeouts and resends of 6.2 → :class:`RequestResult`.
- :func:`missing_periods`, :func:`plan_requests`, :func:`plan_backfill`: gap recovery (补传) as history requests.

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
from ._framing import Framer
from ._gaps import (
    HistoryRequest,
    StoredTimes,
    infer_minute_interval,
    logger_points,
    missing_periods,
    plan_backfill,
    plan_requests,
    store_times,
)
from ._limits import ServerLimits
from ._mapping import PointMap, build_point_map, parse_hj212_code, to_raw_readings
from ._reassembly import Message, Reassembler
from ._requester import BackfillReport
from ._requests import REQUEST_RETRIES, REQUEST_TIMEOUT, RequestResult, history_times, request_packet
from ._server import HJ212Server, ServerStats, Sink, serve, start_server
from ._sink import IngestTarget, store_sink
from ._tables import commands, data_flags, default_timeouts, factor_codes, request_flows, return_code_text

__all__ = [
    "CHINA_TZ",
    "FLAG_ACK",
    "FLAG_SPLIT",
    "MAX_CP_LEN",
    "MAX_DATA_LEN",
    "REQUEST_RETRIES",
    "REQUEST_TIMEOUT",
    "BackfillReport",
    "BadCRCError",
    "BadFieldError",
    "BadHeaderError",
    "BadRequestError",
    "BadTimestampError",
    "BadValueError",
    "DecodeError",
    "Framer",
    "HJ212Error",
    "HJ212Server",
    "HistoryRequest",
    "IngestTarget",
    "LengthMismatchError",
    "Message",
    "MissingFieldError",
    "NonASCIIError",
    "NotConnectedError",
    "OversizeError",
    "Packet",
    "PointMap",
    "PointMapError",
    "Reassembler",
    "RequestError",
    "RequestResult",
    "RequestTimeoutError",
    "ServerLimits",
    "ServerStats",
    "Sink",
    "StoredTimes",
    "UnknownFlagError",
    "UnknownLoggerError",
    "answers_for",
    "build",
    "build_point_map",
    "commands",
    "crc16",
    "data_answer",
    "data_flags",
    "data_segment",
    "decode",
    "default_timeouts",
    "encode",
    "execution_result",
    "factor_codes",
    "history_times",
    "infer_minute_interval",
    "logger_points",
    "missing_periods",
    "notice_answer",
    "parse_data_segment",
    "parse_hj212_code",
    "plan_backfill",
    "plan_requests",
    "request_answer",
    "request_flows",
    "request_packet",
    "return_code_text",
    "serve",
    "split",
    "start_server",
    "store_sink",
    "store_times",
    "to_raw_readings",
]
