"""Lab results in the database (化验结果入库): registry checks, storage, quarantine, queries — every write audited.

One file is one import. :func:`check_against_registry` resolves each result's enterprise from its sample
point and refuses rows naming an unregistered point, analyser or laboratory; :func:`save_lab_file` then
stores the file in the caller's transaction:

* a file with any refused row is **rejected**: no result of it is stored; the import is recorded with the
  file's bytes and every row goes to the quarantine (refused rows with their reasons, the others as
  ``file_rejected``), so nothing is lost and ``rows = stored + duplicates + quarantined`` holds;
* a file stored before (same SHA-256) is a **duplicate**: nothing is written, every row counts as a
  duplicate; so is a file whose every result is already stored;
* otherwise its new results are **stored**; a row equal to a stored result is a duplicate; a row with the
  key of a stored result — (enterprise, sample_id, analyte) — but other content is quarantined as a
  ``conflict``, never overwriting it.

Each import writes three audit entries keyed by the import id: ``lab_import`` (the import row, the file's
bytes logged by digest), ``lab_result`` and ``lab_quarantine`` (the lists of rows written), checked by the
reconcilers of this package (``carbonmet audit verify``). Every entry names the import's enterprises, which
is whom the write guard of the services attributes it to.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.orm import Session

from ..db import lock_chain, record
from ..quantities.rules import code_problem
from ..registry.models import Instrument, MeasurementPoint, Organisation, Site
from ._flags import certificate_flags, find_flags
from ._models import IMPORT, QUARANTINE, RESULT, LabImportRow, LabQuarantineRow, LabResultRow
from ._types import LabFile, LabFlag, LabImport, LabReject, LabResult

_CHUNK = 500
#: Names of :meth:`LabResult.content`'s fields, in order (to say which field a conflict differs in).
_CONTENT = ("sample_id", "point_id", "enterprise", "sampled_from", "sampled_to", "analyte", "value", "unit", "U", "k",
            "lab_org", "instrument_id", "method", "report_no", "sampled_by", "reference_material", "replicates", "batch",
            "moisture_basis", "analysed_on")


def _chunks(items: Iterable[Any]) -> list[list[Any]]:
    ordered = sorted(set(items))
    return [ordered[i : i + _CHUNK] for i in range(0, len(ordered), _CHUNK)]


@dataclass(frozen=True, slots=True)
class _Point:
    id: int
    enterprise: str
    reading_kind: str
    carrier: str


@dataclass
class _Registry:
    """What the registry says about the points, instruments and organisations a file names."""

    points: dict[str, _Point]
    instruments: dict[str, int]
    orgs: set[str]

    @classmethod
    def load(cls, session: Session, points: Iterable[str], instruments: Iterable[str], orgs: Iterable[str]
             ) -> _Registry:
        pts: dict[str, _Point] = {}
        for chunk in _chunks(points):
            for pid, code, kind, carrier, org in session.execute(
                    select(MeasurementPoint.id, MeasurementPoint.code, MeasurementPoint.reading_kind,
                           MeasurementPoint.carrier, Organisation.code)
                    .join(Site, Site.id == MeasurementPoint.site_id).join(Organisation, Organisation.id == Site.org_id)
                    .where(MeasurementPoint.code.in_(chunk))):
                pts[code] = _Point(pid, org, kind, carrier)
        insts: dict[str, int] = {}
        for chunk in _chunks(instruments):
            insts.update({code: iid for iid, code in session.execute(
                select(Instrument.id, Instrument.code).where(Instrument.code.in_(chunk)))})
        known: set[str] = set()
        for chunk in _chunks(orgs):
            known.update(session.scalars(select(Organisation.code).where(Organisation.code.in_(chunk))))
        return cls(pts, insts, known)


def _registry_for(session: Session, lf: LabFile) -> _Registry:
    raws = list(lf.raw_rows.values())

    def texts(col: str) -> set[str]:
        return {v for r in raws if isinstance(v := r.get(col), str) and code_problem(v) is None}

    return _Registry.load(
        session,
        {r.point_id for r in lf.results} | texts("point_id"),
        {r.instrument_id for r in lf.results} | texts("instrument_id"),
        {r.lab_org for r in lf.results} | {r.enterprise for r in lf.results if r.enterprise} | texts("lab_org")
        | texts("enterprise"),
    )


def _problems(reg: _Registry, point_id: str | None, enterprise: str, instrument: str | None, lab_org: str | None,
              skip: set[str]) -> tuple[str, list[tuple[str, str, str]]]:
    """(the row's enterprise, what the registry refuses of it); ``None`` values and ``skip`` fields unchecked."""
    p = reg.points.get(point_id) if point_id is not None else None
    ent = enterprise or (p.enterprise if p is not None else "")
    problems: list[tuple[str, str, str]] = []
    if enterprise and "enterprise" not in skip and enterprise not in reg.orgs:
        problems.append(("enterprise", "unknown_enterprise",
                         f"单位 {enterprise!r} 未登记 / organisation {enterprise!r} is not in the registry"))
    if point_id is not None and "point_id" not in skip:
        if p is None or p.enterprise != ent:
            whose = f" {ent}" if ent else ""
            problems.append(("point_id", "unknown_point", (
                f"{point_id!r} 不是{whose}已登记的采样点 / {point_id!r} is not a registered sample point"
                f"{' of ' + ent if ent else ''} (a result for an unknown stream)")))
        elif p.reading_kind != "sample":
            problems.append(("point_id", "not_a_sample_point", (
                f"{point_id!r} 不是采样点（读数类型 {p.reading_kind}）/ {point_id!r} is a {p.reading_kind} metering "
                "point, not a sample point (reading_kind = sample)")))
    if instrument is not None and "instrument_id" not in skip and instrument not in reg.instruments:
        problems.append(("instrument_id", "unknown_instrument",
                         f"分析仪 {instrument!r} 未登记 / analyser {instrument!r} is not in the registry"))
    if lab_org is not None and "lab_org" not in skip and lab_org not in reg.orgs:
        problems.append(("lab_org", "unknown_lab", (
            f"化验单位 {lab_org!r} 未登记 / laboratory {lab_org!r} is not an organisation in the registry")))
    return ent, problems


def check_against_registry(session: Session, lab_file: LabFile) -> LabFile:
    """The file with each result's enterprise resolved from the registry, and the rows it refuses rejected.

    A result is refused (one :class:`LabReject` per field) when its ``point_id`` is not a registered sample
    point (``reading_kind = sample``) of its enterprise — a result "for an unknown stream" —, its
    ``instrument_id`` is not a registered instrument (any organisation's: an outside laboratory analyses
    with its own), its ``lab_org`` or an ``enterprise`` it names is not a registered organisation. A result
    without an enterprise takes its sample point's. Rows the reader rejected get the same checks on the fields
    it could read, and are attributed to their point's enterprise when the point is known.

    Returns
    -------
    LabFile
        ``rows == len(results) + rejected_rows`` still holds.
    """
    reg = _registry_for(session, lab_file)
    results: list[LabResult] = []
    rejects: list[LabReject] = []
    by_row: dict[int | None, list[LabReject]] = defaultdict(list)
    for rej in lab_file.rejects:
        by_row[rej.row].append(rej)
    for rowno, rejs in by_row.items():
        raw = rejs[0].raw

        def code(col: str, raw: Any = raw) -> str | None:
            v = raw.get(col)
            return v if isinstance(v, str) and code_problem(v) is None else None

        given = rejs[0].enterprise or ""
        ent, problems = _problems(reg, code("point_id"), given, code("instrument_id"), code("lab_org"),
                                  {r.field for r in rejs} | ({"enterprise"} if given else set()))
        owner = ent or None
        rejects += [replace(r, enterprise=r.enterprise or owner) for r in rejs]
        rejects += [LabReject(lab_file.file, rowno, f, c, why, raw, owner) for f, c, why in problems]
    for r in lab_file.results:
        ent, problems = _problems(reg, r.point_id, r.enterprise, r.instrument_id, r.lab_org, set())
        if problems:
            raw = lab_file.raw_rows.get(r.row or -1, {})
            rejects += [LabReject(lab_file.file, r.row, f, c, why, raw, ent or None) for f, c, why in problems]
        else:
            results.append(replace(r, enterprise=ent))
    rejects.sort(key=lambda x: (x.row if x.row is not None else -1))
    return LabFile(lab_file.file, lab_file.sha256, lab_file.rows, tuple(results), tuple(rejects), lab_file.raw,
                   lab_file.raw_rows)


def _utc(t: datetime) -> datetime:
    """An aware time as naive UTC (how the tables store it)."""
    return t.astimezone(UTC).replace(tzinfo=None)


def _result(row: LabResultRow) -> LabResult:
    return LabResult(
        sample_id=row.sample_id, point_id=row.point_id, enterprise=row.enterprise,
        sampled_from=row.sampled_from.replace(tzinfo=UTC), sampled_to=row.sampled_to.replace(tzinfo=UTC),
        analyte=row.analyte, value=row.value, unit=row.unit, U=row.expanded_u, k=row.coverage_factor,
        lab_org=row.lab_org, instrument_id=row.instrument_id, method=row.method, report_no=row.report_no,
        sampled_by=row.sampled_by, reference_material=row.reference_material, replicates=row.replicates,
        batch=row.batch, moisture_basis=row.moisture_basis,  # type: ignore[arg-type]
        analysed_on=row.analysed_on, flags=tuple(f for f in row.flags.split(";") if f), row=row.file_row,
    )


def _state(obj: Any) -> dict[str, Any]:
    return {c.name: getattr(obj, c.name) for c in type(obj).__table__.columns}


def _ext(file: str) -> str:
    suffix = Path(re.sub(r"\[[^\]]*\]$", "", file)).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,15}", suffix) else ".bin"


