"""Reading a laboratory results file (化验结果文件): CSV or XLSX → :class:`LabFile`, every row a result or rejected.

Pure: no database. The file goes through :mod:`carbonmet.tabular` (encodings incl. GBK/GB18030, limits,
duplicate headers refused) and every field through the shared input rules of
:mod:`carbonmet.quantities.rules` (identifiers, finite numbers, k ≥ 1, the timestamp plausibility window).
A row with any bad field is rejected with one :class:`LabReject` per bad field, naming file, row (as the
file counts it, header = 1), field and reason; nothing is dropped silently. Only a file that cannot be read
as a table of results at all raises :class:`LabError`.
"""

from __future__ import annotations

import hashlib
import math
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..quantities.rules import READINGS_WINDOW, code_problem, unescape_spreadsheet_text
from ..tabular import DEFAULT_LIMITS, Limits, Sheet, TabularError, read_csv, read_xlsx
from ._analytes import analyte_name, analyte_row, to_canonical
from ._types import LabError, LabFile, LabReject, LabResult, MoistureBasis

#: Columns every lab file has (docs/formats/lab.md).
REQUIRED = ("sample_id", "point_id", "sampled_from", "sampled_to", "analyte", "value", "unit", "U", "k", "lab_org",
            "instrument_id", "method", "report_no")
#: Columns a lab file may have.
OPTIONAL = ("sampled_by", "reference_material", "replicates", "batch", "moisture_basis", "analysed_on", "enterprise",
            "note")

#: Longest text of a free-text field [characters] (the database columns' sizes).
TEXT_MAX = {"method": 200, "report_no": 96, "sampled_by": 96, "reference_material": 200, "batch": 96, "note": 1000}
#: Most parallel determinations a result may state.
MAX_REPLICATES = 1000

_BASES: dict[str, MoistureBasis] = {"ar": "ar", "ad": "ad", "d": "d", "收到基": "ar", "空气干燥基": "ad", "空干基": "ad",
                                    "干燥基": "d", "干基": "d"}


