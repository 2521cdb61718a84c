"""Input rules shared by every door data comes in by (输入规则): codes, finite numbers, k, dates.

One rule each, at the bottom of the package graph so that registry row models, monitoring-plan rows,
the readings validation, the readings store and the DCC mapping all apply the same one:

- :func:`check_code` — an identifier (organisation, site, point, instrument, certificate code …)
  matches :data:`CODE_PATTERN` and contains no ``..``; such a code may be joined into a file path.
- :func:`check_finite` — a number field is finite (no NaN, no ±inf).
- :func:`check_coverage_factor` — a coverage factor *k* is finite and ≥ 1 (JCGM 100:2008 §6.2–6.3:
  U = k·u with k typically 2 to 3; k < 1 would make the expanded uncertainty smaller than u).
- :func:`spreadsheet_text` / :func:`unescape_spreadsheet_text` — the one safe spreadsheet rule: text
  that a spreadsheet would run as a formula (starts with ``=``, ``+``, ``-``, ``@``, tab or CR) is
  written with a leading ``'``, and read back without it (CSV/formula injection, OWASP).
- :class:`TimeWindow` — a plausibility window for timestamps and dates;
  :data:`READINGS_WINDOW` (1990-01-01 … now + 1 day) and :data:`CERTIFICATE_WINDOW`
  (1950-01-01 … 2199-12-31) are the defaults, and :data:`PERIOD_WINDOW` bounds a data period asked of
  the platform (a readings summary, activity data); documented in ``docs/input-rules.md``.

Every check raises :class:`ValueError` (which pydantic reports per field) with a message that names
what was wrong, zh-CN first then English.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

__all__ = [
    "CERTIFICATE_WINDOW",
    "CODE_MAX_LENGTH",
    "CODE_PATTERN",
    "FORMULA_START",
    "PERIOD_WINDOW",
    "READINGS_WINDOW",
    "TimeWindow",
    "check_code",
    "check_coverage_factor",
    "check_finite",
    "code_problem",
    "spreadsheet_text",
    "unescape_spreadsheet_text",
]

#: Longest code [characters].
CODE_MAX_LENGTH = 96
#: An identifier: a letter or digit, then letters, digits, ``.``, ``_`` or ``-`` (96 characters at most).
CODE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}"
_CODE_RE = re.compile(CODE_PATTERN)


def code_problem(value: object) -> str | None:
    """Why ``value`` is not a valid code, or ``None`` if it is one.

    Parameters
    ----------
    value : object
        The candidate code (anything but a ``str`` is refused).

    Returns
    -------
    str or None
        The reason (zh-CN, English), naming the offending text.
    """
    if not isinstance(value, str):
        return f"编码须为文本 / a code must be text, got {type(value).__name__}"
    if len(value) > CODE_MAX_LENGTH:
        return (f"编码超过 {CODE_MAX_LENGTH} 个字符 / code longer than {CODE_MAX_LENGTH} characters "
                f"({len(value)}): {value[:40]!r}…")
    if not _CODE_RE.fullmatch(value):
        return (f"编码只能含字母、数字、'.'、'_'、'-' 且以字母或数字开头 / a code may hold only letters, digits, "
                f"'.', '_' and '-' and must start with a letter or digit: {value!r}")
    if ".." in value:
        return f"编码不能含 '..' / a code must not contain '..': {value!r}"
    return None


def check_code(value: str, what: str = "code") -> str:
    """Return ``value`` if it is a valid code (:data:`CODE_PATTERN`, no ``..``), else raise.

    Parameters
    ----------
    value : str
        The candidate code.
    what : str
        The field's name, for the message.

    Raises
    ------
    ValueError
        Naming ``what`` and the offending text.
    """
    problem = code_problem(value)
    if problem is not None:
        raise ValueError(f"{what}: {problem}")
    return value


def check_finite(value: float | None, what: str = "value") -> float | None:
    """Return ``value`` if it is ``None`` or a finite number, else raise :class:`ValueError`.

    NaN and ±inf are refused: a registry number field is either stated (finite) or left empty.
    """
    if value is None:
        return None
    if not math.isfinite(value):
        raise ValueError(f"{what}: 须为有限数值 / {value!r} is not a finite number")
    return value


def check_coverage_factor(k: float | None, what: str = "k") -> float | None:
    """Return the coverage factor ``k`` [-] if it is ``None`` or finite and ≥ 1, else raise.

    References
    ----------
    JCGM 100:2008 (GUM) §6.2.1 (U = k·u) and §6.3 (k typically in the range 2 to 3).
    """
    check_finite(k, what)
    if k is not None and k < 1:
        raise ValueError(f"{what}: 包含因子 k 须 ≥ 1 / coverage factor k = {k!r} is below 1")
    return k


#: First characters that make a spreadsheet (Excel, LibreOffice, WPS) read a text cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def spreadsheet_text(value: str) -> str:
    """Text as it is safe to put in a spreadsheet cell (CSV or XLSX): never a live formula.

    Formula-looking text (starting with one of :data:`FORMULA_START`) gets a leading ``'``, which
    spreadsheets show as a text marker; :func:`unescape_spreadsheet_text` removes it on import, so
    an export re-imports to the same value. Numbers are not text and are written as numbers.
    """
    if value.lstrip("'").startswith(FORMULA_START):  # '=x is escaped too, so that unescaping is exact
        return "'" + value
    return value


def unescape_spreadsheet_text(value: str) -> str:
    """Inverse of :func:`spreadsheet_text`: ``'=…`` read back as ``=…`` (other text unchanged)."""
    if value.startswith("'") and value.lstrip("'").startswith(FORMULA_START):
        return value[1:]
    return value


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A plausibility window for timestamps and dates (时间合理性窗口).

    The window is ``earliest`` … ``latest``, where ``latest`` is either a fixed date or, if
    ``ahead`` is set, the moment of the check plus ``ahead`` (data from the future beyond a clock
    skew are refused).

    Parameters
    ----------
    earliest : datetime.date
        First plausible day (inclusive, 00:00 UTC).
    ahead : datetime.timedelta or None
        How far after *now* a timestamp may lie; ``None`` uses ``latest``.
    latest : datetime.date or None
        Last plausible day (inclusive), used when ``ahead`` is ``None``.
    """

    earliest: date
    ahead: timedelta | None = None
    latest: date | None = None

    def __post_init__(self) -> None:
        if (self.ahead is None) == (self.latest is None):
            raise ValueError("TimeWindow needs exactly one of ahead and latest")

    def bounds(self, now: datetime | None = None) -> tuple[datetime, datetime]:
        """(first, last) plausible instant [UTC], both inclusive."""
        lo = datetime(self.earliest.year, self.earliest.month, self.earliest.day, tzinfo=UTC)
        if self.ahead is not None:
            hi = (now or datetime.now(UTC)).astimezone(UTC) + self.ahead
        else:
            assert self.latest is not None
            hi = datetime(self.latest.year, self.latest.month, self.latest.day, 23, 59, 59, 999999, tzinfo=UTC)
        return lo, hi

    def problem(self, value: date | datetime, now: datetime | None = None) -> str | None:
        """Why ``value`` lies outside the window (zh-CN, English), or ``None`` if inside.

        A naive ``datetime`` is taken as UTC; a ``date`` is checked as a calendar day.
        """
        lo, hi = self.bounds(now)
        if isinstance(value, datetime):
            v = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
            inside = lo <= v <= hi
        else:
            inside = lo.date() <= value <= hi.date()
        if inside:
            return None
        return (f"时间不在合理范围 {lo.date()} … {hi.date()} 内 / implausible date or time {value.isoformat()}: "
                f"outside {lo.date()} … {hi.date()}")

    def check(self, value: date | datetime, what: str = "date", now: datetime | None = None) -> None:
        """Raise :class:`ValueError` naming ``what`` if ``value`` lies outside the window."""
        problem = self.problem(value, now)
        if problem is not None:
            raise ValueError(f"{what}: {problem}")


#: Readings (meter, CEMS, HJ 212, MQTT timestamps): 1990-01-01 … now + 1 day (clock skew of a logger).
READINGS_WINDOW = TimeWindow(date(1990, 1, 1), ahead=timedelta(days=1))
#: Certificate dates (calibration, issue, valid until): 1950-01-01 … 2199-12-31.
CERTIFICATE_WINDOW = TimeWindow(date(1950, 1, 1), latest=date(2199, 12, 31))
#: Data periods asked of the platform (readings summary, aggregation, activity data): 1950-01-01 …
#: 2199-12-31, the span of certificate dates (data outside it can never be covered by a certificate),
#: well inside the limits of date arithmetic (years 1 and 9999) in any time zone.
PERIOD_WINDOW = TimeWindow(date(1950, 1, 1), latest=date(2199, 12, 31))