def _log(session: Session, actor: str, imp: LabImportRow, results: Sequence[dict[str, Any]],
         quarantine: Sequence[dict[str, Any]]) -> None:
    key = str(imp.id)
    owners = [e for e in imp.enterprises.split(";") if e]
    record(session, actor=actor, action="create", entity=IMPORT, key=key, data=_state(imp))
    if results:
        record(session, actor=actor, action="create", entity=RESULT, key=key,
               data={"import": imp.id, "enterprises": owners, "rows": list(results)})
    if quarantine:
        record(session, actor=actor, action="create", entity=QUARANTINE, key=key,
               data={"import": imp.id, "enterprises": owners, "rows": list(quarantine)})


def _insert(session: Session, model: Any, rows: list[dict[str, Any]], key: Callable[[Any], Any]
            ) -> list[dict[str, Any]]:
    """Insert one import's rows (one executemany) and return them with their ids, every column present: the
    state the audit log records. ``key`` gives a row's identity within its import (to match the ids read back:
    an executemany with RETURNING makes psycopg rewrite one huge statement per batch, far slower)."""
    if not rows:
        return []
    t = model.__table__
    cols = [c.name for c in t.columns if c.name != "id"]
    full = [{c: r.get(c) for c in cols} for r in rows]
    session.execute(insert(t), full)
    import_id = full[0]["import_id"]
    ids = {key(r): r.id for r in session.execute(select(t).where(t.c.import_id == import_id))}
    return [{"id": ids[key(r)], **r} for r in full]


