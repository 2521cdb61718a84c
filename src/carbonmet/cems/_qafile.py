"""Paired-run files of a reference-method comparison (比对监测数据文件): CSV or XLSX → :class:`RataFile`, and
:class:`PairedRuns` → CSV (:func:`write_rata_file`).

One row model for both formats (docs/formats/rata.md), read through :mod:`carbonmet.tabular` (encodings,
limits, duplicate headers refused); the writer writes the same columns (:data:`COLUMNS`) and reads back to the
same runs. A RATA is all-or-nothing: any bad row refuses the file with a
:class:`RataFileError` naming file, row (header = 1) and field; every problem found is listed in
``problems``, the first in the message.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..quantities import CarbonmetError
from ..quantities.rules import READINGS_WINDOW, code_problem, spreadsheet_text, unescape_spreadsheet_text
from ..tabular import DEFAULT_LIMITS, Limits, Sheet, TabularError, read_csv, read_limited, read_xlsx
from ._qa import PairedRuns, Run, parameter_unit, parameters

#: Columns every paired-run file has.
REQUIRED = ("run", "start", "end", "parameter", "reference", "cems")
#: Columns a paired-run file may have (``unit``, or ``reference_unit`` and ``cems_unit``, is required too).
OPTIONAL = ("unit", "reference_unit", "cems_unit", "reference_method", "stack", "note")
#: Columns :func:`write_rata_file` writes, in this order (the example file's layout plus ``note``).
COLUMNS = ("run", "start", "end", "parameter", "unit", "reference", "cems", "reference_method", "stack", "note")
#: Longest free text [characters].
TEXT_MAX = {"reference_method": 200, "stack": 96, "note": 1000}
#: Fewest paired runs of a parameter (HJ 75-2017 for gases, 40 CFR 75 App. A; rule sets may ask more).
MIN_PAIRS = 9


class RataFileError(CarbonmetError, ValueError):
    """A paired-run file cannot be used for a comparison test (比对数据文件错误).

    ``file``, ``row`` (header = 1; None for the file or a whole parameter), ``field`` and ``reason`` say what and
    where; ``problems`` lists every ``(row, field, reason)`` found (the first is the message).
    """

    def __init__(self, file: str, row: int | None, field: str, reason: str,
                 problems: tuple[tuple[int | None, str, str], ...] = ()) -> None:
        self.file = file
        self.row = row
        self.field = field
        self.reason = reason
        self.problems = problems or ((row, field, reason),)
        where = file if row is None else f"{file}:{row}"
        more = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"{where}:{field}: {reason}{more}")


@dataclass(frozen=True, slots=True)
class RataFile:
    """A paired-run file read whole: one :class:`PairedRuns` per parameter, in file order.

    Attributes
    ----------
    file : str
    sha256 : str
        Of the file's bytes (for the test report's evidence).
    rows : int
        Data rows read.
    series : tuple of PairedRuns
    stack : str or None
        The ``stack`` column when every row that fills it names the same stack, else None.
    """

    file: str
    sha256: str
    rows: int
    series: tuple[PairedRuns, ...]
    stack: str | None = None

    def get(self, parameter: str) -> PairedRuns:
        """The runs of one parameter (KeyError if the file has none)."""
        for s in self.series:
            if s.parameter == parameter:
                return s
        raise KeyError(parameter)


class _Bad(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _text(cell: Any) -> str | None:
    if cell is None:
        return None
    if isinstance(cell, bool):
        s = "TRUE" if cell else "FALSE"
    elif isinstance(cell, float) and math.isfinite(cell) and cell.is_integer() and abs(cell) < 1e15:
        s = str(int(cell))
    elif isinstance(cell, datetime | date):
        s = cell.isoformat()
    else:
        s = str(cell)
    s = s.strip()
    return unescape_spreadsheet_text(s) if s else None


def _required(cell: Any, what: str) -> str:
    s = _text(cell)
    if s is None:
        raise _Bad(f"必填项为空 / {what} is required")
    return s


def _number(cell: Any, what: str) -> float:
    if isinstance(cell, bool):
        raise _Bad(f"须为数值 / {what} must be a number, got {cell!r}")
    if isinstance(cell, int | float):
        try:
            v = float(cell)
        except OverflowError:
            raise _Bad(f"须为有限数值 / {what} is too large") from None
    else:
        s = _required(cell, what)
        if "_" in s:
            raise _Bad(f"不是数值 / {what} is not a number: {s[:40]!r}")
        try:
            v = float(s)
        except (ValueError, OverflowError):
            raise _Bad(f"不是数值 / {what} is not a number: {s[:40]!r}") from None
    if not math.isfinite(v):
        raise _Bad(f"须为有限数值 / {what} = {v!r} is not a finite number")
    return v


def _time(cell: Any, what: str, tz: tzinfo | None, now: datetime) -> datetime:
    if isinstance(cell, datetime):
        t = cell
    else:
        s = _required(cell, what)
        try:
            t = datetime.fromisoformat(s)
        except ValueError:
            raise _Bad(f"不是 ISO 8601 时间 / {what} is not an ISO 8601 date-time: {s[:40]!r}") from None
    if t.tzinfo is None or t.utcoffset() is None:
        if tz is None:
            raise _Bad(f"缺少时区 / {what} {t.isoformat()} has no UTC offset (write e.g. 2025-06-03T09:00:00+08:00, "
                       "or name the file's time zone)")
        t = t.replace(tzinfo=tz)
    problem = READINGS_WINDOW.problem(t, now)
    if problem is not None:
        raise _Bad(problem)
    return t


def _free(cell: Any, what: str) -> str | None:
    s = _text(cell)
    if s is None:
        return None
    bad = next((c for c in s if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp")), None)
    if bad is not None:
        raise _Bad(f"含控制字符 / contains the control character U+{ord(bad):04X}")
    if len(s) > TEXT_MAX[what]:
        raise _Bad(f"超过 {TEXT_MAX[what]} 个字符 / longer than {TEXT_MAX[what]} characters")
    return s


def _zone(name: str | None) -> tzinfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RataFileError(name, None, "time_zone", f"未知时区 / unknown time zone {name!r}") from None


def _sheet(path: Path, limits: Limits) -> tuple[Sheet, bytes]:
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            data = read_limited(path, limits)
            (sheet,) = read_xlsx(path, limits, "first")
        elif suffix in (".csv", ".txt", ""):
            data = read_limited(path, limits)
            sheet = read_csv(data, str(path), limits)
        else:
            raise RataFileError(str(path), None, "file", f"未知文件类型 / unknown file type {suffix!r} (expected .csv "
                                                        "or .xlsx)")
    except TabularError as exc:
        raise RataFileError(exc.file, exc.row, exc.field, exc.reason) from None
    return sheet, data


def _check_columns(sheet: Sheet) -> None:
    names = [h for h in sheet.header if h]
    missing = [c for c in REQUIRED if c not in names]
    if "unit" not in names and not ("reference_unit" in names and "cems_unit" in names):
        missing.append("unit")
    if missing:
        raise RataFileError(sheet.name, 1, missing[0], (
            f"缺少必需列 {', '.join(missing)} / required column(s) missing: {', '.join(missing)} (a file has "
            f"{', '.join(REQUIRED)} and unit, or reference_unit and cems_unit; docs/formats/rata.md)"))
    unknown = [c for c in names if c not in REQUIRED and c not in OPTIONAL]
    if unknown:
        raise RataFileError(sheet.name, 1, unknown[0], (
            f"未知列 {unknown[0]!r} / unknown column {unknown[0]!r}; the columns are {', '.join(REQUIRED)} and "
            f"optionally {', '.join(OPTIONAL)} (docs/formats/rata.md)"))


def read_rata_file(path: Path | str, *, period: tuple[datetime, datetime] | None = None, time_zone: str | None = None,
                   min_pairs: int = MIN_PAIRS, limits: Limits = DEFAULT_LIMITS) -> RataFile:
    """Read a paired-run file of a reference-method comparison (CSV or XLSX; docs/formats/rata.md).

    Parameters
    ----------
    path : Path or str
        ``.csv`` (UTF-8, UTF-16 with BOM, GB18030) or ``.xlsx`` (first sheet).
    period : (datetime, datetime), optional
        The CEMS data period (aware): a run that starts before it or ends after it is refused.
    time_zone : str, optional
        IANA zone for times without a UTC offset (XLSX date cells have none); without it they are refused.
    min_pairs : int
        Fewest runs per parameter (default 9).
    limits : Limits
        Bounds on the file (:class:`carbonmet.tabular.Limits`).

    Returns
    -------
    RataFile

    Raises
    ------
    RataFileError
        Naming file, row and field: unreadable file or encoding, a missing or unknown column, a non-numeric
        or out-of-range value, an unknown parameter, a unit that is not the parameter's or differs between the
        reference and CEMS columns or between rows of one parameter, a run repeated, ``end`` not after
        ``start``, a run outside the CEMS data period, fewer than ``min_pairs`` runs of a parameter.
    """
    p = Path(path)
    tz = _zone(time_zone)
    if period is not None:
        if any(t.tzinfo is None or t.utcoffset() is None for t in period):
            raise RataFileError(str(p), None, "period", "数据期须带时区 / the CEMS data period must be aware")
        if not period[0] < period[1]:
            raise RataFileError(str(p), None, "period", "数据期开始须早于结束 / the period must start before it ends")
    sheet, data = _sheet(p, limits)
    _check_columns(sheet)
    name = sheet.name
    problems: list[tuple[int | None, str, str]] = [(i.row, i.field, f"{i.code}: {i.detail}") for i in sheet.issues]
    cols = [(i, h) for i, h in enumerate(sheet.header) if h]
    now = datetime.now(UTC)
    known = tuple(dict.fromkeys(x.parameter for x in parameters()))
    series: dict[str, list[Run]] = {}
    units: dict[str, tuple[str, int]] = {}
    stacks: set[str] = set()
    for rowno, cells in sheet.rows:
        c: Mapping[str, Any] = {h: cells[i] for i, h in cols}
        bad: list[tuple[str, str]] = []

        def take(field: str, parse: Any, c: Mapping[str, Any] = c, bad: list[tuple[str, str]] = bad) -> Any:
            try:
                return parse(c.get(field))
            except _Bad as exc:
                bad.append((field, exc.reason))
                return None

        run = take("run", lambda v: _required(v, "run"))
        if run is not None and code_problem(run) is not None:
            bad.append(("run", code_problem(run) or ""))
            run = None
        t0 = take("start", lambda v: _time(v, "start", tz, now))
        t1 = take("end", lambda v: _time(v, "end", tz, now))
        if t0 is not None and t1 is not None and not t1 > t0:
            bad.append(("end", f"结束须晚于开始 / end {t1.isoformat()} is not after start {t0.isoformat()}"))
        if period is not None:
            if t0 is not None and t0 < period[0]:
                bad.append(("start", (f"参比监测早于CEMS数据期 / the run starts {t0.isoformat()}, before the CEMS data "
                                     f"period begins ({period[0].isoformat()})")))
            if t1 is not None and t1 > period[1]:
                bad.append(("end", (f"参比监测晚于CEMS数据期 / the run ends {t1.isoformat()}, after the CEMS data period "
                                   f"ends ({period[1].isoformat()})")))
        par_text = take("parameter", lambda v: _required(v, "parameter"))
        par = par_text.casefold() if par_text is not None else None
        if par is not None and par not in known:
            bad.append(("parameter", f"未知参数 {par_text[:40]!r} / unknown parameter (known: {', '.join(known)})"))
            par = None
        unit_cols = [u for u in ("unit", "reference_unit", "cems_unit") if u in c]
        given = {u: take(u, lambda v, u=u: _text(v)) for u in unit_cols}
        present = {u: s for u, s in given.items() if s is not None}
        if not present:
            bad.append((unit_cols[0], "必填项为空 / unit is required"))
        resolved: dict[str, str] = {}
        if par is not None:
            for u, s in present.items():
                row = parameter_unit(par, s)
                if row is None:
                    allowed = ", ".join(x.unit for x in parameters() if x.parameter == par)
                    bad.append((u, (f"单位 {s[:20]!r} 不是 {par} 的单位 / {s[:20]!r} is not a unit of {par} (allowed: "
                                   f"{allowed})")))
                else:
                    resolved[u] = row.unit
        if len(set(resolved.values())) > 1:
            first = next(iter(resolved))
            other = next(u for u in resolved if resolved[u] != resolved[first])
            bad.append((other, (f"参比与CEMS单位不一致 / unit mismatch: {first} is {resolved[first]}, {other} is "
                               f"{resolved[other]}")))
        unit = next(iter(resolved.values())) if resolved and len(set(resolved.values())) == 1 else None
        ref = take("reference", lambda v: _number(v, "reference"))
        cem = take("cems", lambda v: _number(v, "cems"))
        if par is not None and unit is not None:
            prow = parameter_unit(par, unit)
            assert prow is not None
            for fld, val in (("reference", ref), ("cems", cem)):
                if val is not None and not prow.minimum <= val <= prow.maximum:
                    bad.append((fld, (f"{par} = {val:g} {unit} 超出合理范围 / outside the plausible range "
                                     f"{prow.minimum:g}–{prow.maximum:g} {unit} ({prow.source[:80]})")))
            seen = units.get(par)
            if seen is not None and seen[0] != unit:
                bad.append((unit_cols[0], (f"{par} 的单位与第 {seen[1]} 行不同 / {par} is in {unit} here but in "
                                          f"{seen[0]} on row {seen[1]}")))
            elif seen is None:
                units[par] = (unit, rowno)
        method = take("reference_method", lambda v: _free(v, "reference_method"))
        stk = take("stack", lambda v: _free(v, "stack"))
        if stk is not None:
            stacks.add(stk)
        take("note", lambda v: _free(v, "note"))
        if par is not None and run is not None and any(r.run == run for r in series.get(par, [])):
            bad.append(("run", f"{par} 的比对编号 {run!r} 重复 / run {run!r} of {par} appears twice"))
        if bad:
            problems.extend((rowno, f, r) for f, r in bad)
            continue
        assert par is not None and run is not None and ref is not None and cem is not None
        series.setdefault(par, []).append(Run(run, ref, cem, t0, t1, method, rowno))
    if not problems and not sheet.rows:
        problems.append((None, "run", "文件没有数据行 / the file has no data rows"))
    if not problems:
        for par, runs in series.items():
            if len(runs) < min_pairs:
                problems.append((None, "run", (f"{par}: 比对数据对不足, {len(runs)} 对, 至少需要 {min_pairs} 对 / "
                                              f"{len(runs)} paired runs of {par}, at least {min_pairs} needed")))
    if problems:
        problems.sort(key=lambda x: (x[0] is None, x[0] or 0))
        r0, f0, why0 = problems[0]
        raise RataFileError(name, r0, f0, why0, tuple(problems))
    out = tuple(PairedRuns(par, units[par][0], tuple(runs), name) for par, runs in series.items())
    return RataFile(name, hashlib.sha256(data).hexdigest(), len(sheet.rows), out,
                    next(iter(stacks)) if len(stacks) == 1 else None)


def _cell_text(value: str | None, what: str, where: str, row: int) -> str:
    s = (value or "").strip()
    bad = next((c for c in s if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp")), None)
    if bad is not None:
        raise RataFileError(where, row, what, f"含控制字符 / contains the control character U+{ord(bad):04X}")
    if len(s) > TEXT_MAX[what]:
        raise RataFileError(where, row, what, f"超过 {TEXT_MAX[what]} 个字符 / longer than {TEXT_MAX[what]} characters")
    return spreadsheet_text(s) if s else ""


def write_rata_file(path: Path | str, series: Sequence[PairedRuns], *, stack: str | None = None,
                    notes: Mapping[str, str] | None = None) -> Path:
    """Write paired runs as a CSV paired-run file (UTF-8, the columns :data:`COLUMNS`; docs/formats/rata.md).

    The file reads back with :func:`read_rata_file` to the same runs: values are written with the shortest text
    that round-trips a float, times as ISO 8601 with their UTC offset, free text escaped so that no spreadsheet
    reads it as a formula.

    Parameters
    ----------
    path : Path or str
        Output file (``.csv``; parent folders are created).
    series : sequence of PairedRuns
        One per parameter, each in a unit of its parameter (``qa_parameters.csv``); every run needs an aware
        ``start`` and ``end``.
    stack : str, optional
        Written in the ``stack`` column of every row.
    notes : mapping, optional
        Parameter → text for the ``note`` column of that parameter's rows.

    Returns
    -------
    Path

    Raises
    ------
    RataFileError
        Naming the file, the row it would have been written to (header = 1) and the field: a run id that is not
        a code, a missing or naive time, ``end`` not after ``start``, an unknown parameter or unit, a
        non-finite value, a parameter given twice, over-long or control-character text.
    """
    p = Path(path)
    where = str(p)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    row = 1
    seen: set[str] = set()
    for s in series:
        if s.parameter in seen:
            raise RataFileError(where, row + 1, "parameter", f"参数 {s.parameter} 重复 / {s.parameter} given twice")
        seen.add(s.parameter)
        prow = parameter_unit(s.parameter, s.unit)
        for r in s.runs:
            row += 1
            if prow is None:
                raise RataFileError(where, row, "unit", f"{s.unit!r} 不是 {s.parameter} 的单位 / {s.unit!r} is not a "
                                                        f"unit of {s.parameter}")
            if code_problem(r.run) is not None:
                raise RataFileError(where, row, "run", code_problem(r.run) or "")
            for fld, t in (("start", r.start), ("end", r.end)):
                if t is None or t.tzinfo is None or t.utcoffset() is None:
                    raise RataFileError(where, row, fld, f"须为带时区的时间 / {fld} must be an aware date-time")
            assert r.start is not None and r.end is not None
            if not r.end > r.start:
                raise RataFileError(where, row, "end", f"结束须晚于开始 / end {r.end.isoformat()} is not after start "
                                                       f"{r.start.isoformat()}")
            for fld, v in (("reference", r.reference), ("cems", r.cems)):
                if not math.isfinite(v):
                    raise RataFileError(where, row, fld, f"须为有限数值 / {fld} = {v!r} is not a finite number")
            w.writerow([r.run, r.start.isoformat(), r.end.isoformat(), s.parameter, prow.unit, repr(float(r.reference)),
                        repr(float(r.cems)), _cell_text(r.reference_method, "reference_method", where, row),
                        _cell_text(stack, "stack", where, row),
                        _cell_text((notes or {}).get(s.parameter), "note", where, row)])
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(out.getvalue().encode("utf-8"))
    return p
