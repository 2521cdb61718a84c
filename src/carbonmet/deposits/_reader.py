"""Reading a monthly deposit file (存证文件读取): CSV/XLSX rows checked against the month's monitoring plan.

Columns (docs/deposits.md): ``source_stream``, ``parameter``, ``value``, ``unit``, ``evidence`` (``;``-separated
paths relative to the file), ``evidence_kind`` (one kind for all, or one per path), ``note`` and ``reason``
(why a correction was made) — the last four optional. Every row is checked; any problem refuses the whole file
(:class:`DepositError` naming file, row and field), so nothing of a bad file is stored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from ..quantities import UnitError, is_convertible, parse_unit
from ..quantities.rules import code_problem, unescape_spreadsheet_text
from ..sites import MonitoringPlan, PlanParameterRow
from ..tabular import DEFAULT_LIMITS, Limits, TabularError, read_table
from ._evidence import file_sha256
from ._rules import month_end, month_problem, parse_month
from ._types import EVIDENCE_KINDS, DepositError, DepositProblem, Evidence

#: Columns of a deposit file; the first four are required.
COLUMNS = ("source_stream", "parameter", "value", "unit", "evidence", "evidence_kind", "note", "reason")
REQUIRED = COLUMNS[:4]
#: Longest note or reason [characters].
MAX_TEXT = 1000
#: Largest evidence file [bytes] (a scanned report or invoice; the deposit file's own limit is the tabular one).
MAX_EVIDENCE_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class DepositInput:
    """One checked row of a deposit file: the parameter's value as deposited and its evidence (with the paths
    the bytes are read from)."""

    row: int
    source_stream: str
    parameter: str
    value: float
    unit: str
    evidence: tuple[Evidence, ...]
    paths: tuple[Path, ...]
    note: str | None = None
    reason: str | None = None
    plan_unit: str = ""


@dataclass(frozen=True, slots=True)
class DepositFile:
    """A deposit file read and checked: whose, which month, against which plan version, and its rows."""

    path: Path
    sha256: str
    enterprise: str
    month: str
    plan_version: int
    rows: tuple[DepositInput, ...]

    @property
    def name(self) -> str:
        return self.path.name


def plan_rows_for_month(plan: MonitoringPlan, month: str) -> dict[tuple[str, str], PlanParameterRow]:
    """The plan's rows whose validity overlaps ``month``, by (source stream, parameter) (the first such row)."""
    y, m = parse_month(month)
    first, after = date(y, m, 1), month_end(month) + timedelta(days=1)
    out: dict[tuple[str, str], PlanParameterRow] = {}
    for r in plan.parameters:
        lo, hi = r.valid_from or date.min, r.valid_to or date.max
        if lo < after and first < hi:
            out.setdefault((r.source_stream, r.parameter), r)
    return out


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, datetime | date):
        return v.isoformat()
    s = unescape_spreadsheet_text(str(v).strip())
    return s or None


