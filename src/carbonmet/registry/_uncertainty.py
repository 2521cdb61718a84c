"""An instrument's certificate as a measured quantity (器具证书 → 标准不确定度).

The registry finds the certificate that covers an instrument on a date, with the one "which
certificate covers" rule of :func:`certificate_covers` (a failed 检定 covers nothing; an instrument
under mandatory verification 强制检定 is covered by verifications only), and hands its figures to
:func:`carbonmet.quantities.from_certificate`, the one place a certificate becomes a standard
uncertainty.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Select, select
from sqlalchemy.orm import Session

from ..quantities import MeasuredQuantity, Provenance, Source, convert, from_certificate, is_convertible
from ._errors import FieldError
from ._models import Certificate, Instrument
from ._queries import (
    InstrumentFields,
    certificate_counts,
    cover_periods,
    instrument_interval,
    mandatory_calibration_reason,
    signature_flag,
)
from ._services import find_instrument

_PERCENT = {"%", "percent"}


def _is_percent(unit: str | None) -> bool:
    return unit is not None and unit.strip().lower() in _PERCENT


def _figure(
    figure: float | None, figure_unit: str | None, unit: str, what: str
) -> tuple[float | None, bool]:
    """A certificate figure (U or MPE) in the terms :func:`from_certificate` takes: (figure, relative).

    A figure in % is relative to the value: it is kept in % when the quantity itself is in % (an
    error expressed in % of the indication), else it scales with the value (``relative=True``). A
    figure in another unit is converted to ``unit``.
    """
    if figure is None or math.isnan(figure):
        return None, False
    if _is_percent(figure_unit):
        return figure, not _is_percent(unit)
    if not figure_unit:
        raise FieldError("error_unit", f"{what}: the unit of the figure is not stated")
    if not is_convertible(figure_unit, unit):
        raise FieldError(
            "unit", f"{what}: the figure is in {figure_unit!r}, which cannot be expressed in {unit!r}"
        )
    scale = float(convert(1.0, figure_unit, unit) - convert(0.0, figure_unit, unit))
    return abs(figure * scale), False


def instrument_uncertainty(
    session: Session,
    instrument: str,
    on: date,
    *,
    value: float = 0.0,
    unit: str = "%",
    name: str = "",
) -> MeasuredQuantity:
    """A value measured with ``instrument`` on ``on``, with the standard uncertainty its certificate gives.

    The certificate is the newest one that covers the instrument on ``on`` (from its calibration
    date to its validity end, a later failed verification ending the cover the day before), under
    the registry's one rule (:func:`certificate_covers`). It then becomes a quantity through
    :func:`carbonmet.quantities.from_certificate`:

    * calibration (校准): normal, u = U/k with U in the certificate's ``error_unit``
      (JJF 1059.1-2012 §4.3.3.2 / GUM §4.3.4);
    * verification (检定): rectangular, u = MPE/√3 with the instrument's MPE (``mpe_rel`` in %,
      else ``mpe_abs`` in the instrument's unit; JJF 1059.1-2012 §4.3.3.4 / GUM §4.3.7).

    With the defaults (``value=0``, ``unit="%"``) the result is the instrument's relative error in %
    of the indication: a figure stated in % is taken as is. For another ``unit``, a figure in % is
    relative to ``value``, and a figure in a unit is converted to ``unit``.

    Never a silent zero: when no certificate covers the instrument on ``on``, or the covering one
    states no figure, ``u`` is nan and the provenance note says why. An instrument under mandatory
    verification (强制检定) holding only calibration certificates is such a case: a calibration does
    not satisfy the legal obligation, so it is not used, ``u`` is nan and the note says a 检定 is
    required (the due list calls the same instrument overdue).

    Parameters
    ----------
    session : Session
    instrument : str
        Registry id of the instrument, or its serial (出厂编号) when unique.
    on : date
        Day of the measurement.
    value : float
        The measured value (or the error's estimate, 0 for an error known only by its bounds), in ``unit``.
    unit : str
        Unit of ``value`` and of the returned u.
    name : str
        Short id of the quantity.

    Returns
    -------
    MeasuredQuantity
        Provenance: the instrument, the certificate number and kind (``method``), the cover
        period in the note.

    Raises
    ------
    FieldError
        Unknown instrument, or a certificate figure that cannot be expressed in ``unit``.
    """
    inst: Instrument = find_instrument(session, instrument, "instrument")
    certs = list(session.scalars(
        select(Certificate).where(Certificate.instrument_id == inst.id)
        .order_by(Certificate.calibration_date, Certificate.id)
    ))
    by_no = {c.cert_no: c for c in certs}
    covering = [(no, first, last) for no, first, last in cover_periods(certs, instrument_interval(inst),
                                                                      inst.legal_category)
                if first <= on <= last]
    if not covering:
        return MeasuredQuantity(
            value=value, unit=unit, name=name,
            provenance=Provenance(source=Source.MEASURED, instruments=(inst.code,),
                                  note=_why_uncovered(inst, certs, on)),
        )
    cert_no, first, last = covering[-1]
    cert = by_no[cert_no]
    what = f"{inst.code} {cert.cert_no}"
    kind_zh = "校准" if cert.kind == "calibration" else "检定"
    prov = Provenance(
        source=Source.MEASURED,
        instruments=(inst.code,),
        certificates=(cert.cert_no,),
        method=(f"{cert.kind} certificate {cert.cert_no} ({kind_zh}): "
                + ("U/k, normal" if cert.kind == "calibration" else "MPE/√3, rectangular")),
        note=f"certificate {cert.cert_no} covers {inst.code} {first.isoformat()} … {last.isoformat()}",
    )
    if cert.kind == "calibration":
        u_fig, relative = _figure(cert.expanded_u, cert.error_unit or inst.unit, unit, what)
        return from_certificate(value, unit, kind="calibration", expanded_u=u_fig,
                                coverage_factor=cert.coverage_factor, relative=relative, provenance=prov, name=name)
    if inst.mpe_rel is not None:
        mpe, relative = _figure(inst.mpe_rel, "%", unit, what)
    else:
        mpe, relative = _figure(inst.mpe_abs, inst.unit, unit, what)
    return from_certificate(value, unit, kind="verification", mpe=mpe, relative=relative, provenance=prov,
                            name=name)


def _why_uncovered(inst: _InstrumentLike, certs: Sequence[Any], on: date) -> str:
    """Why no certificate covers ``inst`` on ``on`` (zh-CN first, English second)."""
    earlier = [c for c in certs if c.calibration_date <= on]
    if not earlier:
        return (f"{on.isoformat()} 前无证书，标准不确定度未评定 / no certificate of {inst.code} on or before "
                f"{on.isoformat()}: u not evaluated")
    newest = earlier[-1]
    if not certificate_counts(newest.kind, inst.legal_category):
        return mandatory_calibration_reason(newest.cert_no) + "; u not evaluated"
    if newest.kind == "verification" and newest.conclusion == "does_not_conform":
        return (f"检定不合格 {newest.cert_no}，标准不确定度未评定 / verification {newest.cert_no} found "
                f"{inst.code} non-conforming: u not evaluated")
    return (f"{on.isoformat()} 无有效证书，标准不确定度未评定 / no certificate covers {inst.code} on "
            f"{on.isoformat()} (newest {newest.cert_no} of {newest.calibration_date.isoformat()} has "
            "expired): u not evaluated")


@dataclass(frozen=True, slots=True)
class InstrumentState:
    """What an instrument's certificates say over a sequence of periods (器具在核算期内的法定状态与不确定度).

    Attributes
    ----------
    instrument : str
        Registry id.
    kind : {"verification", "calibration", "none"}
        Kind of the certificate that covers most days of the range ("none": no certificate covers any).
    u_rel : float
        Largest relative standard uncertainty [%] of the indication over the covering certificates: MPE/√3 of a
        verification (rectangular), U/k of a calibration stated in % (normal); nan when none gives one.
    mpe_rel : float or None
        The instrument's MPE [%] of the indication.
    certificates : tuple of str
        Certificates covering some day of the range, oldest first.
    as_found_rel : float or None
        As-found error [%] of the newest covering calibration, when stated in %.
    days, uncovered_days : tuple of int
        Days of each period, and of them the days no certificate covers.
    state : {"ok", "overdue", "failed", "uncovered", "calibrated_not_verified"}
        ``ok`` when every day is covered; otherwise why not (the first that applies: a failed verification
        still in force; an instrument under 强制检定 with calibration certificates only; expired certificates;
        never certified).
    reason : str
        The same in words (zh-CN first, English second), with dates.
    signature_flags : tuple of str
        One line per covering certificate whose DCC signature check failed and was accepted by an operator
        (:func:`~carbonmet.registry.rules.signature_flag`).
    """

    instrument: str
    kind: str
    u_rel: float
    mpe_rel: float | None
    certificates: tuple[str, ...]
    as_found_rel: float | None
    days: tuple[int, ...]
    uncovered_days: tuple[int, ...]
    state: str
    reason: str
    signature_flags: tuple[str, ...] = ()  # covering certificates whose DCC signature check failed (accepted)


class _InstrumentLike(InstrumentFields, Protocol):
    """What the certificate states read of an instrument (an ORM :class:`Instrument` or a selected row)."""

    @property
    def id(self) -> int: ...


#: the instrument columns :func:`instrument_states` reads
_INSTRUMENT_COLUMNS = (Instrument.id, Instrument.code, Instrument.type, Instrument.interval_months,
                       Instrument.legal_category, Instrument.mpe_rel)
#: the certificate columns the cover rules, the states and the review read (never the DCC document)
_CERTIFICATE_COLUMNS = (Certificate.id, Certificate.instrument_id, Certificate.cert_no, Certificate.kind,
                        Certificate.conclusion, Certificate.calibration_date, Certificate.valid_until,
                        Certificate.as_found_error, Certificate.as_left_error, Certificate.error_unit,
                        Certificate.expanded_u, Certificate.coverage_factor, Certificate.signature_status,
                        Certificate.signature_accepted)
_CHUNK = 1000  # instrument ids per IN list


def _connection(session: Session) -> Connection:
    """The session's connection, after the flush a query through the session would do (rows are read by Core)."""
    if session.autoflush:
        session.flush()
    return session.connection()


def instrument_certificates(session: Session, instruments: Iterable[int] | Select[Any]) -> dict[int, list[Any]]:
    """Every certificate of each instrument, oldest first (calibration date, then id), as plain rows.

    Parameters
    ----------
    session : Session
    instruments : iterable of int, or Select
        Instrument ids (one query per 1,000), or a ``SELECT`` of instrument ids (one query, the ids never leave
        the database).

    Returns
    -------
    dict
        Instrument id → its certificates, rows of the columns the certificate rules
        (:mod:`carbonmet.registry.rules`), :func:`instrument_states` and the review read: ``id``,
        ``instrument_id``, ``cert_no``, ``kind``, ``conclusion``, ``calibration_date``, ``valid_until``,
        ``as_found_error``, ``as_left_error``, ``error_unit``, ``expanded_u``, ``coverage_factor``,
        ``signature_status``, ``signature_accepted`` — not the DCC document nor the calibration points.
        An instrument without any certificate is absent.
    """
    selections: list[Any]
    if isinstance(instruments, Select):
        selections = [instruments]
    else:
        ids = sorted(set(instruments))
        selections = [ids[k:k + _CHUNK] for k in range(0, len(ids), _CHUNK)]
    out: dict[int, list[Any]] = {}
    conn = _connection(session)
    for sel in selections:
        for c in conn.execute(select(*_CERTIFICATE_COLUMNS).where(Certificate.instrument_id.in_(sel))
                              .order_by(Certificate.calibration_date, Certificate.id)).all():
            out.setdefault(c.instrument_id, []).append(c)
    return out


def instrument_states(session: Session, instruments: list[str],
                      periods: list[tuple[date, date]]) -> dict[str, InstrumentState]:
    """Certificate state of each instrument over ``periods`` (``[start, end)`` local dates), in two queries.

    Uses the registry's one cover rule (:func:`~carbonmet.registry.rules.certificate_covers` and the cover
    periods the due list and metering use), through :func:`~carbonmet.registry.rules.certificate_states`;
    unknown instruments are left out of the result.
    """
    insts = _connection(session).execute(select(*_INSTRUMENT_COLUMNS).where(Instrument.code.in_(instruments))).all()
    return certificate_states(insts, instrument_certificates(session, [i.id for i in insts]), periods)


def certificate_states(instruments: Iterable[_InstrumentLike], certificates: Mapping[int, Sequence[Any]],
                       periods: list[tuple[date, date]]) -> dict[str, InstrumentState]:
    """Certificate state of each instrument over ``periods`` (``[start, end)`` local dates), from its certificates.

    The pure part of :func:`carbonmet.registry.instrument_states`, for a caller that already holds the
    instruments and their certificates.

    Parameters
    ----------
    instruments : iterable
        Instruments (ORM objects or rows with ``id``, ``code``, ``type``, ``interval_months``, ``legal_category``,
        ``mpe_rel``).
    certificates : mapping
        Instrument id → its certificates, oldest first (calibration date, then id), as
        :func:`~carbonmet.registry.instrument_certificates` returns them (or ORM certificates).
    periods : list of (date, date)
        ``[start, end)`` local dates, in order.

    Returns
    -------
    dict
        Instrument code → :class:`~carbonmet.registry.InstrumentState`, in the order of ``instruments``.
    """
    out: dict[str, InstrumentState] = {}
    start, end = periods[0][0], periods[-1][1]
    one_day = timedelta(days=1)
    for inst in instruments:
        code = inst.code
        certs = certificates.get(inst.id, [])
        covers = cover_periods(certs, instrument_interval(inst), inst.legal_category)
        # the covers reaching into [start, end): no other cover reaches into any of the periods
        used = [(no, f, last) for no, f, last in covers if f < end and last >= start]
        days, unc = [], []
        for a, b in periods:
            n = (b - a).days
            cov = 0
            spans = sorted((max(a, f), min(b - one_day, last)) for _, f, last in used)
            cur_end = a - one_day
            for f, last in spans:
                if last < f:
                    continue
                f = max(f, cur_end + one_day)
                if last >= f:
                    cov += (last - f).days + 1
                    cur_end = max(cur_end, last)
            days.append(n)
            unc.append(max(0, n - cov))
        by_no = {c.cert_no: c for c in certs}
        u_rel, kinds = math.nan, dict[str, int]()
        as_found = None
        for no, f, last in used:
            c = by_no[no]
            d = (min(end - timedelta(days=1), last) - max(start, f)).days + 1
            kinds[c.kind] = kinds.get(c.kind, 0) + d
            if c.kind == "verification":
                u = inst.mpe_rel / math.sqrt(3.0) if inst.mpe_rel is not None else math.nan
            elif _is_percent(c.error_unit) and c.expanded_u is not None and c.coverage_factor:
                u = c.expanded_u / c.coverage_factor
                if c.as_found_error is not None:
                    as_found = c.as_found_error
            else:
                u = math.nan
            if not math.isnan(u):
                u_rel = u if math.isnan(u_rel) else max(u_rel, u)
        kind = max(kinds, key=lambda k: kinds[k]) if kinds else "none"
        state, reason = "ok", ""
        if sum(unc):
            on = end - timedelta(days=1)
            reason = _why_uncovered(inst, [c for c in certs if c.calibration_date <= on], on)
            newest_counting = [c for c in certs if certificate_counts(c.kind, inst.legal_category)]
            if any(c.kind == "verification" and c.conclusion == "does_not_conform" and c.calibration_date < end
                   for c in certs) and not any(f >= start and last >= end - timedelta(days=1) for _, f, last in used):
                state = "failed"
                bad = [c for c in certs if c.kind == "verification" and c.conclusion == "does_not_conform"]
                reason = (f"检定不合格 {bad[-1].cert_no} ({bad[-1].calibration_date.isoformat()}) 后仍在用 / failed "
                          f"verification {bad[-1].cert_no} of {bad[-1].calibration_date.isoformat()}, kept in service")
            elif certs and not newest_counting:
                state = "calibrated_not_verified"
            elif newest_counting:
                state = "overdue"
            else:
                state = "uncovered"
        flags = tuple(fl for no, _, _ in used if (fl := signature_flag(by_no[no])))
        out[code] = InstrumentState(code, kind, u_rel, inst.mpe_rel, tuple(no for no, _, _ in used), as_found,
                                    tuple(days), tuple(unc), state, reason, flags)
    return out
