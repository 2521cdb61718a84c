"""Read-side questions the registry answers: what is due, is a data period covered by a valid
certificate, which instruments and data does an out-of-tolerance standard affect (reverse
traceability), and the point catalogue the metering store validates against."""

from __future__ import annotations

import calendar
import csv
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any, Literal, Protocol

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from ._models import (
    Certificate,
    CertificateStandard,
    Installation,
    Instrument,
    MeasurementPoint,
    MeasurementStandard,
    Organisation,
)
from ._services import get_standard


class InstrumentFields(Protocol):
    """What the certificate rules read of an instrument (an ORM :class:`Instrument`, an ``InstrumentRow`` or a
    selected row): the code, the type, the verification interval, the legal category, the MPE."""

    @property
    def code(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def interval_months(self) -> int | None: ...
    @property
    def legal_category(self) -> str | None: ...
    @property
    def mpe_rel(self) -> float | None: ...


class CertificateLike(Protocol):
    """What the certificate rules read of a certificate (an ORM :class:`Certificate` or a ``CertificateRow``)."""

    @property
    def cert_no(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def conclusion(self) -> str | None: ...
    @property
    def calibration_date(self) -> date: ...
    @property
    def valid_until(self) -> date | None: ...


class _HasInterval(Protocol):
    @property
    def type(self) -> str: ...
    @property
    def interval_months(self) -> int | None: ...


def plain(obj: Any) -> dict[str, Any]:
    """A result dataclass as JSON-ready dict (dates as ISO text)."""
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(obj).items()}


@lru_cache(maxsize=1)
def default_intervals() -> dict[str, int]:
    """Recalibration interval [months] per instrument type (data/intervals.csv, evidence marked there)."""
    path = resources.files(__package__).joinpath("data/intervals.csv")
    with path.open(encoding="utf-8") as fh:
        return {r["type"]: int(r["interval_months"]) for r in csv.DictReader(fh)}


def shift_days(d: date, days: int) -> date:
    """``d`` plus ``days`` days, saturating at ``date.min`` / ``date.max``.

    Dates stored before the certificate date window existed (a validity end of 9999-12-31, a date in
    year 1) meet day arithmetic here ("the day after the validity end"); beyond the calendar Python can
    represent the answer is the calendar's end ("never ends"), not an OverflowError.
    """
    try:
        return d + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def add_months(d: date, months: int) -> date:
    """``d`` plus whole months, clamped to the month's last day (2024-01-31 + 1 → 2024-02-29).

    A result beyond year 9999 (or before year 1) saturates at ``date.max`` (``date.min``), as in
    :func:`shift_days`.
    """
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    if year > date.max.year:
        return date.max
    if year < date.min.year:
        return date.min
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def certificate_valid_until(cert: CertificateLike, interval_months: int) -> date:
    """Last day a certificate covers: its stated 有效期 or calibration date + interval − 1 day.

    An end beyond the representable calendar is ``date.max`` (:func:`add_months`).
    """
    if cert.valid_until is not None:
        return cert.valid_until
    end = add_months(cert.calibration_date, interval_months)
    return end if end == date.max else shift_days(end, -1)


def instrument_interval(inst: _HasInterval) -> int:
    """Recalibration interval [months] of an instrument: its own ``interval_months``, else its type's default
    (``data/intervals.csv``)."""
    return inst.interval_months or default_intervals().get(inst.type, default_intervals()["other"])


MANDATORY = "mandatory"
"""``Instrument.legal_category`` of an instrument under mandatory verification (强制检定)."""


def certificate_counts(kind: str, legal_category: str | None) -> bool:
    """Whether a certificate of ``kind`` can stand for an instrument of ``legal_category`` at all.

    An instrument under mandatory verification (强制检定, ``legal_category == "mandatory"``) must be
    verified (检定, a ``verification`` certificate); a calibration (校准) does not satisfy that legal
    obligation, so it neither covers data nor counts for the due date. Non-mandatory and unknown
    (``None``) categories accept either kind.

    References
    ----------
    中华人民共和国计量法 第九条 (强制检定); GB 17167-2006 5.3.6 (legally controlled instruments follow the
    statutory verification period); JJF 1356-2012.
    """
    return legal_category != MANDATORY or kind == "verification"


def _counts_sql(kind: Any, legal_category: Any) -> Any:
    """:func:`certificate_counts` as an SQL condition (same rule, for the due list's query)."""
    return or_(legal_category.is_(None), legal_category != MANDATORY, kind == "verification")


def _failed(cert: CertificateLike) -> bool:
    """A failed verification (不合格, 检定结果通知书)."""
    return cert.kind == "verification" and cert.conclusion == "does_not_conform"


def certificate_covers(cert: CertificateLike, legal_category: str | None = None) -> bool:
    """Whether ``cert`` covers its instrument (of ``legal_category``) from its date to its validity end.

    The one place that decides: a failed verification (不合格) covers nothing, and for an instrument
    under mandatory verification (强制检定) neither does a calibration (:func:`certificate_counts`).
    """
    return certificate_counts(cert.kind, legal_category) and not _failed(cert)


#: Signature statuses that flag a certificate wherever it is used (:data:`carbonmet.registry.dcc.FLAGGED_STATUSES`).
FLAGGED_SIGNATURES = ("invalid", "signer_untrusted", "signer_revoked")
_SIGNATURE_ZH = {"invalid": "签名无效", "signer_untrusted": "签名人不受信任", "signer_revoked": "签名人证书已吊销"}


def signature_flag_text(cert_no: str, status: str | None, accepted: str | None = None) -> str | None:
    """The flag of a certificate whose DCC signature check failed (zh-CN, English), or None when it did not."""
    if status not in FLAGGED_SIGNATURES:
        return None
    if accepted:
        return (f"证书 {cert_no} {_SIGNATURE_ZH[status]}（经操作员接受）/ certificate {cert_no}: DCC signature "
                f"{status}, accepted by the operator; 接受理由 accepted because: {accepted}")
    return (f"证书 {cert_no} {_SIGNATURE_ZH[status]}（导入后复核发现）/ certificate {cert_no}: DCC signature "
            f"{status}, found when re-checked after import")


def signature_flag(cert: Any) -> str | None:
    """The flag of ``cert`` (an ORM certificate; rows from files have no signature and never flag), or None.

    The one place that decides: a certificate imported from a DCC whose signature was invalid, or whose signer
    was untrusted or revoked — accepted by an operator, or found so by a later re-check — is flagged in every output that uses it (the due
    list, the coverage of a data period, the account's instrument terms). It still counts and covers: the
    operator accepted it, with a reason, in the audit log.
    """
    return signature_flag_text(cert.cert_no, getattr(cert, "signature_status", None),
                               getattr(cert, "signature_accepted", None))


def mandatory_calibration_reason(cert_no: str) -> str:
    """Why a calibration certificate of a mandatory-verification instrument is not counted (zh-CN, English)."""
    return (f"强制检定器具须经检定，校准证书 {cert_no} 不能代替检定 / "
            f"instrument under mandatory verification: calibration certificate {cert_no} does not satisfy it, "
            "a verification (检定) is required")


def cover_periods(
    certs: Sequence[CertificateLike], interval_months: int, legal_category: str | None = None
) -> list[tuple[str, date, date]]:
    """(cert_no, first day, last day) each certificate of one instrument covers.

    A certificate covers from its calibration date to its validity end (inclusive); a failed
    verification (不合格) covers nothing and ends the cover of every earlier certificate the day
    before it (the instrument was found non-conforming that day). For an instrument under
    mandatory verification (``legal_category == "mandatory"``) calibration certificates cover
    nothing (:func:`certificate_covers`); they do not end the cover of an earlier verification.
    """
    fails = sorted(c.calibration_date for c in certs if _failed(c))
    out: list[tuple[str, date, date]] = []
    for c in certs:
        if not certificate_covers(c, legal_category):
            continue
        last = certificate_valid_until(c, interval_months)
        later_fail = next((f for f in fails if f > c.calibration_date), None) if fails else None
        if later_fail is not None:
            last = min(last, shift_days(later_fail, -1))
        if last >= c.calibration_date:
            out.append((c.cert_no, c.calibration_date, last))
    return out


# --- due list ------------------------------------------------------------------------------------
DueStatus = Literal["overdue", "due", "ok", "never_calibrated", "failed"]


@dataclass(frozen=True, slots=True)
class DueItem:
    """One line of the due list.

    ``last_certificate``/``last_calibrated`` name the newest certificate on file; ``due`` and
    ``status`` come from the newest certificate that counts for the instrument (for one under
    mandatory verification, the newest verification). ``reason`` says why they differ (zh-CN first,
    English second), e.g. a calibration certificate where a 检定 is required; ``None`` otherwise.
    """

    instrument: str
    serial: str
    type: str
    org: str
    point: str | None
    last_certificate: str | None
    last_calibrated: date | None
    due: date | None
    status: DueStatus
    days_left: int | None
    reason: str | None = None
    signature_flags: tuple[str, ...] = ()  # certificates of this line whose DCC signature check failed (accepted)

    def to_dict(self) -> dict[str, Any]:
        return plain(self)


def due_list(
    session: Session,
    today: date,
    within_days: int = 30,
    org: str | None = None,
    include_ok: bool = False,
) -> list[DueItem]:
    """Instruments in service whose certificate expires within ``within_days`` or has expired (待检/超期).

    The newest certificate that counts for each instrument decides (:func:`certificate_counts`): a
    failed verification makes the instrument ``failed`` (must not be used until re-verified). For an
    instrument under mandatory verification (强制检定) calibration certificates do not count: with
    no verification at all it is ``overdue`` (``due`` None), otherwise its newest verification
    decides; either way, when its newest certificate is a calibration, ``reason`` says a 检定 is
    required.
    """
    newest = aliased(Certificate)
    latest_counting = (
        select(Certificate.id)
        .where(Certificate.instrument_id == Instrument.id,
               _counts_sql(Certificate.kind, Instrument.legal_category))
        .order_by(Certificate.calibration_date.desc(), Certificate.id.desc())
        .limit(1)
        .correlate(Instrument)
        .scalar_subquery()
    )
    latest_any = (
        select(newest.id)
        .where(newest.instrument_id == Instrument.id)
        .order_by(newest.calibration_date.desc(), newest.id.desc())
        .limit(1)
        .correlate(Instrument)
        .scalar_subquery()
    )
    point_code = (
        select(MeasurementPoint.code)
        .join(Installation, Installation.point_id == MeasurementPoint.id)
        .where(Installation.instrument_id == Instrument.id, Installation.installed_to.is_(None))
        .limit(1)
        .correlate(Instrument)
        .scalar_subquery()
    )
    stmt = (
        select(Instrument, Certificate, newest.cert_no, newest.kind, newest.calibration_date, Organisation.code,
               point_code, newest.signature_status, newest.signature_accepted)
        .join(Organisation, Organisation.id == Instrument.org_id)
        .outerjoin(Certificate, Certificate.id == latest_counting)
        .outerjoin(newest, newest.id == latest_any)
        .where(Instrument.status == "in_service")
    )
    if org:
        stmt = stmt.where(Organisation.code == org)
    horizon = shift_days(today, within_days)
    if not include_ok:  # a stated validity beyond the horizon is "ok" unless the verification failed
        stmt = stmt.where(
            or_(Certificate.id.is_(None), Certificate.valid_until.is_(None), Certificate.valid_until <= horizon,
                Certificate.conclusion == "does_not_conform")
        )
    out: list[DueItem] = []
    for inst, cert, last_no, last_kind, last_date, org_code, pcode, last_sig, last_acc in session.execute(stmt):
        flags = tuple(dict.fromkeys(f for f in (
            signature_flag(cert) if cert is not None else None,
            signature_flag_text(last_no, last_sig, last_acc) if last_no is not None else None) if f))
        reason = None
        if last_no is not None and not certificate_counts(last_kind, inst.legal_category):
            reason = mandatory_calibration_reason(last_no)
        if cert is None:
            status: DueStatus = "never_calibrated" if last_no is None else "overdue"
            item = DueItem(inst.code, inst.serial, inst.type, org_code, pcode, last_no, last_date, None, status, None,
                           reason, flags)
        else:
            due = certificate_valid_until(cert, instrument_interval(inst))
            days = (due - today).days
            if not certificate_covers(cert, inst.legal_category):
                status = "failed"
            elif due < today:
                status = "overdue"
            elif due <= horizon:
                status = "due"
            else:
                status = "ok"
            item = DueItem(inst.code, inst.serial, inst.type, org_code, pcode, last_no, last_date, due, status, days,
                           reason, flags)
        if include_ok or item.status != "ok":
            out.append(item)
    order = {"failed": 0, "never_calibrated": 1, "overdue": 2, "due": 3, "ok": 4}
    out.sort(key=lambda i: (order[i.status], i.due or date.min, i.instrument))
    return out


# --- coverage of a data period --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Interval:
    start: date
    end: date  # exclusive

    def to_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def _subtract(base: list[Interval], cover: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for b in base:
        pieces = [b]
        for c in cover:
            nxt: list[Interval] = []
            for p in pieces:
                if c.end <= p.start or c.start >= p.end:
                    nxt.append(p)
                    continue
                if p.start < c.start:
                    nxt.append(Interval(p.start, c.start))
                if c.end < p.end:
                    nxt.append(Interval(c.end, p.end))
            pieces = nxt
        out.extend(pieces)
    return out


@dataclass(frozen=True, slots=True)
class Coverage:
    """Whether a point's data period is covered by valid certificates of the instruments installed."""

    point: str
    period: Interval
    covered: bool
    gaps: list[Interval]
    instruments: list[str]
    certificates: list[str]
    notes: list[str] = field(default_factory=list)  # certificates not counted, and why (zh-CN / English)
    signature_flags: list[str] = field(default_factory=list)  # covering certificates whose DCC signature failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "point": self.point,
            "period": self.period.to_dict(),
            "covered": self.covered,
            "gaps": [g.to_dict() for g in self.gaps],
            "instruments": self.instruments,
            "certificates": self.certificates,
            "notes": self.notes,
            "signature_flags": self.signature_flags,
        }


def period_coverage(session: Session, point_code: str, start: date, end: date) -> Coverage:
    """Sub-periods of ``[start, end)`` in which no installed instrument had a valid certificate.

    What a certificate covers is :func:`cover_periods`: a failed verification ends the cover, and
    an instrument under mandatory verification (强制检定) is covered by verifications only — its
    calibration certificates in the period are listed in ``notes`` instead.
    """
    point = session.scalar(select(MeasurementPoint).where(MeasurementPoint.code == point_code))
    if point is None:
        from ._errors import NotFound

        raise NotFound(f"measurement point {point_code!r} does not exist")
    installs = session.scalars(
        select(Installation).where(
            Installation.point_id == point.id,
            or_(Installation.installed_from.is_(None), Installation.installed_from < end),
            or_(Installation.installed_to.is_(None), Installation.installed_to > start),
        )
    ).all()
    covered: list[Interval] = []
    insts: list[str] = []
    certs: list[str] = []
    notes: list[str] = []
    flags: list[str] = []
    for ins in installs:
        inst = ins.instrument
        insts.append(inst.code)
        i_from = max(start, ins.installed_from or start)
        i_to = min(end, ins.installed_to or end)
        certs_of = list(session.scalars(select(Certificate).where(Certificate.instrument_id == inst.id)))
        by_no = {c.cert_no: c for c in certs_of}
        interval = instrument_interval(inst)
        for cert_no, first, last in cover_periods(certs_of, interval, inst.legal_category):
            c = Interval(max(i_from, first), min(i_to, shift_days(last, 1)))
            if c.start < c.end:
                covered.append(c)
                certs.append(cert_no)
                flag = signature_flag(by_no[cert_no])
                if flag:
                    flags.append(flag)
        for cert in certs_of:  # not counted at all: say so when it would have fallen in the period
            if certificate_counts(cert.kind, inst.legal_category):
                continue
            first = max(i_from, cert.calibration_date)
            if first < i_to and first <= certificate_valid_until(cert, interval):
                notes.append(f"{inst.code}: {mandatory_calibration_reason(cert.cert_no)}")
    gaps = _subtract([Interval(start, end)], covered)
    return Coverage(point_code, Interval(start, end), not gaps, gaps, sorted(set(insts)), sorted(set(certs)),
                    sorted(set(notes)), sorted(set(flags)))


# --- reverse traceability -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AffectedCertificate:
    cert_no: str
    subject_kind: Literal["instrument", "standard"]
    subject: str
    calibration_date: date
    via_standard: str
    depth: int  # 1 = issued directly with the out-of-tolerance standard


@dataclass(frozen=True, slots=True)
class AffectedUse:
    """An instrument (or standard) whose results are in doubt over [start, end) (end None = until now)."""

    subject: str
    start: date
    end: date | None
    certificate: str
    depth: int


@dataclass(frozen=True, slots=True)
class AffectedPeriod:
    point: str
    instrument: str
    start: date
    end: date | None
    certificate: str


@dataclass
class TraceResult:
    """Everything downstream of an out-of-tolerance standard (超差追溯)."""

    standard: str
    window: Interval
    certificates: list[AffectedCertificate] = field(default_factory=list)
    standards: list[AffectedUse] = field(default_factory=list)
    instruments: list[AffectedUse] = field(default_factory=list)
    data_periods: list[AffectedPeriod] = field(default_factory=list)
    max_depth_reached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "standard": self.standard,
            "window": self.window.to_dict(),
            "certificates": [plain(c) for c in self.certificates],
            "standards": [plain(s) for s in self.standards],
            "instruments": [plain(i) for i in self.instruments],
            "data_periods": [plain(p) for p in self.data_periods],
            "max_depth_reached": self.max_depth_reached,
        }