def _by_key(r: Any) -> tuple[str, str, str]:
    """A result's identity in its import (unique: enterprise, sample_id, analyte)."""
    return (r["enterprise"], r["sample_id"], r["analyte"]) if isinstance(r, dict) else (
        r.enterprise, r.sample_id, r.analyte)


def _by_row(r: Any) -> int | None:
    """A quarantined row's identity in its import (one record per file row)."""
    return r["file_row"] if isinstance(r, dict) else r.file_row


def _import_row(lf: LabFile, status: str, enterprises: Sequence[str], stored: int, duplicates: int,
                quarantined: int, actor: str) -> LabImportRow:
    return LabImportRow(file_name=lf.file[:255], sha256=lf.sha256, status=status, enterprises=";".join(enterprises),
                        row_count=lf.rows, stored_count=stored, duplicate_count=duplicates,
                        quarantined_count=quarantined, imported_at=datetime.now(UTC).isoformat(timespec="microseconds"),
                        actor=actor[:96], raw_ext=_ext(lf.file), raw=lf.raw)


def _quarantine(import_id: int, file_row: int | None, enterprise: str | None, rejects: Sequence[LabReject],
                raw: Any) -> dict[str, Any]:
    first = rejects[0]
    reason = "; ".join(f"{r.field}: {r.reason}" if r.field else r.reason for r in rejects)
    return {"import_id": import_id, "file_row": file_row, "enterprise": enterprise, "field": first.field[:64],
            "code": first.code[:32], "reason": reason,
            "raw_row": json.dumps(dict(raw), ensure_ascii=False, sort_keys=True)}