class _Bad(Exception):
    """One field's problem: (code, reason)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _text(cell: Any) -> str | None:
    """A cell as the parsers see it: text cells arrive already as :func:`_cell_text` made them."""
    if cell is None or type(cell) is str:
        return cell
    return _cell_text(cell)


def _cell_text(cell: Any) -> str | None:
    """A cell as text (None or blank → None); spreadsheet-escaped text (``'=…``) read back as written."""
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


def _required(v: str | None, what: str) -> str:
    if v is None:
        raise _Bad("missing", f"必填项为空 / {what} is required")
    return v


def _code(v: str | None, what: str) -> str:
    v = _required(v, what)
    problem = code_problem(v)
    if problem is not None:
        raise _Bad("bad_code", problem)
    return v


def _free(v: str | None, what: str, required: bool = False) -> str | None:
    """Free text: any characters but control characters, at most :data:`TEXT_MAX` of them."""
    if v is None:
        if required:
            raise _Bad("missing", f"必填项为空 / {what} is required")
        return None
    bad = next((c for c in v if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp")), None)
    if bad is not None:
        raise _Bad("bad_text", f"含控制字符 / contains the control character U+{ord(bad):04X}")
    limit = TEXT_MAX[what]
    if len(v) > limit:
        raise _Bad("bad_text", f"超过 {limit} 个字符 / longer than {limit} characters ({len(v)})")
    return v


def _number(cell: Any, what: str) -> float:
    if isinstance(cell, bool):
        raise _Bad("bad_number", f"须为数值 / {what} must be a number, got {cell!r}")
    if isinstance(cell, int | float):
        try:
            v = float(cell)
        except OverflowError:
            raise _Bad("not_finite", f"须为有限数值 / {what} is too large for a number") from None
    else:
        s = _required(_text(cell), what)
        if "_" in s:
            raise _Bad("bad_number", f"不是数值 / {what} is not a number: {s[:40]!r}")
        try:
            v = float(s)
        except (ValueError, OverflowError):
            raise _Bad("bad_number", f"不是数值 / {what} is not a number: {s[:40]!r}") from None
    if not math.isfinite(v):
        raise _Bad("not_finite", f"须为有限数值 / {what} = {v!r} is not a finite number")
    return v


def _timestamp(cell: Any, what: str, tz: tzinfo | None, now: datetime) -> datetime:
    if isinstance(cell, datetime):
        t = cell
    else:
        s = _required(_text(cell), what)
        try:
            t = datetime.fromisoformat(s)
        except ValueError:
            raise _Bad("bad_timestamp", f"不是 ISO 8601 时间 / {what} is not an ISO 8601 date-time: {s[:40]!r}") from None
    if t.tzinfo is None or t.utcoffset() is None:
        if tz is None:
            raise _Bad("naive_timestamp", f"缺少时区 / {what} {t.isoformat()} has no UTC offset (write e.g. "
                                          "2025-01-01T00:00:00+08:00, or name the file's time zone)")
        t = t.replace(tzinfo=tz)
    problem = READINGS_WINDOW.problem(t, now)
    if problem is not None:
        raise _Bad("implausible_timestamp", problem)
    return t


def _day(cell: Any, what: str, now: datetime) -> date:
    if isinstance(cell, datetime):
        d = cell.date()
    elif isinstance(cell, date):
        d = cell
    else:
        s = _required(_text(cell), what)
        try:
            d = date.fromisoformat(s)
        except ValueError:
            raise _Bad("bad_date", f"不是 ISO 8601 日期 / {what} is not an ISO 8601 date: {s[:40]!r}") from None
    problem = READINGS_WINDOW.problem(d, now)
    if problem is not None:
        raise _Bad("implausible_timestamp", problem)
    return d


@dataclass
class _Row:
    """The fields of one row as they are parsed, and the problems found."""

    file: str
    rowno: int
    cells: Mapping[str, Any]
    problems: list[tuple[str, str, str]]

    def take(self, name: str, parse: Callable[[Any], Any]) -> Any:
        try:
            return parse(self.cells.get(name))
        except _Bad as bad:
            self.problems.append((name, bad.code, bad.reason))
            return None


def _zone(name: str | None) -> tzinfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise LabError(name, None, "time_zone", f"未知时区 / unknown time zone {name!r}") from None


def _parse_row(r: _Row, enterprise: str | None, tz: tzinfo | None, now: datetime) -> LabResult | None:
    """The row as a result, or None with its problems in ``r.problems``."""
    sample_id = r.take("sample_id", lambda c: _code(_text(c), "sample_id"))
    point_id = r.take("point_id", lambda c: _code(_text(c), "point_id"))
    t0 = r.take("sampled_from", lambda c: _timestamp(c, "sampled_from", tz, now))
    t1 = r.take("sampled_to", lambda c: _timestamp(c, "sampled_to", tz, now))
    if t0 is not None and t1 is not None and t1 < t0:
        r.problems.append(("sampled_to", "window_order", (f"采样结束早于开始 / sampled_to {t1.isoformat()} is before "
                                                          f"sampled_from {t0.isoformat()}")))
    name_text = r.take("analyte", lambda c: _required(_text(c), "analyte"))
    analyte = analyte_name(name_text) if name_text is not None else None
    if name_text is not None and analyte is None:
        r.problems.append(("analyte", "unknown_analyte", (f"未知化验项目 / unknown analyte {name_text[:40]!r} (see "
                                                          "analytes.csv)")))
    value = r.take("value", lambda c: _number(c, "value"))
    unit = r.take("unit", lambda c: _required(_text(c), "unit"))
    big_u = r.take("U", lambda c: _number(c, "U"))
    if big_u is not None and big_u < 0:
        r.problems.append(("U", "negative_u", f"扩展不确定度须 ≥ 0 / U = {big_u!r} is negative"))
    k = r.take("k", lambda c: _number(c, "k"))
    if k is not None and k < 1:
        r.problems.append(("k", "bad_k", f"包含因子 k 须 ≥ 1 / coverage factor k = {k!r} is below 1"))
    row = None
    if analyte is not None and unit is not None:
        row, why = analyte_row(analyte, unit)
        if row is None:
            r.problems.append(("unit", "unit_mismatch", why or ""))
    canonical = None
    if row is not None and value is not None:
        canonical = to_canonical(value, unit, row)
        if not (row.minimum <= canonical <= row.maximum):
            r.problems.append(("value", "out_of_range", (
                f"{analyte} = {canonical:g} {row.unit} 超出合理范围 {row.minimum:g}–{row.maximum:g} {row.unit} / "
                f"outside the plausible range {row.minimum:g}–{row.maximum:g} {row.unit} ({row.source})")))
    lab_org = r.take("lab_org", lambda c: _code(_text(c), "lab_org"))
    instrument = r.take("instrument_id", lambda c: _code(_text(c), "instrument_id"))
    method = r.take("method", lambda c: _free(_text(c), "method", True))
    report_no = r.take("report_no", lambda c: _free(_text(c), "report_no", True))
    sampled_by = r.take("sampled_by", lambda c: _free(_text(c), "sampled_by"))
    ref_mat = r.take("reference_material", lambda c: _free(_text(c), "reference_material"))
    batch = r.take("batch", lambda c: _free(_text(c), "batch"))
    r.take("note", lambda c: _free(_text(c), "note"))

    def _replicates(c: Any) -> int | None:
        if _text(c) is None:
            return None
        v = _number(c, "replicates")
        if not v.is_integer() or not 1 <= v <= MAX_REPLICATES:
            raise _Bad("bad_replicates", f"平行测定次数须为 1–{MAX_REPLICATES} 的整数 / replicates must be a whole number "
                                         f"1–{MAX_REPLICATES}, got {v!r}")
        return int(v)

    replicates = r.take("replicates", _replicates)

    def _basis(c: Any) -> MoistureBasis:
        s = _text(c)
        if s is None:
            return "ar"
        b = _BASES.get(s.casefold())
        if b is None:
            raise _Bad("bad_basis", f"基准须为 ar/ad/d (收到基/空干基/干基) / moisture_basis must be ar, ad or d, got "
                                    f"{s[:20]!r}")
        return b

    basis = r.take("moisture_basis", _basis)
    analysed_on = r.take("analysed_on", lambda c: None if _text(c) is None else _day(c, "analysed_on", now))
    if analysed_on is not None and t0 is not None and analysed_on < t0.date():
        r.problems.append(("analysed_on", "analysed_before_sampling", (
            f"化验日期早于采样开始 / analysed_on {analysed_on.isoformat()} is before sampling began "
            f"({t0.isoformat()})")))
    ent = r.take("enterprise", lambda c: None if _text(c) is None else _code(_text(c), "enterprise"))
    if ent is not None and enterprise is not None and ent != enterprise:
        r.problems.append(("enterprise", "enterprise_mismatch", (
            f"本行属于 {ent}，文件按 {enterprise} 导入 / the row names enterprise {ent!r}, the file is imported for "
            f"{enterprise!r}")))
    if r.problems:
        return None
    assert row is not None and canonical is not None and big_u is not None and unit is not None and analyte
    u_canonical = to_canonical(big_u, unit, row)
    if not math.isfinite(u_canonical):
        r.problems.append(("U", "not_finite", f"U 换算为 {row.unit} 后不是有限数值 / U in {row.unit} is not finite"))
        return None
    return LabResult(
        sample_id=sample_id, point_id=point_id, enterprise=ent or enterprise or "", sampled_from=t0, sampled_to=t1,
        analyte=analyte, value=canonical, unit=row.unit, U=u_canonical, k=k, lab_org=lab_org,
        instrument_id=instrument, method=method, report_no=report_no, sampled_by=sampled_by,
        reference_material=ref_mat, replicates=replicates, batch=batch, moisture_basis=basis,
        analysed_on=analysed_on, row=r.rowno,
    )


def _check_columns(sheet: Sheet) -> None:
    names = [h for h in sheet.header if h]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise LabError(sheet.name, 1, missing[0], (
            f"缺少必需列 {', '.join(missing)} / required column(s) missing: {', '.join(missing)} (columns: "
            f"{', '.join(names)[:200]})"))
    unknown = [c for c in names if c not in REQUIRED and c not in OPTIONAL]
    if unknown:
        raise LabError(sheet.name, 1, unknown[0], (
            f"未知列 {unknown[0]!r} / unknown column {unknown[0]!r}; the columns are {', '.join(REQUIRED)} and "
            f"optionally {', '.join(OPTIONAL)} (docs/formats/lab.md)"))


def _sheet(path: Path, limits: Limits) -> tuple[Sheet, bytes]:
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise LabError(str(path), None, "limit", f"{size} bytes, over the limit of {limits.max_bytes}")
        data = path.read_bytes()
    except OSError as exc:
        raise LabError(str(path), None, "file", f"无法读取 / cannot read: {exc}") from None
    try:
        if suffix in (".xlsx", ".xlsm"):
            (sheet,) = read_xlsx(path, limits, "first")
        elif suffix in (".csv", ".txt", ""):
            sheet = read_csv(data, str(path), limits)
        else:
            raise LabError(str(path), None, "file", f"未知文件类型 / unknown file type {suffix!r} (expected .csv or "
                                                     ".xlsx)")
    except TabularError as exc:
        raise LabError(exc.file, exc.row, exc.field, exc.reason) from None
    return sheet, data


def read_lab_file(path: Path, *, enterprise: str | None = None, time_zone: str | None = None,
                  limits: Limits = DEFAULT_LIMITS) -> LabFile:
    """Read a laboratory results file (化验结果文件, CSV or XLSX; columns in docs/formats/lab.md).

    Parameters
    ----------
    path : Path
        The file (``.csv``: UTF-8, UTF-16 with BOM or GB18030/GBK; ``.xlsx``: the first sheet).
    enterprise : str, optional
        The enterprise every row belongs to; a row whose ``enterprise`` column names another is rejected.
        Without it (and without the column) a result's ``enterprise`` is "" until the registry resolves it
        from the sample point.
    time_zone : str, optional
        IANA zone in which times without a UTC offset are read; without it such times are rejected.
    limits : Limits
        Bounds on the file (:class:`carbonmet.tabular.Limits`).

    Returns
    -------
    LabFile
        Every data row either a :class:`LabResult` (value and U in the analyte's canonical unit) or one
        :class:`LabReject` per bad field; ``rows == len(results) + rejected_rows``.

    Raises
    ------
    LabError
        The file cannot be read as a table of results (unreadable, unknown encoding, a duplicate or unknown
        column, a required column missing, a limit exceeded), naming file, row and field.
    """
    p = Path(path)
    tz = _zone(time_zone)
    if enterprise is not None and code_problem(enterprise) is not None:
        raise LabError(str(p), None, "enterprise", code_problem(enterprise) or "")
    sheet, data = _sheet(p, limits)
    _check_columns(sheet)
    header = sheet.header
    issues: dict[int, list[tuple[str, str, str]]] = {}
    for issue in sheet.issues:
        issues.setdefault(issue.row, []).append((issue.field, issue.code, issue.detail))
    results: list[LabResult] = []
    rejects: list[LabReject] = []
    raw_rows: dict[int, dict[str, str | None]] = {}
    now = datetime.now(UTC)
    columns = [(i, h) for i, h in enumerate(header) if h]
    for rowno, cells in sheet.rows:
        raw = {h: _cell_text(cells[i]) for i, h in columns}
        raw_rows[rowno] = raw
        # text cells as their cleaned text; numbers and date-times of a workbook as they are
        named = {h: raw[h] if cells[i] is None or isinstance(cells[i], str) else cells[i] for i, h in columns}
        r = _Row(sheet.name, rowno, named, list(issues.get(rowno, [])))
        res = _parse_row(r, enterprise, tz, now)
        if res is not None:
            results.append(res)
            continue
        owner = raw.get("enterprise") if code_problem(raw.get("enterprise")) is None else None
        for field, code, reason in r.problems:
            rejects.append(LabReject(sheet.name, rowno, field, code, reason, raw, owner or enterprise))
    return LabFile(sheet.name, hashlib.sha256(data).hexdigest(), len(sheet.rows), tuple(results), tuple(rejects),
                   data, raw_rows)
