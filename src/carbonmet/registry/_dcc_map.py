"""Map Digital Calibration Certificates (DCC XML) to and from registry certificates.

Import: the certificate number is ``uniqueIdentifier``; the calibration date ``endPerformanceDate``;
the instrument is found by the item's identifications (serial no. or registry id); the issuer by the
laboratory code or name; the standards used by the measuring equipment's identifications (with the
standard's own certificate from ``equipment/certificate`` when it is registered). Every numeric
result becomes a calibration point (:class:`CertificateResult`); the certificate-level error and
U/k come from the results marked as measurement errors (refType ``basic_measurementError``), else
from the result with the largest stated U. The original XML is stored byte for byte.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ._errors import FieldError, SignatureRefused
from ._models import Certificate, Instrument, MeasurementStandard, Organisation
from ._rows import CertificateRow
from ._services import DEFAULT_ACTOR, _apply, find_instrument, link_standards, set_results, upsert_certificate
from .dcc import (
    DccCertificate,
    DccCertificateRef,
    DccContact,
    DccEquipment,
    DccIdentification,
    DccItem,
    DccPerson,
    DccResult,
    DccStatement,
    TrustStore,
    read_dcc,
    verify_dcc_signature,
    write_dcc,
)

DERIVED_P = "carbonmet_derivedCoverageProbability"
AS_FOUND = "carbonmet_asFound"
AS_LEFT = "carbonmet_asLeft"
ERROR = "basic_measurementError"
VALID_UNTIL = "basic_recalibration"  # GEMIMEG good-practice refType of the recalibration statement


def _match_instrument(session: Session, cert: DccCertificate, override: str | None) -> Instrument:
    if override:
        return find_instrument(session, override, field="instrument")
    tried: list[str] = []
    found: dict[int, Instrument] = {}
    for item in cert.items:
        for ident in item.identifications:
            tried.append(ident.value)
            for inst in session.scalars(
                select(Instrument).where(or_(Instrument.code == ident.value, Instrument.serial == ident.value))
            ):
                found[inst.id] = inst
    if len(found) == 1:
        return next(iter(found.values()))
    if len(found) > 1:
        codes = sorted(i.code for i in found.values())
        raise FieldError("dcc:items", f"the item identifications {tried} match several instruments {codes}; "
                                      "name one with --instrument")
    raise FieldError("dcc:items", f"no registered instrument matches the item identifications {tried}")


def _match_issuer(session: Session, cert: DccCertificate, override: str | None) -> Organisation:
    lab = cert.calibration_laboratory
    keys = [k for k in (override, cert.laboratory_code, lab.name) if k]
    for k in keys:
        org = session.scalar(select(Organisation).where(or_(Organisation.code == k, Organisation.name == k)))
        if org is not None:
            return org
    raise FieldError("dcc:calibrationLaboratory", f"no registered organisation matches {keys}")


def _standards(session: Session, cert: DccCertificate) -> tuple[list[tuple[str, str | None]], list[str]]:
    found: list[tuple[str, str | None]] = []
    unmatched: list[str] = []
    for eq in cert.equipment:
        # by code only: names of standards (e.g. 气体流量工作标准装置) are not unique
        keys = [i.value for i in eq.identifications]
        std = session.scalar(select(MeasurementStandard).where(MeasurementStandard.code.in_(keys))) if keys else None
        if std is None:
            unmatched.append(eq.name)
            continue
        std_cert = None
        if eq.certificate is not None:
            c = session.scalar(select(Certificate).where(Certificate.cert_no == eq.certificate.referral_id))
            std_cert = c.cert_no if c is not None and c.standard_id == std.id else None
        if std.code not in {f for f, _ in found}:
            found.append((std.code, std_cert))
    return found, unmatched


def _has_ref(r: DccResult, ref: str) -> bool:
    return bool(r.ref_type and ref in r.ref_type.split())


def _largest_abs(values: tuple[float, ...]) -> float:
    return max(values, key=abs)


#: Where each certificate field comes from in a DCC (for messages naming the element).
_DCC_FIELD = {
    "cert_no": "dcc:coreData/dcc:uniqueIdentifier",
    "calibration_date": "dcc:coreData/dcc:endPerformanceDate",
    "issue_date": "dcc:coreData/dcc:issueDate",
    "valid_until": f"dcc:statements/dcc:statement[@refType={VALID_UNTIL}]/dcc:date",
    "U": "dcc:measurementResults (expanded uncertainty)",
    "k": "dcc:measurementResults (coverage factor)",
    "coverage_probability": "dcc:measurementResults (coverage probability)",
    "error_unit": "dcc:measurementResults (unit)",
}


def _certificate_row(**fields: Any) -> CertificateRow:
    """The registry row of a DCC, checked by the same row model as file import (one rule for both)."""
    try:
        return CertificateRow(**fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]) if err["loc"] else "row"
        raise FieldError(f"dcc:{_DCC_FIELD.get(name, name)}", err["msg"].removeprefix("Value error, ")) from None


def _refuse_takeover(session: Session, cert_no: str, inst: Instrument) -> None:
    """A DCC may update its own calibration certificate, never another record with the same number.

    Refused: a certificate number already held by another instrument or by a standard, or by a
    verification (检定) certificate (the DCC would turn it into a calibration that keeps a conformity
    conclusion, which no calibration may carry).
    """
    old = session.scalar(select(Certificate).where(Certificate.cert_no == cert_no))
    if old is None:
        return
    if old.instrument_id != inst.id:
        holder = old.instrument.code if old.instrument is not None else (
            f"standard {old.standard.code}" if old.standard is not None else "another subject")
        raise FieldError("dcc:coreData/dcc:uniqueIdentifier",
                         f"证书编号 {cert_no} 已属于 {holder}，不能由该 DCC 改为 {inst.code} 的证书 / certificate "
                         f"number {cert_no!r} already belongs to {holder}; a DCC for {inst.code} cannot take it over "
                         f"(to move it: carbonmet certificates move {cert_no} --to {inst.code} --reason ...)")
    if old.kind != "calibration":
        raise FieldError("dcc:coreData/dcc:uniqueIdentifier",
                         f"证书编号 {cert_no} 是检定证书，DCC 不能覆盖 / certificate number {cert_no!r} is a "
                         f"{old.kind} (检定) certificate; a DCC (a calibration) cannot replace it")


def import_dcc(
    session: Session,
    source: bytes,
    *,
    instrument: str | None = None,
    issuer: str | None = None,
    actor: str = DEFAULT_ACTOR,
    trust: TrustStore | None = None,
    accept_invalid_signature: str | None = None,
) -> tuple[Certificate, list[str]]:
    """Store a DCC as a registry certificate. Returns it and the notes (unmatched equipment, parts not read …).

    The document's XML signature is checked first (:func:`~carbonmet.registry.dcc.verify_dcc_signature` against
    ``trust``) and the result stored with the certificate (``signature_status``, ``signature_reason``,
    ``signature_signer``). A failed check (invalid, signer untrusted or revoked) refuses the import with
    :class:`SignatureRefused` unless ``accept_invalid_signature`` gives the operator's reason: then the
    certificate is stored with that reason in ``signature_accepted`` (audited with the actor) and stays flagged
    wherever it is used (:func:`~carbonmet.registry.rules.signature_flag`). An unsigned DCC is imported and
    marked ``unsigned``.
    """
    dcc = read_dcc(source)
    check = verify_dcc_signature(dcc.raw, trust)
    accepted = " ".join((accept_invalid_signature or "").split()) or None
    if accept_invalid_signature is not None and accepted is None:
        raise FieldError("accept_invalid_signature", "接受签名无效的证书须说明理由 / accepting a failed signature "
                                                     "check needs a reason")
    if check.flagged and accepted is None:
        raise SignatureRefused(dcc.unique_identifier, check)
    inst = _match_instrument(session, dcc, instrument)
    org = _match_issuer(session, dcc, issuer)
    errors = [r for r in dcc.results if _has_ref(r, ERROR)]
    with_u = [r for r in dcc.results if r.expanded_uncertainty]
    basis = [r for r in errors if r.expanded_uncertainty] or with_u
    if not basis:
        unread = (f"; {len(dcc.unsupported)} 处未读取 / {len(dcc.unsupported)} element(s) not read: "
                  + "; ".join(dcc.unsupported[:5]) + (" …" if len(dcc.unsupported) > 5 else "")) if dcc.unsupported else ""
        raise FieldError("dcc:measurementResults", "没有给出扩展不确定度的数值结果，不能登记为校准证书 / no numeric "
                                                   "result states an expanded uncertainty; cannot register a "
                                                   "calibration" + unread)
    main = max(basis, key=lambda r: max(r.expanded_uncertainty))
    i_max = max(range(len(main.values)), key=lambda i: main.expanded_uncertainty[i])
    as_found = next((r for r in dcc.results if _has_ref(r, AS_FOUND)), None)
    as_left = next((r for r in dcc.results if _has_ref(r, AS_LEFT)), None)
    valid = next((s.date for s in dcc.statements if s.ref_type and VALID_UNTIL in s.ref_type.split() and s.date), None)
    # a probability carbonmet derived from k on export was not stated by the issuer: do not store it
    derived_p = any(s.ref_type and DERIVED_P in s.ref_type.split() for s in dcc.statements)
    _refuse_takeover(session, dcc.unique_identifier, inst)
    row = _certificate_row(
        cert_no=dcc.unique_identifier,
        kind="calibration",
        subject=inst.code,
        issuer_org=org.code,
        calibration_date=dcc.calibration_date,
        issue_date=dcc.issue_date,
        valid_until=valid,
        as_found_error=_largest_abs(as_found.values) if as_found else None,
        as_left_error=(_largest_abs(as_left.values) if as_left else
                       (_largest_abs(errors[0].values) if errors else None)),
        error_unit=main.pint_unit,
        U=main.expanded_uncertainty[i_max],
        k=main.coverage_factor[i_max] if main.coverage_factor else None,
        coverage_probability=(main.coverage_probability[i_max]
                              if main.coverage_probability and not derived_p else None),
    )
    signature = {"signature_status": check.status, "signature_reason": check.reason,
                 "signature_signer": check.signer or None,
                 "signature_accepted": accepted if check.flagged else None}
    cert = upsert_certificate(session, row, actor, origin="dcc", dcc_xml=dcc.raw, signature=signature)
    standards, unmatched = _standards(session, dcc)
    link_standards(session, cert, standards, actor)
    points: list[dict[str, Any]] = []
    for r in dcc.results:
        for i, v in enumerate(r.values):
            points.append({
                "name": r.name if len(r.values) == 1 else f"{r.name}[{i}]",
                "ref_type": r.ref_type,
                "value": v,
                "unit": r.pint_unit,
                "expanded_u": r.expanded_uncertainty[i] if r.expanded_uncertainty else None,
                "coverage_factor": r.coverage_factor[i] if r.coverage_factor else None,
                "coverage_probability": (r.coverage_probability[i]
                                         if r.coverage_probability and not derived_p else None),
            })
    set_results(session, cert, points, actor)
    notes = [f"measuring equipment not in the registry (no traceability link): {n}" for n in unmatched]
    notes += [f"not read: {u}" for u in dcc.unsupported]
    if accepted is not None and not check.flagged:
        notes.append(f"签名状态 {check.status}，无需接受 / signature {check.status}: the acceptance was not needed "
                     "and is not recorded")
    return cert, notes


def recheck_signature(session: Session, cert: Certificate, trust: TrustStore | None,
                      actor: str = DEFAULT_ACTOR) -> tuple[str | None, str]:
    """Check a stored DCC's signature again (new trust anchors, a CRL that now lists the signer).

    The stored bytes are checked as on import; a changed status is written (audited) and the operator's
    acceptance, if any, is kept. Returns (the status before, the status now); a certificate that is not a DCC
    is left alone and gives ``(None, "")``.
    """
    if cert.dcc_xml is None:
        return None, ""
    check = verify_dcc_signature(cert.dcc_xml, trust)
    before = cert.signature_status
    if (before, cert.signature_reason) != (check.status, check.reason):
        _apply(session, cert, Certificate, cert.cert_no,
               {"signature_status": check.status, "signature_reason": check.reason,
                "signature_signer": check.signer or None}, actor)
    return before, check.status


def _contact(org: Organisation) -> DccContact:
    return DccContact(name=org.name, country_code="CN", further=org.region or None)


def _normal_probability(k: float) -> float:
    """Coverage probability of ±k standard deviations of a normal distribution, to 4 decimals."""
    from scipy.stats import norm

    return round(float(2 * norm.cdf(k) - 1), 4)


def certificate_to_dcc(session: Session, cert: Certificate, signer: str | None = None) -> DccCertificate:
    """Our certificate as a DCC (for export; :func:`import_dcc` reads it back to the same record).

    The registry does not keep the names of signatories; ``signer`` is written as the main signer
    (default: a statement that it is not recorded).
    """
    if cert.instrument is None:
        raise FieldError("subject", "only certificates of instruments are exported as DCC")
    if cert.kind != "calibration":
        raise FieldError("kind", f"{cert.cert_no} is a verification (检定) certificate; a DCC is a calibration "
                                 "certificate with measurement results")
    inst = cert.instrument
    item = DccItem(
        name=inst.type,
        manufacturer=inst.maker,
        model=inst.model,
        identifications=(
            DccIdentification("manufacturer", inst.serial, "serial number 出厂编号"),
            DccIdentification("owner", inst.code, "registry id 器具编号"),
        ),
    )
    # D-SI requires a coverage probability with U and k. Where only k is stated, the probability of a
    # normal distribution for that k is written (k = 2 → 0.9545) and a statement says it was derived;
    # import_dcc reads that statement and does not store the derived probability as stated.
    derived: list[bool] = []

    def probs(ps: list[float | None], ks: list[float | None], has_u: bool) -> tuple[float, ...]:
        if not has_u or not all(ks):
            return ()
        if all(ps):
            return tuple(p for p in ps if p is not None)
        derived.append(True)
        return tuple(p if p else _normal_probability(k) for p, k in zip(ps, ks, strict=True) if k)

    results: list[DccResult] = []
    if cert.results:
        groups: OrderedDict[str, list[Any]] = OrderedDict()
        for r in cert.results:
            groups.setdefault(r.name.split("[", 1)[0], []).append(r)
        for name, rs in groups.items():
            has_u = all(r.expanded_u is not None for r in rs)
            ks = [r.coverage_factor for r in rs]
            results.append(DccResult(
                name=name,
                ref_type=rs[0].ref_type,
                values=tuple(r.value for r in rs),
                pint_unit=rs[0].unit,
                expanded_uncertainty=tuple(r.expanded_u for r in rs) if has_u else (),
                coverage_factor=tuple(k for k in ks if k) if has_u and all(ks) else (),
                coverage_probability=probs([r.coverage_probability for r in rs], ks, has_u),
            ))
    else:
        unit = cert.error_unit or "%"
        has_u = cert.expanded_u is not None
        U: tuple[float, ...] = (float(cert.expanded_u),) if cert.expanded_u is not None else ()
        k = (cert.coverage_factor,) if cert.coverage_factor and has_u else ()
        p = probs([cert.coverage_probability], [cert.coverage_factor], has_u)
        for value, ref, label in ((cert.as_found_error, AS_FOUND, "as-found error 调整前示值误差"),
                                  (cert.as_left_error, AS_LEFT, "as-left error 调整后示值误差")):
            if value is not None:
                results.append(DccResult(name=label, values=(value,), pint_unit=unit, ref_type=f"{ERROR} {ref}",
                                         expanded_uncertainty=U, coverage_factor=k, coverage_probability=p))
        if not results:
            raise FieldError("results", f"certificate {cert.cert_no} has no measurement results to export")
    statements: list[DccStatement] = []
    if derived:
        statements.append(DccStatement(
            ref_type=DERIVED_P,
            text="证书仅给出包含因子 k；包含概率按正态分布由 k 推算 (k = 2 → 0.9545) / the certificate states only k; "
                 "the coverage probability is derived from k for a normal distribution"))
    if cert.valid_until is not None:
        statements.append(DccStatement(ref_type=VALID_UNTIL, text="有效期至 valid until", date=cert.valid_until))
    equipment = tuple(
        DccEquipment(
            name=link.standard.name,
            identifications=(DccIdentification("calibrationLaboratory", link.standard.code, "standard code 标准装置编号"),),
            certificate=(DccCertificateRef(referral_id=link.standard_certificate.cert_no)
                         if link.standard_certificate else None),
        )
        for link in cert.standards_used
    )
    return DccCertificate(
        unique_identifier=cert.cert_no,
        begin_performance_date=cert.calibration_date,
        end_performance_date=cert.calibration_date,
        calibration_laboratory=_contact(cert.issuer),
        laboratory_code=cert.issuer.code,
        customer=_contact(inst.org),
        items=(item,),
        results=tuple(results),
        issue_date=cert.issue_date if cert.issue_date != cert.calibration_date else None,
        statements=tuple(statements),
        equipment=equipment,
        resp_persons=(DccPerson(name=signer or "签发人未登记 signer not recorded in carbonmet", main_signer=True),),
    )


def export_dcc(session: Session, cert_no: str, signer: str | None = None) -> bytes:
    """DCC XML of a registry certificate."""
    cert = session.scalar(select(Certificate).where(Certificate.cert_no == cert_no))
    if cert is None:
        from ._errors import NotFound

        raise NotFound(f"certificate {cert_no!r} does not exist")
    return write_dcc(certificate_to_dcc(session, cert, signer))