def _save_rejected(session: Session, lf: LabFile, actor: str, record_it: bool) -> LabImport:
    """A file with refused rows: the import and every row in the quarantine, no result."""
    ents = lf.enterprises
    owner_of = {r.row: r.enterprise for r in lf.results}
    prior = session.scalar(select(LabImportRow.id).where(LabImportRow.sha256 == lf.sha256,
                                                         LabImportRow.status == "rejected").limit(1))
    report = LabImport(lf.file, lf.sha256, "rejected", lf.rows, 0, 0, lf.rows, lf.rejects, (), ents, prior,
                       prior is not None)
    if prior is not None or not record_it:
        return report
    imp = _import_row(lf, "rejected", ents, 0, 0, lf.rows, actor)
    session.add(imp)
    session.flush()
    by_row: dict[int | None, list[LabReject]] = defaultdict(list)
    for rej in lf.rejects:
        by_row[rej.row].append(rej)
    n_bad = len(by_row)
    filler = LabReject(lf.file, None, "", "file_rejected", (
        f"文件有 {n_bad} 行被拒，本行未入库 / the file was rejected ({n_bad} refused row(s)): this row was not stored"))
    rows: list[dict[str, Any]] = []
    for rowno in sorted(lf.raw_rows):
        rejs = by_row.get(rowno)
        if rejs:
            owner = next((r.enterprise for r in rejs if r.enterprise), None)
            rows.append(_quarantine(imp.id, rowno, owner or _single(ents), rejs, lf.raw_rows[rowno]))
        else:
            rows.append(_quarantine(imp.id, rowno, owner_of.get(rowno) or _single(ents), [filler], lf.raw_rows[rowno]))
    _log(session, actor, imp, [], _insert(session, LabQuarantineRow, rows, _by_row))
    return replace(report, import_id=imp.id, recorded=True)


def _single(ents: Sequence[str]) -> str | None:
    return ents[0] if len(ents) == 1 else None


def _stored_by_key(session: Session, results: Sequence[LabResult]) -> dict[tuple[str, str, str], LabResultRow]:
    """Stored results sharing an (enterprise, sample_id) with ``results``, by (enterprise, sample_id, analyte)."""
    out: dict[tuple[str, str, str], LabResultRow] = {}
    by_ent: dict[str, set[str]] = defaultdict(set)
    for r in results:
        by_ent[r.enterprise].add(r.sample_id)
    for ent, sids in by_ent.items():
        for chunk in _chunks(sids):
            for row in session.scalars(select(LabResultRow).where(LabResultRow.enterprise == ent,
                                                                  LabResultRow.sample_id.in_(chunk))):
                out[(row.enterprise, row.sample_id, row.analyte)] = row
    return out


def _stored_near(session: Session, results: Sequence[LabResult]) -> list[LabResultRow]:
    """Stored results of the same points over the new results' sampling span (for the C/NCV pairs)."""
    span: dict[tuple[str, str], tuple[datetime, datetime]] = {}
    for r in results:
        k = (r.enterprise, r.point_id)
        lo, hi = span.get(k, (r.sampled_from, r.sampled_from))
        span[k] = (min(lo, r.sampled_from), max(hi, r.sampled_from))
    out: list[LabResultRow] = []
    for (ent, pid), (lo, hi) in span.items():
        out += session.scalars(select(LabResultRow).where(
            LabResultRow.enterprise == ent, LabResultRow.point_id == pid,
            LabResultRow.sampled_from >= _utc(lo), LabResultRow.sampled_from <= _utc(hi)))
    return out


