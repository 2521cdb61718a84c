"""HJ 212-2017 packet-level building blocks (报文构件), for tools, simulators and tests.

What most callers need (:func:`decode`, :func:`encode`, :func:`build`, :func:`split`, :func:`answers_for`,
:class:`Framer`, the server) is in :mod:`carbonmet.metering.hj212`; this module holds the pieces below it:

- Answers (Appendix C): :func:`data_answer` (9014), :func:`notice_answer` (9013), :func:`request_answer`
  (9011, QnRtn of Table 7), :func:`execution_result` (9012, ExeRtn of Table 6), :func:`answer_frames`.
- Data segment and frame (clause 6.3, Table 2): :func:`data_segment`, :func:`parse_data_segment` (with
  :func:`parse_data_segment_reference`, the full parser its fast path is checked against),
  :func:`parse_cp`, :func:`frame_data` (``##`` + length + data + CRC + CR LF), :func:`crc16` (Appendix A),
  with :func:`crc16_table` and :func:`crc16_reference`, the byte-table and bit-by-bit forms it is checked against.
- Times: :func:`parse_time`, :func:`format_time` (DataTime ``YYYYMMDDhhmmss``), :func:`parse_qn`,
  :func:`format_qn` (QN ``YYYYMMDDhhmmsszzz``), all in China time.
- Requests to loggers (clause 6.1): :func:`request_packet`, :func:`history_times`, :class:`RequestResult`.
- Split packets (Flag bit D): :class:`Reassembler`, :class:`Message`.
- Point codes: :func:`parse_hj212_code` (a point's ``hj212_code``: factor code, field and command).
- Access passwords: :data:`PasswordCheck`, the type of the server's ``check_password(mn, pw)`` callback,
  and :data:`QNRTN_BAD_PW` (QnRtn=3 "PW 错误", Table 7), what a refused packet is answered.
"""

from ._codec import (
    Packet,
    answer_frames,
    data_answer,
    data_segment,
    execution_result,
    format_qn,
    format_time,
    frame_data,
    notice_answer,
    parse_cp,
    parse_data_segment,
    parse_data_segment_reference,
    parse_qn,
    parse_time,
    request_answer,
)
from ._crc import crc16, crc16_reference, crc16_table
from ._mapping import parse_hj212_code
from ._reassembly import Message, Reassembler
from ._requests import RequestResult, history_times, request_packet
from ._server import QNRTN_BAD_PW, PasswordCheck

__all__ = [
    "QNRTN_BAD_PW",
    "Message",
    "Packet",
    "PasswordCheck",
    "Reassembler",
    "RequestResult",
    "answer_frames",
    "crc16",
    "crc16_reference",
    "crc16_table",
    "data_answer",
    "data_segment",
    "execution_result",
    "format_qn",
    "format_time",
    "frame_data",
    "history_times",
    "notice_answer",
    "parse_cp",
    "parse_data_segment",
    "parse_data_segment_reference",
    "parse_hj212_code",
    "parse_qn",
    "parse_time",
    "request_answer",
    "request_packet",
]