def _chunks(ids: set[int], size: int = 500) -> list[list[int]]:
    """Ids in bounded groups for ``IN (...)`` lists."""
    ordered = sorted(ids)
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def _calibration_dates(session: Session, column: Any, ids: set[int]) -> dict[int, list[date]]:
    """Sorted calibration dates of every certificate per subject id, for finding "the next certificate"."""
    out: dict[int, set[date]] = defaultdict(set)
    for chunk in _chunks(ids):
        for sid, d in session.connection().execute(
            select(column, Certificate.calibration_date).where(column.in_(chunk))
        ):
            out[sid].add(d)
    return defaultdict(list, {sid: sorted(ds) for sid, ds in out.items()})


def _next_after(dates: list[date], d: date) -> date | None:
    """Date of the next certificate strictly after ``d``: a second certificate issued the same day
    does not end the doubt (the order of two same-day calibrations is not known, and row ids only
    reflect import order), so the conservative answer keeps that day's uses in doubt."""
    i = bisect_right(dates, d)
    return dates[i] if i < len(dates) else None


def _merge_windows(windows: list[tuple[date, date | None]]) -> list[tuple[date, date | None]]:
    """Union of date windows (inclusive ends; ``None`` = open-ended)."""
    out: list[tuple[date, date | None]] = []
    for start, end in sorted(windows, key=lambda w: w[0]):
        if out and (out[-1][1] is None or start <= shift_days(out[-1][1], 1)):
            prev_start, prev_end = out[-1]
            out[-1] = (prev_start, None if end is None or prev_end is None else max(prev_end, end))
        else:
            out.append((start, end))
    return out