def _difference(new: LabResult, old: LabResult) -> str:
    for name, a, b in zip(_CONTENT, new.content(), old.content(), strict=True):
        if a != b:
            return name
    return "value"


def save_lab_file(session: Session, lab_file: LabFile, *, actor: str, time_zone: str = "Asia/Shanghai",
                  record_rejected: bool = True) -> LabImport:
    """Store a lab file in the caller's transaction (the caller commits), audited; see the module notes.

    Parameters
    ----------
    session : Session
    lab_file : LabFile
        As :func:`read_lab_file` read it; it is checked against the registry here
        (:func:`check_against_registry`), so a file checked earlier is checked again in this transaction.
    actor : str
        Who imports it (audit log).
    time_zone : str
        IANA zone of the local day a sampling window ends in, for the certificate check when the file gives no
        ``analysed_on``.
    record_rejected : bool
        Whether a rejected file's import and quarantine are written (False: only reported).

    Returns
    -------
    LabImport
        ``stored``, ``duplicate`` or ``rejected``, with the counts, the rejects (refused rows and conflicts)
        and the flags of the results stored.
    """
    lock_chain(session)
    prior = session.scalar(select(LabImportRow.id).where(LabImportRow.sha256 == lab_file.sha256,
                                                         LabImportRow.status == "stored").limit(1))
    if prior is not None:  # stored before: nothing to do, whatever the registry says today
        return LabImport(lab_file.file, lab_file.sha256, "duplicate", lab_file.rows, 0, lab_file.rows, 0, (), (),
                         lab_file.enterprises, prior, True)
    lf = check_against_registry(session, lab_file)
    if lf.rejects:
        return _save_rejected(session, lf, actor, record_rejected)
    ents = lf.enterprises
    stored = _stored_by_key(session, lf.results)
    seen: dict[tuple[str, str, str], LabResult] = {k: _result(v) for k, v in stored.items()}
    new: list[LabResult] = []
    conflicts: list[LabReject] = []
    duplicates = 0
    for r in lf.results:
        key = (r.enterprise, r.sample_id, r.analyte)
        old = seen.get(key)
        if old is None:
            new.append(r)
            seen[key] = r
        elif old.content() == r.content():
            duplicates += 1
        else:
            field = _difference(r, old)
            where = f"row {old.row} of this file" if key not in stored else f"import {stored[key].import_id}"
            conflicts.append(LabReject(lf.file, r.row, field, "conflict", (
                f"与已存结果冲突 / conflicts with the stored result of sample {r.sample_id} {r.analyte} ({where}): "
                f"{field} {getattr(old, field)!r} there, {getattr(r, field)!r} here; a stored result is never "
                "overwritten"), lf.raw_rows.get(r.row or -1, {}), r.enterprise))
    if not new and not conflicts:
        return LabImport(lf.file, lf.sha256, "duplicate", lf.rows, 0, lf.rows, 0, (), (), ents, None, False)
    reg = _registry_for(session, lf)
    carriers = {pid: p.carrier for pid, p in reg.points.items()}
    near = [_result(x) for x in _stored_near(session, new)]
    context = {(r.enterprise, r.sample_id, r.analyte): r for r in [*near, *(_result(x) for x in stored.values())]}
    context.update({(r.enterprise, r.sample_id, r.analyte): r for r in new})
    flags = find_flags(list(context.values()), carriers=carriers, subjects=new) + \
        certificate_flags(session, new, time_zone=time_zone)
    kinds: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for f in flags:
        kinds[(f.enterprise, f.sample_id, f.analyte)].add(f.kind)
    imp = _import_row(lf, "stored", ents, len(new), duplicates, len(conflicts), actor)
    session.add(imp)
    session.flush()
    rows = [{
        "import_id": imp.id, "file_row": r.row or 0, "enterprise": r.enterprise, "sample_id": r.sample_id,
        "point_id": r.point_id, "point_ref": reg.points[r.point_id].id, "sampled_from": _utc(r.sampled_from),
        "sampled_to": _utc(r.sampled_to), "analyte": r.analyte, "value": r.value, "unit": r.unit,
        "expanded_u": r.U, "coverage_factor": r.k, "lab_org": r.lab_org, "instrument_id": r.instrument_id,
        "instrument_ref": reg.instruments[r.instrument_id], "method": r.method, "report_no": r.report_no,
        "sampled_by": r.sampled_by, "reference_material": r.reference_material, "replicates": r.replicates,
        "batch": r.batch, "moisture_basis": r.moisture_basis, "analysed_on": r.analysed_on,
        "flags": ";".join(sorted(kinds.get((r.enterprise, r.sample_id, r.analyte), ()))),
    } for r in new]
    quarantine = [_quarantine(imp.id, c.row, c.enterprise, [c], c.raw) for c in conflicts]
    _log(session, actor, imp, _insert(session, LabResultRow, rows, _by_key),
         _insert(session, LabQuarantineRow, quarantine, _by_row))
    return LabImport(lf.file, lf.sha256, "stored", lf.rows, len(new), duplicates, len(conflicts), tuple(conflicts),
                     tuple(flags), ents, imp.id, True)


