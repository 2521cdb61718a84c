"""The review engine (计量审查): apply a rule set to one enterprise's instruments on a date.

Every decision about certificates is the registry's (:func:`carbonmet.registry.instrument_states`,
:mod:`carbonmet.registry.rules`, :func:`carbonmet.registry.trace_back`); this module only selects the
instruments, matches the rules' selectors and writes findings with their evidence.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..registry import instrument_states, trace_back
from ..registry.models import (
    Certificate,
    Installation,
    Instrument,
    MeasurementPoint,
    MeasurementStandard,
    Organisation,
    StandardIncident,
)
from ..registry.rules import certificate_counts, certificate_valid_until, instrument_interval
from ._decision import decide_mpe
from ._errors import ReviewError
from ._rules import ReviewRule, RuleSet, load_rules

_SEVERITY_ORDER = {"critical": 0, "major": 1, "minor": 2, "info": 3}


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding of a review (审查发现), with its evidence.

    ``check`` names the kind of finding (the rule's check); ``certificate`` and ``standard`` are the evidence
    records (either may be empty); ``clause`` and ``evidence`` come from the rule (standard clause, evidence mark).
    ``severity`` is the rule's, except that an inconclusive decision (``certificate_error``) is an observation,
    ``info``: the uncertainty is too large to judge conformity, which is not a non-conformity.
    """

    rule_id: str
    check: str
    severity: str
    instrument: str
    point: str
    certificate: str
    standard: str
    clause: str
    evidence: str
    message: str
    recommendation: str
    rule_source: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def key(self) -> str:
        """A stable key of the problem this finding names, the same in the next review while the problem stays
        (``rule_id|instrument``): the certificate is only evidence, except for a traceability finding, where each
        certificate issued with the out-of-tolerance standard is a problem of its own (``…|certificate``)."""
        base = f"{self.rule_id}|{self.instrument}"
        return f"{base}|{self.certificate}" if self.check == "traceability_oot" else base


@dataclass
class ReviewResult:
    """The findings of one review of an enterprise on a date."""

    enterprise: str
    on: date
    profile: str
    profile_version: str
    rule_files: tuple[str, ...]
    instruments_reviewed: int
    findings: list[Finding] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for f in self.findings:
            out[f.severity] += 1
        return dict(out)

    def to_dict(self) -> dict[str, Any]:
        return {"enterprise": self.enterprise, "on": self.on.isoformat(), "profile": self.profile,
                "profile_version": self.profile_version, "rule_files": list(self.rule_files),
                "instruments_reviewed": self.instruments_reviewed, "counts": self.counts(),
                "findings": [f.to_dict() for f in self.findings]}


_CLASS_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*S?\s*$", re.IGNORECASE)


def class_mpe(inst: Any) -> float | None:
    """An instrument's relative MPE [%]: its ``mpe_rel``, else the number of a numeric accuracy class
    (``0.5S`` → 0.5, ``1.0`` → 1.0); ``None`` when neither says (e.g. a weighing class ``III``)."""
    if inst.mpe_rel is not None:
        return float(inst.mpe_rel)
    m = _CLASS_NUMBER.match(inst.accuracy_class or "")
    return float(m.group(1)) if m else None