def trace_back(
    session: Session, standard_code: str, date_from: date, date_to: date, max_depth: int = 25
) -> TraceResult:
    """Reverse traceability from a standard found out of tolerance.

    Every certificate issued with the standard with a calibration date in ``[date_from, date_to]``
    (last good … found out of tolerance) is affected. A standard calibrated by such a certificate
    carries the doubt from that calibration until its next one, so the walk continues through
    intermediate standards (breadth first, up to ``max_depth`` levels). An instrument calibrated by
    an affected certificate is in doubt from that calibration until its next certificate; the
    data periods are those uses intersected with the instrument's installations at points.

    Parameters
    ----------
    standard_code : str
        The out-of-tolerance standard.
    date_from, date_to : date
        Last date known good, and the date found out of tolerance (inclusive both).
    max_depth : int
        Levels to follow (Fluke MET/TEAM allows up to 25).

    References
    ----------
    ISO/IEC 17025:2017 §7.10 (non-conforming work) and §6.4.13; ILAC-G24 on consequences of
    out-of-tolerance standards.
    """
    root = get_standard(session, standard_code)
    result = TraceResult(standard_code, Interval(date_from, date_to))
    # frontier: standard id -> list of (window start, window end inclusive or None)
    frontier: dict[int, list[tuple[date, date | None]]] = {root.id: [(date_from, date_to)]}
    seen_certs: set[int] = set()
    std_code: dict[int, str] = {root.id: root.code}
    inst_hits: list[tuple[int, Any, int]] = []  # (via standard id, certificate row, depth)
    depth = 0
    cert_cols = (Certificate.id, Certificate.cert_no, Certificate.standard_id, Certificate.instrument_id,
                 Certificate.calibration_date, CertificateStandard.standard_id.label("via"))
    while frontier and depth < max_depth:
        depth += 1
        rows: list[Any] = []
        conds = [
            and_(CertificateStandard.standard_id == sid, Certificate.calibration_date >= w_from,
                 *([Certificate.calibration_date <= w_to] if w_to is not None else []))
            for sid, windows in frontier.items()
            for w_from, w_to in _merge_windows(windows)
        ]
        for i in range(0, len(conds), 200):  # bounded statements (SQLite's expression-depth limit is 1000)
            rows += session.execute(
                select(*cert_cols)
                .join(CertificateStandard, CertificateStandard.certificate_id == Certificate.id)
                .where(or_(*conds[i : i + 200]))
            ).all()
        new_std_certs = []
        for row in rows:
            if row.id in seen_certs:
                continue
            seen_certs.add(row.id)
            if row.standard_id is not None:
                new_std_certs.append(row)
            else:
                inst_hits.append((row.via, row, depth))
        # standards calibrated by affected certificates: in doubt until their next calibration
        nxt: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
        if new_std_certs:
            sids = {r.standard_id for r in new_std_certs}
            hist = _calibration_dates(session, Certificate.standard_id, sids)
            std_code.update(session.connection().execute(
                select(MeasurementStandard.id, MeasurementStandard.code).where(MeasurementStandard.id.in_(sids))
            ).all())
            for row in new_std_certs:
                end = _next_after(hist[row.standard_id], row.calibration_date)
                code = std_code[row.standard_id]
                result.certificates.append(
                    AffectedCertificate(row.cert_no, "standard", code, row.calibration_date, std_code[row.via], depth)
                )
                result.standards.append(AffectedUse(code, row.calibration_date, end, row.cert_no, depth))
                # uses of that standard before its next calibration (end exclusive → inclusive day before)
                nxt[row.standard_id].append(
                    (row.calibration_date, shift_days(end, -1) if end is not None else None)
                )
        frontier = dict(nxt)
    result.max_depth_reached = bool(frontier)
    if inst_hits:
        _instrument_uses(session, inst_hits, std_code, result)
    result.certificates.sort(key=lambda c: (c.depth, c.calibration_date, c.cert_no))
    result.data_periods.sort(key=lambda p: (p.point, p.start))
    return result


