"""Factor files (排放因子导入文件): one row model for CSV and XLSX, every problem named by file, row and field.

Columns (header names; order free; blank cells are empty):

``product, technology, region, year, gas, gwp_set, value, unit, flow_unit, basis, source, source_version, clause,
evidence, distribution, sigma, u, minimum, mode, maximum, pedigree, pedigree_table, basic_class, basic_variance,
owner, note`` — required: product, region, year, gas, value, unit, flow_unit, basis, source, evidence.

``distribution`` is ``lognormal`` (``sigma``, or computed from ``pedigree`` and the basic variance of ``basic_class``
or ``basic_variance``), ``normal`` (``u``), ``triangular`` (``minimum, mode, maximum``), ``uniform`` (``minimum,
maximum``) or ``none``; blank means lognormal when a pedigree and a basic variance are given, else none.
``pedigree`` is a data-quality entry ``(2;3;1;2;5)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from carbonmet.tabular import TabularError, read_table

from ._errors import FactorError
from ._pedigree import basic_uncertainty, parse_dq_entry, pedigree_sigma
from ._records import Distribution, FactorRecord, record_problem

COLUMNS: tuple[str, ...] = (
    "product",
    "technology",
    "region",
    "year",
    "gas",
    "gwp_set",
    "value",
    "unit",
    "flow_unit",
    "basis",
    "source",
    "source_version",
    "clause",
    "evidence",
    "distribution",
    "sigma",
    "u",
    "minimum",
    "mode",
    "maximum",
    "pedigree",
    "pedigree_table",
    "basic_class",
    "basic_variance",
    "owner",
    "note",
)
REQUIRED: tuple[str, ...] = (
    "product",
    "region",
    "year",
    "gas",
    "value",
    "unit",
    "flow_unit",
    "basis",
    "source",
    "evidence",
)


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One problem of a factor file: ``file:row:field: reason``."""

    file: str
    row: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.field}: {self.reason}"

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "row": self.row, "field": self.field, "reason": self.reason}


class FactorImportError(FactorError):
    """A factor file (or olca package) is refused: every problem named; nothing was imported."""

    def __init__(self, file: str, problems: list[ImportProblem]) -> None:
        self.file = file
        self.problems = problems
        head = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"导入被拒绝，未导入任何因子 / {file} refused, nothing imported: {head}{more}")


@dataclass
class FactorFile:
    """The records of one checked factor file, each with the row it came from (``file:row``)."""

    path: str
    records: list[FactorRecord] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)


class _RowError(Exception):
    def __init__(self, field_: str, reason: str) -> None:
        self.field = field_
        self.reason = reason
        super().__init__(f"{field_}: {reason}")


def _num(cells: dict[str, str], key: str) -> float | None:
    text = (cells.get(key) or "").strip()
    if not text:
        return None
    try:
        x = float(text)
    except ValueError:
        raise _RowError(key, f"not a number: {text!r}") from None
    if not math.isfinite(x):
        raise _RowError(key, f"not finite: {text!r}")
    return x


def _distribution(
    cells: dict[str, str], pedigree: tuple[int | None, ...] | None, table: str, basic: float | None
) -> Distribution:
    shape = (cells.get("distribution") or "").strip().lower()
    if not shape:
        shape = (
            "lognormal"
            if pedigree is not None and basic is not None and not cells.get("sigma")
            else ("lognormal" if cells.get("sigma") else "none")
        )
    if shape == "lognormal":
        sigma = _num(cells, "sigma")
        if sigma is None:
            if pedigree is None or basic is None:
                raise _RowError(
                    "sigma", "a lognormal needs sigma, or a pedigree with basic_class or basic_variance"
                )
            sigma = pedigree_sigma(pedigree, basic, table=table).sigma
        return Distribution(shape="lognormal", sigma=sigma)
    try:
        return Distribution(
            shape=shape,  # type: ignore[arg-type]  # pydantic checks the literal
            u=_num(cells, "u"),
            minimum=_num(cells, "minimum"),
            mode=_num(cells, "mode"),
            maximum=_num(cells, "maximum"),
        )
    except ValidationError as exc:
        f, m = record_problem(exc)[0]
        if f in ("-", "shape"):  # a whole-model check: name the parameter it is about
            f = m.rsplit("needs ", 1)[1] if "needs " in m else "distribution"
        raise _RowError(f, m) from None


def _record_from_cells(cells: dict[str, str], where: str, *, store: str = "db") -> FactorRecord:
    """One record from a row's cells (text); :class:`FactorError` naming ``where`` and the field."""
    try:
        return _record(cells, store)
    except _RowError as exc:
        raise FactorError(f"{where}:{exc.field}: {exc.reason}") from None


