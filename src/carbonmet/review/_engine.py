"""The review engine (计量审查): apply a rule set to one enterprise's instruments on a date.

Every decision about certificates is the registry's (:func:`carbonmet.registry.instrument_states`,
:mod:`carbonmet.registry.rules`, :func:`carbonmet.registry.trace_back`); this module only selects the
instruments, matches the rules' selectors and writes findings with their evidence.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..lab import frequency_findings, query_results
from ..metering import AggregationError, Store, aggregate
from ..registry import catalog_from_registry, instrument_certificates, trace_back
from ..registry.models import (
    Installation,
    Instrument,
    MeasurementPoint,
    MeasurementStandard,
    Organisation,
    Site,
    StandardIncident,
)
from ..registry.rules import (
    certificate_counts,
    certificate_states,
    certificate_valid_until,
    instrument_interval,
)
from ..sites import load_plan, plan_versions
from ._decision import decide_mpe
from ._errors import ReviewError
from ._rules import ReviewRule, RuleSet, load_rules
from ._system import FitOutRate, combine_mpe, fitout_rate, is_main

_SEVERITY_ORDER = {"critical": 0, "major": 1, "minor": 2, "info": 3}
#: what the review reads of an instrument and of a measurement point (plain rows, not ORM objects)
_INSTRUMENT_COLUMNS = (Instrument.id, Instrument.code, Instrument.type, Instrument.legal_category,
                       Instrument.accuracy_class, Instrument.mpe_rel, Instrument.interval_months)
#: the selector fields (ReviewRule.applies) of a point, and of an instrument with its point; their values unknown
_POINT_SELECTORS = ("carrier", "quantity", "level", "reading_kind", "source_stream")
_INSTRUMENT_SELECTORS = ("type", "legal_category", *_POINT_SELECTORS)
_NO_POINT: tuple[str | None, ...] = (None,) * len(_POINT_SELECTORS)
_POINT_COLUMNS = (MeasurementPoint.id, MeasurementPoint.code, MeasurementPoint.carrier, MeasurementPoint.quantity,
                  MeasurementPoint.level, MeasurementPoint.reading_kind, MeasurementPoint.source_stream)


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
        certificate issued with the out-of-tolerance standard is a problem of its own (``…|certificate``). A
        finding about a point rather than an instrument (completeness, a stream without a meter, analysis frequency)
        is keyed by its point (``rule_id||point``); a fit-out finding, with neither, by its rule alone."""
        base = f"{self.rule_id}|{self.instrument}" if self.instrument else f"{self.rule_id}||{self.point}"
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
    #: GB 17167 fit-out rates per level and energy type (one per ``fitout_rate`` rule with required points)
    fitout: list[FitOutRate] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for f in self.findings:
            out[f.severity] += 1
        return dict(out)

    def to_dict(self) -> dict[str, Any]:
        return {"enterprise": self.enterprise, "on": self.on.isoformat(), "profile": self.profile,
                "profile_version": self.profile_version, "rule_files": list(self.rule_files),
                "instruments_reviewed": self.instruments_reviewed, "counts": self.counts(),
                "findings": [f.to_dict() for f in self.findings], "fitout": [r.to_dict() for r in self.fitout]}


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


def _level(rule: ReviewRule) -> str:
    return next(iter(dict(rule.applies_to)["level"]))


def _carrier_label(rule: ReviewRule) -> str:
    carriers = dict(rule.applies_to).get("carrier")
    return "|".join(sorted(carriers)) if carriers else "*"