def _number(v: Any) -> tuple[float | None, str | None]:
    """(value, problem): a finite number ≥ 0 from a cell (XLSX number or CSV text)."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None, "缺少数值 / the value is missing"
    if isinstance(v, bool):
        return None, f"须为数值 / not a number: {v!r}"
    if isinstance(v, int | float):
        x = float(v)
    else:
        try:
            x = float(str(v).strip())
        except ValueError:
            return None, f"须为数值 / not a number: {str(v)[:40]!r}"
    if not math.isfinite(x):
        return None, f"须为有限数值 / {str(v)[:40]!r} is not a finite number"
    if x < 0:
        return None, f"不能为负 / a deposited amount or property cannot be negative: {x!r}"
    return x, None


def _evidence_paths(base: Path, text: str | None, where: tuple[str, int], out: list[DepositProblem]
                    ) -> list[tuple[str, Path]]:
    """(name as written, resolved path) of each evidence file; problems for absent or escaping paths."""
    fname, rowno = where
    items = [x.strip() for x in (text or "").split(";") if x.strip()]
    if not items:
        out.append(DepositProblem(fname, rowno, "evidence", "每个存证参数须附支撑材料 / every deposited parameter needs at "
                                  "least one supporting file (化验报告、发票、台账 lab report, invoice, ledger …)"))
        return []
    root = base.resolve()
    got: list[tuple[str, Path]] = []
    for item in items:
        rel = PurePosixPath(item.replace("\\", "/"))
        if rel.is_absolute() or (len(item) > 1 and item[1] == ":"):
            out.append(DepositProblem(fname, rowno, "evidence", f"须为相对于存证文件的路径 / {item!r} must be a path "
                                      "relative to the deposit file"))
            continue
        p = (base / Path(*rel.parts)).resolve() if rel.parts else base
        try:
            p.relative_to(root)
        except ValueError:
            out.append(DepositProblem(fname, rowno, "evidence", f"路径超出存证文件所在目录 / {item!r} lies outside "
                                      "the deposit file's folder"))
            continue
        if not p.is_file():
            out.append(DepositProblem(fname, rowno, "evidence", f"支撑材料文件不存在 / supporting file not found: "
                                      f"{item!r}"))
            continue
        got.append((rel.as_posix(), p))
    return got


def _kinds(text: str | None, n: int, where: tuple[str, int], out: list[DepositProblem]) -> list[str]:
    fname, rowno = where
    kinds = [x.strip() for x in (text or "").split(";") if x.strip()] or ["other"]
    bad = [k for k in kinds if k not in EVIDENCE_KINDS]
    if bad:
        out.append(DepositProblem(fname, rowno, "evidence_kind", f"未知材料类别 / unknown evidence kind {bad[0]!r} "
                                  f"(one of {', '.join(EVIDENCE_KINDS)})"))
        return []
    if len(kinds) == 1:
        return kinds * n
    if len(kinds) != n:
        out.append(DepositProblem(fname, rowno, "evidence_kind", f"{len(kinds)} 个类别对应 {n} 个文件 / {len(kinds)} "
                                  f"kinds for {n} files: give one kind for all or one per file"))
        return []
    return kinds


def read_deposit_file(path: str | Path, *, enterprise: str, month: str, plan: MonitoringPlan,
                      limits: Limits = DEFAULT_LIMITS) -> DepositFile:
    """Read and check one month's deposit file of an enterprise (CSV or XLSX, first sheet).

    Parameters
    ----------
    path : str or Path
        The deposit file; evidence paths are relative to its folder.
    enterprise : str
        Whose deposit it is (the plan's enterprise).
    month : str
        ``YYYY-MM`` (local), the month the values are for.
    plan : MonitoringPlan
        The enterprise's monitoring plan in force for ``month``: every row's source stream and parameter must be
        one of its rows valid in the month, and the unit convertible to that row's unit.
    limits : carbonmet.tabular.Limits
        Bounds of the tabular reader.

    Returns
    -------
    DepositFile
        The rows, each with its evidence files hashed (SHA-256) and the file's own hash.

    Raises
    ------
    DepositError
        Listing every problem as ``file:row:field: reason`` (header = row 1; ``-`` for the file as a whole):
        a missing or unknown column, a stream or parameter not in the plan for the month, a unit that does not
        convert to the plan's, a value that is not a finite number ≥ 0, a missing, escaping or oversized evidence
        file, an unknown evidence kind, a (stream, parameter) given twice.
    """
    p = Path(path)
    fname = str(p)
    problems: list[DepositProblem] = []
    if (mp := month_problem(month)) is not None:
        raise DepositError(fname, [DepositProblem(fname, "-", "month", mp)])
    if plan.enterprise != enterprise:
        raise DepositError(fname, [DepositProblem(fname, "-", "enterprise", f"监测计划属于 {plan.enterprise} / the plan "
                                                  f"is {plan.enterprise}'s, not {enterprise}'s")])
    try:
        sheets = read_table(p, limits)
        sha, _ = file_sha256(p)
    except TabularError as exc:
        raise DepositError(exc.file, [DepositProblem(exc.file, "-" if exc.row is None else exc.row, exc.field,
                                                     exc.reason)]) from None
    except OSError as exc:
        raise DepositError(fname, [DepositProblem(fname, "-", "file", f"cannot read: {exc}")]) from None
    sh = sheets[0]
    sname = sh.name
    problems += [DepositProblem(sname, i.row, i.field, f"{i.code}: {i.detail}") for i in sh.issues]
    cols = [h for h in sh.header if h]
    for c in REQUIRED:
        if c not in cols:
            problems.append(DepositProblem(sname, 1, c, f"缺少列 / missing column {c!r} (columns: {', '.join(COLUMNS)})"))
    for c in cols:
        if c not in COLUMNS:
            problems.append(DepositProblem(sname, 1, c, f"未知列 / unknown column {c!r} (columns: {', '.join(COLUMNS)})"))
    if not sh.rows:
        problems.append(DepositProblem(sname, "-", "rows", "文件没有数据行 / the file has no rows"))
    if problems:
        raise DepositError(sname, problems)
    allowed = plan_rows_for_month(plan, month)
    streams = {s for s, _ in allowed}
    base = p.parent
    rows: list[DepositInput] = []
    seen: dict[tuple[str, str], int] = {}
    for rowno, cells in sh.rows:
        d = {h: v for h, v in zip(sh.header, cells, strict=True) if h}
        where = (sname, rowno)
        before = len(problems)
        stream = _text(d.get("source_stream"))
        param = _text(d.get("parameter"))
        plan_row: PlanParameterRow | None = None
        cp = "缺少源流 / the source stream is missing" if stream is None else code_problem(stream)
        if cp is not None:
            problems.append(DepositProblem(sname, rowno, "source_stream", cp))
        elif stream not in streams:
            problems.append(DepositProblem(sname, rowno, "source_stream", f"{stream!r} 不在 {enterprise} 第 "
                                           f"{plan.version} 版监测计划 {month} 有效的源流中 / is not a source stream of "
                                           f"{enterprise}'s monitoring plan v{plan.version} in {month}"))
        elif param is None or (stream, param) not in allowed:
            problems.append(DepositProblem(sname, rowno, "parameter", f"{stream}/{param} 不在监测计划中 / {stream} has "
                                           f"no parameter {param!r} in {enterprise}'s monitoring plan "
                                           f"v{plan.version} in {month} (planned: "
                                           f"{', '.join(sorted(k for s, k in allowed if s == stream))})"))
        else:
            plan_row = allowed[(stream, param)]
            if (stream, param) in seen:
                problems.append(DepositProblem(sname, rowno, "parameter", f"{stream}/{param} 重复 / given twice (first "
                                               f"in row {seen[(stream, param)]})"))
            seen.setdefault((stream, param), rowno)
        value, vp = _number(d.get("value"))
        if vp is not None:
            problems.append(DepositProblem(sname, rowno, "value", vp))
        unit = _text(d.get("unit"))
        if unit is None:
            problems.append(DepositProblem(sname, rowno, "unit", "缺少单位 / the unit is missing"))
        else:
            try:
                parse_unit(unit)
            except UnitError as exc:
                problems.append(DepositProblem(sname, rowno, "unit", f"未知单位 / unknown unit: {exc}"))
                unit = None
            if unit is not None and plan_row is not None and not is_convertible(unit, plan_row.unit):
                problems.append(DepositProblem(sname, rowno, "unit", f"单位 {unit!r} 不能换算为监测计划的 "
                                               f"{plan_row.unit!r} / {unit!r} does not convert to the plan's unit "
                                               f"{plan_row.unit!r} for {stream}/{param}"))
        files = _evidence_paths(base, _text(d.get("evidence")), where, problems)
        kinds = _kinds(_text(d.get("evidence_kind")), len(files), where, problems) if files else []
        evidence: list[Evidence] = []
        names: set[str] = set()
        for (name, fp), kind in zip(files, kinds, strict=False):
            try:
                digest, size = file_sha256(fp)
            except OSError as exc:
                problems.append(DepositProblem(sname, rowno, "evidence", f"cannot read {name!r}: {exc}"))
                continue
            if size > MAX_EVIDENCE_BYTES:
                problems.append(DepositProblem(sname, rowno, "evidence", f"{name!r}: {size} bytes, over the limit of "
                                               f"{MAX_EVIDENCE_BYTES}"))
                continue
            if name in names:
                problems.append(DepositProblem(sname, rowno, "evidence", f"{name!r} 重复 / named twice"))
                continue
            names.add(name)
            evidence.append(Evidence(name, digest, kind, size))
        note, reason = _text(d.get("note")), _text(d.get("reason"))
        for col, txt in (("note", note), ("reason", reason)):
            if txt is not None and len(txt) > MAX_TEXT:
                problems.append(DepositProblem(sname, rowno, col, f"{len(txt)} characters, over {MAX_TEXT}"))
        if len(problems) == before and plan_row is not None and value is not None and unit is not None:
            assert stream is not None and param is not None
            rows.append(DepositInput(rowno, stream, param, value, unit, tuple(evidence), tuple(fp for _, fp in files),
                                     note, reason, plan_row.unit))
    if problems:
        raise DepositError(sname, problems)
    return DepositFile(p, sha, enterprise, month, plan.version, tuple(rows))
