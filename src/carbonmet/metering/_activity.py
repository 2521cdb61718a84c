r"""Activity data: period totals of a point as measured quantities, with certificate coverage (活动数据).

:func:`activity_data` merges the periods of :func:`~carbonmet.metering.aggregate` over a range into one
total and turns it into :class:`~carbonmet.quantities.MeasuredQuantity` objects whose provenance names
the instruments, certificates and period; :func:`certificate_coverage` says which instrument-days of
the range a valid certificate covers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from carbonmet.quantities import MeasuredQuantity, Provenance, QuantityError, Source, mpe_standard_uncertainty

from ._aggregate import PeriodAggregate, aggregate
from ._errors import AggregationError
from ._store import Store
from ._types import PointInfo


@dataclass(frozen=True, slots=True)
class ActivityData:
    """A period total of one point as measured quantities (活动数据), for accounting.

    ``measured`` holds only measured values; ``substituted`` only substituted ones (``None`` if
    there were none); ``total`` is their sum, its provenance saying so. ``completeness`` is the
    fraction of the period with valid data; ``aggregate`` has the detail (hours, readings).
    """

    measured: MeasuredQuantity
    substituted: MeasuredQuantity | None
    total: MeasuredQuantity
    completeness: float
    aggregate: PeriodAggregate
    #: per instrument installed in the period: days installed and days covered by a valid certificate
    certificate_coverage: tuple[CertificateCoverage, ...] = ()
    #: share of instrument-days in the period without a valid certificate [-] (nan: no instruments known)
    uncovered_share: float = math.nan
    #: why ``total.u`` is nan (not evaluated), e.g. "no instrument MPE"; ``None`` when u was evaluated
    u_not_evaluated: str | None = None


@dataclass(frozen=True, slots=True)
class CertificateCoverage:
    """Certificate coverage of one instrument over the part of a period it was installed (local days)."""

    instrument_id: str
    installed_days: int
    covered_days: int
    certificates: tuple[str, ...]

    @property
    def uncovered_days(self) -> int:
        return self.installed_days - self.covered_days

    def to_dict(self) -> dict[str, Any]:
        return {"instrument_id": self.instrument_id, "installed_days": self.installed_days,
                "covered_days": self.covered_days, "uncovered_days": self.uncovered_days,
                "certificates": list(self.certificates)}


def certificate_coverage(info: PointInfo, start: date, end: date) -> tuple[tuple[CertificateCoverage, ...], float]:
    """Which instrument-days of ``[start, end)`` (local dates) are covered by a valid certificate.

    A certificate covers the days ``valid_from ≤ d ≤ valid_until`` (有效期至, inclusive; open-ended when
    ``valid_until`` is empty). Returns the coverage per installed instrument and the uncovered share of
    all instrument-days [-] (``nan`` when the point lists no instrument for the period).
    """
    out = []
    total = uncovered = 0
    for ip in info.instruments:
        a = max(start, ip.installed_from) if ip.installed_from else start
        b = min(end, ip.installed_to) if ip.installed_to else end
        n = (b - a).days
        if n <= 0:
            continue
        cov = np.zeros(n, bool)
        names = []
        for cert_no, vf, vu in ip.certificates:
            lo = max(0, (vf - a).days)
            hi = n if vu is None else min(n, (vu - a).days + 1)
            if hi > lo:
                cov[lo:hi] = True
                names.append(cert_no)
        c = CertificateCoverage(ip.instrument_id, n, int(cov.sum()), tuple(sorted(set(names))))
        out.append(c)
        total += n
        uncovered += c.uncovered_days
    return tuple(out), (uncovered / total if total else math.nan)


def _instruments_in(info: PointInfo, start: date, end: date) -> tuple[list[str], list[str], list[float]]:
    ins, certs, mpes = [], [], []
    for ip in info.instruments:
        if (ip.installed_from is None or ip.installed_from < end) and (ip.installed_to is None or ip.installed_to > start):
            ins.append(ip.instrument_id)
            if ip.mpe_rel is not None and not math.isnan(ip.mpe_rel):
                mpes.append(ip.mpe_rel)
            for cert_no, vf, vu in ip.certificates:
                if vf < end and (vu is None or vu >= start):
                    certs.append(cert_no)
    return ins, sorted(set(certs)), mpes


def activity_data(
    store: Store,
    catalog: Mapping[str, PointInfo],
    point: str,
    start: datetime,
    end: datetime,
    *,
    tz: str = "Asia/Shanghai",
    name: str = "",
) -> ActivityData:
    """Total of one point over ``[start, end)`` as a :class:`MeasuredQuantity` with provenance.

    The standard uncertainty is the instrument's maximum permissible error taken as a rectangular
    distribution, by :func:`carbonmet.quantities.mpe_standard_uncertainty` (the one MPE rule):

    .. math:: u = |x| \\cdot \\mathrm{MPE}_{rel} / \\sqrt{3}

    using the largest ``mpe_rel`` [%] of the instruments installed in the period. ``u`` is ``nan`` (not
    evaluated, never 0) when nothing valid was measured, when no instrument states an MPE, and for
    substituted amounts; and when the period is not fully covered (``completeness < 1``), because the
    MPE says nothing about the missing part (the provenance note then states the MPE-based figure of the
    measured part alone, labelled as partial). ``ActivityData.u_not_evaluated`` names the reason.
    Certificate coverage is checked per instrument-day (:func:`certificate_coverage`); the note and
    ``ActivityData.certificate_coverage`` / ``uncovered_share`` report the days without a valid
    certificate.

    Parameters
    ----------
    store : Store
        The readings store.
    catalog : Mapping[str, PointInfo]
        Point catalog (unit, reading kind, instruments with MPE and certificates).
    point : str
        Point id.
    start, end : datetime
        Aware datetimes of the range.
    tz : str
        IANA zone of the period boundaries and of the certificate dates.
    name : str
        Name of the quantities (default: the point id).

    Returns
    -------
    ActivityData
        Measured, substituted and total quantities [the point's amount unit, or its unit for means].

    Raises
    ------
    AggregationError
        Bad request (see :func:`aggregate`) or an instrument's ``mpe_rel`` that is negative or infinite.

    References
    ----------
    JJF 1059.1-2012 §4.3.3.4 (rectangular distribution, k = √3); HJ 75-2017 (valid hours).
    """
    info = catalog[point]
    aggs = aggregate(store, catalog, [point], start, end, "year" if (end - start) > timedelta(days=400) else "month",
                     tz=tz)
    # merge the periods into one
    a0 = aggs[0]
    def tot(attr: str) -> float:
        xs = [getattr(a, attr) for a in aggs]
        if attr == "valid_hours" and xs and all(math.isnan(x) for x in xs):
            return math.nan  # coverage not evaluated (irregular interval amounts)
        return float(np.nansum(xs))

    if a0.kind == "mean":
        vh = tot("valid_hours")
        vm = (float(np.nansum([a.value_measured * a.valid_hours for a in aggs if a.valid_hours > 0])) / vh
              if vh > 0 else math.nan)
        vs = math.nan
    else:
        vm = tot("value_measured") if any(not math.isnan(a.value_measured) for a in aggs) else math.nan
        vs = tot("value_substituted")
    merged = PeriodAggregate(
        point, aggs[0].period_start, aggs[-1].period_end, a0.kind, a0.unit, vm, vs, tot("expected_hours"),
        tot("valid_hours"), tot("substituted_hours"), tot("stopped_hours"), tot("invalid_hours"),
        int(tot("n_readings")), int(tot("n_valid")), a0.method,
    )
    z = ZoneInfo(tz)
    sd, ed = start.astimezone(z).date(), end.astimezone(z)
    ed_date = ed.date() if ed.timetz().replace(tzinfo=None) == datetime.min.time() else ed.date() + timedelta(days=1)
    ins, certs, mpes = _instruments_in(info, sd, ed_date)
    coverage, uncovered = certificate_coverage(info, sd, ed_date)
    mpe = max(mpes) if mpes else None
    try:
        u_rel = mpe_standard_uncertainty(mpe)  # [%] of the value; nan when no MPE is stated
    except QuantityError as exc:
        raise AggregationError(f"point {point!r}: field mpe_rel of its instruments: {exc}") from None
    comp = merged.completeness
    partial = math.isfinite(comp) and comp < 1.0 - 1e-9
    u_part = abs(vm) * u_rel / 100.0  # the measured part alone (nan without an MPE or a value)
    # why u is not evaluated, first reason that applies (None: u evaluated)
    why: str | None = None
    if not math.isfinite(vm):
        why = "no valid measured value in the period"
    elif mpe is None:
        why = "no instrument MPE"
    elif partial:
        why = (f"the period is not fully measured (completeness {comp:.4f}) and the instrument MPE cannot cover "
               "the missing part")
    note = (f"completeness {comp:.4f} ({merged.valid_hours:g} valid of {merged.expected_hours:g} h; "
            f"{merged.substituted_hours:g} h substituted, {merged.stopped_hours:g} h stopped, "
            f"{merged.invalid_hours:g} h invalid, {merged.missing_hours:g} h missing); ")
    if why is None:
        note += f"u from instrument MPE {mpe}% as rectangular"
    elif partial and mpe is not None:
        note += (f"u not evaluated: {why}; the measured part alone has u = {u_part:.6g} {merged.unit} "
                 f"from MPE {mpe}% as rectangular (partial coverage only)")
    else:
        note += f"u not evaluated ({why})"
    if coverage:
        note += "; certificates: " + ", ".join(
            f"{c.instrument_id} {c.covered_days}/{c.installed_days} d covered"
            + (f" ({c.uncovered_days} d without a valid certificate)" if c.uncovered_days else "")
            for c in coverage) + f"; uncovered share {uncovered:.4f} of instrument-days"
    period = (start, end)
    qname = name or point

    measured = MeasuredQuantity(
        value=vm, unit=merged.unit, u=u_part if why is None else math.nan,
        provenance=Provenance(source=Source.MEASURED, instruments=tuple(ins), certificates=tuple(certs),
                              period=period, method=merged.method, note=note),
        name=qname,
    )
    substituted = None
    if merged.substituted_hours > 0 and math.isfinite(vs):
        substituted = MeasuredQuantity(
            value=vs, unit=merged.unit, u=math.nan,
            provenance=Provenance(source=Source.SUBSTITUTED, period=period, method="substituted values as stored",
                                  note=f"{merged.substituted_hours:g} h substituted"),
            name=f"{qname}.substituted",
        )
    if substituted is None:
        total = measured
    else:
        why = why or "the total includes substituted values, whose uncertainty is not evaluated"
        tv = (0.0 if math.isnan(vm) else vm) + vs
        total = MeasuredQuantity(
            value=tv, unit=merged.unit, u=math.nan,
            provenance=Provenance(source=Source.CALCULATED, instruments=tuple(ins), certificates=tuple(certs),
                                  period=period, method="measured + substituted", inputs=(measured.name, substituted.name),
                                  note=note + f"; includes {vs:.6g} {merged.unit} substituted"),
            name=f"{qname}.total",
        )
    return ActivityData(measured, substituted, total, merged.completeness, merged, coverage, uncovered, why)
