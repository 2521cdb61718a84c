"""Bulk import and export of registry tables from/to CSV and XLSX (台账批量导入导出).

All or nothing per file: every bad row and field is collected (``file:row:field: reason``) and, if
there is any, the file's transaction is rolled back and :class:`ImportRejected` lists them all.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, selectinload

from ..db import session_scope
from ..quantities.rules import spreadsheet_text
from ..tabular import DEFAULT_LIMITS, Limits, TabularError, read_table
from ._errors import FieldError, ImportRejected, RegistryError, RowProblem
from ._models import (
    Certificate,
    CertificateStandard,
    Installation,
    Instrument,
    MeasurementPoint,
    MeasurementStandard,
    Organisation,
    Site,
)
from ._rows import ROW_MODELS, TABLE_ORDER, CertificateRow
from ._services import (
    DEFAULT_ACTOR,
    link_standards,
    upsert_certificate,
    upsert_instrument,
    upsert_organisation,
    upsert_point,
    upsert_site,
    upsert_standard,
)

_UPSERT: dict[str, Callable[..., Any]] = {
    "organisations": upsert_organisation,
    "sites": upsert_site,
    "points": upsert_point,
    "standards": upsert_standard,
    "instruments": upsert_instrument,
    "certificates": upsert_certificate,
}


@lru_cache(maxsize=1)
def _aliases() -> dict[str, dict[str, str]]:
    """table -> {header text (English or Chinese) -> column}."""
    out: dict[str, dict[str, str]] = {t: {c: c for c in m.model_fields} for t, m in ROW_MODELS.items()}
    with resources.files(__package__).joinpath("data/import_columns.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            out[r["table"]][r["alias"]] = r["column"]
    return out


@dataclass
class ImportReport:
    file: str
    tables: dict[str, int] = field(default_factory=dict)  # table -> rows applied

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "tables": self.tables, "rows": self.rows}


_SLASH_DATE = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$")


def _cell(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        return int(v)  # 1234.0 from a spreadsheet is the whole number 1234 (serials, counts)
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == datetime.min.time() else v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, str):
        v = v.strip()
        m = _SLASH_DATE.match(v)  # 2025/8/1 and 2025.8.1, as Chinese spreadsheets write dates
        if m:
            return f"{int(m[1]):04d}-{int(m[2]):02d}-{int(m[3]):02d}"
        return v or None
    return v


def _detect_table(name: str, header: list[str]) -> str | None:
    stem = name.rsplit("-", 1)[-1].lower()
    if stem in ROW_MODELS:
        return stem
    best, score = None, 0
    for table, aliases in _aliases().items():
        s = sum(1 for h in header if h in aliases)
        if s > score:
            best, score = table, s
    return best if score >= 2 else None


def _xlsx_value(v: Any, number_format: str) -> Any:
    """A cell's value as the user sees it: a number shown as a percentage ("1.0%") is 1.0 in our
    columns that are stated in %, not the fraction 0.01 Excel stores."""
    if isinstance(v, int | float) and not isinstance(v, bool) and "%" in number_format:
        return round(v * 100, 12)
    return v


def _rejected(exc: TabularError) -> ImportRejected:
    """A file the tabular reader refused → the import's error (row 0 = the file as a whole)."""
    return ImportRejected(exc.file, [RowProblem(exc.file, exc.row or 0, exc.field, exc.reason)])


def read_tables(
    path: Path, limits: Limits | None = None
) -> list[tuple[str, list[str], list[tuple[int, list[Any]]]]]:
    """(table, header, [(row number, cells)]) for every table in a CSV or XLSX file.

    Read by :mod:`carbonmet.tabular` (one encoding rule, duplicate headers refused, bounded); a row
    the reader found broken (surplus cells, a truncated last row) rejects the file.

    Raises
    ------
    ImportRejected
        The file cannot be read as tables, or a row is broken (``file:row:field: reason``).
    RegistryError
        Unsupported file type.
    """
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm"):
        raise RegistryError(f"{path}: unsupported file type {suffix!r} (CSV or XLSX)")
    try:
        sheets = read_table(path, limits or DEFAULT_LIMITS, sheets="all", cell=_xlsx_value)
    except TabularError as exc:
        raise _rejected(exc) from None
    out = []
    for sh in sheets:
        header = list(sh.header)
        if sh.title is None:  # CSV: the table from the file name or the header
            table = _detect_table(path.stem, header)
            if table is None:
                raise ImportRejected(str(path), [RowProblem(str(path), 1, "header", "cannot tell which table this file is")])
        else:
            table = sh.title.strip().lower()
            if table not in ROW_MODELS:
                detected = _detect_table(table, header)
                if detected is None:
                    raise ImportRejected(sh.name, [RowProblem(sh.name, 1, "sheet", "unknown table")])
                table = detected
        if sh.issues:
            raise ImportRejected(sh.name, [RowProblem(sh.name, i.row, i.field, f"{i.code}: {i.detail}")
                                           for i in sh.issues])
        out.append((table, header, [(n, [_cell(v) for v in cells]) for n, cells in sh.rows]))
    return out