def review_instruments(session: Session, enterprise: str, on: date, profile: str = "gb17167_ccm", *,
                       local_rules: str | Path | None = None, rules: RuleSet | None = None,
                       store: Store | None = None, period: tuple[date, date] | None = None,
                       time_zone: str = "Asia/Shanghai",
                       lab_active: Callable[[str, datetime, datetime], bool] | None = None) -> ReviewResult:
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
        A shipped profile (``data/<profile>.csv``), default ``gb17167_ccm`` (GB 17167-2006 for coal chemicals);
        profiles joined by ``+`` are applied together (``gb17167_ccm+ccm_carbon``).
    local_rules : path, optional
        A directory (or one file) of local rule CSVs added to the profile (same ``rule_id`` replaces).
    rules : RuleSet, optional
        Rules already loaded (``profile`` and ``local_rules`` are then ignored).
    store : Store, optional
        The readings store; the ``completeness`` rules are applied only with one.
    period : (date, date), optional
        Review period ``[first day, day after)`` of the completeness rules; default: the calendar year of ``on``
        up to and including ``on``.
    time_zone : str
        IANA zone of the period's days and months (readings and lab results are cut in it).
    lab_active : callable, optional
        ``lab_active(source_stream, start, end)``: whether a stream had any activity in a period; a month without
        activity needs no analysis (:func:`carbonmet.lab.frequency_findings`). Default: every month needs one.

    Returns
    -------
    ReviewResult
        Findings sorted by severity, instrument and rule; the GB 17167 fit-out rates in ``fitout``.

    Raises
    ------
    ReviewError
        ``enterprise`` is not a registered organisation.

    Notes
    -----
    The instruments installed at one point on the review date are that point's **measuring system** (sensor,
    transmitter, flow computer or secondary instrument): ``accuracy_class`` judges their combined MPE
    (:func:`combine_mpe`, method from the ``system_combination`` rule, root-sum-square without one) and names
    the component(s) whose own MPE exceeds the limit — or, when none does alone, the largest contributor.

    A fit-out rate counts the points of the rule's level and carriers (N_l); at L2/L3 a point whose declared
    ``energy_use`` is below every applicable ``main_threshold`` is not "main" and not required; a point with
    nothing declared (or a use in a unit the threshold cannot be compared with) counts as required. N_s are the
    required points with an in-service instrument installed on the review date.

    References
    ----------
    GB 17167-2006 4.3.1-4.3.5 (Tables 1-3), 4.3.8 (Table 4 and its note 1), 5.3.6; JJF 1356-2012 6.1-6.4, 7.1,
    Appendix A; 中华人民共和国计量法 第九条; ISO/IEC 17025:2017 7.10.
    """
    rs = rules if rules is not None else load_rules(profile, local_rules)
    if session.autoflush:  # rows are read by Core: flush as a query through the session would
        session.flush()
    conn = session.connection()
    org_id = conn.execute(select(Organisation.id).where(Organisation.code == enterprise)).scalar()
    if org_id is None:
        raise ReviewError(f"未知单位 unknown organisation {enterprise!r}")
    in_service = (Instrument.org_id == org_id, Instrument.status == "in_service")
    insts = conn.execute(select(*_INSTRUMENT_COLUMNS).where(*in_service).order_by(Instrument.code)).all()
    # the point each instrument is installed at on the review date
    point_of: dict[int, Any] = {}
    for placed in conn.execute(
        select(Installation.instrument_id, *_POINT_COLUMNS)
        .join(MeasurementPoint, MeasurementPoint.id == Installation.point_id)
        .join(Instrument, Instrument.id == Installation.instrument_id)
        .where(*in_service,
               or_(Installation.installed_from.is_(None), Installation.installed_from <= on),
               or_(Installation.installed_to.is_(None), Installation.installed_to > on))
        .order_by(Installation.id)
    ):
        point_of[placed.instrument_id] = placed
    # the measuring system at each point: its in-service instruments on the review date
    at_point: dict[int, list[Any]] = defaultdict(list)
    for inst in insts:
        if inst.id in point_of:
            at_point[point_of[inst.id].id].append(inst)
    certs = instrument_certificates(session, select(Instrument.id).where(*in_service))
    states = certificate_states(insts, certs, [(on, on + timedelta(days=1))]) if insts else {}
    result = ReviewResult(enterprise, on, rs.profile, rs.version, rs.files, len(insts))

    # selector fields: one dict per distinct set of values (many instruments and points share one), so that
    # whether a rule applies is decided once per rule and set of values
    interned: dict[tuple[str | None, ...], dict[str, str | None]] = {}
    matches: dict[tuple[int, int], bool] = {}

    def intern(names: tuple[str, ...], values: tuple[str | None, ...]) -> dict[str, str | None]:
        a = interned.get(values)
        if a is None:
            a = interned[values] = dict(zip(names, values, strict=True))
        return a

    def applies(rule: ReviewRule, a: dict[str, str | None]) -> bool:
        """``rule.applies(a)`` for an interned ``a`` (remembered)."""
        key = (id(rule), id(a))
        hit = matches.get(key)
        if hit is None:
            hit = matches[key] = rule.applies(a)
        return hit

    def point_values(pt: Any) -> tuple[str | None, ...]:
        return (pt.carrier, pt.quantity, pt.level, pt.reading_kind, pt.source_stream) if pt else _NO_POINT

    def pattrs(pt: Any) -> dict[str, str | None]:
        return intern(_POINT_SELECTORS, point_values(pt))

    # the selector fields of each instrument and its point (computed once, read by every rule)
    attrs_of = {i.id: intern(_INSTRUMENT_SELECTORS, (i.type, i.legal_category, *point_values(point_of.get(i.id))))
                for i in insts}

    def attrs(inst: Any) -> dict[str, str | None]:
        return attrs_of[inst.id]

    def emit(rule: ReviewRule, instrument: str, point: str, certificate: str = "", standard: str = "",
             severity: str = "", ctx: dict[str, str] | None = None) -> None:
        base = {"instrument": instrument or "—", "point": point or "—", "certificate": certificate or "—",
                "standard": standard or "—", "on": on.isoformat(),
                "limit": "" if rule.value is None else f"{rule.value:g}" if isinstance(rule.value, float)
                else str(rule.value), "unit": rule.unit}
        msg, rec = _text(rule, {**base, **(ctx or {})})
        result.findings.append(Finding(rule.rule_id, rule.check, severity or rule.severity, instrument, point,
                                       certificate, standard, f"{rule.standard} {rule.clause}", rule.evidence, msg,
                                       rec, rule.source))

    def add(rule: ReviewRule, inst: Any, certificate: str = "", standard: str = "", severity: str = "",
            **ctx: str) -> None:
        pt = point_of.get(inst.id)
        mpe = class_mpe(inst)
        base = {"type": inst.type, "accuracy_class": inst.accuracy_class or "—",
                "mpe_rel": f"{mpe:g}" if mpe is not None else "—"}
        emit(rule, inst.code, pt.code if pt else "", certificate, standard, severity, {**base, **ctx})

    # --- certificate state on the review date (the registry's cover rules)
    for inst in insts:
        st = states.get(inst.code)
        if st is None or st.state == "ok":
            continue
        a = attrs(inst)
        cs = [c for c in certs.get(inst.id, []) if c.calibration_date <= on]
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
            if not applies(rule, a):
                continue
            ctx: dict[str, str] = {}
            if check == "overdue" and cert is not None:
                until = certificate_valid_until(cert, instrument_interval(inst))
                if until + timedelta(days=int(rule.value or 0)) >= on:
                    continue
                ctx["valid_until"] = until.isoformat()
            add(rule, inst, cert.cert_no if cert is not None else "", **ctx)

    # --- accuracy of the whole measuring system against the rule's limit (GB 17167-2006 Table 4 and note 1)
    comb = rs.of_check("system_combination")
    method = str(comb[-1].value) if comb else "rss"
    for rule in rs.of_check("accuracy_class"):
        limit = float(rule.value) * (1 + 1e-9)
        for comps in at_point.values():
            if not any(applies(rule, attrs(i)) for i in comps):
                continue
            mpes = [class_mpe(i) for i in comps]
            known = [m for m in mpes if m is not None]
            if len(known) != len(mpes):
                continue  # a component without a numeric class or MPE: the system cannot be judged here
            sys_mpe = combine_mpe(known, method)
            if sys_mpe <= limit:
                continue
            over = [i for i, m in zip(comps, known, strict=True) if m > limit]
            if not over:  # no component alone over the limit: the largest contributor is named
                over = [max(zip(comps, known, strict=True), key=lambda t: t[1])[0]]
            system = " + ".join(f"{i.code} ({i.type}, {m:g} %)" for i, m in zip(comps, known, strict=True))
            for component in over:
                add(rule, component, system=system, system_mpe=f"{sys_mpe:.3g}")

    # --- indication error on the covering calibration certificate vs the MPE, with its uncertainty
    for rule in rs.of_check("certificate_error"):
        for inst in insts:
            st = states.get(inst.code)
            mpe = class_mpe(inst)
            if st is None or mpe is None or not st.certificates or not applies(rule, attrs(inst)):
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
                    if use.start > on or (use.end is not None and use.end <= horizon) or not applies(rule, attrs(hit)):
                        continue
                    add(rule, hit, use.certificate, std_code,
                        window=f"{inc.last_good.isoformat()}…{inc.found_on.isoformat()}")

    # --- the enterprise's points (fit-out, completeness, plan streams)
    needs_points = any(rs.of_check(c) for c in ("fitout_rate", "completeness", "stream_metered"))
    points: Sequence[Any] = conn.execute(
        select(*_POINT_COLUMNS).join(Site, Site.id == MeasurementPoint.site_id).where(Site.org_id == org_id)
        .order_by(MeasurementPoint.code)).all() if needs_points else []
    pattrs_of = {mp.id: pattrs(mp) for mp in points}
    energy: dict[int, tuple[float | None, str | None]] = {}

    def energy_use(mp: Any) -> tuple[float | None, str | None]:
        """A point's declared energy use and its unit (read for all the enterprise's points on first need)."""
        if not energy:
            energy.update((pid, (use, unit)) for pid, use, unit in conn.execute(
                select(MeasurementPoint.id, MeasurementPoint.energy_use, MeasurementPoint.energy_use_unit)
                .join(Site, Site.id == MeasurementPoint.site_id).where(Site.org_id == org_id)))
        return energy[mp.id]

    # --- GB 17167 fit-out rates per level and energy type (Tables 1-3)
    thresholds = rs.of_check("main_threshold")
    groups: dict[int, tuple[dict[str, str | None], list[int]]] = {}  # the points of each set of selector values
    for k, mp in enumerate(points):
        pa = pattrs_of[mp.id]
        groups.setdefault(id(pa), (pa, []))[1].append(k)
    for rule in rs.of_check("fitout_rate"):
        level = _level(rule)
        required: list[Any] = []
        for k in sorted(k for pa, ks in groups.values() if applies(rule, pa) for k in ks):  # in code order
            mp = points[k]
            pa = pattrs_of[mp.id]
            if level in ("L2", "L3"):
                main = [is_main(*energy_use(mp), float(t.value), t.unit) for t in thresholds if applies(t, pa)]
                judged = [m for m in main if m is not None]
                if judged and not any(judged):
                    continue  # below every applicable threshold: not a main unit / equipment (4.3.3, 4.3.4)
            required.append(mp)
        if not required:
            continue
        missing = tuple(mp.code for mp in required if not at_point.get(mp.id))
        rate, verdict = fitout_rate(len(required), len(required) - len(missing), float(rule.value))
        fr = FitOutRate(level, _carrier_label(rule), len(required), len(required) - len(missing), rate,
                        float(rule.value), verdict, rule.rule_id, missing)
        result.fitout.append(fr)
        if verdict == "fail":
            emit(rule, "", "", ctx={"level": level, "carrier": fr.carrier, "rate": f"{rate:.1f}",
                                    "required": str(fr.required_points), "equipped": str(fr.equipped_points),
                                    "unequipped": ", ".join(missing)})

    # --- data completeness over the review period (the readings store's aggregation)
    comp_rules = rs.of_check("completeness")
    if comp_rules and store is not None:
        zone = ZoneInfo(time_zone)
        first, after = period if period is not None else (date(on.year, 1, 1), on + timedelta(days=1))
        start = datetime(first.year, first.month, first.day, tzinfo=zone)
        end = datetime(after.year, after.month, after.day, tzinfo=zone)
        targets = [(pt, at_point[pt.id]) for pt in points if at_point.get(pt.id)
                   and any(applies(r, attrs(i)) for r in comp_rules for i in at_point[pt.id])]
        share: dict[str, float] = {}
        months = sorted({f"{d.year:04d}-{d.month:02d}" for d in (first + timedelta(days=k)
                                                                  for k in range((after - first).days))})
        stored = bool(targets) and bool(store.files([pt.code for pt, _ in targets], months))
        if stored:  # the store holds some of the enterprise's readings of the period (a cheap look first)
            catalog = catalog_from_registry(session)
            codes_ = [pt.code for pt, _ in targets if pt.code in catalog]
            try:
                rows = aggregate(store, catalog, codes_, start, end, "year", tz=time_zone)
            except AggregationError:
                rows = []
            hours: dict[str, list[tuple[float, float]]] = defaultdict(list)
            for r in rows:  # one row per calendar year of the period
                if r.expected_hours > 0 and not math.isnan(r.completeness):
                    hours[r.point_id].append((r.completeness, r.expected_hours))
            if any(r.n_readings > 0 for r in rows):  # a store without any of the enterprise's readings: not judged
                share = {p: sum(c * h for c, h in v) / sum(h for _, h in v) for p, v in hours.items()}
        label = f"{first.isoformat()}…{(after - timedelta(days=1)).isoformat()}"
        for rule in comp_rules:
            for pt, comps in targets:
                if pt.code not in share or not any(applies(rule, attrs(i)) for i in comps):
                    continue
                got = share[pt.code]
                if 100 * got < float(rule.value) * (1 - 1e-12):
                    emit(rule, comps[0].code, pt.code, ctx={"completeness": f"{100 * got:.1f}", "period": label})

    # --- coal-chemical carbon profile: the monitoring plan's streams and their lab analyses
    plan_checks = [r for c in ("stream_metered", "analysis_frequency") for r in rs.of_check(c)]
    if plan_checks:
        versions = [v for v in plan_versions(session, enterprise) if v.valid_from <= on]
        plan = load_plan(session, enterprise, versions[-1].version) if versions else None
        if plan is None:
            for rule in plan_checks:
                emit(rule, "", "", ctx={"stream": "—", "parameter": "—",
                                        "missing": "无监测计划（数据质量控制计划）/ no monitoring plan stored"})
        else:
            by_code = {pt.code: pt for pt in points}
            for rule in rs.of_check("stream_metered"):
                for row in plan.parameters:
                    if row.parameter != "activity_data" or (row.valid_from or plan.header.valid_from) > on \
                            or (row.valid_to is not None and row.valid_to <= on):
                        continue
                    ref_pt = by_code.get(row.ref) if row.source == "point" else None
                    if row.source == "point" and ref_pt is not None and not applies(rule, pattrs(ref_pt)):
                        continue
                    if ref_pt is not None and at_point.get(ref_pt.id):
                        continue
                    why = (f"数据来源为 {row.source} / source is {row.source} ({row.ref})" if row.source != "point"
                           else f"计量点 {row.ref} 未登记 / point {row.ref} not registered" if ref_pt is None
                           else f"计量点 {row.ref} 无在用器具 / point {row.ref} has no in-service instrument")
                    emit(rule, "", row.ref if row.source == "point" else "",
                         ctx={"stream": row.source_stream, "parameter": row.parameter, "missing": why})
            freq_rules = rs.of_check("analysis_frequency")
            if freq_rules:
                y0 = datetime(on.year, 1, 1, tzinfo=ZoneInfo(time_zone))
                results = query_results(session, enterprise=enterprise, start=y0,
                                        end=datetime(on.year + 1, 1, 1, tzinfo=ZoneInfo(time_zone)))
                gaps: dict[tuple[str, str, str], list[str]] = defaultdict(list)
                for ff in frequency_findings(plan, results, on.year, time_zone=time_zone, active=lab_active):
                    if _period_start(ff.period) > on:
                        continue  # a period after the review date is not due yet
                    gaps[(ff.point_id, ff.source_stream, ff.parameter)].append(ff.period)
                for rule in freq_rules:
                    for (pid, stream, param), periods_ in sorted(gaps.items()):
                        emit(rule, "", pid, ctx={"stream": stream, "parameter": param, "missing": ", ".join(periods_)})

    # --- CEMS QA current where a stream is measured (newest certificate or comparison not older than the limit)
    for rule in rs.of_check("cems_qa"):
        for inst in insts:
            at = point_of.get(inst.id)
            if at is None or not at.source_stream or not applies(rule, attrs(inst)):
                continue
            dated = [c for c in certs.get(inst.id, []) if c.calibration_date <= on]
            if not dated:
                continue  # never certified: the certificate rules' finding
            last = dated[-1]
            if (on - last.calibration_date).days > int(rule.value):
                add(rule, inst, last.cert_no, last_qa=last.calibration_date.isoformat(), stream=at.source_stream)

    seen: set[tuple[str, str, str, str]] = set()
    unique = []
    for f in result.findings:  # one finding per rule, instrument (or point) and certificate
        key = (f.rule_id, f.instrument, f.point, f.certificate)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    result.findings = sorted(unique, key=lambda f: (_SEVERITY_ORDER[f.severity], f.instrument, f.point, f.rule_id))
    return result


def _period_start(label: str) -> date:
    """First day of a lab frequency period label (``2025-03``, ``2025-Q2``, ``2025``); a batch id → date.min."""
    m = re.fullmatch(r"(\d{4})(?:-(\d{2})|-Q([1-4]))?", label)
    if m is None:
        return date.min
    y = int(m.group(1))
    if m.group(2):
        return date(y, int(m.group(2)), 1)
    if m.group(3):
        return date(y, 3 * int(m.group(3)) - 2, 1)
    return date(y, 1, 1)
