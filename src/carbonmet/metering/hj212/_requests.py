"""Platform requests to data loggers (上位机请求命令): the packets and the typed result (pure, no I/O).

The flow itself (send, wait, resend) runs in :meth:`HJ212Server.request`; this module builds the request
packet, formats history times and holds :class:`RequestResult`.

References
----------
HJ 212-2017 clause 6.1 (应答模式: request → 9011 request answer → execution → 9012 execution result),
clause 6.2 and Table 1 (timeouts and retries), Table 3 (Flag), Table 9 (command codes), Appendix C
Tables C.1–C.46 (request examples), C.20–C.23 and C.47–C.50 (history data requests).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from ._codec import CHINA_TZ, FLAG_ACK, Packet, build, format_qn, format_time
from ._errors import BadRequestError, DecodeError
from ._tables import commands, default_timeouts, request_flows, return_code_text

#: Table 1 defaults (clause 6.2): 10 s and 3 resends for every link type except ADSL (5 s); TCP over
#: a mobile network (GPRS … FDD-LTE) is how CEMS loggers usually connect.
DEFAULT_LINK = "GPRS"
REQUEST_TIMEOUT, REQUEST_RETRIES = default_timeouts()[DEFAULT_LINK]

REALTIME_CN = "2011"

CpArg = Mapping[str, object] | Iterable[Mapping[str, object] | Iterable[tuple[str, object]]]


@dataclass(frozen=True, slots=True)
class RequestResult:
    """What came back from one request (clause 6.1).

    Attributes
    ----------
    mn, cn, qn : str
        The data logger, the request command and the request's QN.
    flow : str
        ``execute``, ``reply`` or ``data`` (request_flows.csv).
    qn_rtn : int or None
        QnRtn of the 9011 request answer (Table 7; 1 = ready to execute); ``None`` if the logger sent the
        9012 without a 9011, or the field was missing or not a number.
    exe_rtn : int or None
        ExeRtn of the 9012 execution result (Table 6; 1 = success, 100 = no data); ``None`` if refused.
    packets : int
        Packets of ``data_cn`` received on the logger's connection while the request was open (each
        part of a split packet counts); they went through the sink like any upload.
    readings : int
        Readings the sink received from those packets (mapped and unmapped alike).
    sink_failures : int
        Messages of the answer whose sink raised (not answered, sent to ``reject``).
    replies : tuple of Packet
        For ``reply`` flows (e.g. 1011 the logger's clock), the answer packets; empty for ``data`` flows,
        whose packets are in the store.
    attempts : int
        Times the request was sent (1 + resends, clause 6.2.1).
    sent_at : datetime
        When it was first sent (UTC).
    answer_seconds : float or None
        From the first send to the 9011 [s].
    total_seconds : float
        From the first send to the 9012, or to the refusing 9011 [s].
    """

    mn: str
    cn: str
    qn: str
    flow: str
    qn_rtn: int | None
    exe_rtn: int | None
    packets: int
    readings: int
    sink_failures: int
    replies: tuple[Packet, ...]
    attempts: int
    sent_at: datetime
    answer_seconds: float | None
    total_seconds: float

    @property
    def accepted(self) -> bool:
        """The logger answered QnRtn=1 准备执行请求 (or went straight to its execution result)."""
        return self.qn_rtn == 1 or (self.qn_rtn is None and self.exe_rtn is not None)

    @property
    def ok(self) -> bool:
        """Accepted and executed: ExeRtn=1 执行成功, or 100 没有数据 (no data) for a history request."""
        return self.accepted and (self.exe_rtn == 1 or (self.exe_rtn == 100 and self.flow == "data"))

    @property
    def qn_rtn_text(self) -> str:
        """Meaning of QnRtn (return_codes.csv, Table 7)."""
        return "无 none" if self.qn_rtn is None else return_code_text("QnRtn", self.qn_rtn)

    @property
    def exe_rtn_text(self) -> str:
        """Meaning of ExeRtn (return_codes.csv, Table 6)."""
        return "无 none" if self.exe_rtn is None else return_code_text("ExeRtn", self.exe_rtn)


def request_flow(cn: str) -> tuple[str, str]:
    """``(flow, data_cn)`` of a request command.

    Raises
    ------
    BadRequestError
        ``cn`` is not a platform request of Table 9 (e.g. an upload, a notice such as 2012, or 9011–9014).
    """
    f = request_flows().get(cn)
    if f is None:
        cmd = commands().get((cn, "p2s")) or commands().get((cn, "s2p"))
        what = f"{cmd.kind} {cmd.name_en}" if cmd else "not in Table 9"
        raise BadRequestError(
            f"CN={cn} 不是请求命令 is not a platform request command ({what}; HJ 212-2017 Table 9)"
        )
    return f.flow, f.data_cn


def _cp_items(cp: CpArg) -> list[Mapping[str, object] | Iterable[tuple[str, object]]]:
    if isinstance(cp, Mapping):  # one item per field: "BeginTime=…;EndTime=…" as in Tables C.1, C.20
        return [{k: v} for k, v in cp.items()]
    return list(cp)


def request_packet(
    cn: str, *, mn: str, st: str, pw: str, qn: str, cp: CpArg = (), version: int = 1, strict: bool = True
) -> Packet:
    """Build a request packet as the platform sends it.

    Parameters
    ----------
    cn : str
        A request command (Table 9, request_flows.csv).
    mn, st, pw : str
        The data logger's MN, system code and password as it uses them (its own packets carry them;
        Appendix C requests use the logger's ST, e.g. 32, and PW).
    qn : str
        A new unique request id ``YYYYMMDDhhmmsszzz`` (Table 3).
    cp : mapping or iterable of items
        CP data area. A mapping gives one item per field (``BeginTime=…;EndTime=…``, Table C.20); an
        iterable gives the items as they are.
    version : int
        Flag version bits (1 = HJ 212-2017, 0 = HJ/T 212-2005): the logger's own.
    strict : bool
        Validate as :func:`decode` ``strict``.

    Returns
    -------
    Packet
        With ``Flag = version << 2 | A`` (Table 3: A=1 asks for an answer; 5 for 2017, as in Appendix C).

    Raises
    ------
    BadRequestError
        Not a request command, or fields that would not make a valid packet.
    """
    request_flow(cn)
    header = {"QN": qn, "ST": st, "CN": cn, "PW": pw, "MN": mn, "Flag": (version << 2) | FLAG_ACK}
    try:
        return build(header, _cp_items(cp), strict=strict)
    except DecodeError as exc:
        raise BadRequestError(f"请求报文无效 invalid request CN={cn}: {exc}") from None


def history_times(cn: str, begin: datetime, end: datetime) -> dict[str, str]:
    """BeginTime and EndTime of a history request, truncated to its precision (Tables C.20–C.23).

    Parameters
    ----------
    cn : str
        2051 (minute), 2061 (hour), 2031 or 2041 (day).
    begin, end : datetime
        Start of the first and of the last period wanted, both included (Table C.20 asks one minute with
        BeginTime = EndTime). Aware times are converted to China time; naive ones are taken as China time.

    Raises
    ------
    BadRequestError
        Not a history command, or ``end`` before ``begin``.
    """
    flow, _ = request_flow(cn)
    precision = request_flows()[cn].precision
    if flow != "data" or not precision:
        history = ", ".join(c for c, f in request_flows().items() if f.precision)
        raise BadRequestError(f"CN={cn} 不是历史数据请求 is not a history data request ({history})")
    b, e = (_china(t, precision) for t in (begin, end))
    if e < b:
        raise BadRequestError(f"EndTime {format_time(e)} 早于 before BeginTime {format_time(b)}")
    return {"BeginTime": format_time(b), "EndTime": format_time(e)}


def _china(t: datetime, precision: str) -> datetime:
    t = t.replace(tzinfo=CHINA_TZ) if t.tzinfo is None else t.astimezone(CHINA_TZ)
    t = t.replace(second=0, microsecond=0)
    if precision in ("hour", "day"):
        t = t.replace(minute=0)
    if precision == "day":
        t = t.replace(hour=0)
    return t


class QnClock:
    """New request ids: the time to the millisecond (Table 3), strictly increasing in one server."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: datetime | None = None

    def next(self, now: datetime | None = None) -> str:
        t = (now or datetime.now(CHINA_TZ)).astimezone(CHINA_TZ)
        t = t.replace(microsecond=t.microsecond // 1000 * 1000)
        if self._last is not None and t <= self._last:
            t = self._last + timedelta(milliseconds=1)
        self._last = t
        return format_qn(t)
