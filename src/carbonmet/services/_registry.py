"""Registry use cases: import and export, listings and look-ups, due list, coverage, reverse trace, DCC.

Reads are filtered to the caller's read scope in the query (:meth:`Scope.where`) or, for the
registry's own queries, on their results; writes run in :func:`guarded_write`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carbonmet.quantities import UnitError, display_unit
from carbonmet.registry.dcc import read_dcc
from carbonmet.registry.rules import signature_flag

from ._cache import LRUCache, registry_version, scope_key
from ._deps import (
    Certificate,
    Coverage,
    DueItem,
    ImportRejected,
    ImportReport,
    Installation,
    Instrument,
    MeasurementPoint,
    MeasurementStandard,
    Organisation,
    Site,
    TraceResult,
    due_list,
    export_dcc,
    export_rows,
    export_xlsx,
    import_dcc,
    import_files,
    move_registry_certificate,
    period_coverage,
    recheck_signature,
    trace_back,
)
from ._errors import NotInScope, ServiceError
from ._guard import guarded_write
from ._scope import Scope
from ._usecase import use_case
from ._workspace import Workspace


def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date) else v


# --- ownership look-ups (read side) ---------------------------------------------------------------
def point_org(s: Session, point: str) -> str | None:
    """Organisation code of a measurement point (``None`` if there is no such point)."""
    return s.scalar(
        select(Organisation.code)
        .join(Site, Site.org_id == Organisation.id)
        .join(MeasurementPoint, MeasurementPoint.site_id == Site.id)
        .where(MeasurementPoint.code == point)
    )


def _orgs_of(s: Session, model: Any, org_fk: Any, codes: Iterable[str]) -> dict[str, str]:
    codes = sorted(set(codes))
    if not codes:
        return {}
    out: dict[str, str] = {}
    for i in range(0, len(codes), 500):
        out.update(s.execute(  # type: ignore[arg-type]
            select(model.code, Organisation.code).join(Organisation, Organisation.id == org_fk)
            .where(model.code.in_(codes[i : i + 500]))
        ).all())
    return out


def _point_orgs(s: Session, codes: Iterable[str]) -> dict[str, str]:
    codes = sorted(set(codes))
    out: dict[str, str] = {}
    for i in range(0, len(codes), 500):
        out.update(s.execute(
            select(MeasurementPoint.code, Organisation.code)
            .join(Site, Site.id == MeasurementPoint.site_id).join(Organisation, Organisation.id == Site.org_id)
            .where(MeasurementPoint.code.in_(codes[i : i + 500]))
        ).all())
    return out


# --- writes ----------------------------------------------------------------------------------------
@use_case("write")
def import_registry(ws: Workspace, scope: Scope, files: Iterable[str | Path], *, each_file: bool = False
                    ) -> list[ImportReport]:
    """Import registry files (organisations, sites, points, standards, instruments, certificates; CSV/XLSX).

    Bad rows raise :class:`carbonmet.registry.ImportRejected` (``file:row:field: reason``) and a row of
    an organisation outside the write scope raises :class:`AccessDenied` naming it.

    Parameters
    ----------
    files : paths
        The import files, applied in the order given.
    each_file : bool
        ``False`` (default): all or nothing over the files given — on a rejection nothing of any file
        is kept (``ImportRejected.imported`` is empty). ``True``: each file is its own transaction, as
        ``carbonmet registry import`` does — the files before a rejected one are kept and listed in
        ``ImportRejected.imported``; the files after it are not processed.

    Returns
    -------
    list of ImportReport
        Rows applied per file and table.
    """
    paths = [Path(f) for f in files]
    if each_file:
        done: list[ImportReport] = []
        for p in paths:
            try:
                done += import_registry(ws, scope, [p])
            except ImportRejected as exc:
                exc.imported = list(done)
                raise
        return done
    try:
        with guarded_write(ws, scope, "registry import 台账导入") as s:
            # the importer writes in the guard's own session: the guard sees its changes and alone commits
            # or rolls them back (a second session on this connection would roll the guard's transaction
            # back under it when a file is rejected, and the guard's rollback then finds it gone)
            return import_files(s, paths, actor=scope.actor)
    except ImportRejected as exc:
        exc.imported = []  # the whole call was one transaction: nothing was kept
        raise


REGISTRY_TABLES = ("organisations", "sites", "points", "standards", "instruments", "certificates")
"""Tables of the registry import format, in import order (docs/formats/registry-import.md)."""


@use_case("centre")
def registry_table(ws: Workspace, scope: Scope, table: str) -> tuple[list[str], list[list[Any]]]:
    """Every row of one registry table in the import format (台账导出) — centre scope only.

    Returns
    -------
    (list of str, list of list)
        The column names and the rows (dates as :class:`datetime.date`); re-importable as they are.

    Raises
    ------
    ServiceError
        ``table`` is not one of :data:`REGISTRY_TABLES`.
    """
    scope.check_centre("export the whole registry 导出全部台账")
    if table not in REGISTRY_TABLES:
        raise ServiceError(f"未知表 unknown table {table!r}; choose from {', '.join(REGISTRY_TABLES)}")
    with ws.session() as s:
        return export_rows(s, table)


@use_case("centre")
def export_registry(ws: Workspace, scope: Scope, path: str | Path) -> dict[str, int]:
    """Write every registry table to one XLSX workbook, a sheet per table (re-importable) — centre only.

    Returns
    -------
    dict
        Rows written per table.
    """
    scope.check_centre("export the whole registry 导出全部台账")
    with ws.session() as s:
        return export_xlsx(s, Path(path))


@use_case("read")
def export_dcc_certificate(ws: Workspace, scope: Scope, cert_no: str, *, signer: str | None = None) -> bytes:
    """A certificate as DCC XML (PTB digital calibration certificate); its subject must be readable.

    Raises
    ------
    NotInScope
        No such certificate, or its subject belongs to an organisation outside the read scope.
    """
    with ws.session() as s:
        if not _certificates(s, scope, cert_no):
            raise NotInScope("certificate 证书", cert_no)
        return export_dcc(s, cert_no, signer=signer)


@use_case("write")
def import_dcc_certificate(
    ws: Workspace, scope: Scope, source: bytes, *, instrument: str | None = None, issuer: str | None = None,
    accept_invalid_signature: str | None = None,
) -> dict[str, Any]:
    """Import a DCC XML document (PTB digital calibration certificate) as a calibration certificate.

    The certificate belongs to the instrument's organisation, which must be in the write scope. Its XML
    signature is checked against the workspace's trust anchors (:meth:`Workspace.dcc_trust`) and the result
    stored with it; a failed check (invalid, signer untrusted or revoked) refuses the import
    (:class:`carbonmet.registry.errors.SignatureRefused`) unless ``accept_invalid_signature`` gives the
    operator's reason — then it is stored, audited, and flagged wherever it is used. A certificate number held
    by another instrument is refused (moving it is :func:`move_certificate`).

    Returns
    -------
    dict
        ``cert_no``, ``instrument``, ``calibration_date``, ``U``, ``k``, ``unit`` (as stored) and
        ``unit_display`` (derived SI units by name: Ω, Pa …), ``results``, ``standards``, ``signature``
        (status, reason, signer, accepted, flag), ``not_read`` (elements of the document not read, with their
        paths) and ``notes`` (equipment not matched, parts not read).
    """
    parsed = read_dcc(source)
    trust = ws.dcc_trust()
    with guarded_write(ws, scope, "DCC import 数字证书导入") as s:
        # a certificate number held by another organisation's record: refused as a tenancy matter first,
        # so the domain's takeover refusal (which names the holder) never speaks across tenants
        held = s.scalar(select(Certificate).where(Certificate.cert_no == parsed.unique_identifier))
        if held is not None:
            owner = held.instrument.org if held.instrument is not None else (
                held.standard.holder if held.standard is not None else None)
            scope.check_write(owner.code if owner is not None else None, "DCC import 数字证书导入")
        cert, notes = import_dcc(s, source, instrument=instrument, issuer=issuer, actor=scope.actor, trust=trust,
                                 accept_invalid_signature=accept_invalid_signature)
        return {"cert_no": cert.cert_no, "instrument": cert.instrument.code if cert.instrument else None,
                "calibration_date": cert.calibration_date.isoformat(), "U": cert.expanded_u,
                "k": cert.coverage_factor, "unit": cert.error_unit, "unit_display": _unit_display(cert.error_unit),
                "results": len(cert.results), "standards": [u.standard.code for u in cert.standards_used],
                "signature": _signature_dict(cert), "not_read": list(parsed.unsupported), "notes": notes}


def _unit_display(unit: str | None) -> str | None:
    if unit is None:
        return None
    try:
        return display_unit(unit)
    except UnitError:
        return unit


def _signature_dict(c: Certificate) -> dict[str, Any] | None:
    if c.signature_status is None:
        return None
    return {"status": c.signature_status, "reason": c.signature_reason, "signer": c.signature_signer,
            "accepted": c.signature_accepted, "flag": signature_flag(c)}


@use_case("write")
def move_certificate(ws: Workspace, scope: Scope, cert_no: str, to_instrument: str, reason: str) -> dict[str, Any]:
    """Move an instrument's certificate to another instrument (证书改挂), audited with the reason.

    Both the organisation of the instrument it leaves and that of the one it goes to must be in the write
    scope; a certificate or instrument the scope cannot read is :class:`NotInScope`.

    Returns
    -------
    dict
        ``cert_no``, ``from``, ``to`` and ``reason``.
    """
    with guarded_write(ws, scope, "move certificate 证书改挂") as s:
        hit = _certificates(s, scope, cert_no)
        if not hit:
            raise NotInScope("certificate 证书", cert_no)
        cert, owner = hit[0]
        scope.check_write(owner, "move certificate 证书改挂")
        target = s.execute(
            scope.where(select(Instrument, Organisation.code).join(Organisation, Organisation.id == Instrument.org_id)
                        .where((Instrument.code == to_instrument) | (Instrument.serial == to_instrument)),
                        Organisation.code)).all()
        if len(target) != 1:
            raise NotInScope("instrument 计量器具", to_instrument)
        scope.check_write(target[0][1], "move certificate 证书改挂")
        old = cert.instrument.code if cert.instrument is not None else None
        moved = move_registry_certificate(s, cert_no, target[0][0].code, reason, actor=scope.actor)
        return {"cert_no": moved.cert_no, "from": old, "to": target[0][0].code,
                "reason": " ".join(reason.split())}


@use_case("write")
def recheck_dcc_signatures(ws: Workspace, scope: Scope) -> list[dict[str, Any]]:
    """Check the signatures of the stored DCCs in the write scope again, against the current trust directory.

    For a CRL or a revoked-serials list updated after import: a signer revoked since becomes
    ``signer_revoked`` and the certificate is flagged from then on (audited). Certificates of organisations the
    scope cannot write are not touched.

    Returns
    -------
    list of dict
        One per DCC checked: ``cert_no``, ``before``, ``status``, ``changed``, ``flag``.
    """
    trust = ws.dcc_trust()
    out: list[dict[str, Any]] = []
    with guarded_write(ws, scope, "DCC signature re-check 数字证书签名复核") as s:
        for cert, owner in _certificates(s, scope):
            if cert.dcc_xml is None or not scope.can_write(owner):
                continue
            before, now = recheck_signature(s, cert, trust, actor=scope.actor)
            out.append({"cert_no": cert.cert_no, "before": before, "status": now, "changed": before != now,
                        "flag": signature_flag(cert)})
    return out


# --- listings --------------------------------------------------------------------------------------
#: Registry listings by registry version, scope and arguments (see ``_cache``); small (a region's registry).
_listings: LRUCache[Any] = LRUCache(256)


@use_case("read")
def list_organisations(ws: Workspace, scope: Scope) -> list[dict[str, Any]]:
    """Organisations in the read scope: ``org_code``, ``name``, ``kind``, ``region``, ``industry``.

    Cached per registry version and scope (the returned list is shared: read-only)."""

    def listed() -> list[dict[str, Any]]:
        with ws.session() as s:
            stmt = scope.where(select(Organisation).order_by(Organisation.code), Organisation.code)
            return [{"org_code": o.code, "name": o.name, "kind": o.kind, "region": o.region,
                     "industry": o.industry} for o in s.scalars(stmt)]

    return _listings.get_or_compute(("organisations", registry_version(ws), scope_key(scope)),  # type: ignore[no-any-return]
                                    listed)


@use_case("read")
def list_sites(ws: Workspace, scope: Scope) -> list[dict[str, Any]]:
    """Sites of organisations in the read scope: ``site_code``, ``org_code``, ``name``."""
    with ws.session() as s:
        stmt = scope.where(select(Site.code, Organisation.code, Site.name)
                           .join(Organisation, Organisation.id == Site.org_id).order_by(Site.code), Organisation.code)
        return [{"site_code": c, "org_code": o, "name": n} for c, o, n in s.execute(stmt)]


@use_case("read")
def list_points(ws: Workspace, scope: Scope) -> list[dict[str, Any]]:
    """Measurement points (计量点) of organisations in the read scope."""
    with ws.session() as s:
        stmt = scope.where(
            select(MeasurementPoint, Site.code, Organisation.code)
            .join(Site, Site.id == MeasurementPoint.site_id).join(Organisation, Organisation.id == Site.org_id)
            .order_by(MeasurementPoint.code), Organisation.code)
        return [{"point_id": p.code, "site_code": sc, "org_code": oc, "name": p.name, "quantity": p.quantity,
                 "carrier": p.carrier, "unit": p.unit, "reading_kind": p.reading_kind, "level": p.level,
                 "source_stream": p.source_stream} for p, sc, oc in s.execute(stmt)]


def _instrument_dict(s: Session, inst: Instrument, org: str) -> dict[str, Any]:
    point = s.scalar(
        select(MeasurementPoint.code).join(Installation, Installation.point_id == MeasurementPoint.id)
        .where(Installation.instrument_id == inst.id, Installation.installed_to.is_(None)).limit(1)
    )
    return {"instrument_id": inst.code, "serial": inst.serial, "org_code": org, "type": inst.type,
            "maker": inst.maker, "model": inst.model, "range_low": inst.range_low, "range_high": inst.range_high,
            "unit": inst.unit, "accuracy_class": inst.accuracy_class, "mpe_rel": inst.mpe_rel,
            "mpe_abs": inst.mpe_abs, "legal_category": inst.legal_category, "status": inst.status,
            "interval_months": inst.interval_months, "point_id": point}


@use_case("read")
def list_instruments(ws: Workspace, scope: Scope) -> list[dict[str, Any]]:
    """Instruments (计量器具) of organisations in the read scope, with the point each is installed at now."""
    with ws.session() as s:
        stmt = scope.where(select(Instrument, Organisation.code).join(Organisation, Organisation.id == Instrument.org_id)
                           .order_by(Instrument.code), Organisation.code)
        return [_instrument_dict(s, i, o) for i, o in s.execute(stmt).all()]


@use_case("read")
def get_instrument(ws: Workspace, scope: Scope, ref: str) -> dict[str, Any]:
    """One instrument by registry id or serial (出厂编号); :class:`NotInScope` if none is readable.

    A serial shared by instruments of several organisations resolves among the readable ones only.
    """
    with ws.session() as s:
        stmt = scope.where(select(Instrument, Organisation.code).join(Organisation, Organisation.id == Instrument.org_id)
                           .where((Instrument.code == ref) | (Instrument.serial == ref)), Organisation.code)
        rows = s.execute(stmt).all()
        by_code = [r for r in rows if r[0].code == ref]
        hit = by_code or rows
        if len(hit) != 1:
            raise NotInScope("instrument 计量器具", ref)
        return _instrument_dict(s, *hit[0])


def _cert_dict(c: Certificate, owner: str) -> dict[str, Any]:
    return {"cert_no": c.cert_no, "kind": c.kind,
            "subject": c.instrument.code if c.instrument else (c.standard.code if c.standard else None),
            "subject_kind": "instrument" if c.instrument_id is not None else "standard", "owner_org": owner,
            "issuer_org": c.issuer.code, "calibration_date": _iso(c.calibration_date),
            "issue_date": _iso(c.issue_date), "valid_until": _iso(c.valid_until), "conclusion": c.conclusion,
            "as_found_error": c.as_found_error, "as_left_error": c.as_left_error, "error_unit": c.error_unit,
            "U": c.expanded_u, "k": c.coverage_factor, "coverage_probability": c.coverage_probability,
            "error_unit_display": _unit_display(c.error_unit),
            "origin": c.origin, "standards_used": sorted(u.standard.code for u in c.standards_used),
            "signature": _signature_dict(c)}


def _certificates(s: Session, scope: Scope, cert_no: str | None = None) -> list[tuple[Certificate, str]]:
    """Certificates with the organisation owning their subject, filtered to the read scope in SQL."""
    out: list[tuple[Certificate, str]] = []
    inst = (select(Certificate, Organisation.code).join(Instrument, Instrument.id == Certificate.instrument_id)
            .join(Organisation, Organisation.id == Instrument.org_id))
    std = (select(Certificate, Organisation.code)
           .join(MeasurementStandard, MeasurementStandard.id == Certificate.standard_id)
           .join(Organisation, Organisation.id == MeasurementStandard.holder_org_id))
    for stmt in (inst, std):
        if cert_no is not None:
            stmt = stmt.where(Certificate.cert_no == cert_no)
        out += s.execute(scope.where(stmt, Organisation.code)).all()
    return sorted(out, key=lambda t: t[0].cert_no)


@use_case("read")
def list_certificates(ws: Workspace, scope: Scope) -> list[dict[str, Any]]:
    """Certificates (检定/校准证书) whose subject — instrument or standard — belongs to the read scope."""
    with ws.session() as s:
        return [_cert_dict(c, o) for c, o in _certificates(s, scope)]


@use_case("read")
def get_certificate(ws: Workspace, scope: Scope, cert_no: str) -> dict[str, Any]:
    """One certificate by number; :class:`NotInScope` unless its subject is in the read scope."""
    with ws.session() as s:
        hit = _certificates(s, scope, cert_no)
        if not hit:
            raise NotInScope("certificate 证书", cert_no)
        out = _cert_dict(*hit[0])
        out["results"] = [{"name": r.name, "ref_type": r.ref_type, "value": r.value, "unit": r.unit,
                           "unit_display": _unit_display(r.unit), "U": r.expanded_u, "k": r.coverage_factor}
                          for r in hit[0][0].results]
        return out


# --- registry questions ----------------------------------------------------------------------------
@use_case("read")
def due_items(ws: Workspace, scope: Scope, today: date, within_days: int = 30, *, include_ok: bool = False
              ) -> list[DueItem]:
    """Instruments in the read scope due or overdue for verification/calibration (待检/超期清单).

    Cached per registry version, scope and arguments (the returned list is shared: read-only)."""
    if not scope.reads_every_organisation and not scope.read:
        return []

    def listed() -> list[DueItem]:
        with ws.session() as s:
            org = next(iter(scope.read)) if not scope.reads_every_organisation and len(scope.read) == 1 else None
            items = due_list(s, today, within_days, org=org, include_ok=include_ok)
        return [i for i in items if scope.can_read(i.org)]

    key = ("due", registry_version(ws), scope_key(scope), today, within_days, include_ok)
    return _listings.get_or_compute(key, listed)  # type: ignore[no-any-return]


@use_case("read")
def point_coverage(ws: Workspace, scope: Scope, point: str, start: date, end: date) -> Coverage:
    """Whether a point's data period ``[start, end)`` is covered by valid certificates (证书覆盖)."""
    with ws.session() as s:
        scope.check_read(point_org(s, point), "measurement point 计量点", point)
        return period_coverage(s, point, start, end)