def validate_rows(
    fname: str, table: str, header: list[str], body: list[tuple[int, list[Any]]], problems: list[RowProblem]
) -> Iterator[tuple[int, BaseModel]]:
    model = ROW_MODELS[table]
    aliases = _aliases()[table]
    cols: list[str | None] = []
    given: dict[str, str] = {}  # column -> the header that gave it
    for h in header:
        col = aliases.get(h)
        if col is None and h:
            problems.append(RowProblem(fname, 1, h, f"unknown column for table {table}"))
        elif col is not None and col in given:  # e.g. valid_until and 有效期至: one would silently win
            problems.append(RowProblem(fname, 1, h, f"表头重复 / column {col!r} given twice: headers "
                                       f"{given[col]!r} and {h!r}"))
            col = None
        elif col is not None:
            given[col] = h
        cols.append(col)
    for rowno, cells in body:
        data = {c: v for c, v in zip(cols, cells, strict=False) if c is not None and v is not None}
        try:
            yield rowno, model.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(x) for x in err["loc"]) or "row"
                problems.append(RowProblem(fname, rowno, loc, err["msg"]))


def import_file(engine: Engine | Connection | Session, path: str | Path, actor: str = DEFAULT_ACTOR) -> ImportReport:
    """Import one CSV/XLSX file in one transaction; raise :class:`ImportRejected` listing every problem.

    Given an engine or a connection, the file is its own transaction: committed whole, or rolled back
    whole when it is rejected. Given a :class:`~sqlalchemy.orm.Session`, the rows are written in that
    session's transaction, which the caller owns: the caller commits, and rolls back on
    :class:`ImportRejected` (as a write guard that checks the changes before they commit does; a second
    session joined to the caller's connection would roll the caller's transaction back under it).
    """
    path = Path(path)
    fname = str(path)
    tables = sorted(read_tables(path), key=lambda t: TABLE_ORDER.index(t[0]))
    report = ImportReport(fname)
    if isinstance(engine, Session):
        _import_tables(engine, fname, tables, actor, report)
        return report
    with session_scope(engine) as session:
        _import_tables(session, fname, tables, actor, report)  # a rejection rolls the whole file back
    return report


def _import_tables(session: Session, fname: str, tables: list[tuple[str, list[str], list[tuple[int, list[Any]]]]],
                   actor: str, report: ImportReport) -> None:
    problems: list[RowProblem] = []
    for table, header, body in tables:
        applied = _apply_table(session, fname, table, header, body, actor, problems)
        report.tables[table] = report.tables.get(table, 0) + applied
    if problems:
        raise ImportRejected(fname, problems)


def _apply_table(
    session: Session,
    fname: str,
    table: str,
    header: list[str],
    body: list[tuple[int, list[Any]]],
    actor: str,
    problems: list[RowProblem],
) -> int:
    upsert = _UPSERT[table]
    applied = 0
    linked: list[tuple[int, CertificateRow, Certificate]] = []
    seen: dict[str, int] = {}
    key_field = next(iter(ROW_MODELS[table].model_fields))
    for rowno, row in validate_rows(fname, table, header, body, problems):
        key = getattr(row, "code", None) or getattr(row, key_field)  # instruments: instrument_id or serial
        if key in seen:
            kf = "instrument_id" if getattr(row, "instrument_id", None) else key_field
            problems.append(RowProblem(fname, rowno, kf, f"duplicate key {key!r} (also row {seen[key]})"))
            continue
        seen[key] = rowno
        try:
            obj = upsert(session, row, actor)
        except FieldError as exc:
            problems.append(RowProblem(fname, rowno, exc.field, exc.reason))
            continue
        except DBAPIError as exc:  # the database refused the row: the transaction is lost, stop here
            problems.append(RowProblem(fname, rowno, "database", str(exc.orig).splitlines()[0]))
            raise ImportRejected(fname, problems) from None
        applied += 1
        if isinstance(row, CertificateRow) and "standards_used" in row.model_fields_set:
            linked.append((rowno, row, obj))  # type: ignore[arg-type]
    # second pass: standards used (may refer to standards' certificates of the same file)
    for rowno, crow, cert in linked:  # writes after a problem are rolled back with the file
        try:
            link_standards(session, cert, crow.standards(), actor)
        except FieldError as exc:
            problems.append(RowProblem(fname, rowno, exc.field, exc.reason))
    return applied


def import_files(engine: Engine | Connection | Session, paths: Iterable[str | Path], actor: str = DEFAULT_ACTOR
                 ) -> list[ImportReport]:
    """Import several files, tables in dependency order; each file is its own all-or-nothing unit.

    Stops at the first rejected file; :attr:`ImportRejected.imported` lists the files committed before it.
    Given a session, every file is written in its transaction (see :func:`import_file`): nothing is
    committed here.
    """

    def order(p: Path) -> int:
        stem = p.stem.rsplit("-", 1)[-1].lower()
        return TABLE_ORDER.index(stem) if stem in TABLE_ORDER else len(TABLE_ORDER)

    reports: list[ImportReport] = []
    for p in sorted((Path(p) for p in paths), key=order):
        try:
            reports.append(import_file(engine, p, actor))
        except ImportRejected as exc:
            # the files before it are committed: say so (in a caller's session nothing is committed yet)
            exc.imported = [] if isinstance(engine, Session) else reports
            raise
    return reports