class _Safe(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def _text(rule: ReviewRule, ctx: dict[str, str]) -> tuple[str, str]:
    vals = _Safe(ctx)
    msg = f"{rule.message_zh.format_map(vals)} / {rule.message_en.format_map(vals)}"
    rec_parts = [t.format_map(vals) for t in (rule.recommendation_zh, rule.recommendation_en) if t]
    return msg, " / ".join(rec_parts)


def review_instruments(session: Session, enterprise: str, on: date, profile: str = "gb17167_ccm", *,
                       local_rules: str | Path | None = None, rules: RuleSet | None = None) -> ReviewResult:
    """Review the in-service instruments of ``enterprise`` on ``on`` against a rule set.

    Parameters
    ----------
    session : Session
        A registry session.
    enterprise : str
        Organisation code.
    on : date
        Review date: certificates are judged on this day; out-of-tolerance incidents found on or before it count.
    profile : str
        A shipped profile (``data/<profile>.csv``), default ``gb17167_ccm`` (GB 17167-2006 for coal chemicals).
    local_rules : path, optional
        A directory (or one file) of local rule CSVs added to the profile (same ``rule_id`` replaces).
    rules : RuleSet, optional
        Rules already loaded (``profile`` and ``local_rules`` are then ignored).

    Returns
    -------
    ReviewResult
        Findings sorted by severity, instrument and rule.

    Raises
    ------
    ReviewError
        ``enterprise`` is not a registered organisation.

    References
    ----------
    GB 17167-2006 4.3.8 (Table 4), 5.3.6; JJF 1356-2012; 中华人民共和国计量法 第九条; ISO/IEC 17025:2017 7.10.
    """
    rs = rules if rules is not None else load_rules(profile, local_rules)
    org = session.scalar(select(Organisation).where(Organisation.code == enterprise))
    if org is None:
        raise ReviewError(f"未知单位 unknown organisation {enterprise!r}")
    insts = list(session.scalars(select(Instrument).where(Instrument.org_id == org.id,
                                                          Instrument.status == "in_service")
                                 .order_by(Instrument.code)))
    by_id = {i.id: i for i in insts}
    # the point each instrument is installed at on the review date
    point_of: dict[int, MeasurementPoint] = {}
    ids = list(by_id)
    for k in range(0, len(ids), 500):
        for ins, pt in session.execute(
            select(Installation, MeasurementPoint).join(MeasurementPoint, MeasurementPoint.id == Installation.point_id)
            .where(Installation.instrument_id.in_(ids[k:k + 500]),
                   or_(Installation.installed_from.is_(None), Installation.installed_from <= on),
                   or_(Installation.installed_to.is_(None), Installation.installed_to > on))
        ):
            point_of[ins.instrument_id] = pt
    certs: dict[int, list[Certificate]] = defaultdict(list)
    for k in range(0, len(ids), 500):
        for c in session.scalars(select(Certificate).where(Certificate.instrument_id.in_(ids[k:k + 500]))
                                 .order_by(Certificate.calibration_date, Certificate.id)):
            certs[c.instrument_id or 0].append(c)
    states = instrument_states(session, [i.code for i in insts], [(on, on + timedelta(days=1))]) if insts else {}
    result = ReviewResult(enterprise, on, rs.profile, rs.version, rs.files, len(insts))

    def attrs(inst: Instrument) -> dict[str, str | None]:
        pt = point_of.get(inst.id)
        return {"type": inst.type, "legal_category": inst.legal_category,
                "carrier": pt.carrier if pt else None, "quantity": pt.quantity if pt else None,
                "level": pt.level if pt else None, "reading_kind": pt.reading_kind if pt else None,
                "source_stream": pt.source_stream if pt else None}

    def add(rule: ReviewRule, inst: Instrument, certificate: str = "", standard: str = "", severity: str = "",
            **ctx: str) -> None:
        pt = point_of.get(inst.id)
        mpe = class_mpe(inst)
        base = {"instrument": inst.code, "type": inst.type, "point": pt.code if pt else "—",
                "certificate": certificate or "—", "accuracy_class": inst.accuracy_class or "—",
                "mpe_rel": f"{mpe:g}" if mpe is not None else "—", "standard": standard or "—",
                "on": on.isoformat(), "limit": "" if rule.value is None else f"{rule.value:g}"
                if isinstance(rule.value, float) else str(rule.value)}
        msg, rec = _text(rule, {**base, **ctx})
        result.findings.append(Finding(rule.rule_id, rule.check, severity or rule.severity, inst.code, pt.code if pt else "",
                                       certificate, standard, f"{rule.standard} {rule.clause}", rule.evidence, msg,
                                       rec, rule.source))

    # --- certificate state on the review date (the registry's cover rules)
    for inst in insts:
        a = attrs(inst)
        st = states.get(inst.code)
        cs = [c for c in certs.get(inst.id, []) if c.calibration_date <= on]
        if st is None or st.state == "ok":
            continue
        newest = cs[-1] if cs else None
        counting = [c for c in cs if certificate_counts(c.kind, inst.legal_category)]
        if st.state == "failed":
            check = "does_not_conform"
            bad = [c for c in cs if c.kind == "verification" and c.conclusion == "does_not_conform"]
            cert = bad[-1] if bad else newest
        elif newest is not None and not certificate_counts(newest.kind, inst.legal_category):
            check, cert = "calibrated_not_verified", newest  # the newest certificate is a calibration, 检定 required
        elif counting:
            check, cert = "overdue", counting[-1]
        else:
            check, cert = "never_certified", None
        for rule in rs.of_check(check):
            if not rule.applies(a):
                continue
            ctx: dict[str, str] = {}
            if check == "overdue" and cert is not None:
                until = certificate_valid_until(cert, instrument_interval(inst))
                if until + timedelta(days=int(rule.value or 0)) >= on:
                    continue
                ctx["valid_until"] = until.isoformat()
            add(rule, inst, cert.cert_no if cert is not None else "", **ctx)

    # --- accuracy class against the rule's limit (GB 17167-2006 Table 4)
    for rule in rs.of_check("accuracy_class"):
        for inst in insts:
            if inst.id not in point_of or not rule.applies(attrs(inst)):
                continue
            mpe = class_mpe(inst)
            if mpe is not None and mpe > float(rule.value) * (1 + 1e-9):
                add(rule, inst)

    # --- indication error on the covering calibration certificate vs the MPE, with its uncertainty
    for rule in rs.of_check("certificate_error"):
        for inst in insts:
            st = states.get(inst.code)
            mpe = class_mpe(inst)
            if st is None or mpe is None or not st.certificates or not rule.applies(attrs(inst)):
                continue
            by_no = {c.cert_no: c for c in certs.get(inst.id, [])}
            cc = by_no.get(st.certificates[-1])
            if cc is None or cc.kind != "calibration" or cc.expanded_u is None or (cc.error_unit or "").strip() != "%":
                continue
            err = cc.as_left_error if cc.as_left_error is not None else cc.as_found_error
            if err is None:
                continue
            d = decide_mpe(float(err), float(cc.expanded_u), mpe, rule=rule.value)
            if d.verdict == "fail":
                add(rule, inst, cc.cert_no, decision=d.message)
            elif d.verdict == "inconclusive":  # not a non-conformity: an observation that U is too large to judge
                add(rule, inst, cc.cert_no, severity="info", decision=d.message)

    # --- traceability to a standard found out of tolerance (the registry's reverse trace)
    trc = rs.of_check("traceability_oot")
    if trc and insts:
        codes = {i.code: i for i in insts}
        incidents = session.execute(
            select(StandardIncident, MeasurementStandard.code)
            .join(MeasurementStandard, MeasurementStandard.id == StandardIncident.standard_id)
            .where(StandardIncident.found_on <= on).order_by(StandardIncident.found_on, StandardIncident.id)).all()
        for inc, std_code in incidents:
            tr = trace_back(session, std_code, inc.last_good, inc.found_on)
            for use in tr.instruments:
                hit = codes.get(use.subject)
                if hit is None:
                    continue
                for rule in trc:
                    horizon = on - timedelta(days=int(rule.value or 0))
                    if use.start > on or (use.end is not None and use.end <= horizon) or not rule.applies(attrs(hit)):
                        continue
                    add(rule, hit, use.certificate, std_code,
                        window=f"{inc.last_good.isoformat()}…{inc.found_on.isoformat()}")

    seen: set[tuple[str, str, str]] = set()
    unique = []
    for f in result.findings:  # one finding per rule, instrument and certificate
        key = (f.rule_id, f.instrument, f.certificate)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    result.findings = sorted(unique, key=lambda f: (_SEVERITY_ORDER[f.severity], f.instrument, f.rule_id))
    return result