@use_case("read")
def trace_standard(ws: Workspace, scope: Scope, standard: str, date_from: date, date_to: date,
                   max_depth: int = 25) -> TraceResult:
    """Reverse traceability of a standard found out of tolerance (超差反向追溯), seen from the scope.

    The walk runs over the whole registry (the chain passes through other organisations' standards);
    the result lists only certificates, standards, instruments and data periods of organisations in
    the read scope.
    """
    with ws.session() as s:
        full = trace_back(s, standard, date_from, date_to, max_depth=max_depth)
        if scope.all_access:
            return full
        inst = _orgs_of(s, Instrument, Instrument.org_id, [i.subject for i in full.instruments]
                        + [c.subject for c in full.certificates if c.subject_kind == "instrument"])
        std = _orgs_of(s, MeasurementStandard, MeasurementStandard.holder_org_id,
                       [u.subject for u in full.standards]
                       + [c.subject for c in full.certificates if c.subject_kind == "standard"])
        pts = _point_orgs(s, [p.point for p in full.data_periods])
    owner = {"instrument": inst, "standard": std}
    return TraceResult(
        full.standard, full.window,
        certificates=[c for c in full.certificates if scope.can_read(owner[c.subject_kind].get(c.subject))],
        standards=[u for u in full.standards if scope.can_read(std.get(u.subject))],
        instruments=[u for u in full.instruments if scope.can_read(inst.get(u.subject))],
        data_periods=[p for p in full.data_periods
                      if scope.can_read(pts.get(p.point)) and scope.can_read(inst.get(p.instrument))],
        max_depth_reached=full.max_depth_reached,
    )
