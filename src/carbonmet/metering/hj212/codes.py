"""HJ 212-2017 protocol tables and constants (编码表与常量), importable by name.

Each table is a CSV file beside this package naming its clause of the standard, loaded once:

- :func:`commands` — Table 9 command codes (CN) with direction and kind; :class:`Command`.
- :func:`system_codes` — Table 5 system codes (ST).
- :func:`data_flags`, :func:`data_flags_zh`, :func:`data_flags_short` — Table 8 data flags (N, F, M, S, D, C, T, B).
- :func:`return_codes`, :func:`return_code_text` — Table 6 ExeRtn and Table 7 QnRtn.
- :func:`factor_codes` — Appendix B factor codes (a21026 SO2 …) with units; :class:`FactorCode`.
- :func:`field_suffixes`, :func:`field_commands`, :func:`default_fields`, :func:`default_commands` —
  Table 4 field suffixes (Rtd, Avg, Cou …), the commands each appears in, and which field a point reads.
- :func:`request_flows` — clause 6.1 flow of each request command (:class:`RequestFlow`);
  :data:`PERIODS` — the history commands and their periods.
- :func:`default_timeouts` — Table 1 timeout and resends per link type; :data:`REQUEST_TIMEOUT`,
  :data:`REQUEST_RETRIES` for :data:`DEFAULT_LINK`.

Constants: :data:`CHINA_TZ` (UTC+8, the time of every DataTime and QN), :data:`FLAG_ACK` and
:data:`FLAG_SPLIT` (Flag bits A and D, Table 3), :data:`MAX_DATA_LEN` (1024, Table 2),
:data:`MAX_CP_LEN` (950, Table 3), :data:`MAX_DATA_LEN_FIELD` (9999, what the length field can hold),
:data:`HEADER_KEYS` (Table 3 order), :data:`REALTIME_CN` (2011).
"""

from ._codec import CHINA_TZ, FLAG_ACK, FLAG_SPLIT, HEADER_KEYS, MAX_CP_LEN, MAX_DATA_LEN, MAX_DATA_LEN_FIELD
from ._gaps import PERIODS
from ._requests import DEFAULT_LINK, REALTIME_CN, REQUEST_RETRIES, REQUEST_TIMEOUT
from ._tables import (
    Command,
    FactorCode,
    RequestFlow,
    commands,
    data_flags,
    data_flags_short,
    data_flags_zh,
    default_commands,
    default_fields,
    default_timeouts,
    factor_codes,
    field_commands,
    field_suffixes,
    request_flows,
    return_code_text,
    return_codes,
    system_codes,
)

__all__ = [
    "CHINA_TZ",
    "DEFAULT_LINK",
    "FLAG_ACK",
    "FLAG_SPLIT",
    "HEADER_KEYS",
    "MAX_CP_LEN",
    "MAX_DATA_LEN",
    "MAX_DATA_LEN_FIELD",
    "PERIODS",
    "REALTIME_CN",
    "REQUEST_RETRIES",
    "REQUEST_TIMEOUT",
    "Command",
    "FactorCode",
    "RequestFlow",
    "commands",
    "data_flags",
    "data_flags_short",
    "data_flags_zh",
    "default_commands",
    "default_fields",
    "default_timeouts",
    "factor_codes",
    "field_commands",
    "field_suffixes",
    "request_flows",
    "return_code_text",
    "return_codes",
    "system_codes",
]
