"""Registry services: create/update records (each change audited), look-ups.

Every write goes through :func:`_apply`, which compares the new content with the stored one,
writes only on change and appends an audit entry in the same transaction.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import Base, record
from ._errors import FieldError, NotFound
from ._models import (
    Certificate,
    CertificateResult,
    CertificateStandard,
    Installation,
    Instrument,
    MeasurementPoint,
    MeasurementStandard,
    Organisation,
    Site,
    StandardIncident,
)
from ._rows import CertificateRow, InstrumentRow, OrganisationRow, PointRow, SiteRow, StandardRow

M = TypeVar("M", bound=Base)
DEFAULT_ACTOR = "system"


def _columns(obj: Base) -> dict[str, Any]:
    # bytes (a DCC document) are logged as their SHA-256 by the audit module; the row id is logged too, so
    # reconciliation (_reconcile.py) can tell apart rows whose key is not unique (installations, incidents)
    return {c.key: getattr(obj, c.key) for c in obj.__mapper__.column_attrs}


def _apply(
    session: Session,
    obj: M | None,
    model: type[M],
    key: str,
    values: dict[str, Any],
    actor: str,
    given: set[str] | None = None,
) -> M:
    """Insert or update ``obj`` with ``values``; audit only real changes.

    On update only the columns in ``given`` (default: all of ``values``) are changed, so a file that
    leaves a column out (or a cell empty) never wipes what is stored.
    """
    entity = model.__tablename__
    if obj is None:
        obj = model(**values)
        session.add(obj)
        session.flush()
        record(session, actor=actor, action="create", entity=entity, key=key, data=_columns(obj))
        return obj
    changed = {k: v for k, v in values.items() if (given is None or k in given) and getattr(obj, k) != v}
    if changed:
        for k, v in changed.items():
            setattr(obj, k, v)
        session.flush()
        record(session, actor=actor, action="update", entity=entity, key=key, data=_columns(obj))
    return obj


def _given(row: Any, renames: dict[str, str] | None = None) -> set[str]:
    """Columns whose row fields were given (non-empty) in the input; ``renames`` maps field → column."""
    renames = renames or {}
    return {renames.get(f, f) for f in row.model_fields_set}


def _one(session: Session, model: type[M], code: str, field: str) -> M:
    obj: M | None = session.scalar(select(model).where(model.code == code))  # type: ignore[attr-defined,arg-type]
    if obj is None:
        raise FieldError(field, f"{model.__tablename__} {code!r} does not exist")
    return obj


# --- look-ups ------------------------------------------------------------------------------------
def get_org(session: Session, code: str) -> Organisation:
    try:
        return _one(session, Organisation, code, "org_code")
    except FieldError as exc:
        raise NotFound(str(exc)) from exc


def get_standard(session: Session, code: str) -> MeasurementStandard:
    try:
        return _one(session, MeasurementStandard, code, "standard_code")
    except FieldError as exc:
        raise NotFound(str(exc)) from exc


def get_certificate(session: Session, cert_no: str) -> Certificate:
    cert = session.scalar(select(Certificate).where(Certificate.cert_no == cert_no))
    if cert is None:
        raise NotFound(f"certificate {cert_no!r} does not exist")
    return cert


def find_instrument(session: Session, ref: str, field: str = "subject") -> Instrument:
    """Instrument by registry code, else by serial (must then be unique)."""
    inst = session.scalar(select(Instrument).where(Instrument.code == ref))
    if inst is not None:
        return inst
    matches = session.scalars(select(Instrument).where(Instrument.serial == ref)).all()
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise FieldError(field, f"serial {ref!r} is ambiguous ({len(matches)} instruments); use the instrument id")
    raise FieldError(field, f"instrument {ref!r} does not exist")


# --- writes --------------------------------------------------------------------------------------
def upsert_organisation(session: Session, row: OrganisationRow, actor: str = DEFAULT_ACTOR) -> Organisation:
    obj = session.scalar(select(Organisation).where(Organisation.code == row.org_code))
    vals = {"code": row.org_code, "name": row.name, "kind": row.kind, "region": row.region, "industry": row.industry}
    return _apply(session, obj, Organisation, row.org_code, vals, actor, _given(row, {"org_code": "code"}))


def upsert_site(session: Session, row: SiteRow, actor: str = DEFAULT_ACTOR) -> Site:
    org = _one(session, Organisation, row.org_code, "org_code")
    obj = session.scalar(select(Site).where(Site.code == row.site_code))
    vals = {"code": row.site_code, "org_id": org.id, "name": row.name}
    given = _given(row, {"site_code": "code", "org_code": "org_id"})
    return _apply(session, obj, Site, row.site_code, vals, actor, given)


def upsert_point(session: Session, row: PointRow, actor: str = DEFAULT_ACTOR) -> MeasurementPoint:
    site = _one(session, Site, row.site_code, "site_code")
    obj = session.scalar(select(MeasurementPoint).where(MeasurementPoint.code == row.point_id))
    vals = {
        "code": row.point_id,
        "site_id": site.id,
        "name": row.name,
        "quantity": row.quantity,
        "carrier": row.carrier,
        "unit": row.unit,
        "reading_kind": row.reading_kind,
        "level": row.level,
        "source_stream": row.source_stream,
        "hj212_mn": row.hj212_mn,
        "hj212_code": row.hj212_code,
        "energy_use": row.energy_use,
        "energy_use_unit": row.energy_use_unit,
    }
    given = _given(row, {"point_id": "code", "site_code": "site_id"})
    return _apply(session, obj, MeasurementPoint, row.point_id, vals, actor, given)


def upsert_standard(session: Session, row: StandardRow, actor: str = DEFAULT_ACTOR) -> MeasurementStandard:
    holder = _one(session, Organisation, row.holder_org, "holder_org")
    obj = session.scalar(select(MeasurementStandard).where(MeasurementStandard.code == row.standard_code))
    vals = {
        "code": row.standard_code,
        "name": row.name,
        "holder_org_id": holder.id,
        "level": row.level,
        "quantity": row.quantity,
        "range_text": row.range,
        "uncertainty_text": row.uncertainty,
        "approval_no": row.certificate_no,
    }
    given = _given(row, {"standard_code": "code", "holder_org": "holder_org_id", "range": "range_text",
                         "uncertainty": "uncertainty_text", "certificate_no": "approval_no"})
    return _apply(session, obj, MeasurementStandard, row.standard_code, vals, actor, given)


def upsert_instrument(session: Session, row: InstrumentRow, actor: str = DEFAULT_ACTOR) -> Instrument:
    org = _one(session, Organisation, row.org_code, "org_code")
    point = _one(session, MeasurementPoint, row.point_id, "point_id") if row.point_id else None
    obj = session.scalar(select(Instrument).where(Instrument.code == row.code))
    vals = {
        "code": row.code,
        "serial": row.serial,
        "org_id": org.id,
        "type": row.type,
        "maker": row.maker,
        "model": row.model,
        "range_low": row.range_low,
        "range_high": row.range_high,
        "unit": row.unit,
        "accuracy_class": row.accuracy_class,
        "mpe_rel": row.mpe_rel,
        "mpe_abs": row.mpe_abs,
        "resolution": row.resolution,
        "legal_category": row.legal_category,
        "status": row.status,
        "interval_months": row.interval_months,
    }
    given = _given(row, {"instrument_id": "code", "org_code": "org_id"})
    inst = _apply(session, obj, Instrument, row.code, vals, actor, given)
    if point is not None:
        install(session, inst, point, row.installed_from, actor=actor)
    return inst


def install(
    session: Session, inst: Instrument, point: MeasurementPoint, since: date | None, actor: str = DEFAULT_ACTOR
) -> Installation:
    """Record that ``inst`` is at ``point`` from ``since``; closes its previous installation (a move)."""
    current = session.scalar(
        select(Installation)
        .where(Installation.instrument_id == inst.id, Installation.installed_to.is_(None))
        .order_by(Installation.installed_from.desc())
    )
    if current is not None and current.point_id == point.id:
        if since is not None and current.installed_from != since:
            _apply(session, current, Installation, f"{inst.code}@{point.code}", {"installed_from": since}, actor)
        return current
    if current is not None:
        end = since or date.today()
        if current.installed_from is not None and end < current.installed_from:
            raise FieldError("installed_from", f"moves {inst.code} before its current installation began")
        _apply(session, current, Installation, f"{inst.code}@{current.point.code}", {"installed_to": end}, actor)
    vals = {"instrument_id": inst.id, "point_id": point.id, "installed_from": since, "installed_to": None}
    return _apply(session, None, Installation, f"{inst.code}@{point.code}", vals, actor)


def upsert_certificate(
    session: Session,
    row: CertificateRow,
    actor: str = DEFAULT_ACTOR,
    origin: str = "import",
    dcc_xml: bytes | None = None,
    signature: dict[str, Any] | None = None,
) -> Certificate:
    """Create or update a certificate (without its standards-used links; see :func:`link_standards`).

    ``origin`` says where it came from (``import``, ``dcc``); ``dcc_xml`` keeps a DCC's bytes (the
    audit log records their SHA-256, so a swapped document is detected); ``signature`` the columns of its
    signature check (``signature_status``, ``signature_reason``, ``signature_signer``, ``signature_accepted``).

    A certificate number already held by another instrument or standard is refused: moving a certificate
    is :func:`move_certificate`, an explicit, audited act with a reason, never a side effect of an import.
    """
    issuer = _one(session, Organisation, row.issuer_org, "issuer_org")
    instrument_id = standard_id = None
    if row.subject_kind == "instrument":
        instrument_id = find_instrument(session, row.subject).id
    else:
        standard_id = _one(session, MeasurementStandard, row.subject, "subject").id
    obj = session.scalar(select(Certificate).where(Certificate.cert_no == row.cert_no))
    if obj is not None and (obj.instrument_id, obj.standard_id) != (instrument_id, standard_id):
        raise FieldError("subject", f"证书编号 {row.cert_no} 已属于 {_holder(obj)}，重新导入不能改为 {row.subject} / "
                                    f"certificate {row.cert_no!r} belongs to {_holder(obj)}; re-importing it for "
                                    f"{row.subject} is refused (to move it: carbonmet certificates move "
                                    f"{row.cert_no} --to {row.subject} --reason ...)")
    vals: dict[str, Any] = {
        "cert_no": row.cert_no,
        "kind": row.kind,
        "instrument_id": instrument_id,
        "standard_id": standard_id,
        "issuer_org_id": issuer.id,
        "calibration_date": row.calibration_date,
        "issue_date": row.issue_date or row.calibration_date,
        "valid_until": row.valid_until,
        "conclusion": row.conclusion,
        "as_found_error": row.as_found_error,
        "as_left_error": row.as_left_error,
        "error_unit": row.error_unit,
        "expanded_u": row.U,
        "coverage_factor": row.k if row.k is not None else (2.0 if row.kind == "calibration" else None),
        "coverage_probability": row.coverage_probability,
        "origin": origin,
    }
    if dcc_xml is not None:
        vals["dcc_xml"] = dcc_xml
    if signature is not None:
        vals.update(signature)
    given = _given(row, {"subject": "instrument_id", "issuer_org": "issuer_org_id", "U": "expanded_u",
                         "k": "coverage_factor"}) | {"standard_id", "kind", "calibration_date", "origin", "dcc_xml"}
    return _apply(session, obj, Certificate, row.cert_no, vals, actor, given | set(signature or ()))


def _holder(cert: Certificate) -> str:
    if cert.instrument is not None:
        return f"器具 instrument {cert.instrument.code}"
    return f"标准 standard {cert.standard.code}" if cert.standard is not None else "another subject"


def move_certificate(session: Session, cert_no: str, to_instrument: str, reason: str,
                     actor: str = DEFAULT_ACTOR) -> Certificate:
    """Move an instrument's certificate to another instrument (证书改挂), audited with the reason.

    For a certificate registered against the wrong instrument (a mistyped serial, a DCC matched to the wrong
    item). The audit entry (action ``move``) holds the certificate's new state and ``moved_from``,
    ``moved_to`` and ``move_reason``.

    Raises
    ------
    NotFound
        No such certificate.
    FieldError
        ``reason`` is blank; the certificate is a standard's; the target does not exist or is the holder already.
    """
    why = " ".join((reason or "").split())
    if not why:
        raise FieldError("reason", "改挂证书须说明理由 / moving a certificate needs a reason")
    cert = get_certificate(session, cert_no)
    if cert.instrument is None:
        raise FieldError("cert_no", f"{cert_no} 是计量标准的证书，不能改挂到器具 / {cert_no!r} is a standard's "
                                    "certificate; only instrument certificates are moved")
    target = find_instrument(session, to_instrument, field="to")
    old = cert.instrument
    if target.id == old.id:
        raise FieldError("to", f"{cert_no} 已属于 {old.code} / {cert_no!r} already belongs to {old.code}")
    cert.instrument_id = target.id
    session.flush()
    session.refresh(cert)
    record(session, actor=actor, action="move", entity="certificate", key=cert_no,
           data={**_columns(cert), "moved_from": old.code, "moved_to": target.code, "move_reason": why})
    return cert


def standard_certificate_in_force(session: Session, standard: MeasurementStandard, on: date) -> Certificate | None:
    """The standard's own certificate in force on a date (latest calibrated on or before it)."""
    return session.scalar(
        select(Certificate)
        .where(Certificate.standard_id == standard.id, Certificate.calibration_date <= on)
        .order_by(Certificate.calibration_date.desc())
        .limit(1)
    )