def query_results(
    session: Session,
    *,
    enterprise: str,
    point_ids: Sequence[str] | None = None,
    analytes: Sequence[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[LabResult]:
    """Stored results of an enterprise (the domain query the accounting engine calls).

    Parameters
    ----------
    session : Session
    enterprise : str
        Organisation code.
    point_ids, analytes : sequence of str, optional
        Only these sample points / analytes.
    start, end : datetime, optional
        Aware bounds: results whose sampling window ``[sampled_from, sampled_to)`` overlaps ``[start, end)``
        (a spot sample, ``sampled_from == sampled_to``, when its instant lies inside).

    Returns
    -------
    list of LabResult
        Times as aware UTC datetimes, value and U in the analyte's canonical unit, ``flags`` as recorded at
        import; sorted by point, sampling window, analyte and sample id.
    """
    for t, what in ((start, "start"), (end, "end")):
        if t is not None and t.tzinfo is None:
            raise ValueError(f"{what} must be an aware datetime, got {t.isoformat()}")
    stmt = select(LabResultRow).where(LabResultRow.enterprise == enterprise)
    if point_ids is not None:
        stmt = stmt.where(LabResultRow.point_id.in_(sorted(set(point_ids))))
    if analytes is not None:
        stmt = stmt.where(LabResultRow.analyte.in_(sorted(set(analytes))))
    if end is not None:
        stmt = stmt.where(LabResultRow.sampled_from < _utc(end))
    if start is not None:
        s = _utc(start)
        stmt = stmt.where(or_(LabResultRow.sampled_to > s,
                              and_(LabResultRow.sampled_to == LabResultRow.sampled_from, LabResultRow.sampled_from >= s)))
    stmt = stmt.order_by(LabResultRow.point_id, LabResultRow.sampled_from, LabResultRow.sampled_to,
                         LabResultRow.analyte, LabResultRow.sample_id)
    return [_result(r) for r in session.scalars(stmt)]


def result_flags(session: Session, enterprise: str, start: datetime, end: datetime, *,
                 time_zone: str = "Asia/Shanghai") -> tuple[list[LabResult], list[LabFlag]]:
    """The results of an enterprise over ``[start, end)`` and their flags, computed now (the registry as it is
    today; a reused sample id is looked for over all the enterprise's results, not only the period's)."""
    results = query_results(session, enterprise=enterprise, start=start, end=end)
    same_ids = _stored_by_key(session, results)
    everything = {(r.enterprise, r.sample_id, r.analyte): r for r in results}
    for k, v in same_ids.items():
        everything.setdefault(k, _result(v))
    carriers = {pid: p.carrier for pid, p in _Registry.load(session, {r.point_id for r in results}, (), ()).points.items()}
    flags = find_flags(list(everything.values()), carriers=carriers, subjects=results) + \
        certificate_flags(session, results, time_zone=time_zone)
    flags.sort(key=lambda f: (f.enterprise, f.point_id, f.sampled_from, f.sampled_to, f.sample_id, f.analyte, f.kind))
    return results, flags