def _record(cells: dict[str, str], store: str) -> FactorRecord:
    c = {k: (v or "").strip() for k, v in cells.items()}
    for k in REQUIRED:
        if not c.get(k):
            raise _RowError(k, "required, but empty")
    ped_text = c.get("pedigree", "")
    try:
        pedigree = parse_dq_entry(ped_text, "pedigree") if ped_text else None
    except FactorError as exc:
        raise _RowError("pedigree", str(exc).removeprefix("pedigree: ")) from None
    table = c.get("pedigree_table") or "ecoinvent_v3"
    basic = _num(c, "basic_variance")
    if c.get("basic_class"):
        if basic is not None:
            raise _RowError("basic_class", "give basic_class or basic_variance, not both")
        try:
            basic = basic_uncertainty(c["basic_class"]).variance
        except FactorError as exc:
            raise _RowError("basic_class", str(exc)) from None
    if basic is not None and basic < 0:
        raise _RowError("basic_variance", f"must be ≥ 0, got {basic}")
    try:
        dist = _distribution(c, pedigree, table, basic)
    except FactorError as exc:
        raise _RowError("pedigree_table" if "table" in str(exc) else "pedigree", str(exc)) from None
    year_text = c["year"]
    if not year_text.removesuffix(".0").isdigit():
        raise _RowError("year", f"not a year: {year_text!r}")
    value = _num(c, "value")
    fields: dict[str, Any] = {
        "product": c["product"],
        "technology": c.get("technology", ""),
        "region": c["region"],
        "year": int(year_text.removesuffix(".0")),
        "gas": c["gas"],
        "gwp_set": c.get("gwp_set", ""),
        "value": value,
        "unit": c["unit"],
        "flow_unit": c["flow_unit"],
        "basis": c["basis"],
        "source": c["source"],
        "source_version": c.get("source_version", ""),
        "clause": c.get("clause", ""),
        "evidence": c["evidence"],
        "distribution": dist,
        "pedigree": pedigree,
        "pedigree_table": table,
        "basic_variance": basic,
        "owner": c.get("owner") or None,
        "note": c.get("note", ""),
        "store": store,
    }
    try:
        return FactorRecord(**fields)
    except ValidationError as exc:
        f, m = record_problem(exc)[0]
        if f == "-":
            f = (
                "unit"
                if "unit" in m
                else "gwp_set"
                if "gwp_set" in m or "CO2e" in m
                else ("distribution" if "uncertainty" in m else "product")
            )
        raise _RowError(f.split(".")[0], m) from None


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v)) if abs(v) < 1e15 else repr(v)
    return str(v)


def read_factor_file(path: str | Path) -> FactorFile:
    """Read and check a CSV or XLSX factor file; every problem collected, none dropped.

    Raises
    ------
    FactorImportError
        Any problem (unknown or missing column, a bad cell, a unit that does not fit its flow, a pedigree score out
        of range, a key repeated in the file), each named ``file:row:field``; no record is returned then.
    """
    p = Path(path)
    name = str(p)
    try:
        sheets = read_table(p)
    except TabularError as exc:
        raise FactorImportError(
            name, [ImportProblem(exc.file, str(exc.row or "-"), exc.field, exc.reason)]
        ) from None
    sheet = sheets[0]
    problems: list[ImportProblem] = []
    unknown = [h for h in sheet.header if h and h not in COLUMNS]
    if unknown:
        problems.append(
            ImportProblem(
                sheet.name,
                "1",
                unknown[0],
                f"unknown column(s) {', '.join(unknown)}; known: {', '.join(COLUMNS)}",
            )
        )
    missing = [k for k in REQUIRED if k not in sheet.header]
    if missing:
        problems.append(ImportProblem(sheet.name, "1", missing[0], f"missing column(s) {', '.join(missing)}"))
    if problems:
        raise FactorImportError(name, problems)
    for issue in sheet.issues:
        problems.append(
            ImportProblem(sheet.name, str(issue.row), issue.field, f"{issue.code}: {issue.detail}")
        )
    out = FactorFile(name)
    first: dict[str, int] = {}
    for rowno, cells in sheet.rows:
        row = {h: _text(v) for h, v in zip(sheet.header, cells, strict=False) if h}
        try:
            rec = _record(row, "db")
        except _RowError as exc:
            problems.append(ImportProblem(sheet.name, str(rowno), exc.field, exc.reason))
            continue
        if rec.key in first:
            problems.append(
                ImportProblem(
                    sheet.name, str(rowno), "product", f"factor {rec.key} repeats row {first[rec.key]}"
                )
            )
            continue
        first[rec.key] = rowno
        out.records.append(rec)
        out.rows.append(f"{sheet.name}:{rowno}")
    if problems:
        raise FactorImportError(name, problems)
    if not out.records:
        raise FactorImportError(name, [ImportProblem(sheet.name, "-", "file", "no factor rows")])
    return out