def link_standards(
    session: Session, cert: Certificate, standards: list[tuple[str, str | None]], actor: str = DEFAULT_ACTOR
) -> None:
    """Set the standards a certificate was issued with (``[(standard_code, its_cert_no or None)]``)."""
    wanted: dict[int, int | None] = {}
    for code, std_cert_no in standards:
        std = _one(session, MeasurementStandard, code, "standards_used")
        if std_cert_no:
            std_cert = session.scalar(select(Certificate).where(Certificate.cert_no == std_cert_no))
            if std_cert is None or std_cert.standard_id != std.id:
                raise FieldError("standards_used", f"{std_cert_no!r} is not a certificate of standard {code!r}")
        else:
            std_cert = standard_certificate_in_force(session, std, cert.calibration_date)
        if std.id == cert.standard_id:
            raise FieldError("standards_used", f"standard {code!r} cannot calibrate itself")
        wanted[std.id] = std_cert.id if std_cert else None
    have = {link.standard_id: link.standard_certificate_id for link in cert.standards_used}
    if have == wanted:
        return
    cert.standards_used.clear()
    session.flush()
    for sid, scid in wanted.items():
        cert.standards_used.append(CertificateStandard(standard_id=sid, standard_certificate_id=scid))
    session.flush()
    record(
        session,
        actor=actor,
        action="link",
        entity="certificate_standard",
        key=cert.cert_no,
        data={"certificate": cert.cert_no, "standards": sorted([sid, scid] for sid, scid in wanted.items())},
    )


def set_results(
    session: Session, cert: Certificate, results: list[dict[str, Any]], actor: str = DEFAULT_ACTOR
) -> None:
    """Replace the calibration points of a certificate (from a DCC or manual entry)."""
    cert.results.clear()
    session.flush()
    for i, r in enumerate(results):
        cert.results.append(CertificateResult(position=i, **r))
    session.flush()
    record(session, actor=actor, action="results", entity="certificate_result", key=cert.cert_no,
                  data={"certificate": cert.cert_no, "results": results})


def record_incident(
    session: Session, standard_code: str, last_good: date, found_on: date, description: str = "",
    actor: str = DEFAULT_ACTOR,
) -> StandardIncident:
    """Record that a standard was found out of tolerance (超差) on ``found_on``, last good on ``last_good``."""
    std = get_standard(session, standard_code)
    if found_on < last_good:
        raise FieldError("found_on", "found_on is before last_good")
    vals = {"standard_id": std.id, "last_good": last_good, "found_on": found_on, "description": description}
    return _apply(session, None, StandardIncident, standard_code, vals, actor)
