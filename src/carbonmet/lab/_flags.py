"""Flags on lab results (化验结果疑点): what a reviewer should look at, never a rejection.

* ``reused_sample_id`` — one sample number used for two physical samples (two points or sampling windows)
  or for two results of one analyte;
* ``c_ncv_inconsistent`` — the carbon content of a coal sample does not fit its NCV: C_ar/NCV_ar outside the
  band of ``c_per_ncv.csv`` (falsified coal test reports of recent enforcement cases show exactly this: the
  carbon content lowered, the NCV left);
* ``no_valid_certificate`` — the analyser had no valid certificate on the analysis day (the registry's one
  cover rule, :mod:`carbonmet.registry.rules`).

The first two are pure functions of the results (:func:`find_flags`); the third asks the registry
(:func:`certificate_flags`).
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..registry import instrument_uncertainty
from ..registry.models import Certificate, Instrument
from ..registry.rules import cover_periods, instrument_interval
from ._analytes import EVIDENCE
from ._types import FlagKind, LabFlag, LabResult


@dataclass(frozen=True, slots=True)
class Band:
    """Plausible carbon per NCV of one carrier (one row of ``c_per_ncv.csv``).

    ``center`` [tC/GJ] and ``rel_band`` [-]: a sample is consistent when
    ``|(C/NCV) / center − 1| <= rel_band``.
    """

    carrier: str
    center: float
    rel_band: float
    source: str
    evidence: str


@lru_cache(maxsize=1)
def c_ncv_bands() -> Mapping[str, Band]:
    """The C/NCV bands by point carrier (``c_per_ncv.csv``, each row with its source and evidence mark)."""
    path = resources.files(__package__).joinpath("c_per_ncv.csv")
    out: dict[str, Band] = {}
    with path.open("r", encoding="utf-8") as fh:
        for n, r in enumerate(csv.DictReader(fh), start=2):
            b = Band(r["carrier"].strip(), float(r["center_tc_per_gj"]), float(r["rel_band"]), r["source"].strip(),
                     r["evidence"].strip())
            if not (b.center > 0 and 0 < b.rel_band < 1) or b.evidence not in EVIDENCE or not b.source:
                raise ValueError(f"c_per_ncv.csv:{n}: malformed row {r}")
            out[b.carrier] = b
    return out


def carbon_per_ncv(carbon_pct: float, ncv_mj_per_kg: float) -> float:
    """Carbon per unit of net calorific value of one sample [tC/GJ].

    .. math:: c = \\frac{C_{ar} / 100}{NCV_{ar}}

    Parameters
    ----------
    carbon_pct : float
        Elemental carbon content, as received [%] (mass fraction).
    ncv_mj_per_kg : float
        Net calorific value, as received [MJ/kg] (= GJ/t).

    Returns
    -------
    float
        [tC/GJ]; nan when the NCV is not positive.

    References
    ----------
    coal_chemical_facts.md §8 (C_ar ≈ 0.0264·NCV_ar, tC/GJ); GB/T 32151.10 per-heat carbon content
    (单位热值含碳量, tC/GJ), the quantity the guideline's default tables give.
    """
    if not ncv_mj_per_kg > 0:
        return math.nan
    return carbon_pct / 100.0 / ncv_mj_per_kg


def _flag(kind: FlagKind, r: LabResult, detail: str, related: Iterable[str] = (), value: float = math.nan
          ) -> LabFlag:
    return LabFlag(kind, r.enterprise, r.sample_id, r.point_id, r.analyte, r.sampled_from, r.sampled_to, detail,
                   tuple(sorted(set(related))), value)


def _id(r: LabResult) -> tuple[str, str, str]:
    return (r.enterprise, r.sample_id, r.analyte)


def _window(r: LabResult) -> str:
    return f"{r.point_id} {r.sampled_from.isoformat()}…{r.sampled_to.isoformat()}"


def _reused(results: Sequence[LabResult]) -> list[LabFlag]:
    groups: dict[tuple[str, str], list[LabResult]] = defaultdict(list)
    for r in results:
        groups[(r.enterprise, r.sample_id)].append(r)
    out: list[LabFlag] = []
    for (_, sid), rs in groups.items():
        keys = {r.sample_key for r in rs}
        per_analyte: dict[str, int] = defaultdict(int)
        for r in rs:
            per_analyte[r.analyte] += 1
        twice = sorted(a for a, n in per_analyte.items() if n > 1)
        if len(keys) < 2 and not twice:
            continue
        for r in rs:
            others = sorted({_window(o) for o in rs if o.sample_key != r.sample_key})
            if others:
                detail = (f"样品编号 {sid} 用于多个样品 / sample id {sid} is used for {len(keys)} samples: "
                          f"{_window(r)} and {'; '.join(others[:3])}{' …' if len(others) > 3 else ''}")
            else:
                detail = (f"样品编号 {sid} 有同一化验项目的多个结果 / sample id {sid} has several results of "
                          f"{', '.join(twice)}")
            out.append(_flag("reused_sample_id", r, detail, [o.sample_id + "@" + _window(o) for o in rs if o is not r]))
    return out


def _c_ncv(results: Sequence[LabResult], carriers: Mapping[str, str]) -> list[LabFlag]:
    bands = c_ncv_bands()
    by_key: dict[tuple[str, object], list[LabResult]] = defaultdict(list)
    for r in results:
        if r.moisture_basis == "ar" and (r.analyte, r.unit) in (("ncv", "MJ/kg"), ("carbon_content", "%")):
            by_key[(r.enterprise, r.sample_key)].append(r)
    out: list[LabFlag] = []
    for rs in by_key.values():
        band = bands.get(carriers.get(rs[0].point_id, ""))
        if band is None:
            continue
        ncvs = [r for r in rs if r.analyte == "ncv"]
        for c in (r for r in rs if r.analyte == "carbon_content"):
            for n in ncvs:
                ratio = carbon_per_ncv(c.value, n.value)
                if math.isfinite(ratio) and abs(ratio / band.center - 1.0) <= band.rel_band:
                    continue
                lo, hi = band.center * (1 - band.rel_band), band.center * (1 + band.rel_band)
                detail = (f"含碳量与同一样品的低位发热量不符 / carbon content inconsistent with the NCV of the same sample: "
                          f"C_ar {c.value:g} % / NCV_ar {n.value:g} MJ/kg = {ratio:.5f} tC/GJ, outside "
                          f"{lo:.5f}–{hi:.5f} tC/GJ ({band.carrier}: {band.center:g} ± {band.rel_band:.0%}, "
                          f"c_per_ncv.csv [{band.evidence}])")
                out.append(_flag("c_ncv_inconsistent", c, detail, [n.sample_id], ratio))
    return out


def find_flags(
    results: Sequence[LabResult],
    *,
    carriers: Mapping[str, str] | None = None,
    subjects: Iterable[LabResult] | None = None,
) -> list[LabFlag]:
    """The ``reused_sample_id`` and ``c_ncv_inconsistent`` flags of a set of results (pure).

    Parameters
    ----------
    results : sequence of LabResult
        Every result to compare with each other (e.g. the stored ones and a new file's).
    carriers : mapping of str to str, optional
        Sample point → carrier (registry ``points.carrier``, e.g. ``raw_coal``); the C/NCV check applies to the
        points whose carrier has a band in ``c_per_ncv.csv``, on results of the as-received basis.
    subjects : iterable of LabResult, optional
        Only flags on these results are returned (a new file's); default: all.

    Returns
    -------
    list of LabFlag
        Sorted by enterprise, point, sampling window, sample id and kind.
    """
    out = _reused(results) + _c_ncv(results, carriers or {})
    if subjects is not None:
        want = {_id(r) for r in subjects}
        out = [f for f in out if (f.enterprise, f.sample_id, f.analyte) in want]
    out.sort(key=lambda f: (f.enterprise, f.point_id, f.sampled_from, f.sampled_to, f.sample_id, f.analyte, f.kind))
    return out


def analysis_day(r: LabResult, zone: tzinfo) -> date:
    """The day a result was analysed: ``analysed_on`` if given, else the local day sampling ended."""
    return r.analysed_on if r.analysed_on is not None else r.sampled_to.astimezone(zone).date()


def certificate_flags(session: Session, results: Sequence[LabResult], *, time_zone: str = "Asia/Shanghai"
                      ) -> list[LabFlag]:
    """``no_valid_certificate`` flags: results whose analyser no certificate covers on the analysis day.

    The days each certificate covers come from the registry's one rule (:func:`carbonmet.registry.rules.
    cover_periods`: a failed verification covers nothing and ends earlier cover; an instrument under mandatory
    verification is covered by verifications only); the reason is the registry's own
    (:func:`carbonmet.registry.instrument_uncertainty`'s note). An analyser that is not registered at all is
    flagged too (the import refuses such results; stored ones can only lose their analyser by a registry edit).

    Parameters
    ----------
    session : Session
    results : sequence of LabResult
    time_zone : str
        IANA zone of the local day a sampling window ends in (used when ``analysed_on`` is not given).
    """
    zone = ZoneInfo(time_zone)
    by_inst: dict[str, list[LabResult]] = defaultdict(list)
    for r in results:
        by_inst[r.instrument_id].append(r)
    out: list[LabFlag] = []
    for code in sorted(by_inst):
        inst = session.scalar(select(Instrument).where(Instrument.code == code))
        rs = by_inst[code]
        if inst is None:
            out += [_flag("no_valid_certificate", r, f"分析仪 {code} 未登记 / analyser {code} is not in the registry")
                    for r in rs]
            continue
        certs = list(session.scalars(select(Certificate).where(Certificate.instrument_id == inst.id)
                                     .order_by(Certificate.calibration_date, Certificate.id)))
        cover = cover_periods(certs, instrument_interval(inst), inst.legal_category)
        why: dict[date, str] = {}
        for r in rs:
            day = analysis_day(r, zone)
            if any(first <= day <= last for _, first, last in cover):
                continue
            if day not in why:
                why[day] = instrument_uncertainty(session, code, day).provenance.note
            out.append(_flag("no_valid_certificate", r, (
                f"分析仪 {code} 在化验日 {day.isoformat()} 无有效证书 / analyser {code} has no valid certificate on the "
                f"analysis day {day.isoformat()}: {why[day]}")))
    out.sort(key=lambda f: (f.enterprise, f.point_id, f.sampled_from, f.sampled_to, f.sample_id, f.analyte, f.kind))
    return out