# --- export ----------------------------------------------------------------------------------------
def export_rows(session: Session, table: str) -> tuple[list[str], list[list[Any]]]:
    """Rows of one table in the import format (so an export re-imports to the same registry)."""
    cols = list(ROW_MODELS[table].model_fields)
    out: list[list[Any]] = []
    if table == "organisations":
        for o in session.scalars(select(Organisation).order_by(Organisation.code)):
            out.append([o.code, o.name, o.kind, o.region, o.industry])
    elif table == "sites":
        for site, oc in session.execute(select(Site, Organisation.code).join(Organisation).order_by(Site.code)):
            out.append([site.code, oc, site.name])
    elif table == "points":
        for p, sc in session.execute(
            select(MeasurementPoint, Site.code).join(Site).order_by(MeasurementPoint.code)
        ):
            out.append([p.code, sc, p.name, p.quantity, p.carrier, p.unit, p.reading_kind, p.level,
                        p.source_stream, p.hj212_mn, p.hj212_code])
    elif table == "standards":
        for std, oc in session.execute(
            select(MeasurementStandard, Organisation.code).join(Organisation).order_by(MeasurementStandard.code)
        ):
            out.append([std.code, std.name, oc, std.level, std.quantity, std.range_text, std.uncertainty_text,
                        std.approval_no])
    elif table == "instruments":
        current = {  # instrument id -> (point code, installed from) of its current installation
            iid: (pcode, since)
            for iid, pcode, since in session.execute(
                select(Installation.instrument_id, MeasurementPoint.code, Installation.installed_from)
                .join(MeasurementPoint, MeasurementPoint.id == Installation.point_id)
                .where(Installation.installed_to.is_(None))
            )
        }
        for i, oc in session.execute(select(Instrument, Organisation.code).join(Organisation).order_by(Instrument.code)):
            pcode, since = current.get(i.id, (None, None))
            out.append([i.serial, i.code, oc, i.type, i.maker, i.model, i.range_low, i.range_high, i.unit,
                        i.accuracy_class, i.mpe_rel, i.mpe_abs, i.resolution, i.legal_category, pcode, since,
                        i.status, i.interval_months])
    elif table == "certificates":
        for c, oc in session.execute(
            select(Certificate, Organisation.code).join(Organisation, Organisation.id == Certificate.issuer_org_id)
            .options(  # load subjects and standards-used links in a few queries, not several per certificate
                selectinload(Certificate.instrument),
                selectinload(Certificate.standard),
                selectinload(Certificate.standards_used).selectinload(CertificateStandard.standard),
                selectinload(Certificate.standards_used).selectinload(CertificateStandard.standard_certificate),
            )
            .order_by(Certificate.calibration_date, Certificate.cert_no)
        ):
            subject = c.instrument.code if c.instrument else c.standard.code  # type: ignore[union-attr]
            used = ";".join(
                f"{u.standard.code}@{u.standard_certificate.cert_no}" if u.standard_certificate else u.standard.code
                for u in c.standards_used
            )
            out.append([c.cert_no, c.kind, subject, "instrument" if c.instrument_id else "standard", oc,
                        c.calibration_date, c.issue_date, c.valid_until, c.conclusion, c.as_found_error,
                        c.as_left_error, c.error_unit, c.expanded_u, c.coverage_factor, c.coverage_probability,
                        used or None])
    else:
        raise RegistryError(f"unknown table {table!r}")
    return cols, out


def _sheet_cell(v: Any) -> Any:
    """One cell through the one safe spreadsheet rule: text never becomes a live formula."""
    if v is None:
        return None
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, str):
        return spreadsheet_text(v)
    return v


def export_csv(session: Session, table: str, path: str | Path) -> int:
    """One table as CSV (UTF-8); formula-looking text is escaped (:func:`~carbonmet.quantities.rules.spreadsheet_text`)."""
    cols, rows = export_rows(session, table)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([_sheet_cell(c) for c in cols])
        for r in rows:
            w.writerow(["" if v is None else _sheet_cell(v) for v in r])
    return len(rows)


def export_xlsx(session: Session, path: str | Path) -> dict[str, int]:
    """All tables into one workbook, a sheet per table (the import reads it back).

    Every text cell is written as a string cell (never a formula) after the same escaping as CSV.
    """
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    counts = {}
    for table in TABLE_ORDER:
        cols, rows = export_rows(session, table)
        ws = wb.create_sheet(table)
        for r in [cols, *rows]:
            ws.append([_sheet_cell(v) for v in r])
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # openpyxl would store text starting with "=" as a formula
        counts[table] = len(rows)
    wb.save(path)
    return counts