def _instrument_uses(
    session: Session, inst_hits: list[tuple[int, Any, int]], std_code: dict[int, str], result: TraceResult
) -> None:
    """Instruments calibrated by affected certificates: in doubt until their next certificate,
    at whatever points they were installed meanwhile."""
    inst_ids = {row.instrument_id for _, row, _ in inst_hits}
    hist = _calibration_dates(session, Certificate.instrument_id, inst_ids)
    codes: dict[int, str] = {}
    installs: dict[int, list[tuple[date | None, date | None, str]]] = defaultdict(list)
    conn = session.connection()
    for chunk in _chunks(inst_ids):
        codes.update(conn.execute(select(Instrument.id, Instrument.code).where(Instrument.id.in_(chunk))).all())
        for iid, f, t, pcode in conn.execute(
            select(Installation.instrument_id, Installation.installed_from, Installation.installed_to,
                   MeasurementPoint.code)
            .join(MeasurementPoint, MeasurementPoint.id == Installation.point_id)
            .where(Installation.instrument_id.in_(chunk))
        ):
            installs[iid].append((f, t, pcode))
    for via, row, d in sorted(inst_hits, key=lambda t: (t[1].calibration_date, t[1].cert_no)):
        code = codes[row.instrument_id]
        end = _next_after(hist[row.instrument_id], row.calibration_date)
        result.certificates.append(
            AffectedCertificate(row.cert_no, "instrument", code, row.calibration_date, std_code[via], d)
        )
        result.instruments.append(AffectedUse(code, row.calibration_date, end, row.cert_no, d))
        for f, t, pcode in installs.get(row.instrument_id, []):
            start = max(row.calibration_date, f or row.calibration_date)
            ends = [x for x in (end, t) if x is not None]
            stop = min(ends) if ends else None
            if stop is None or start < stop:
                result.data_periods.append(AffectedPeriod(pcode, code, start, stop, row.cert_no))


__all__ = [
    "MANDATORY",
    "AffectedCertificate",
    "AffectedPeriod",
    "AffectedUse",
    "CertificateLike",
    "Coverage",
    "DueItem",
    "Interval",
    "MeasurementStandard",
    "TraceResult",
    "add_months",
    "certificate_counts",
    "certificate_covers",
    "certificate_valid_until",
    "cover_periods",
    "default_intervals",
    "due_list",
    "mandatory_calibration_reason",
    "period_coverage",
    "signature_flag",
    "signature_flag_text",
    "trace_back",
]
